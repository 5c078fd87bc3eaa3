"""A network opts in to the allocation strategy with its submission: stored for Dagster's allocation
sensor when the network is relative, refused (422, nothing stored) when it is not."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_support import SCOPE, bearer, submit_smiles
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import fepflow.cli.hub
from fepflow.cli.app import app
from fepflow.hub.client import Client
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


def test_the_cli_opts_in_with_target_and_budget(
    hub: TestClient, hub_index: Index, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FEPFLOW_TOKEN_FILE", str(tmp_path / "token.json"))
    token = bearer([SCOPE])["Authorization"][7:]
    monkeypatch.setattr(
        fepflow.cli.hub, "client", lambda _hub: Client("http://testserver", http=hub, token=token)
    )
    csv = tmp_path / "ligands.csv"
    csv.write_text("name,smiles\n" + "".join(f"{n},{s}\n" for n, s in LIGANDS.items()))
    runner = CliRunner()
    half = runner.invoke(
        app, ["submit", str(csv), "-s", SCOPE, "--protocol", "relative-hydration", "--budget-hours", "1"]
    )
    assert half.exit_code != 0 and "--target-uncertainty" in half.output
    done = runner.invoke(
        app,
        [
            "submit",
            str(csv),
            "-s",
            SCOPE,
            "--protocol",
            "relative-hydration",
            "--format",
            "json",
            "--target-uncertainty",
            "0.25",
            "--budget-hours",
            "0.5",
        ],
    )
    assert done.exit_code == 0, done.output
    (doc,) = AllocationStore(hub_index).coll.find()
    assert doc["strategy"]["target_kcal_mol"] == 0.25 and doc["strategy"]["budget_s"] == 1800.0
