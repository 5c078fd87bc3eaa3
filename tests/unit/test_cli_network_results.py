"""A relative network's estimate tables as scripts read them: piped (``--format plain``), every key
and ligand name whole on its line at 80 columns, no box drawing; at a terminal, tables with short keys."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from fepflow.cli.network_results import show_network_estimates
from fepflow.models.network_results import (
    AgreementStatistics,
    CycleClosureEstimate,
    EdgeEstimate,
    LigandEstimate,
    NetworkEstimates,
    Statistic,
)

NETWORK = "AlchemicalNetwork-" + "3f9a1c" * 10 + "abcd"
SOLVENT = "Transformation-" + "5e" * 32
VACUUM = "Transformation-" + "7d" * 32
LONG = "a-ligand-named-at-such-length-that-a-table-of-eighty-columns-would-fold-it"


def _estimates() -> NetworkEstimates:
    return NetworkEstimates(
        network=NETWORK,
        protocol="relative-hydration",
        edges=[
            EdgeEstimate(
                ligand_a="benzene",
                ligand_b=LONG,
                ddg_kcal_mol=-0.45,
                uncertainty_kcal_mol=0.12,
                n_repeats=2,
                legs={"solvent": SOLVENT, "vacuum": VACUUM},
            )
        ],
        ligands=[
            LigandEstimate(ligand=LONG, dg_kcal_mol=-0.22, uncertainty_kcal_mol=0.08, rank=1),
            LigandEstimate(ligand="benzene", dg_kcal_mol=0.22, uncertainty_kcal_mol=0.08, rank=2),
        ],
        cycles=[
            CycleClosureEstimate(
                ligands=["benzene", LONG, "toluene"],
                closure_kcal_mol=0.05,
                uncertainty_kcal_mol=0.2,
                within_2_sigma=True,
            )
        ],
        edge_statistics=AgreementStatistics(n=3, rmse=Statistic(value=0.4, low=0.2, high=0.6)),
    )


def _show(by: str, fmt: str) -> str:
    app = typer.Typer()

    @app.command()
    def show() -> None:
        show_network_estimates(_estimates(), by, fmt)

    result = CliRunner().invoke(app, [], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_piped_ligands_keep_the_whole_network_key_and_names_on_one_line() -> None:
    lines = _show("ligand", "plain").splitlines()
    assert len(NETWORK) == 82
    assert lines[0].startswith("# ΔG per ligand of ") and NETWORK in lines[0]
    assert lines[1].split("\t") == ["rank", "ligand", "ΔG", "±", "experiment", "status"]
    assert lines[2].split("\t")[:4] == ["1", LONG, "-0.22", "0.08"]
    assert lines[3].split("\t")[:3] == ["2", "benzene", "+0.22"]
    assert not any(c in "\n".join(lines) for c in "┃│┏━")


def test_piped_edges_carry_their_legs_whole_transformation_keys() -> None:
    out = _show("edge", "plain")
    blocks = out.split("\n\n")
    assert len(blocks) == 3  # edges, cycle closures, agreement with experiment
    edges = blocks[0].splitlines()
    assert NETWORK in edges[0]
    header, row = edges[1].split("\t"), edges[2].split("\t")
    assert header[-2:] == ["solvent transformation", "vacuum transformation"]
    assert row[:3] == ["benzene", LONG, "-0.45"] and row[-2:] == [SOLVENT, VACUUM]
    cycles = blocks[1].splitlines()
    assert cycles[0] == f"# cycle closures of {NETWORK} (kcal/mol)"
    assert cycles[2].split("\t")[0] == f"benzene -> {LONG} -> toluene"
    stats = blocks[2].splitlines()
    assert stats[0].startswith("# ΔΔG against experiment, 3 values") and NETWORK in stats[0]
    assert stats[2].split("\t") == ["RMSE (kcal/mol)", "0.40", "95%: [0.20, 0.60]"]
    assert stats[-1].startswith("# ± is the standard deviation")


def test_a_table_for_people_shows_the_short_key() -> None:
    out = _show("edge", "table")
    assert NETWORK not in out and NETWORK.split("-")[1][:12] in out
    assert "┃" in out and "cycle closures" in out
