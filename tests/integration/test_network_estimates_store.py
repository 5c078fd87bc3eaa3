"""A relative network's estimates from the index: experimental values on the network, edges from legs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from factories import hydration_network

from fepflow.models.network_results import ExperimentalValue
from fepflow.store.index import Index

pytestmark = pytest.mark.integration


@pytest.fixture()
def index(mongo_url: str, mongo_db_name: str) -> Iterator[Index]:
    idx = Index.connect(mongo_url, mongo_db_name)
    idx.ensure_indexes()
    yield idx
    idx.client.drop_database(mongo_db_name)
    idx.close()


def test_experimental_values_are_kept_on_the_network_through_a_resubmission(index: Index) -> None:
    net = hydration_network(["methane", "ethanol"], repeats=1)
    index.submit_network(net)
    assert index.networks.experimental(net.key) == []
    values = [
        ExperimentalValue(ligand="methane", dg_kcal_mol=2.0, uncertainty_kcal_mol=0.1),
        ExperimentalValue(ligand="ethanol", dg_kcal_mol=-5.0),
    ]
    index.networks.set_experimental(net.key, values)
    index.submit_network(net)  # a resubmission keeps them
    assert index.networks.experimental(net.key) == values
    summary = index.networks.summary(net.key)
    assert summary is not None and "experimental" not in summary
    index.networks.set_experimental(net.key, values[:1])  # replaced, not merged
    assert index.networks.experimental(net.key) == values[:1]
    with pytest.raises(KeyError, match="no network"):
        index.networks.set_experimental("AlchemicalNetwork-missing", values)
    with pytest.raises(ValueError, match="given twice for: methane"):
        index.networks.set_experimental(net.key, [values[0], values[0]])
