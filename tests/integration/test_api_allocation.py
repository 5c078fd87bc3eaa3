"""A network opts in to the allocation strategy with its submission: stored for Dagster's allocation
sensor when the network is relative, refused (422, nothing stored) when it is not."""

from __future__ import annotations

import pytest
from api_support import submit_smiles
from fastapi.testclient import TestClient

from fepflow.store.allocation import AllocationStore
from fepflow.store.index import Index

pytestmark = pytest.mark.integration
pytest_plugins = ["api_fixtures"]

LIGANDS = {"benzene": "c1ccccc1", "toluene": "Cc1ccccc1", "phenol": "Oc1ccccc1"}
ALLOCATION = {"target_kcal_mol": 0.3, "budget_hours": 2.0, "max_pending": 3}


def test_a_relative_submission_opts_in(hub: TestClient, hub_index: Index) -> None:
    res = submit_smiles(hub, LIGANDS, protocol="relative-hydration", allocation=ALLOCATION)
    assert res.status_code == 201, res.text
    doc = AllocationStore(hub_index).get(res.json()["network"])
    assert doc is not None and doc["status"] == "active"
    assert doc["strategy"] == {"target_kcal_mol": 0.3, "budget_s": 7200.0, "max_pending": 3, "max_repeats": 8}


def test_an_absolute_submission_with_a_strategy_is_refused_and_nothing_stored(
    hub: TestClient, hub_index: Index
) -> None:
    res = submit_smiles(hub, {"benzene": "c1ccccc1"}, allocation=ALLOCATION)
    assert res.status_code == 422, res.text
    assert "relative network" in res.text
    assert hub_index.count_documents()["networks"] == 0 and hub_index.count_documents()["tasks"] == 0
    bad = submit_smiles(
        hub, LIGANDS, protocol="relative-hydration", allocation={**ALLOCATION, "target_kcal_mol": 0}
    )
    assert bad.status_code == 422 and "target_kcal_mol" in bad.text
