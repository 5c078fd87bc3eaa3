"""The Python client against the real hub (TestClient as its transport): the whole round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from api_support import SCOPE, add_user, complete_task
from fastapi.testclient import TestClient

from fepflow.hub.client import Client, HubError
from fepflow.store.index import Index
from fepflow.store.objects import ObjectStore

pytestmark = pytest.mark.integration
pytest_plugins = ["api_fixtures"]


def test_submit_follow_and_fetch(
    hub: TestClient, hub_index: Index, hub_objects: ObjectStore, tmp_path: Path
) -> None:
    add_user(hub_index, "carol", "a long enough secret", ["acme-*-*"])
    client = Client("http://testserver", http=hub, token_file=tmp_path / "token.json")
    client.login("carol", "a long enough secret")
    sub = client.submit_ligands(
        [("methanol", "CO"), ("ethanol", "CCO")], scope=SCOPE, preset="fast", repeats=2
    )
    assert sub.created and len(sub.tasks) == 4
    again = client.submit_ligands(
        [("methanol", "CO"), ("ethanol", "CCO")], scope=SCOPE, preset="fast", repeats=2
    )
    assert not again.created and again.network == sub.network
    assert client.status(sub.network).counts["waiting"] == 4
    assert [n.key for n in client.networks()] == [sub.network]
    tasks = client.tasks(sub.network, page_size=3)
    assert len(tasks) == 4
    made = complete_task(hub_index, hub_objects, tasks[0].key, dg=-3.0, error=0.25, ligand="methanol")
    results = client.results(sub.network)
    assert [e.dg_kcal_mol for e in results.transformations if e.n_repeats] == [-3.0]
    assert "dg_kcal_mol" in client.results_csv(sub.network).splitlines()[0]
    assert client.cancel([tasks[1].key]).changed == [tasks[1].key]
    assert client.set_priority([tasks[2].key], 5).changed == [tasks[2].key]
    files = client.fetch_network(sub.network, tmp_path / "out")
    name = hub_index.transformations.summary(tasks[0].transformation)["name"]  # "hydration of <ligand>"
    folder = f"{name.replace(' ', '_')}.repeat-{tasks[0].repeat}"
    assert files == [tmp_path / "out" / folder / "summary.json"]
    assert tasks[0].key in (tmp_path / "out" / "tasks.tsv").read_text().split("\n")[1]
    assert json.loads(files[0].read_bytes())["dg_kcal_mol"] == -3.0
    assert client.download(made["bundle"]["id"], tmp_path / "manifest.json").exists()
    network = client.network_document(sub.network)
    assert network.key == sub.network
    with pytest.raises(HubError) as info:
        client.submit_ligands(["C1CC("], scope=SCOPE)
    assert info.value.status_code == 422 and "ligands" in str(info.value)
