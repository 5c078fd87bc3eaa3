"""The `fepflow` hub commands against the real hub (its TestClient as the client's transport)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from api_support import SCOPE, complete_task
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import fepflow.cli.hub
from fepflow.cli.app import app
from fepflow.hub.client import Client
from fepflow.hub.token_file import default_token_file
from fepflow.store.index import Index
from fepflow.store.objects import ObjectStore

pytestmark = pytest.mark.integration
pytest_plugins = ["api_fixtures"]


@pytest.fixture()
def cli(
    hub: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mongo_url: str, mongo_db_name: str
) -> CliRunner:
    monkeypatch.setenv("FEPFLOW_TOKEN_FILE", str(tmp_path / "cfg" / "token.json"))
    monkeypatch.setenv("FEPFLOW_MONGO_URL", mongo_url)
    monkeypatch.setenv("FEPFLOW_MONGO_DATABASE", mongo_db_name)
    monkeypatch.setattr(
        fepflow.cli.hub,
        "client",
        lambda hub_opt: Client("http://testserver", http=hub, token_file=default_token_file()),
    )
    return CliRunner()


def run(cli: CliRunner, *args: str, env: dict[str, str] | None = None) -> str:
    result = cli.invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_admin_login_submit_status_results_tasks(
    cli: CliRunner, hub_index: Index, hub_objects: ObjectStore, tmp_path: Path
) -> None:
    out = run(
        cli,
        "admin",
        "add-user",
        "dave",
        "-s",
        "acme-*-*",
        "--secret-env",
        "DAVE_SECRET",
        env={"DAVE_SECRET": "long secret phrase"},
    )
    assert "acme-*-*" in out
    dup = cli.invoke(
        app,
        ["admin", "add-user", "dave", "-s", SCOPE, "--secret-env", "DAVE_SECRET"],
        env={"DAVE_SECRET": "x"},
    )
    assert dup.exit_code == 1 and "already exists" in dup.output
    run(cli, "login", "-u", "dave", "--password", "long secret phrase")
    assert json.loads(default_token_file().read_text())["identity"] == "dave"
    csv_path = tmp_path / "ligands.csv"
    csv_path.write_text("name,smiles\nmethanol,CO\nethanol,CCO\n")
    out = run(cli, "submit", str(csv_path), "--scope", SCOPE, "--preset", "fast")
    assert "2 transformations, 2 tasks" in out
    network = next(d["_id"] for d in hub_index.db["networks"].find({}, {"_id": 1}))
    assert "already submitted" in run(cli, "submit", str(csv_path), "--scope", SCOPE, "--preset", "fast")
    assert "waiting 2" in run(cli, "status", network)
    keys = [d["_id"] for d in hub_index.tasks.coll.find({}, {"_id": 1})]
    complete_task(hub_index, hub_objects, keys[0], dg=-4.25, error=0.1, ligand="methanol")
    run(cli, "tasks", "cancel", keys[1])
    watched = run(cli, "status", network, "--watch", "--interval", "0.2")
    assert "complete 1" in watched and "cancelled 1" in watched
    assert "-4.25" in run(cli, "results", network, "--format", "csv")
    as_json = json.loads(run(cli, "results", network, "--format", "json"))
    assert as_json["molecules"][0]["molecule"] == "methanol"
    assert "+4.25" not in run(cli, "results", network) and "-4.25" in run(cli, "results", network)
    out = run(cli, "fetch", network, "--dest", str(tmp_path / "dl"))
    assert "1 files verified" in out
    index_rows = [r.split("\t") for r in (tmp_path / "dl" / "tasks.tsv").read_text().splitlines()[1:]]
    folder = next(r[0] for r in index_rows if r[1] == keys[0])  # named by transformation and repeat
    assert re.fullmatch(r"hydration_of_(meth|eth)anol\.repeat-0", folder)
    assert (tmp_path / "dl" / folder / "summary.json").exists()
    assert network in run(cli, "networks")
    listed = run(cli, "tasks", "list", network, "--status", "complete")
    assert listed.splitlines()[1:] == [
        f"{keys[0]}\t{hub_index.tasks.get(keys[0]).transformation_key}\tcomplete\t0\t0\t"
    ]
    assert "1 tasks" in run(cli, "tasks", "list", network, "--status", "complete", "-f", "table")
    assert "extended 1" in run(cli, "tasks", "extend", keys[0], "--iterations", "100")
    assert hub_index.tasks.get(keys[0]).status == "waiting"
    assert "added 2 tasks" in run(cli, "tasks", "repeats", network, "--count", "1")
    _fail_and_restart(cli, hub_index, network)
    bad = cli.invoke(app, ["status", "AlchemicalNetwork-nope"])
    assert bad.exit_code == 1 and "404" in bad.output


def _fail_and_restart(cli: CliRunner, index: Index, network: str) -> None:
    key = index.tasks.claim()[0].key
    started = index.tasks.start(key)
    index.tasks.fail(key, "OpenMMException: NaN", traceback="Traceback ... NaN", run_id=started.run_id)
    assert "restarted 0 tasks" in run(cli, "tasks", "restart", network, "--pattern", "sqm")
    assert "restarted 1 tasks" in run(cli, "tasks", "restart", network, "--pattern", "NaN")
    assert "priority 9 set on 1 tasks" in run(cli, "tasks", "priority", "9", key)


LONG_NAME = "a network named at some length so that no line of it fits in eighty columns " * 2


def test_names_prefixes_and_output_that_scripts_read_at_80_columns(
    cli: CliRunner, hub_index: Index, hub_objects: ObjectStore, tmp_path: Path
) -> None:
    """Piped output (CliRunner's is no terminal) at 80 columns: whole keys and links on one line,
    plain tab-separated listings, JSON on request; networks and tasks by name and short key."""
    env = {"COLUMNS": "80"}
    run(cli, "admin", "add-user", "erin", "-s", SCOPE, "--secret-env", "S", env={"S": "erin secret x"})
    run(cli, "login", "-u", "erin", "--password", "erin secret x")
    ligands = tmp_path / "alcohols.csv"
    ligands.write_text("name,smiles\nmethanol,CO\nethanol,CCO\n")
    out = run(
        cli, "submit", str(ligands), "-s", SCOPE, "--preset", "fast", "--name", LONG_NAME.strip(), env=env
    )
    network = next(d["_id"] for d in hub_index.db["networks"].find({}, {"_id": 1}))
    assert network in out.splitlines()  # the whole key, alone on its line, however narrow
    submitted = json.loads(
        run(
            cli,
            "submit",
            str(ligands),
            "-s",
            SCOPE,
            "--preset",
            "fast",
            "--name",
            "alcohols",
            "-f",
            "json",
            env=env,
        )
    )
    assert submitted["network"] != network and len(submitted["tasks"]) == 2
    listed = run(cli, "networks", env=env).splitlines()
    assert listed[0].split("\t") == ["network", "name", "scopes", "edges"]
    assert any(line.startswith(f"{network}\t{LONG_NAME.strip()}\t{SCOPE}") for line in listed[1:])
    table = run(cli, "networks", "-f", "table", env=env)
    assert network not in table and network.split("-")[1][:12] in table  # short keys for people
    as_json = json.loads(run(cli, "networks", "-f", "json", env=env))
    assert {n["network"] for n in as_json} == {network, submitted["network"]}
    short = network.split("-")[1][:8]
    assert "waiting 2" in run(cli, "status", short, env=env)
    status = json.loads(run(cli, "status", "alcohols", "-f", "json", env=env))
    assert status["network"] == submitted["network"] and status["total"] == 2
    task_lines = run(cli, "tasks", "list", "alcohols", env=env).splitlines()[1:]
    task = task_lines[0].split("\t")[0]
    assert task in submitted["tasks"] and len(task) == 69
    cancelled = json.loads(run(cli, "tasks", "cancel", task.split("-")[1][:10], "-f", "json", env=env))
    assert cancelled["changed"] == [task]
    link = run(cli, "page", "alcohols", env=env).splitlines()
    assert len(link) == 1 and link[0].startswith("https://hub.example.org:8443/networks/")
    assert submitted["network"] in link[0] and len(link[0]) > 80
    assert json.loads(run(cli, "page", "alcohols", "-f", "json", env=env))["url"].startswith("https://")
    missing = cli.invoke(app, ["status", "no such network"], env=env)
    assert missing.exit_code == 1 and "not found" in missing.output


def test_an_openfe_network_is_imported_submitted_and_exported_as_gather_tsv(
    cli: CliRunner, hub_index: Index, tmp_path: Path
) -> None:
    from openfe_network import keyed_chain, network

    ligands = {"benzene": ("c1ccccc1", 1), "toluene": ("Cc1ccccc1", 2)}
    doc, _ = network([("benzene", "toluene")], ligands, binding=True)
    planned = tmp_path / "alchemicalNetwork.json"
    planned.write_text(json.dumps(keyed_chain(doc)))
    result = cli.invoke(app, ["import-openfe", str(planned), "-f", "json"])
    assert result.exit_code == 0, result.output
    assert "NOT carried over: forcefield_settings.small_molecule_forcefield" in result.output
    written = tmp_path / "alchemicalNetwork.fepflow.json"
    assert written.exists()
    run(cli, "admin", "add-user", "olga", "-s", SCOPE, "--secret-env", "S", env={"S": "olga secret x"})
    run(cli, "login", "-u", "olga", "--password", "olga secret x")
    sent = cli.invoke(app, ["submit", str(planned), "-s", SCOPE, "-f", "json"])
    assert sent.exit_code == 0, sent.output
    submitted = json.loads(sent.stdout)  # the import's report went to stderr
    assert len(submitted["transformations"]) == 2 and submitted["name"] == "openfe_benzenes"
    assert {
        d["data"]["protocol"] for d in hub_index.db["transformations"].find({}, {"data.protocol": 1})
    } == {"relative-binding"}
    tsv = run(cli, "results", "openfe_benzenes", "-f", "openfe-ddg").splitlines()
    assert tsv == [
        "ligand_i\tligand_j\tDDG(i->j) (kcal/mol)\tuncertainty (kcal/mol)",
        "benzene\ttoluene\tError\tError",
    ]
    assert (
        run(cli, "results", "openfe_benzenes", "-f", "openfe-dg")
        .splitlines()[0]
        .startswith("ligand\tDG(MLE)")
    )
