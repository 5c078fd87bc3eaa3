"""Hub networks: submission (planner body, SDF, document), listing by scope, status, results, limits."""

from __future__ import annotations

import csv
import io
import time

import pytest
from api_support import OTHER_SCOPE, SCOPE, bearer, complete_task, submit_smiles
from factories import hydration_network
from fastapi.testclient import TestClient

from api.main import create_app
from fepflow.models.serialization import to_dict
from fepflow.settings import ApiSettings, AuthSettings
from fepflow.store.index import Index
from fepflow.store.objects import ObjectStore

pytestmark = pytest.mark.integration
pytest_plugins = ["api_fixtures"]  # the hub fixtures

MOLS = {"methanol": "CO", "ethanol": "CCO", "toluene": "Cc1ccccc1"}
SDF = """methane
  manual

  5  4  0  0  0  0  0  0  0  0999 V2000
    0.0000    0.0000    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0
    0.6291    0.6291    0.6291 H   0  0  0  0  0  0  0  0  0  0  0  0
   -0.6291   -0.6291    0.6291 H   0  0  0  0  0  0  0  0  0  0  0  0
   -0.6291    0.6291   -0.6291 H   0  0  0  0  0  0  0  0  0  0  0  0
    0.6291   -0.6291   -0.6291 H   0  0  0  0  0  0  0  0  0  0  0  0
  1  2  1  0
  1  3  1  0
  1  4  1  0
  1  5  1  0
M  END
$$$$
"""


def test_planner_submission_is_201_then_200_with_the_same_keys(hub: TestClient) -> None:
    first = submit_smiles(hub, MOLS, preset="fast", repeats=2, name="three")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["created"] is True and body["scope"] == SCOPE
    assert len(body["transformations"]) == 3 and len(body["tasks"]) == 6
    again = submit_smiles(hub, MOLS, preset="fast", repeats=2, name="three")
    assert again.status_code == 200
    assert again.json()["network"] == body["network"]
    assert again.json()["tasks"] == body["tasks"]
    assert sum(again.json()["created_documents"].values()) == 0
    status = hub.get(f"/api/v1/networks/{body['network']}/status", headers=bearer([SCOPE])).json()
    assert status["counts"]["waiting"] == 6 and status["total"] == 6 and status["finished_fraction"] == 0.0


def test_sdf_and_document_submissions(hub: TestClient) -> None:
    r = hub.post("/api/v1/networks", json={"scope": SCOPE, "sdf": SDF}, headers=bearer([SCOPE]))
    assert r.status_code == 201, r.text
    doc = hub.get(f"/api/v1/networks/{r.json()['network']}/document", headers=bearer([SCOPE])).json()
    assert doc["root"] == r.json()["network"]
    network = hydration_network(["benzene", "methane"], name="from a document")
    r2 = hub.post(
        "/api/v1/networks", json={"scope": SCOPE, "network": to_dict(network)}, headers=bearer([SCOPE])
    )
    assert r2.status_code == 201 and r2.json()["network"] == network.key


def test_bad_molecule_is_422_naming_the_field_and_the_molecule(hub: TestClient) -> None:
    r = submit_smiles(hub, {"methanol": "CO", "broken": "C1CC(", "ethanol": "CCO"})
    assert r.status_code == 422
    (err,) = r.json()["detail"]
    assert err["loc"] == ["body", "ligands", 1] and err["molecule"] == "broken"
    assert "broken" in err["msg"]
    bad_sdf = SDF.replace("  1  5  1  0\n", "  1  5  1  0\n  2  3  1  0\n  2  4  1  0\n")
    r = hub.post("/api/v1/networks", json={"scope": SCOPE, "sdf": bad_sdf}, headers=bearer([SCOPE]))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][:2] == ["body", "sdf"]
    assert r.json()["detail"][0]["molecule"] == "methane"


def test_other_bad_input_is_422(hub: TestClient) -> None:
    h = bearer([SCOPE])
    both = {"scope": SCOPE, "sdf": SDF, "ligands": ["C"]}
    assert hub.post("/api/v1/networks", json=both, headers=h).status_code == 422
    r = hub.post("/api/v1/networks", json={"scope": "not a scope", "ligands": ["C"]}, headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "scope"]
    r = hub.post("/api/v1/networks", json={"scope": SCOPE, "ligands": ["C"], "preset": "nope"}, headers=h)
    assert r.status_code == 422 and "nope" in r.json()["detail"][0]["msg"]
    doc = to_dict(hydration_network(["methane"]))
    key = next(k for k in doc["objects"] if k.startswith("SmallMoleculeComponent"))
    doc["objects"][key]["data"]["smiles"] = "C"  # not canonical with explicit hydrogens
    r = hub.post("/api/v1/networks", json={"scope": SCOPE, "network": doc}, headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "network"]
    assert r.json()["detail"][0]["molecule"] == "methane"


def test_size_limits_are_413(hub: TestClient) -> None:
    h = bearer([SCOPE])
    many = [f"C{'C' * i}O" for i in range(51)]  # the fixture allows 50 molecules
    assert hub.post("/api/v1/networks", json={"scope": SCOPE, "ligands": many}, headers=h).status_code == 413
    huge = {"scope": SCOPE, "sdf": "x" * (1024 * 1024 + 10)}  # the fixture allows 1 MB
    r = hub.post("/api/v1/networks", json=huge, headers=h)
    assert r.status_code == 413 and "FEPFLOW_API_MAX_BODY_MB" in r.json()["detail"]
    doc = to_dict(hydration_network(["methane"]))
    doc["objects"].update(
        {f"Transformation-{i:064x}": {"type": "Transformation", "data": {}} for i in range(61)}
    )
    assert hub.post("/api/v1/networks", json={"scope": SCOPE, "network": doc}, headers=h).status_code == 413


def test_listing_is_by_scope_and_paged(hub: TestClient) -> None:
    keys = set()
    for i in range(3):
        keys.add(submit_smiles(hub, {f"m{i}": "C" * (i + 1)}, name=f"n{i}").json()["network"])
    other = submit_smiles(hub, {"x": "CCO"}, scope=OTHER_SCOPE).json()["network"]
    seen: list[str] = []
    after = None
    while True:
        params = {"limit": 2, **({"after": after} if after else {})}
        page = hub.get("/api/v1/networks", params=params, headers=bearer(["acme-*-*"])).json()
        seen += [n["key"] for n in page["items"]]
        assert all(n["scopes"] == [SCOPE] for n in page["items"])
        after = page["next_after"]
        if after is None:
            break
    assert set(seen) == keys and other not in seen
    assert [n["key"] for n in hub.get("/api/v1/networks", headers=bearer([OTHER_SCOPE])).json()["items"]] == [
        other
    ]


def test_results_gather_repeats_as_json_and_csv(
    hub: TestClient, hub_index: Index, hub_objects: ObjectStore
) -> None:
    sub = submit_smiles(hub, {"methanol": "CO", "ethanol": "CCO"}, repeats=2).json()
    net = sub["network"]
    tasks = hub.get("/api/v1/tasks", params={"network": net}, headers=bearer([SCOPE])).json()["items"]
    by_t: dict[str, list[str]] = {}
    for t in tasks:
        by_t.setdefault(t["transformation"], []).append(t["key"])
    t_meoh = next(
        t for t in by_t if "methanol" in hub_index.db["transformations"].find_one({"_id": t})["name"]
    )
    complete_task(hub_index, hub_objects, by_t[t_meoh][0], dg=-5.0, error=0.3, ligand="methanol")
    complete_task(hub_index, hub_objects, by_t[t_meoh][1], dg=-4.0, error=0.4, ligand="methanol")
    body = hub.get(f"/api/v1/networks/{net}/results", headers=bearer([SCOPE])).json()
    rows = {r["transformation"]: r for r in body["transformations"]}
    assert rows[t_meoh]["n_repeats"] == 2 and rows[t_meoh]["n_tasks"] == 2
    assert rows[t_meoh]["dg_kcal_mol"] == pytest.approx(-4.5)
    assert rows[t_meoh]["mbar_error_kcal_mol"] == pytest.approx((0.3**2 + 0.4**2) ** 0.5 / 2)
    # the headline error is the repeats' standard deviation (openfe's), not max(standard error, MBAR)
    assert rows[t_meoh]["uncertainty_kcal_mol"] == pytest.approx(0.5**0.5)
    assert rows[t_meoh]["uncertainty_basis"] == "standard deviation of 2 repeats"
    other = next(r for t, r in rows.items() if t != t_meoh)
    assert other["dg_kcal_mol"] is None and other["n_repeats"] == 0
    assert body["molecules"] == [
        {
            "molecule": "methanol",
            "dg_kcal_mol": -4.5,
            "uncertainty_kcal_mol": pytest.approx(0.5**0.5),
            "protocol": "absolute-hydration",
            "uncertainty_basis": "standard deviation of 2 repeats",
        }
    ]
    r = hub.get(f"/api/v1/networks/{net}/results", params={"format": "csv"}, headers=bearer([SCOPE]))
    assert r.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert {row["transformation"]: row["dg_kcal_mol"] for row in table}[t_meoh] == "-4.5"
    per_t = hub.get(f"/api/v1/transformations/{t_meoh}/results", headers=bearer([SCOPE])).json()
    assert per_t["estimate"]["dg_kcal_mol"] == pytest.approx(-4.5) and len(per_t["repeats"]) == 2
    result = hub.get(f"/api/v1/results/{per_t['repeats'][0]['key']}", headers=bearer([SCOPE]))
    assert result.status_code == 200 and result.json()["summary"]["ligand"] == "methanol"
    archive = hub.get(f"/api/v1/networks/{net}/archive", headers=bearer([SCOPE])).json()
    assert len(archive["tasks"]) == 4 and len(archive["drs_ids"]) == 2


def test_the_same_network_in_a_second_scope_is_new_there(hub: TestClient, hub_index: Index) -> None:
    first = submit_smiles(hub, MOLS)
    assert first.status_code == 201
    both = bearer([SCOPE, OTHER_SCOPE])
    body = {"scope": OTHER_SCOPE, "ligands": [{"name": n, "smiles": s} for n, s in MOLS.items()]}
    second = hub.post("/api/v1/networks", json=body, headers=both)
    assert second.status_code == 201 and second.json()["network"] == first.json()["network"]
    assert sum(second.json()["created_documents"].values()) == 0
    doc = hub_index.db["networks"].find_one({"_id": first.json()["network"]})
    assert sorted(doc["scopes"]) == sorted([SCOPE, OTHER_SCOPE]) and doc["n_edges"] == 3
    assert hub.post("/api/v1/networks", json=body, headers=both).status_code == 200
    seen = hub.get(f"/api/v1/networks/{first.json()['network']}", headers=bearer([OTHER_SCOPE])).json()
    assert seen["scopes"] == [OTHER_SCOPE]  # the other scope is not revealed


def test_status_counts_are_cached_briefly_then_refreshed(
    hub_index: Index, hub_objects: ObjectStore, auth_config: AuthSettings
) -> None:
    app = create_app(
        index=hub_index, objects=hub_objects, api=ApiSettings(status_cache_s=0.3), auth_config=auth_config
    )
    with TestClient(app) as hub:
        sub = submit_smiles(hub, MOLS).json()
        path, h = f"/api/v1/networks/{sub['network']}/status", bearer([SCOPE])
        n = len(sub["tasks"])
        assert hub.get(path, headers=h).json()["counts"]["waiting"] == n
        hub_index.tasks.cancel(sub["tasks"][0])
        assert hub.get(path, headers=h).json()["counts"]["waiting"] == n  # served from the cache
        time.sleep(0.35)
        deadline = time.monotonic() + 5
        while hub.get(path, headers=h).json()["counts"]["cancelled"] != 1:
            assert time.monotonic() < deadline, "the cached counts were never refreshed"
            time.sleep(0.05)
        assert hub.get(path, headers=bearer([OTHER_SCOPE])).status_code == 404  # scope still checked
