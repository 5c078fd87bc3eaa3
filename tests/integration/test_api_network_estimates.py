"""A relative network's estimates from the hub (GET /networks/{key}/estimates) and the CLI
(`fepflow results --by ligand|edge --format table|csv|json|cinnabar`), on results in the real index."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from api_support import OTHER_SCOPE, SCOPE, bearer, complete_task, submit_smiles
from cinnabar_format import read_cinnabar
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import fepflow.cli.hub
from fepflow.analysis.network import ligand_names
from fepflow.cli.app import app
from fepflow.hub.client import Client
from fepflow.models import SmallMoleculeComponent
from fepflow.models.network import AlchemicalNetwork
from fepflow.models.network_results import ExperimentalValue, NetworkEstimates
from fepflow.models.results import TaskSummary
from fepflow.planning import plan_network
from fepflow.store.index import Index
from fepflow.store.objects import ObjectStore

pytestmark = pytest.mark.integration
pytest_plugins = ["api_fixtures"]

TRUTH = {"benzene": -0.9, "toluene": -0.8, "phenol": -6.6}
"""ΔG_hyd (kcal/mol) the computed edges are made from, and the experimental values."""
NOISE = {("benzene", "toluene"): 0.05, ("toluene", "phenol"): -0.1, ("benzene", "phenol"): 0.02}


@pytest.fixture()
def cycle(hub_index: Index, hub_objects: ObjectStore) -> AlchemicalNetwork:
    """A relative hydration cycle benzene -> toluene -> phenol, submitted in SCOPE, every task done
    (edges = differences of TRUTH plus NOISE, two repeats), with experiment for every ligand."""
    ligands = [
        SmallMoleculeComponent.from_smiles(s, n)
        for n, s in [("benzene", "c1ccccc1"), ("toluene", "Cc1ccccc1"), ("phenol", "Oc1ccccc1")]
    ]
    network = plan_network(ligands, edges=list(NOISE), name="hydration cycle")
    report = hub_index.submit_network(network, scope=SCOPE, repeats=2)
    by_key = {t.key: t for t in network.edges}
    for key in report.task_keys:
        task = hub_index.tasks.get(key)
        a, b = ligand_names(by_key[task.transformation_key])
        value = TRUTH[b] - TRUTH[a] + NOISE[(a, b)] + (0.02 if task.repeat else -0.02)
        summary = TaskSummary(
            protocol="relative-hydration",
            transformation=task.transformation_key,
            repeat=task.repeat,
            quantity="ΔΔG_hyd(A -> B)",
            dg_kcal_mol=value,
            dg_mbar_error_kcal_mol=0.04,
        )
        complete_task(hub_index, hub_objects, key, stored_summary=summary.to_stored())
    hub_index.networks.set_experimental(
        network.key,
        [ExperimentalValue(ligand=n, dg_kcal_mol=v, uncertainty_kcal_mol=0.1) for n, v in TRUTH.items()],
        scope=SCOPE,
    )
    return network


def test_one_scopes_experimental_values_are_not_another_scopes(
    hub: TestClient, hub_index: Index, cycle: AlchemicalNetwork
) -> None:
    """The same chemistry submitted in two scopes shares one network document; each scope's
    measurements stay its own (neither sees nor replaces the other's)."""
    hub_index.submit_network(cycle, scope=OTHER_SCOPE)

    def estimates(scope: str) -> NetworkEstimates:
        r = hub.get(f"/api/v1/networks/{cycle.key}/estimates", headers=bearer([scope]))
        assert r.status_code == 200, r.text
        return NetworkEstimates.model_validate(r.json())

    other = estimates(OTHER_SCOPE)
    assert not other.shifted_to_experiment
    assert all(x.experimental_dg_kcal_mol is None for x in other.ligands)
    hub_index.networks.set_experimental(
        cycle.key, [ExperimentalValue(ligand="benzene", dg_kcal_mol=-20.0)], scope=OTHER_SCOPE
    )
    mine = {x.ligand: x.experimental_dg_kcal_mol for x in estimates(SCOPE).ligands}
    assert mine == pytest.approx(TRUTH)
    assert {x.ligand: x.experimental_dg_kcal_mol for x in estimates(OTHER_SCOPE).ligands}["benzene"] == -20.0


def test_the_hub_serves_a_relative_networks_estimates_in_scope_only(
    hub: TestClient, cycle: AlchemicalNetwork
) -> None:
    r = hub.get(f"/api/v1/networks/{cycle.key}/estimates", headers=bearer([SCOPE]))
    assert r.status_code == 200, r.text
    est = NetworkEstimates.model_validate(r.json())
    assert est.protocol == "relative-hydration" and est.shifted_to_experiment and not est.smoke
    edges = {(e.ligand_a, e.ligand_b): e for e in est.edges}
    for (a, b), noise in NOISE.items():
        assert edges[(a, b)].ddg_kcal_mol == pytest.approx(TRUTH[b] - TRUTH[a] + noise)  # repeats' mean
        assert edges[(a, b)].n_repeats == 2
    (closure,) = est.cycles
    assert abs(closure.closure_kcal_mol) == pytest.approx(abs(0.05 - 0.1 - 0.02))
    assert [x.ligand for x in est.ligands] == ["phenol", "benzene", "toluene"]  # ranked
    assert est.ligand_statistics is not None and est.ligand_statistics.n == 3
    assert est.ligand_statistics.rmse is not None and est.ligand_statistics.rmse.value < 0.1
    assert est.edge_statistics is not None and est.edge_statistics.kendall_tau is not None

    assert (
        hub.get(f"/api/v1/networks/{cycle.key}/estimates", headers=bearer([OTHER_SCOPE])).status_code == 404
    )
    assert (
        hub.get("/api/v1/networks/AlchemicalNetwork-nope/estimates", headers=bearer([SCOPE])).status_code
        == 404
    )
    absolute = submit_smiles(hub, {"methanol": "CO"}).json()["network"]
    r = hub.get(f"/api/v1/networks/{absolute}/estimates", headers=bearer([SCOPE]))
    assert r.status_code == 409 and "not a relative network" in r.json()["detail"]


@pytest.fixture()
def cli(hub: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("FEPFLOW_TOKEN_FILE", str(tmp_path / "token.json"))
    headers = bearer([SCOPE])
    monkeypatch.setattr(
        fepflow.cli.hub,
        "client",
        lambda hub_opt: Client("http://testserver", http=hub, token=headers["Authorization"][7:]),
    )
    return CliRunner()


def _run(cli: CliRunner, *args: str) -> tuple[str, str]:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


def test_the_cli_lists_ligands_edges_and_writes_cinnabars_csv(
    cli: CliRunner, cycle: AlchemicalNetwork
) -> None:
    out, _ = _run(cli, "results", cycle.key)  # a relative network: ligands by default
    lines = [line for line in out.splitlines() if any(n in line for n in TRUTH)]
    assert [next(n for n in TRUTH if n in line) for line in lines] == ["phenol", "benzene", "toluene"]
    assert "shifted to the experimental mean" in " ".join(out.split())  # however rich wraps the title
    assert "Kendall τ" in out and "95%:" in out
    for name, line in zip(["phenol", "benzene", "toluene"], lines, strict=True):
        assert f"{TRUTH[name]:+.2f}" in line  # the experimental column

    out, _ = _run(cli, "results", cycle.key, "--by", "edge")
    assert "benzene" in out and "cycle closures" in out and "ΔΔG against experiment" in out
    rows = list(csv.DictReader(io.StringIO(_run(cli, "results", cycle.key, "--by", "edge", "-f", "csv")[0])))
    assert {(r["ligand_a"], r["ligand_b"]) for r in rows} == set(NOISE)
    ligands = list(
        csv.DictReader(io.StringIO(_run(cli, "results", cycle.key, "--by", "ligand", "-f", "csv")[0]))
    )
    assert [r["rank"] for r in ligands] == ["1", "2", "3"]
    whole = NetworkEstimates.model_validate(json.loads(_run(cli, "results", cycle.key, "-f", "json")[0]))
    assert whole.network == cycle.key and len(whole.edges) == 3

    experimental, calculated = read_cinnabar(_run(cli, "results", cycle.key, "-f", "cinnabar")[0])
    assert experimental == {n: (pytest.approx(v), pytest.approx(0.1)) for n, v in TRUTH.items()}
    by_pair = {(a, b): (ddg, sigma) for a, b, ddg, sigma in calculated}
    assert set(by_pair) == set(NOISE)
    for (a, b), (ddg, sigma) in by_pair.items():
        edge = next(e for e in whole.edges if (e.ligand_a, e.ligand_b) == (a, b))
        assert ddg == pytest.approx(edge.ddg_kcal_mol, abs=1e-4)
        assert sigma == pytest.approx(edge.uncertainty_kcal_mol, abs=2e-4)

    # the per-transformation view as before, and what an absolute network cannot give
    assert "hydration" in _run(cli, "results", cycle.key, "--by", "transformation")[0]
    bad = cli.invoke(app, ["results", cycle.key, "--by", "transformation", "-f", "cinnabar"])
    assert bad.exit_code == 2 and "use --by ligand" in bad.output


def test_an_absolute_network_keeps_its_per_transformation_results(
    cli: CliRunner, hub: TestClient, hub_index: Index, hub_objects: ObjectStore
) -> None:
    network = submit_smiles(hub, {"methanol": "CO"}).json()["network"]
    key = hub_index.tasks.of_network(network)[0]["_id"]
    complete_task(hub_index, hub_objects, key, dg=-4.25, error=0.1, ligand="methanol")
    out, _ = _run(cli, "results", network)
    assert "-4.25" in out and "absolute-hydration" in out and "transformation" in out
    bad = cli.invoke(app, ["results", network, "--by", "ligand"])
    assert bad.exit_code == 1 and "409" in bad.output and "not a relative network" in bad.output
    bad = cli.invoke(app, ["results", network, "-f", "cinnabar"])
    assert bad.exit_code == 2 and "not relative" in bad.output
