"""Small molecules, proteins and solvent: canonical forms, keys and clear errors."""

from __future__ import annotations

import pytest
from factories import TINY_PDB
from pydantic import ValidationError
from rdkit import Chem
from rdkit.Chem import AllChem

from fepflow.models import ModelError, ProteinComponent, SmallMoleculeComponent, SolventComponent


def test_same_molecule_written_two_ways_has_one_key() -> None:
    a = SmallMoleculeComponent.from_smiles("CCO", "ethanol")
    b = SmallMoleculeComponent.from_smiles("OCC", "ethanol")
    assert a.key == b.key
    assert a.key.startswith("SmallMoleculeComponent-")
    assert a.smiles.count("[H]") == 6  # hydrogens explicit


def test_name_is_part_of_identity() -> None:
    assert (
        SmallMoleculeComponent.from_smiles("CCO", "ethanol").key
        != SmallMoleculeComponent.from_smiles("CCO", "EtOH").key
    )


def test_stereo_and_charge_are_kept() -> None:
    r = SmallMoleculeComponent.from_smiles("F[C@H](Cl)Br", "r")
    s = SmallMoleculeComponent.from_smiles("F[C@@H](Cl)Br", "r")
    assert r.key != s.key
    acetate = SmallMoleculeComponent.from_smiles("CC(=O)[O-]", "acetate")
    assert acetate.formal_charge == -1
    assert SmallMoleculeComponent.from_smiles("C[NH3+]", "methylammonium").formal_charge == 1


def _embedded(smiles: str, seed: int = 7) -> Chem.Mol:
    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    assert AllChem.EmbedMolecule(mol, randomSeed=seed) == 0
    return mol


def test_conformer_is_kept_and_atom_order_does_not_matter() -> None:
    mol = _embedded("F[C@H](Cl)Br")
    comp = SmallMoleculeComponent.from_mol_block(Chem.MolToMolBlock(mol), "halo")
    assert comp.conformer is not None and len(comp.conformer) == mol.GetNumAtoms()
    reordered = Chem.RenumberAtoms(mol, list(reversed(range(mol.GetNumAtoms()))))
    assert SmallMoleculeComponent.from_mol_block(Chem.MolToMolBlock(reordered), "halo").key == comp.key
    # the stored conformer is the given geometry (same set of interatomic distances)
    back = comp.to_rdkit()
    ref = sorted(round(x, 3) for x in AllChem.Get3DDistanceMatrix(mol).ravel())
    got = sorted(round(x, 3) for x in AllChem.Get3DDistanceMatrix(back).ravel())
    assert got == pytest.approx(ref, abs=2e-3)
    # and writing it out and reading it back keeps the key
    assert SmallMoleculeComponent.from_mol_block(comp.to_mol_block(), "halo").key == comp.key


def test_stereo_is_taken_from_3d_coordinates() -> None:
    r = SmallMoleculeComponent.from_mol_block(Chem.MolToMolBlock(_embedded("F[C@H](Cl)Br")), "x")
    s = SmallMoleculeComponent.from_mol_block(Chem.MolToMolBlock(_embedded("F[C@@H](Cl)Br")), "x")
    assert "@" in r.smiles and r.smiles != s.smiles


def test_sdf_records_are_named_by_title() -> None:
    blocks = []
    for name, smi in (("methanol", "CO"), ("ethane", "CC")):
        mol = _embedded(smi)
        mol.SetProp("_Name", name)
        blocks.append(Chem.MolToMolBlock(mol) + "$$$$\n")
    comps = SmallMoleculeComponent.from_sdf("".join(blocks))
    assert [c.name for c in comps] == ["methanol", "ethane"]
    assert all(c.conformer is not None for c in comps)


@pytest.mark.parametrize(
    ("smiles", "message"),
    [
        ("", "empty SMILES"),
        ("C1CC", "cannot read"),
        ("[Xx]", "cannot read"),
        ("C(C)(C)(C)(C)C", "valence"),
        ("[CH3]", "radical"),
        ("*C", "dummy or unknown atom"),
    ],
)
def test_bad_smiles_is_refused_with_the_input_named(smiles: str, message: str) -> None:
    with pytest.raises(ModelError) as err:
        SmallMoleculeComponent.from_smiles(smiles, name="bad one")
    assert message in str(err.value)
    assert "bad one" in str(err.value)


def test_non_canonical_smiles_given_directly_is_refused() -> None:
    with pytest.raises(ValidationError, match="not canonical"):
        SmallMoleculeComponent(name="x", smiles="OCC")


def test_wrong_number_of_conformer_positions_is_refused() -> None:
    good = SmallMoleculeComponent.from_smiles("C", "methane")
    with pytest.raises(ValidationError, match="5 atoms"):
        SmallMoleculeComponent(name="methane", smiles=good.smiles, conformer=((0.0, 0.0, 0.0),))


def test_protein_text_is_normalised_and_keyed() -> None:
    a = ProteinComponent.from_pdb(TINY_PDB, "tiny")
    b = ProteinComponent.from_pdb("REMARK made by hand\r\n" + TINY_PDB.replace("\n", "\r\n"), "tiny")
    assert a.key == b.key
    assert a.n_atoms == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("REMARK nothing here\n", "no ATOM or HETATM"),
        ("ATOM      1  N   ALA A   1       1.4x8   0.000   0.000  1.00  0.00           N\n", "coordinates"),
    ],
)
def test_bad_pdb_is_refused(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ProteinComponent.from_pdb(text, "bad")


def test_solvent_defaults_written_out_give_the_same_key() -> None:
    assert (
        SolventComponent().key
        == SolventComponent(
            name="solvent",
            water_model="tip3p",
            positive_ion="Na+",
            negative_ion="Cl-",
            ion_concentration_molar=0.15,
            neutralize=True,
        ).key
    )
    assert (
        SolventComponent(ion_concentration_molar=0.15).key
        == SolventComponent(ion_concentration_molar=0.150).key
    )
    assert SolventComponent(ion_concentration_molar=0).key != SolventComponent().key
    with pytest.raises(ValidationError):
        SolventComponent(water_model="tip5p")


def test_rdkit_check_runs_once_per_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    """A built molecule placed in systems is not canonicalised again (it was 0.9 s of a 2,000-ligand
    submission); a new instance from raw fields is still checked, and a wrong one refused."""
    from fepflow.models import ChemicalSystem, components

    calls: list[str] = []
    real = components._canonical

    def counting(mol, label, **kw):  # type: ignore[no-untyped-def]
        calls.append(label)
        return real(mol, label, **kw)

    monkeypatch.setattr(components, "_canonical", counting)
    ethanol = SmallMoleculeComponent.from_smiles("CCO", "ethanol")
    built = len(calls)
    for i in range(3):
        ChemicalSystem(name=f"s{i}", components={"ligand": ethanol, "solvent": SolventComponent()})
    assert len(calls) == built
    again = SmallMoleculeComponent.model_validate(ethanol.model_dump())
    assert len(calls) == built + 1 and again == ethanol
    with pytest.raises(ValidationError, match="not canonical"):
        SmallMoleculeComponent(name="ethanol", smiles="CCO")
