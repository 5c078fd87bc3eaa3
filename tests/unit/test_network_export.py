"""A relative network's estimates as files: cinnabar's CSV read back as cinnabar reads it, and the
per-ligand and per-edge CSV."""

from __future__ import annotations

import csv
import io

import pytest
from cinnabar_format import read_cinnabar

from fepflow.analysis.network_export import cinnabar_csv, edge_csv, ligand_csv
from fepflow.models.network_results import EdgeEstimate, LigandEstimate, NetworkEstimates


def _estimates(**changes: object) -> NetworkEstimates:
    est = NetworkEstimates(
        network="AlchemicalNetwork-x",
        protocol="relative-binding",
        edges=[
            EdgeEstimate(
                ligand_a="benzene",
                ligand_b="toluene",
                ddg_kcal_mol=-0.4123,
                uncertainty_kcal_mol=0.15,
                mbar_error_kcal_mol=0.05,
                stdev_kcal_mol=0.2,
                n_repeats=3,
                legs={"complex": "Transformation-c", "solvent": "Transformation-s"},
            ),
            EdgeEstimate(ligand_a="toluene", ligand_b="p-xylene", n_repeats=0),  # still running
        ],
        ligands=[
            LigandEstimate(
                ligand="toluene",
                dg_kcal_mol=-5.4,
                uncertainty_kcal_mol=0.1,
                rank=1,
                experimental_dg_kcal_mol=-5.52,
                experimental_uncertainty_kcal_mol=0.06,
            ),
            LigandEstimate(
                ligand="benzene",
                dg_kcal_mol=-5.0,
                uncertainty_kcal_mol=0.1,
                rank=2,
                experimental_dg_kcal_mol=-5.19,
                experimental_uncertainty_kcal_mol=0.16,
            ),
            LigandEstimate(
                ligand="p-xylene", connected=False, awaiting_results=True, experimental_dg_kcal_mol=-4.6
            ),
        ],
    )
    return est.model_copy(update=changes)


def test_cinnabar_csv_reads_back_as_cinnabar_reads_it() -> None:
    text = cinnabar_csv(_estimates())
    assert text.startswith("# Experimental block\n# Ligand, expt_DDG, expt_dDDG\n")
    assert (
        "\n\n# Calculated block\n# Ligand1,Ligand2, calc_DDG, calc_dDDG(MBAR), calc_dDDG(additional)\n"
        in text
    )
    experimental, calculated = read_cinnabar(text)
    assert experimental == {"toluene": (-5.52, 0.06), "benzene": (-5.19, 0.16), "p-xylene": (-4.6, 0.0)}
    # only the computed edge; cinnabar's σ (MBAR + additional) is the uncertainty fepflow quotes
    assert calculated == [("benzene", "toluene", pytest.approx(-0.4123), pytest.approx(0.15))]
    assert "benzene,toluene,-0.4123,0.0500,0.1000" in text


def test_cinnabar_csv_matches_cinnabars_own_example_layout() -> None:
    # the first lines of cinnabar's data/example.csv, with its exact headers
    example = (
        "# Experimental block\n# Ligand, expt_DDG, expt_dDDG\nCAT-13a, -8.83 , 0.10\n\n"
        "# Calculated block\n# Ligand1,Ligand2, calc_DDG, calc_dDDG(MBAR), calc_dDDG(additional)\n"
        "CAT-13b,CAT-17g,\t0.36\t,0.11,0.0\n"
    )
    ours = cinnabar_csv(_estimates()).splitlines()
    theirs = example.splitlines()
    assert [ours[i] for i in (0, 1)] == theirs[:2]
    assert ours[ours.index("# Calculated block") - 1 :][:3] == theirs[3:6]
    assert read_cinnabar(example) == ({"CAT-13a": (-8.83, 0.10)}, [("CAT-13b", "CAT-17g", 0.36, 0.11)])


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("a,b", "comma"),
        (" padded", "surrounding spaces"),
        ("Relative-7", "'Relative'"),
        ("Calculated", "'Calculate'"),
    ],
)
def test_names_cinnabar_would_misread_are_refused(name: str, reason: str) -> None:
    est = _estimates()
    est.ligands[0].ligand = name
    with pytest.raises(ValueError, match=reason):
        cinnabar_csv(est)


def test_ligand_and_edge_csv_hold_every_field() -> None:
    ligands = list(csv.DictReader(io.StringIO(ligand_csv(_estimates()))))
    assert [r["ligand"] for r in ligands] == ["toluene", "benzene", "p-xylene"]
    assert ligands[0]["dg_kcal_mol"] == "-5.4" and ligands[0]["rank"] == "1"
    assert ligands[2]["dg_kcal_mol"] == "" and ligands[2]["awaiting_results"] == "True"
    edges = list(csv.DictReader(io.StringIO(edge_csv(_estimates()))))
    assert edges[0]["legs"] == "complex=Transformation-c;solvent=Transformation-s"
    assert edges[0]["ddg_kcal_mol"] == "-0.4123" and edges[1]["ddg_kcal_mol"] == ""
    assert set(edges[0]) == set(EdgeEstimate.model_fields)
