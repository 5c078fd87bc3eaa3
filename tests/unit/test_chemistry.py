"""fepflow.chemistry without AmberTools: errors, conformers, file formats, the cache, the tool runner."""

from __future__ import annotations

import json
import pickle
import stat
from pathlib import Path

import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import rdDistGeom

from fepflow.chemistry import (
    LigandParameters,
    ParameterizationError,
    amber,
    generate_conformer,
    ion_counts,
    parameterize_ligand,
)
from fepflow.chemistry.amberfiles import AMBER_CHARGE_SCALE, read_inpcrd, read_prmtop_atoms
from fepflow.chemistry.conformers import conformer_positions
from fepflow.chemistry.frcmod import frcmod_from_prmtop, frcmod_section
from fepflow.chemistry.graphs import component_order
from fepflow.chemistry.mol2 import parse_mol2, write_mol2
from fepflow.chemistry.parameters import cache_path
from fepflow.data.freesolv import amber_files
from fepflow.models import SmallMoleculeComponent

FREESOLV = amber_files("mobley_9055303")[0].parent  # the FreeSolv files shipped with fepflow

ETHANOL_MOL2 = """\
@<TRIPOS>MOLECULE
LIG
    9     8     1     0     0
SMALL
bcc


@<TRIPOS>ATOM
      1 H1           1.8340     1.0320     0.4600 ho         1 LIG       0.396000
      2 O1           1.2240     0.3420     0.7790 oh         1 LIG      -0.599800
      3 C1           0.5040    -0.3080    -0.2040 c3         1 LIG       0.126400
      4 H2           0.7720    -0.0060    -1.2300 h1         1 LIG       0.043200
      5 H3           0.5980    -1.4180    -0.1690 h1         1 LIG       0.043200
      6 C2          -0.9640     0.0150     0.0410 c3         1 LIG      -0.136100
      7 H4          -1.3560     0.7410    -0.7040 hc         1 LIG       0.042367
      8 H5          -1.5830    -0.9140    -0.0030 hc         1 LIG       0.042367
      9 H6          -1.0290     0.5170     1.0300 hc         1 LIG       0.042366
@<TRIPOS>BOND
     1     1     2 1
     2     2     3 1
     3     3     4 1
     4     3     5 1
     5     3     6 1
     6     6     7 1
     7     6     8 1
     8     6     9 1
@<TRIPOS>SUBSTRUCTURE
     1 LIG         1 TEMP              0 ****  ****    0 ROOT
"""


def ethanol() -> SmallMoleculeComponent:
    return SmallMoleculeComponent.from_smiles("CCO", "ethanol")


# --- errors -------------------------------------------------------------------------------------


def test_error_names_molecule_and_tool_and_keeps_the_log_tail() -> None:
    log = "\n".join(f"line {i}" for i in range(100))
    err = ParameterizationError("ethanol", "antechamber", "exit status 1", log_tail=log)
    assert isinstance(err, RuntimeError)
    assert (err.molecule, err.tool) == ("ethanol", "antechamber")
    assert "antechamber" in str(err) and "'ethanol'" in str(err) and "line 99" in str(err)
    again = pickle.loads(pickle.dumps(err))
    assert (again.molecule, again.tool, again.log_tail, str(again)) == (
        "ethanol",
        "antechamber",
        log,
        str(err),
    )


# --- conformers ---------------------------------------------------------------------------------


def test_etkdg_conformer_is_deterministic_and_in_component_order() -> None:
    mol = ethanol()
    a = conformer_positions(generate_conformer(mol))
    b = conformer_positions(generate_conformer(SmallMoleculeComponent.from_smiles("OCC", "ethanol")))
    assert a.shape == (9, 3)
    np.testing.assert_array_equal(a, b)
    rd = generate_conformer(mol)
    assert [x.GetSymbol() for x in rd.GetAtoms()] == [x.GetSymbol() for x in mol.to_rdkit().GetAtoms()]
    assert not np.allclose(a, conformer_positions(generate_conformer(mol, seed=1)))


def test_a_carried_conformer_is_used_as_given() -> None:
    raw = Chem.AddHs(Chem.MolFromSmiles("CCO"))
    rdDistGeom.EmbedMolecule(raw, randomSeed=123)
    comp = SmallMoleculeComponent.from_mol_block(Chem.MolToMolBlock(raw), "ethanol")
    assert comp.conformer is not None
    np.testing.assert_allclose(conformer_positions(generate_conformer(comp)), np.array(comp.conformer))


# --- file formats ---------------------------------------------------------------------------------


def test_mol2_round_trip() -> None:
    parsed = parse_mol2(ETHANOL_MOL2)
    assert len(parsed.atoms) == 9 and len(parsed.bonds) == 8
    assert parsed.atom_types[:3] == ["ho", "oh", "c3"]
    assert sum(parsed.charges) == pytest.approx(0.0, abs=1e-6)
    again = parse_mol2(write_mol2(parsed.atoms, parsed.bonds, title="ethanol"))
    assert again.atoms == parsed.atoms and again.bonds == parsed.bonds
    with pytest.raises(ValueError, match="ATOM"):
        parse_mol2("@<TRIPOS>MOLECULE\nx\n")


def test_prmtop_and_inpcrd_readers_on_published_methane() -> None:
    top = read_prmtop_atoms((FREESOLV / "mobley_9055303.prmtop").read_text())
    assert top.names == ["C1", "H1", "H2", "H3", "H4"]
    assert top.types == ["c3", "hc", "hc", "hc", "hc"]
    assert top.charges[0] == pytest.approx(-1.98076401 / AMBER_CHARGE_SCALE)
    assert sum(top.charges) == pytest.approx(0.0, abs=1e-3)  # published: +1e-4
    assert top.bonds == [(0, 1), (0, 2), (0, 3), (0, 4)]
    coords, box = read_inpcrd((FREESOLV / "mobley_9055303.inpcrd").read_text())
    assert len(coords) == 5 and box is None
    assert coords[1] == pytest.approx((0.554, 0.8, 0.496))


def test_frcmod_from_prmtop_holds_the_published_parameters() -> None:
    text = frcmod_from_prmtop((FREESOLV / "mobley_9055303.prmtop").read_text())
    assert frcmod_section(text, "BOND") == ["c3-hc  337.300000  1.092000"]  # GAFF 1.x, not 1.81's 330.6
    assert frcmod_section(text, "ANGLE") == ["hc-c3-hc  39.430000  108.35000"]
    assert [line.split()[0] for line in frcmod_section(text, "NONBON")] == ["c3", "hc"]
    assert frcmod_section(text, "DIHE") == []


def test_component_order_matches_by_graph() -> None:
    mol = ethanol()  # SMILES order: H, O, C, H, H, C, H, H, H
    # the same molecule written heavy atoms first: C0 C1 O2, H3-5 on C0, H6-7 on C1, H8 on O2
    numbers = [6, 6, 8, 1, 1, 1, 1, 1, 1]
    bonds = [(0, 1), (1, 2), (0, 3), (0, 4), (0, 5), (1, 6), (1, 7), (2, 8)]
    order = component_order(mol, numbers, bonds)
    assert [numbers[i] for i in order] == [a.GetAtomicNum() for a in mol.to_rdkit().GetAtoms()]
    assert order[:3] == [8, 2, 1]
    with pytest.raises(ValueError):
        component_order(mol, [6, 6, 8, 1, 1, 1, 1, 1, 1], [(0, 2), (1, 2), *bonds[2:]])  # dimethyl ether


def test_ion_counts() -> None:
    assert ion_counts(0, 700, 0.0, True) == (0, 0)
    assert ion_counts(-1, 700, 0.0, True) == (1, 0)
    assert ion_counts(2, 700, 0.0, True) == (0, 2)
    assert ion_counts(-1, 700, 0.0, False) == (0, 0)
    assert ion_counts(0, 738, 0.15, True) == (2, 2)  # 0.15 * 738 / 55.34 = 2.0
    assert ion_counts(-1, 3700, 0.15, True) == (11, 10)


# --- LigandParameters and the cache ---------------------------------------------------------------


def _params(**changes: object) -> LigandParameters:
    values: dict[str, object] = {
        "name": "ethanol",
        "molecule_key": ethanol().key,
        "forcefield": "gaff2",
        "charge_method": "am1bcc",
        "net_charge": 0,
        "mol2": ETHANOL_MOL2,
        "frcmod": "remark\nMASS\n\nBOND\n\nANGLE\n\nDIHE\n\nIMPROPER\n\nNONBON\n\n",
    }
    values.update(changes)
    return LigandParameters(**values)  # type: ignore[arg-type]


def test_ligand_parameters_json_round_trip() -> None:
    params = _params(provenance="test")
    data = json.loads(json.dumps(params.to_dict()))
    assert LigandParameters.from_dict(data) == params
    assert params.n_atoms == 9 and params.atom_types[0] == "ho"
    with pytest.raises(ValueError, match="format"):
        LigandParameters.from_dict({**data, "format": "something else"})


def _fake_tools(monkeypatch: pytest.MonkeyPatch, mol2: str = ETHANOL_MOL2) -> list[tuple[str, list[str]]]:
    """Replace the AmberTools runner by one that writes canned outputs and records each run."""
    runs: list[tuple[str, list[str]]] = []

    def fake_run_tool(tool: str, args: list[str], *, cwd: Path, **kwargs: object) -> amber.ToolRun:
        runs.append((tool, list(args)))
        if tool == "antechamber":
            (cwd / "ligand.mol2").write_text(mol2)
        elif tool == "parmchk2":
            (cwd / "ligand.frcmod").write_text(_params().frcmod)
        return amber.ToolRun(tool, (tool, *args), 0, "", 0.0)

    monkeypatch.setattr(amber, "run_tool", fake_run_tool)
    return runs


def test_second_call_is_served_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = _fake_tools(monkeypatch)
    first = parameterize_ligand(ethanol(), cache_dir=tmp_path)
    assert [tool for tool, _ in runs] == ["antechamber", "parmchk2"]
    antechamber_args = runs[0][1]
    assert antechamber_args[antechamber_args.index("-nc") + 1] == "0"
    assert antechamber_args[antechamber_args.index("-at") + 1] == "gaff2"

    renamed = SmallMoleculeComponent.from_smiles("OCC", "ethanol")
    again = parameterize_ligand(renamed, cache_dir=tmp_path)
    assert len(runs) == 2  # no tool ran
    assert again == first
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [cache_path(tmp_path, first.molecule_key, "gaff2", "am1bcc").name]  # no temp files

    parameterize_ligand(ethanol(), forcefield="gaff", cache_dir=tmp_path)
    assert len(runs) == 4  # another force field is another entry


def test_unreadable_cache_is_recomputed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = _fake_tools(monkeypatch)
    path = cache_path(tmp_path, ethanol().key, "gaff2", "am1bcc")
    path.write_text("{not json")
    params = parameterize_ligand(ethanol(), cache_dir=tmp_path)
    assert len(runs) == 2
    assert LigandParameters.from_dict(json.loads(path.read_text())) == params


def test_antechamber_rounding_residual_is_spread_evenly(monkeypatch: pytest.MonkeyPatch) -> None:
    off = ETHANOL_MOL2.replace("0.042366\n@", "0.043366\n@")  # charges now sum to +0.001
    assert sum(parse_mol2(off).charges) == pytest.approx(0.001)
    _fake_tools(monkeypatch, mol2=off)
    params = parameterize_ligand(ethanol())
    assert sum(params.charges) == pytest.approx(0.0, abs=1e-7)
    shifts = np.array(params.charges) - np.array(parse_mol2(off).charges)
    np.testing.assert_allclose(shifts, -0.001 / 9, atol=2e-8)
    assert params.atom_types == parse_mol2(off).atom_types

    runs = _fake_tools(monkeypatch, mol2=ETHANOL_MOL2.replace("0.042366\n@", "0.142366\n@"))
    with pytest.raises(ParameterizationError, match="net charge") as info:
        parameterize_ligand(ethanol())
    assert info.value.tool == "antechamber" and len(runs) == 2


def test_unknown_choices_are_refused() -> None:
    with pytest.raises(ValueError, match="force field"):
        parameterize_ligand(ethanol(), forcefield="gaff3")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="published"):
        parameterize_ligand(ethanol(), charge_method="published")


# --- the tool runner (with stand-in executables) ---------------------------------------------------


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture()
def fake_tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    monkeypatch.setattr(amber, "find_tool", lambda name: bindir / name)
    work = tmp_path / "work"
    work.mkdir()
    return work


def test_run_tool_failures(fake_tool: Path) -> None:
    bindir = fake_tool.parent / "bin"
    _script(
        bindir / "antechamber", 'echo "Running: sqm"\necho \'Cannot properly run "/x/bin/sqm -O"\'\nexit 1\n'
    )
    (fake_tool / "sqm.out").write_text("QMMM: SCF did not converge\n")
    with pytest.raises(ParameterizationError) as info:
        amber.run_tool("antechamber", [], cwd=fake_tool, molecule="m", extra_logs=["sqm.out"])
    assert info.value.tool == "sqm" and "did not converge" in info.value.log_tail

    _script(bindir / "parmchk2", "echo done\n")
    with pytest.raises(ParameterizationError, match=r"out\.frcmod") as info:
        amber.run_tool("parmchk2", [], cwd=fake_tool, molecule="m", outputs=["out.frcmod"])
    assert info.value.tool == "parmchk2" and info.value.log_tail == "done"

    _script(bindir / "tleap", "echo 'Exiting LEaP: Errors = 2; Warnings = 0; Notes = 0.'\n")
    with pytest.raises(ParameterizationError, match="2 error"):
        amber.run_tool("tleap", [], cwd=fake_tool, molecule="m")

    _script(bindir / "sqm", "echo started\nsleep 30\n")
    with pytest.raises(ParameterizationError, match="timed out") as info:
        amber.run_tool("sqm", [], cwd=fake_tool, molecule="m", timeout_s=0.5)
    assert info.value.log_tail == "started"

    _script(bindir / "sqm", "echo fine > result.txt\n")
    run = amber.run_tool("sqm", ["-O"], cwd=fake_tool, molecule="m", outputs=["result.txt"])
    assert run.returncode == 0 and run.command[-1] == "-O"


def test_missing_tool_is_a_parameterization_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(amber, "find_tool", lambda name: None)
    with pytest.raises(ParameterizationError, match="not found"):
        amber.run_tool("tleap", [], cwd=tmp_path, molecule="m")
