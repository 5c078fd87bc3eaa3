"""`fepflow results` for a relative network as scripts read it, through the real hub: piped (no
terminal) at 80 columns it prints plain tab-separated blocks with the network's whole key and the
legs' whole transformation keys, each on one line, and it takes the network by a short key prefix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from api_support import SCOPE, bearer, complete_task
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import fepflow.cli.hub
from fepflow.analysis.network import ligand_names
from fepflow.cli.app import app
from fepflow.hub.client import Client
from fepflow.models import SmallMoleculeComponent
from fepflow.models.network import AlchemicalNetwork
from fepflow.models.results import TaskSummary
from fepflow.planning import plan_network
from fepflow.store.index import Index
from fepflow.store.objects import ObjectStore

pytestmark = pytest.mark.integration
pytest_plugins = ["api_fixtures"]

NARROW = {"COLUMNS": "80"}


@pytest.fixture()
def edge(hub_index: Index, hub_objects: ObjectStore) -> AlchemicalNetwork:
    """A relative hydration edge benzene -> toluene in SCOPE, every task done."""
    ligands = [
        SmallMoleculeComponent.from_smiles(s, n)
        for n, s in [("benzene", "c1ccccc1"), ("toluene", "Cc1ccccc1")]
    ]
    network = plan_network(ligands, edges=[("benzene", "toluene")], name="one edge")
    report = hub_index.submit_network(network, scope=SCOPE, repeats=1)
    by_key = {t.key: t for t in network.edges}
    for key in report.task_keys:
        task = hub_index.tasks.get(key)
        assert ligand_names(by_key[task.transformation_key]) == ("benzene", "toluene")
        summary = TaskSummary(
            protocol="relative-hydration",
            transformation=task.transformation_key,
            repeat=task.repeat,
            quantity="ΔΔG_hyd(A -> B)",
            dg_kcal_mol=0.12,
            dg_mbar_error_kcal_mol=0.04,
        )
        complete_task(hub_index, hub_objects, key, stored_summary=summary.to_stored())
    return network


@pytest.fixture()
def cli(hub: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("FEPFLOW_TOKEN_FILE", str(tmp_path / "token.json"))
    token = bearer([SCOPE])["Authorization"][7:]
    monkeypatch.setattr(
        fepflow.cli.hub, "client", lambda hub_opt: Client("http://testserver", http=hub, token=token)
    )
    return CliRunner()


def _out(cli: CliRunner, *args: str) -> str:
    result = cli.invoke(app, list(args), env=NARROW)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_piped_relative_results_keep_whole_keys_on_one_line(cli: CliRunner, edge: AlchemicalNetwork) -> None:
    short = edge.key.split("-")[1][:8]
    lines = _out(cli, "results", short).splitlines()  # by ligand, the default for a relative network
    assert len(edge.key) == 82 and edge.key in lines[0] and lines[0].startswith("# ")
    assert lines[1].split("\t")[:2] == ["rank", "ligand"]
    assert {line.split("\t")[1] for line in lines[2:4]} == {"benzene", "toluene"}
    assert not any(c in "\n".join(lines) for c in "┃│┏━…")

    edges = _out(cli, "results", short, "--by", "edge").split("\n\n")[0].splitlines()
    assert edge.key in edges[0]
    row = dict(zip(edges[1].split("\t"), edges[2].split("\t"), strict=True))
    assert (row["A"], row["B"], row["ΔΔG"]) == ("benzene", "toluene", "+0.12")
    legs = {v for k, v in row.items() if k.endswith(" transformation")}
    assert legs == {t.key for t in edge.edges}  # whole keys, 79 characters each, unbroken

    table = _out(cli, "results", short, "-f", "table")  # asked for: a table, with a short key
    assert "┃" in table and edge.key not in table and edge.key.split("-")[1][:12] in table


def test_every_command_that_takes_a_key_takes_a_short_one(
    cli: CliRunner, edge: AlchemicalNetwork, hub_index: Index, tmp_path: Path
) -> None:
    """Networks by a key prefix or by name, tasks by a key prefix: each command answers for the
    whole key it names, and JSON and plain output carry whole keys."""
    net = edge.key.split("-")[1][:6]
    tasks = [str(t["_id"]) for t in hub_index.tasks.of_network(edge.key)]
    task = tasks[0].split("-")[1][:8]
    assert f"{edge.key}: complete" in _out(cli, "status", net)
    assert json.loads(_out(cli, "status", "one edge", "-f", "json"))["network"] == edge.key
    listed = _out(cli, "tasks", "list", net).splitlines()[1:]
    assert {line.split("\t")[0] for line in listed} == set(tasks)
    assert edge.key in _out(cli, "page", net)
    fetched = json.loads(_out(cli, "fetch", net, "--dest", str(tmp_path / "dl"), "-f", "json"))
    assert fetched["network"] == edge.key and fetched["files"]
    assert json.loads(_out(cli, "tasks", "priority", "5", task, "-f", "json"))["changed"] == [tasks[0]]
    assert json.loads(_out(cli, "tasks", "extend", task, "--iterations", "10", "-f", "json"))["changed"] == [
        tasks[0]
    ]
    assert json.loads(_out(cli, "tasks", "cancel", task, "-f", "json"))["changed"] == [tasks[0]]
    assert json.loads(_out(cli, "tasks", "restart", net, "-f", "json"))["changed"] == []
    added = json.loads(_out(cli, "tasks", "repeats", "one edge", "-f", "json"))["changed"]
    assert len(added) == len(edge.edges) and all(k.startswith("Task-") for k in added)


def test_an_ambiguous_or_unknown_prefix_is_a_clear_error(cli: CliRunner, hub_index: Index) -> None:
    keys = [f"AlchemicalNetwork-abcd{d * 4}".ljust(82, "0") for d in "12"]
    hub_index.db["networks"].insert_many(
        [{"_id": k, "name": "twin", "scopes": [SCOPE], "n_edges": 0} for k in keys]
        + [{"_id": "AlchemicalNetwork-abcd3333".ljust(82, "0"), "name": "theirs", "scopes": ["rival-x-y"]}]
    )
    for ref in ("abcd", "twin"):
        result = cli.invoke(app, ["status", ref], env=NARROW)
        assert result.exit_code == 1 and "hub error 409" in result.stderr
        line = next(line for line in result.stderr.splitlines() if "ambiguous" in line)
        assert all(k in line for k in keys) and "abcd3333" not in result.stderr  # whole, on one line
    unknown = cli.invoke(app, ["tasks", "cancel", "abcd9999"], env=NARROW)
    assert unknown.exit_code == 1 and "hub error 404" in unknown.stderr and "not found" in unknown.stderr
