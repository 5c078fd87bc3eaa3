"""Protein preparation (PDBFixer): the T4 lysozyme L99A example as shipped and as a chemist would bring
it (no hydrogens, waters and ions), a residue gap named, broken structures refused naming the residue;
and the example's ligand poses and data files."""

from __future__ import annotations

import numpy as np
import pytest

from fepflow.chemistry.protein_prep import ProteinPreparationError, prepare_protein
from fepflow.data import t4l99a
from fepflow.data.t4l99a.generate import posed_ligands, sdf_text
from fepflow.mapping import map_ligands
from fepflow.models import ProteinComponent

PDB = t4l99a.protein_pdb()
ATOMS = [line for line in PDB.splitlines() if line.startswith("ATOM")]
N_ATOMS = 2603  # openmmtools' receptor.pdb, hydrogens included
N_HYDROGENS = 1313


def _number(line: str) -> str:
    return line[22:26].strip()


def _hydrogen(line: str) -> bool:
    return line[12:16].strip().lstrip("0123456789").startswith("H")  # H1, HB2, 2HB


def _without(predicate) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(line for line in ATOMS if not predicate(line)) + "\nEND\n"


def test_example_protein_as_shipped_is_kept_as_it_is() -> None:
    prepared = prepare_protein(PDB, name="T4 lysozyme L99A")
    report = prepared.report
    assert report.n_residues == 162 and report.n_atoms == N_ATOMS
    assert report.hydrogens_added == 0 and report.heavy_atoms_added == []
    assert [(h.residue, h.state) for h in report.histidines] == [("HIS 31", "HIE")]  # as AMBER named it
    assert report.missing_residues == [] and report.removed == [] and report.ph == 7.0
    protein = ProteinComponent.from_pdb(prepared.pdb, "T4 lysozyme L99A")
    assert protein.n_atoms == N_ATOMS
    assert " HIE " in prepared.pdb and " HIS " not in prepared.pdb
    assert "  H1  MET" in prepared.pdb  # the N-terminal amide H as ff14SB names it
    heavy = {line[12:27]: line[30:54] for line in ATOMS if not _hydrogen(line)}
    out = {line[12:27]: line[30:54] for line in prepared.pdb.splitlines() if line.startswith("ATOM")}
    assert all(out[k] == v for k, v in heavy.items())  # no heavy atom moved


def test_hydrogens_at_a_stated_ph_waters_and_ions_removed() -> None:
    bare = [line for line in ATOMS if not _hydrogen(line)]
    extra = [
        "HETATM 9000  O   HOH W 501      10.000  10.000  10.000  1.00  0.00           O",
        "HETATM 9001  O   HOH W 502      14.000  10.000  10.000  1.00  0.00           O",
        "HETATM 9002 NA    NA I 601      20.000  10.000  10.000  1.00  0.00          NA",
    ]
    text = "\n".join([*bare, "TER", *extra, "END"])
    first = prepare_protein(text, ph=7.0)
    assert first.report.hydrogens_added == N_HYDROGENS
    assert first.report.removed == ["NA I 601", "2 waters"] and first.report.notes
    assert [h.state for h in first.report.histidines] == ["HID"]  # chosen by the H bond it makes
    assert first.pdb == prepare_protein(text, ph=7.0).pdb  # the same input, the same PDB (and key)
    acidic = prepare_protein(text, ph=2.0).report
    assert [h.state for h in acidic.histidines] == ["HIP"]
    acids = [line for line in ATOMS if line[12:16] == " CA " and line[17:20] in ("ASP", "GLU")]
    assert len(acids) == 18 and len(acidic.protonation) == 18  # every ASP (ASH) and GLU (GLH) at pH 2
    assert all(p.endswith(("ASH", "GLH")) for p in acidic.protonation)


def test_missing_side_chain_atoms_are_added_and_named() -> None:
    text = _without(lambda line: _number(line) == "20" and line[12:16].strip() not in ("N", "CA", "C", "O"))
    report = prepare_protein(text).report
    assert report.heavy_atoms_added == ["ASP 20: CB, CG, OD1, OD2"]
    assert report.n_atoms == N_ATOMS


def test_a_gap_in_the_chain_is_named() -> None:
    gapped = _without(lambda line: _number(line) in {"10", "11", "12"})
    with pytest.raises(ProteinPreparationError, match=r"between ILE 9 - LEU 13 \(C-N 7\.6 Å\)") as info:
        prepare_protein(gapped)
    assert info.value.residue == "ILE 9"
    # with SEQRES the missing residues are named, and built only when asked
    names = [line[17:20].replace("HIE", "HIS") for i, line in enumerate(ATOMS) if line[12:16] == " N  "]
    seqres = [
        f"SEQRES {k // 13 + 1:>3}   {len(names):>5}  " + " ".join(names[k : k + 13])
        for k in range(0, len(names), 13)
    ]
    with_seqres = "\n".join(seqres) + "\n" + gapped
    with pytest.raises(ProteinPreparationError, match="3 between ILE 9 and LEU 13: ASP GLU GLY"):
        prepare_protein(with_seqres)
    built = prepare_protein(with_seqres, build_loops=True).report
    assert built.loops_built == ["3 between ILE 9 and LEU 13: ASP GLU GLY"] and built.n_residues == 162


def test_residues_missing_at_a_chain_end_are_reported_not_built() -> None:
    names = [line[17:20].replace("HIE", "HIS") for line in ATOMS if line[12:16] == " N  "]
    seqres = [
        f"SEQRES {k // 13 + 1:>3}   {len(names):>5}  " + " ".join(names[k : k + 13])
        for k in range(0, len(names), 13)
    ]
    text = "\n".join(seqres) + "\n" + _without(lambda line: _number(line) in {"1", "2"})
    report = prepare_protein(text).report
    assert report.missing_residues == ["2 before ILE 3 (N terminus): MET ASN"]
    assert report.n_residues == 160 and report.loops_built == []


@pytest.mark.parametrize(
    ("text", "residue", "match"),
    [
        (
            "\n".join(line[:17] + "XYZ" + line[20:] if _number(line) == "5" else line for line in ATOMS),
            "XYZ 5",
            "unknown residue XYZ 5",
        ),
        (_without(lambda line: _number(line) == "20" and line[12:16] == " CA "), "ASP 20", "lacks backbone"),
        (
            "\n".join(
                line[:12] + " ZZ " + line[16:] if _number(line) == "7" and line[12:16] == " CB " else line
                for line in ATOMS
            ),
            "LEU 7",
            "has atom\\(s\\) ZZ",
        ),
    ],
)
def test_broken_pdbs_are_refused_naming_the_residue(text: str, residue: str, match: str) -> None:
    with pytest.raises(ProteinPreparationError, match=match) as info:
        prepare_protein(text)
    assert info.value.residue == residue and residue in str(info.value)


def test_example_ligands_are_posed_in_the_cavity() -> None:
    ligands = t4l99a.ligands()
    assert [lig.name for lig in ligands] == list(t4l99a.LIGANDS)
    assert sdf_text(posed_ligands()) == t4l99a.ligands_sdf()  # the committed file is what generate writes
    protein = np.array([[float(x[30:38]), float(x[38:46]), float(x[46:54])] for x in ATOMS])
    xylene = np.array(ligands[2].conformer)
    for ligand in ligands:
        xyz = np.array(ligand.conformer)
        assert np.linalg.norm(xyz.mean(axis=0) - xylene.mean(axis=0)) < 1.0  # in the same place
        assert np.linalg.norm(xyz[:, None] - protein[None], axis=2).min() > 1.7  # no clash
    # benzene's unmapped hydrogen sits where toluene's methyl carbon is (the methyl grows into room)
    benzene, toluene = ligands[0], ligands[1]
    mapped = dict(map_ligands(benzene, toluene).pairs)
    lost = next(i for i in range(12) if i not in mapped)
    methyl_c = next(
        i
        for i, s in enumerate(toluene.to_rdkit().GetAtoms())
        if s.GetSymbol() == "C" and not s.GetIsAromatic()
    )
    distance = np.linalg.norm(np.array(benzene.conformer[lost]) - np.array(toluene.conformer[methyl_c]))
    assert distance < 0.5


def test_experimental_values_of_the_example() -> None:
    text = t4l99a.experimental_csv()
    rows = [line.split(",") for line in text.splitlines() if line and not line.startswith("#")]
    assert rows[0] == ["name", "dG", "error"]
    assert {r[0]: (float(r[1]), float(r[2])) for r in rows[1:]} == {
        "benzene": (-5.19, 0.16),
        "toluene": (-5.52, 0.04),
        "p-xylene": (-4.67, 0.06),
    }
