"""Results stored by an earlier version of fepflow (summary version 1) are read by today's hub: the
network's estimates, a transformation's results and the stored roll-ups give their value and error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from api_support import SCOPE, bearer, complete_task, submit_smiles
from fastapi.testclient import TestClient

from fepflow.store.index import Index
from fepflow.store.objects import ObjectStore
from fepflow.store.rollups import update_estimates

pytestmark = pytest.mark.integration
pytest_plugins = ["api_fixtures"]  # the hub fixtures


def _v1(repo_root: Path, dg: float, error: float, **fields: Any) -> dict[str, Any]:
    """The summary an earlier version stored, with another value and error."""
    doc = dict(json.loads((repo_root / "tests" / "data" / "summary_v1_absolute.json").read_text()))
    doc.update(dg_hyd_kcal_mol=dg, dg_kcal_mol=dg, dg_hyd_error_kcal_mol=error, ddg_kcal_mol=error, **fields)
    return doc


def test_version_1_results_give_their_value_and_uncertainty(
    hub: TestClient, hub_index: Index, hub_objects: ObjectStore, repo_root: Path
) -> None:
    sub = submit_smiles(hub, {"methanol": "CO", "ethanol": "CCO"}, repeats=2).json()
    net = sub["network"]
    tasks = hub.get("/api/v1/tasks", params={"network": net}, headers=bearer([SCOPE])).json()["items"]
    by_t: dict[str, list[str]] = {}
    for t in tasks:
        by_t.setdefault(t["transformation"], []).append(t["key"])
    names = {t: hub_index.db["transformations"].find_one({"_id": t})["name"] for t in by_t}
    t_meoh = next(t for t, name in names.items() if "methanol" in name)
    t_etoh = next(t for t in by_t if t != t_meoh)
    # methanol: two version-1 repeats; ethanol: one repeat written before the generic names existed
    # (only dg_hyd_*), and one current
    for key, (dg, error) in zip(by_t[t_meoh], [(-5.0, 0.3), (-4.0, 0.4)], strict=True):
        complete_task(
            hub_index, hub_objects, key, stored_summary=_v1(repo_root, dg, error, transformation=t_meoh)
        )
    early = {
        "protocol": "absolute-hydration",
        "ligand": "ethanol",
        "dg_hyd_kcal_mol": -5.2,
        "dg_hyd_error_kcal_mol": 0.2,
    }
    complete_task(hub_index, hub_objects, by_t[t_etoh][0], stored_summary=early)
    complete_task(hub_index, hub_objects, by_t[t_etoh][1], dg=-4.8, error=0.1, ligand="ethanol")

    body = hub.get(f"/api/v1/networks/{net}/results", headers=bearer([SCOPE])).json()
    rows = {r["transformation"]: r for r in body["transformations"]}
    assert rows[t_meoh]["n_repeats"] == 2
    assert rows[t_meoh]["dg_kcal_mol"] == pytest.approx(-4.5)
    assert rows[t_meoh]["mbar_error_kcal_mol"] == pytest.approx((0.3**2 + 0.4**2) ** 0.5 / 2)
    assert rows[t_meoh]["uncertainty_kcal_mol"] == pytest.approx(0.5**0.5)  # stdev of -5 and -4
    assert rows[t_etoh]["n_repeats"] == 2 and rows[t_etoh]["dg_kcal_mol"] == pytest.approx(-5.0)
    assert rows[t_etoh]["mbar_error_kcal_mol"] == pytest.approx((0.2**2 + 0.1**2) ** 0.5 / 2)
    assert {m["molecule"]: m["dg_kcal_mol"] for m in body["molecules"]} == {
        "methanol": pytest.approx(-4.5),
        "ethanol": pytest.approx(-5.0),
    }

    per_t = hub.get(f"/api/v1/transformations/{t_meoh}/results", headers=bearer([SCOPE])).json()
    assert per_t["estimate"]["dg_kcal_mol"] == pytest.approx(-4.5)
    assert per_t["estimate"]["uncertainty_kcal_mol"] == pytest.approx(0.5**0.5)
    assert per_t["estimate"]["n_repeats"] == 2 and len(per_t["repeats"]) == 2
    # the repeats are served as they were stored
    assert {r["summary"]["dg_hyd_kcal_mol"] for r in per_t["repeats"]} == {-5.0, -4.0}

    # Dagster's roll-ups gather the same repeats the same way
    (doc,) = update_estimates(hub_index, [t_meoh])
    assert doc["dg_kcal_mol"] == pytest.approx(-4.5) and doc["uncertainty_kcal_mol"] == pytest.approx(
        0.5**0.5
    )
    assert sorted(doc["repeat_values_kcal_mol"]) == [-5.0, -4.0]
