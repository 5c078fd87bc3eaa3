"""The campaign planner (one for the CLI and the hub): shapes on small SMILES sets, the T4 lysozyme
L99A example from the repo's files, each bad input refused with a message naming it, the readers of
experimental values and edge lists, the network picture, and ``fepflow plan`` writing its files."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image
from typer.testing import CliRunner

from fepflow.cli.app import app
from fepflow.data import t4l99a
from fepflow.models.network_results import ExperimentalValue
from fepflow.models.serialization import from_json
from fepflow.planning import LigandInput, PlanningError
from fepflow.planning.campaign import CampaignRequest, plan_campaign
from fepflow.planning.drawing import write_plan_pictures
from fepflow.planning.graphs import nodes_off_cycles
from fepflow.planning.readers import read_edges_csv, read_experimental_csv

BENZENES = {
    "benzene": "c1ccccc1",
    "toluene": "Cc1ccccc1",
    "phenol": "Oc1ccccc1",
    "ethylbenzene": "CCc1ccccc1",
    "chlorobenzene": "Clc1ccccc1",
}
SCORE_1 = float(np.exp(-0.1))  # one heavy atom unmapped
SCORE_2 = float(np.exp(-0.2))


def smiles(names: dict[str, str] = BENZENES) -> list[LigandInput]:
    return [LigandInput(smiles=s, name=n) for n, s in names.items()]


def hydration(**kw) -> CampaignRequest:  # type: ignore[no-untyped-def]
    return CampaignRequest(protocol="relative-hydration", smiles=kw.pop("smiles", smiles()), **kw)


def binding(**kw) -> CampaignRequest:  # type: ignore[no-untyped-def]
    base = {"sdf": t4l99a.ligands_sdf(), "protein_pdb": t4l99a.protein_pdb(), "protein_name": "T4L99A"}
    return CampaignRequest(protocol="relative-binding", **{**base, **kw})


def pairs(plan) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {(e.ligand_a, e.ligand_b) for e in plan.report.edges}


# -- shapes -----------------------------------------------------------------------------------------


def test_mst_is_a_tree_of_the_best_scores() -> None:
    plan = plan_campaign(hydration())
    report = plan.report
    assert report.shape == "mst" and len(report.edges) == 4 and report.cycles == []
    # toluene, phenol and chlorobenzene are one heavy atom from benzene; ethylbenzene one from toluene
    assert {frozenset(p) for p in pairs(plan)} == {
        frozenset(p)
        for p in (
            ("benzene", "toluene"),
            ("benzene", "phenol"),
            ("benzene", "chlorobenzene"),
            ("toluene", "ethylbenzene"),
        )
    }
    assert all(e.score == pytest.approx(SCORE_1, abs=1e-6) for e in report.edges)
    assert all(e.transformations.keys() == {"hydration"} for e in report.edges)
    assert report.n_transformations == 4 and len(plan.network.edges) == 4


def test_star_around_a_reference_and_its_direction() -> None:
    plan = plan_campaign(hydration(shape="star", reference="toluene"))
    assert pairs(plan) == {("toluene", n) for n in BENZENES if n != "toluene"}
    assert plan.report.reference == "toluene" and plan.report.shape == "star"


def test_cycles_put_every_ligand_on_a_cycle() -> None:
    plan = plan_campaign(hydration(shape="cycles"))
    names = [lig.name for lig in plan.report.ligands]
    index = {n: i for i, n in enumerate(names)}
    numbered = [(index[a], index[b]) for a, b in pairs(plan)]
    assert nodes_off_cycles(len(names), numbered) == []
    assert len(plan.report.cycles) == len(plan.report.edges) - (len(names) - 1)  # independent cycles
    assert all(len(c) >= 3 for c in plan.report.cycles)


def test_user_edges_from_a_csv() -> None:
    edges = read_edges_csv(
        "ligand_a,ligand_b\n# a path\nbenzene,toluene\ntoluene,ethylbenzene\nbenzene,phenol\n"
    )
    plan = plan_campaign(hydration(smiles=smiles({k: BENZENES[k] for k in list(BENZENES)[:4]}), edges=edges))
    assert [(e.ligand_a, e.ligand_b) for e in plan.report.edges] == [
        ("benzene", "toluene"),
        ("benzene", "phenol"),
        ("toluene", "ethylbenzene"),
    ]
    assert plan.report.shape == "user"


def test_absolute_hydration_still_plans_one_transformation_per_molecule() -> None:
    plan = plan_campaign(CampaignRequest(protocol="absolute-hydration", smiles=smiles(), preset="fast"))
    assert len(plan.network.edges) == 5 and plan.report.edges == [] and plan.report.shape == "absolute"
    assert plan.network.name == "absolute-hydration of 5 molecules"


def test_the_t4_lysozyme_example_from_the_repo_files() -> None:
    experimental = read_experimental_csv(t4l99a.experimental_csv())
    plan = plan_campaign(binding(shape="cycles", experimental=experimental, preset="fast", repeats=2))
    report = plan.report
    assert [(e.ligand_a, e.ligand_b, round(e.score or 0, 4)) for e in report.edges] == [
        ("benzene", "toluene", round(SCORE_1, 4)),
        ("benzene", "p-xylene", round(SCORE_2, 4)),
        ("toluene", "p-xylene", round(SCORE_1, 4)),
    ]
    assert [e.mapped_heavy_atoms for e in report.edges] == [6, 6, 7]
    assert all(e.transformations.keys() == {"complex", "solvent"} for e in report.edges)
    assert report.n_transformations == 6 and len(report.cycles) == 1 and len(report.cycles[0]) == 3
    assert [lig.experimental.dg_kcal_mol for lig in report.ligands if lig.experimental] == [
        -5.19,
        -5.52,
        -4.67,
    ]
    assert report.protein is not None and [(h.residue, h.state) for h in report.protein.histidines] == [
        ("HIS 31", "HIE")
    ]
    assert all(t.settings["repeats"] == 2 for t in plan.network.edges)
    complex_leg = next(t for t in plan.network.edges if t.state_a.protein is not None)
    assert complex_leg.state_a.protein is not None and complex_leg.state_a.protein.pdb.count("\nATOM") == 2602
    assert plan.protein_pdb is not None and " HIE " in plan.protein_pdb


# -- bad input ----------------------------------------------------------------------------------------


def refused(request: CampaignRequest, match: str, field: str | None = None) -> PlanningError:
    with pytest.raises(PlanningError, match=match) as info:
        plan_campaign(request)
    if field is not None:
        assert getattr(info.value, "field", None) == field
    return info.value


def test_ligands_that_do_not_map_name_the_pair() -> None:
    odd = smiles({"benzene": "c1ccccc1", "toluene": "Cc1ccccc1", "ammonia": "N"})
    refused(hydration(smiles=odd, edges=[("benzene", "ammonia")]), "edge 'benzene' -> 'ammonia'", "edges")
    error = refused(hydration(smiles=odd), "'ammonia' map\\(s\\) onto none of the others")
    assert "'benzene' - 'ammonia': no sensible mapping" in str(error) and "'toluene' - 'ammonia'" in str(
        error
    )


def test_a_ligand_the_edges_leave_disconnected() -> None:
    refused(
        hydration(edges=[("benzene", "toluene"), ("phenol", "chlorobenzene"), ("benzene", "ethylbenzene")]),
        r"2 disconnected groups \[\['benzene', 'toluene', 'ethylbenzene'\], \['phenol', 'chlorobenzene'\]\]",
        "edges",
    )


def test_different_net_charges_are_refused_with_the_reason() -> None:
    charged = smiles(
        {"benzoic acid": "OC(=O)c1ccccc1", "benzoate": "[O-]C(=O)c1ccccc1", "toluene": "Cc1ccccc1"}
    )
    refused(
        hydration(smiles=charged),
        r"different net charges \(benzoic acid \+0, benzoate -1, toluene \+0\)",
        "ligands",
    )


def test_experimental_names_that_match_no_ligand() -> None:
    values = [
        ExperimentalValue(ligand="benzene", dg_kcal_mol=-0.9),
        ExperimentalValue(ligand="xylene", dg_kcal_mol=-0.8),
    ]
    refused(
        hydration(experimental=values), "experimental values for 'xylene' match no ligand", "experimental"
    )


def test_star_without_or_with_an_unknown_reference() -> None:
    refused(hydration(shape="star"), "a star needs a reference ligand", "reference")
    refused(
        hydration(shape="star", reference="naphthalene"),
        "the reference 'naphthalene' is not one",
        "reference",
    )
    refused(hydration(shape="mst", reference="benzene"), "a reference is for the star shape", "reference")
    refused(hydration(shape="ring"), "unknown shape 'ring'", "shape")


def test_binding_inputs_that_cannot_be_used() -> None:
    refused(binding(protein_pdb=None), "relative-binding needs the protein", "protein_pdb")
    refused(binding(sdf=None, smiles=smiles()), "needs every ligand posed", "sdf")
    gapped = "\n".join(
        line
        for line in t4l99a.protein_pdb().splitlines()
        if not (line.startswith("ATOM") and line[22:26].strip() == "11")
    )
    error = refused(
        binding(protein_pdb=gapped), "the protein cannot be prepared: residues are missing", "protein_pdb"
    )
    assert "between ASP 10 - GLY 12 (C-N 3.8 Å)" in str(error)
    refused(hydration(protein_pdb=t4l99a.protein_pdb()), "relative-hydration takes no protein", "protein_pdb")
    refused(
        CampaignRequest(protocol="absolute-hydration", smiles=smiles(), shape="star"),
        r"takes no protein, shape, reference or edges \(given: shape\)",
        "protocol",
    )


def test_ligands_posed_away_from_the_protein() -> None:
    far = t4l99a.ligands()[0]
    shifted = "".join(
        line[:10] + f"{float(line[10:20]) + 60.0:10.4f}" + line[20:]
        if len(line) > 60 and line[31:33].strip().isalpha()
        else line
        for line in far.to_mol_block().splitlines(keepends=True)
    )
    sdf = shifted + "$$$$\n" + "".join(lig.to_mol_block() + "$$$$\n" for lig in t4l99a.ligands()[1:])
    refused(binding(sdf=sdf), r"benzene \(\d+\.\d Å\); are they posed in this structure's frame", "sdf")


def test_unknown_protocol_and_preset() -> None:
    refused(CampaignRequest(protocol="relative-solvation", smiles=smiles()), "unknown protocol", "protocol")
    refused(hydration(preset="nope"), "nope", "preset")


# -- readers ------------------------------------------------------------------------------------------


def test_experimental_csv_with_or_without_header() -> None:
    values = read_experimental_csv(t4l99a.experimental_csv())
    assert [(v.ligand, v.dg_kcal_mol, v.uncertainty_kcal_mol) for v in values] == [
        ("benzene", -5.19, 0.16),
        ("toluene", -5.52, 0.04),
        ("p-xylene", -4.67, 0.06),
    ]
    bare = read_experimental_csv("benzene,-5.19\ntoluene,−5.52,0.04\n")  # no header, a Unicode minus
    assert [(v.ligand, v.dg_kcal_mol, v.uncertainty_kcal_mol) for v in bare] == [
        ("benzene", -5.19, 0.0),
        ("toluene", -5.52, 0.04),
    ]
    for header in ("name,dg_kcal_mol,uncertainty_kcal_mol", "ligand,ΔG (kcal/mol),dG_err", "Name,dG,stderr"):
        (value,) = read_experimental_csv(f"{header}\nethane,1.83,0.6\n")
        assert (value.ligand, value.dg_kcal_mol, value.uncertainty_kcal_mol) == ("ethane", 1.83, 0.6), header
    kj = read_experimental_csv("ligand,dG_kJ_mol,error\nbenzene,-20.92,0.4184\n")
    assert kj[0].dg_kcal_mol == pytest.approx(-5.0) and kj[0].uncertainty_kcal_mol == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "holds no rows"),
        ("name,dG\nbenzene,strong\n", "line 2"),
        ("name,dG,error\nbenzene,-5.1,-0.1\n", "non-negative error"),
        ("benzene,-5.1\nbenzene,-5.2\n", "'benzene' is given twice"),
        ("name,affinity_rank\nbenzene,1\n", "names no ΔG column"),
    ],
)
def test_bad_experimental_csv(text: str, match: str) -> None:
    with pytest.raises(PlanningError, match=match):
        read_experimental_csv(text)


def test_bad_edges_csv() -> None:
    with pytest.raises(PlanningError, match="line 1"):
        read_edges_csv("benzene\n")
    with pytest.raises(PlanningError, match="given twice"):
        read_edges_csv("x,y\ny,x\n")
    with pytest.raises(PlanningError, match="two different ligand names"):
        read_edges_csv("a,a\n")


# -- the picture and the CLI ------------------------------------------------------------------------


def test_the_network_picture_is_written_as_svg_and_png(tmp_path: Path) -> None:
    plan = plan_campaign(hydration(shape="cycles"))
    svg, png = write_plan_pictures(plan.report, tmp_path)
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    text = svg.read_text()
    assert all(name in text for name in BENZENES)  # names kept as text
    assert all(f"{e.score:.2f}" in text for e in plan.report.edges)  # scores on the edges
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = image.imread(png)
    assert pixels.shape[0] > 500 and pixels.shape[1] > 500 and pixels.std() > 0.05  # a drawing, not blank
    assert svg.read_text() == write_plan_pictures(plan.report, tmp_path / "again")[0].read_text()


def test_fepflow_plan_writes_its_files(tmp_path: Path) -> None:
    data = Path(str(t4l99a.files()))
    out = tmp_path / "plan"
    result = CliRunner().invoke(
        app,
        [
            "plan", "--ligands", str(data / "ligands.sdf"), "--protein", str(data / "protein.pdb"),
            "--shape", "cycles", "--experimental", str(data / "experimental.csv"), "--preset", "fast",
            "--out", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    assert names == {
        "network.json", "plan.json", "network.svg", "network.png", "protein_prepared.pdb", "protein_preparation.json"
    }  # fmt: skip
    network = from_json((out / "network.json").read_text())
    report = json.loads((out / "plan.json").read_text())
    assert report["network"] == network.key and report["protocol"] == "relative-binding"
    assert len(report["edges"]) == 3 and len(network.edges) == 6
    assert "HIS 31 HIE" in result.output and "benzene -> toluene" in result.output
    assert "nothing was submitted" in result.output
    bad = CliRunner().invoke(
        app, ["plan", "--ligands", str(data / "ligands.sdf"), "--shape", "star", "--reference", "naphthalene",
              "--out", str(tmp_path / "x")],
    )  # fmt: skip
    assert bad.exit_code == 1 and "the reference 'naphthalene' is not one of the ligands" in bad.output
