"""`fepflow plan` piped (CliRunner's output is no terminal): the ligand and edge tables as plain
tab-separated blocks, each row whole on its line at 80 columns, the network's key alone on its line."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from fepflow.cli.app import app

LONG = "a-ligand-named-at-such-length-that-a-table-of-eighty-columns-would-fold-it"


def test_a_piped_plan_prints_plain_lines(tmp_path: Path) -> None:
    ligands = tmp_path / "ligands.csv"
    ligands.write_text(f"name,smiles\nbenzene,c1ccccc1\n{LONG},Cc1ccccc1\n")
    result = CliRunner().invoke(
        app,
        [
            "plan",
            "--ligands",
            str(ligands),
            "--protocol",
            "relative-hydration",
            "--out",
            str(tmp_path / "plan"),
        ],
        env={"COLUMNS": "80"},
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("# ") and "2 ligands" in lines[0]
    assert lines[1].split("\t") == ["ligand", "heavy atoms", "charge", "posed", "ΔG exp. (kcal/mol)"]
    assert [line.split("\t")[0] for line in lines[2:4]] == ["benzene", LONG]
    edge = next(line for line in lines if line.startswith(f"benzene -> {LONG}\t"))
    assert len(edge.split("\t")) == 5
    key = next(line for line in lines if "AlchemicalNetwork-" in line)
    assert key.split()[-1].startswith("AlchemicalNetwork-") and len(key.split()[-1]) == 82
    assert not any(c in result.stdout for c in "┃│┏━…")
