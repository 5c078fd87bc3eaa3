"""The hub plans relative campaigns with the planner `fepflow plan` uses: T4 lysozyme L99A from the
repo's PDB and SDF with experimental values, bad input answered 422 naming the field, a planned
document submitted with its experimental values, and the CLI's plan -> submit round trip."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from api_support import SCOPE, SECRET, bearer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import fepflow.cli.hub
from fepflow.auth.tokens import encode_token
from fepflow.cli.app import app
from fepflow.data import t4l99a
from fepflow.hub.client import Client
from fepflow.planning.readers import read_experimental_csv
from fepflow.store.index import Index

pytestmark = pytest.mark.integration
pytest_plugins = ["api_fixtures"]

DATA = Path(str(t4l99a.files()))
EXPERIMENTAL = [v.model_dump() for v in read_experimental_csv(t4l99a.experimental_csv())]


def binding_body(**extra: object) -> dict[str, object]:
    return {
        "scope": SCOPE,
        "sdf": t4l99a.ligands_sdf(),
        "protein_pdb": t4l99a.protein_pdb(),
        "protein_name": "T4 lysozyme L99A",
        "protocol": "relative-binding",
        "preset": "fast",
        "repeats": 1,
        **extra,
    }


def post(hub: TestClient, body: dict[str, object]):  # type: ignore[no-untyped-def]
    return hub.post("/api/v1/networks", json=body, headers=bearer([SCOPE]))


def test_hub_plans_a_relative_binding_network_from_pdb_and_sdf(hub: TestClient, hub_index: Index) -> None:
    r = post(hub, binding_body(shape="cycles", experimental=EXPERIMENTAL))
    assert r.status_code == 201, r.text
    body = r.json()
    plan = body["plan"]
    assert plan["network"] == body["network"] and plan["protocol"] == "relative-binding"
    assert [(e["ligand_a"], e["ligand_b"]) for e in plan["edges"]] == [
        ("benzene", "toluene"),
        ("benzene", "p-xylene"),
        ("toluene", "p-xylene"),
    ]
    assert [round(e["score"], 3) for e in plan["edges"]] == [0.905, 0.819, 0.905]
    assert len(plan["cycles"]) == 1
    assert plan["protein"]["histidines"] == [{"residue": "HIS 31", "state": "HIE"}]
    assert len(body["transformations"]) == 6 and len(body["tasks"]) == 6  # 3 edges x 2 legs x 1 repeat
    stored = hub_index.networks.experimental(body["network"])
    assert [(v.ligand, v.dg_kcal_mol, v.uncertainty_kcal_mol) for v in stored] == [
        ("benzene", -5.19, 0.16),
        ("toluene", -5.52, 0.04),
        ("p-xylene", -4.67, 0.06),
    ]
    doc = hub.get(f"/api/v1/networks/{body['network']}/document", headers=bearer([SCOPE])).json()
    assert sum(1 for o in doc["objects"].values() if o["type"] == "Transformation") == 6
    again = post(hub, binding_body(shape="cycles"))  # the same plan; experimental values kept
    assert again.status_code == 200 and again.json()["tasks"] == body["tasks"]
    assert len(hub_index.networks.experimental(body["network"])) == 3


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"shape": "star"}, "reference", "a star needs a reference ligand"),
        (
            {"shape": "star", "reference": "naphthalene"},
            "reference",
            "'naphthalene' is not one of the ligands",
        ),
        (
            {"experimental": [{"ligand": "o-xylene", "dg_kcal_mol": -4.6}]},
            "experimental",
            "'o-xylene' match no ligand",
        ),
        ({"edges": [["benzene", "toluene"]]}, "edges", "2 disconnected groups"),
        ({"protein_pdb": None}, "protein_pdb", "relative-binding needs the protein"),
    ],
)
def test_bad_campaign_input_is_422_naming_the_field(
    hub: TestClient, extra: dict[str, object], field: str, message: str
) -> None:
    r = post(hub, binding_body(**extra))
    assert r.status_code == 422, r.text
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", field] and message in error["msg"]


def test_a_protein_that_cannot_be_prepared_and_charged_ligands(hub: TestClient) -> None:
    broken = "\n".join(
        line[:17] + "XYZ" + line[20:] if line.startswith("ATOM") and line[22:26].strip() == "5" else line
        for line in t4l99a.protein_pdb().splitlines()
    )
    r = post(hub, binding_body(protein_pdb=broken))
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "protein_pdb"]
    assert "unknown residue XYZ 5" in r.json()["detail"][0]["msg"]
    charged = {
        "scope": SCOPE,
        "protocol": "relative-hydration",
        "ligands": [{"name": "benzoic acid", "smiles": "OC(=O)c1ccccc1"}, {"name": "benzoate", "smiles": "[O-]C(=O)c1ccccc1"}],
    }  # fmt: skip
    r = post(hub, charged)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "ligands"]
    assert "different net charges (benzoic acid +0, benzoate -1)" in r.json()["detail"][0]["msg"]
    # the body's own rules: a reference without a star, a document with planner inputs
    r = post(hub, binding_body(reference="benzene"))
    assert r.status_code == 422 and "centre of shape 'star'" in r.text
    r = post(hub, {"scope": SCOPE, "network": {"format": "fepflow/1"}, "protein_pdb": "ATOM"})
    assert r.status_code == 422 and "planned already" in r.text


def test_a_planned_document_with_experimental_values(
    hub: TestClient, hub_index: Index, tmp_path: Path
) -> None:
    token, _ = encode_token("alice", [SCOPE], secret=SECRET, ttl=timedelta(hours=1))
    client = Client("http://testserver", http=hub, token=token)
    hydration = {
        "scope": SCOPE,
        "protocol": "relative-hydration",
        "shape": "cycles",
        "ligands": [{"name": n, "smiles": s} for n, s in (("benzene", "c1ccccc1"), ("toluene", "Cc1ccccc1"), ("phenol", "Oc1ccccc1"))],
    }  # fmt: skip
    planned = post(hub, hydration).json()
    network = client.network_document(planned["network"])
    values = read_experimental_csv("benzene,-0.90,0.2\nphenol,-6.6,0.2\n")
    result = client.submit_network(network, scope=SCOPE, experimental=values)
    assert result.network == planned["network"] and not result.created and result.plan is None
    assert sorted(v.ligand for v in hub_index.networks.experimental(result.network)) == ["benzene", "phenol"]
    document = hub.get(f"/api/v1/networks/{planned['network']}/document", headers=bearer([SCOPE])).json()
    r = post(
        hub, {"scope": SCOPE, "network": document, "experimental": [{"ligand": "xylene", "dg_kcal_mol": 1.0}]}
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "experimental"]


@pytest.fixture()
def cli(hub: TestClient, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    token, _ = encode_token("alice", [SCOPE], secret=SECRET, ttl=timedelta(hours=1))
    monkeypatch.setattr(
        fepflow.cli.hub, "client", lambda hub_opt: Client("http://testserver", http=hub, token=token)
    )
    return CliRunner()


def test_cli_plan_then_submit_gives_the_same_network(
    cli: CliRunner, hub_index: Index, tmp_path: Path
) -> None:
    files = ["--ligands", str(DATA / "ligands.sdf"), "--protein", str(DATA / "protein.pdb"), "--shape", "cycles",
             "--experimental", str(DATA / "experimental.csv"), "--preset", "fast"]  # fmt: skip
    planned = cli.invoke(app, ["plan", *files, "--out", str(tmp_path / "plan")])
    assert planned.exit_code == 0, planned.output
    key = json.loads((tmp_path / "plan" / "plan.json").read_text())["network"]
    submitted = cli.invoke(app, ["submit", *files, "--scope", SCOPE])
    assert submitted.exit_code == 0, submitted.output
    assert (
        key in submitted.output.replace("\n", "") and "HIS 31 HIE" in submitted.output
    )  # the hub's plan, shown
    assert [v.ligand for v in hub_index.networks.experimental(key)] == ["benzene", "toluene", "p-xylene"]
    document = cli.invoke(
        app, ["submit", str(tmp_path / "plan" / "network.json"), "--scope", SCOPE, "--experimental", str(DATA / "experimental.csv")]
    )  # fmt: skip
    assert document.exit_code == 0 and "already submitted" in document.output
    refused = cli.invoke(app, ["submit", *files[:4], "--shape", "star", "--reference", "toluene", "--scope", SCOPE,
                               "--experimental", str(DATA / "experimental.csv")])  # fmt: skip
    assert refused.exit_code == 0, refused.output  # a star around toluene plans fine
    bad = cli.invoke(app, ["submit", *files[:4], "--shape", "star", "--scope", SCOPE])
    assert bad.exit_code == 1 and "a star needs a reference ligand" in " ".join(bad.output.split())
