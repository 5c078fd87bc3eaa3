"""Components of a chemical system: small molecules (RDKit-canonical), proteins (PDB) and solvent.

A small molecule is stored as a canonical isomeric SMILES with explicit hydrogens, plus the 3D
conformer in that SMILES's atom order when one was given. The same molecule written any other way
(another SMILES, an SDF with its atoms in another order) becomes the same component and key.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from fepflow.models.base import KeyedModel, ModelError

_COORD_DECIMALS = 4  # Å; coordinates are rounded so a conformer re-read from its own SDF keeps its key


def _rdkit() -> Any:
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]
    return Chem


def _parse(text: str, fmt: str, label: str) -> Any:
    Chem = _rdkit()
    if fmt == "smiles":
        mol = Chem.MolFromSmiles(text)
    elif fmt in ("sdf", "mol"):
        mol = Chem.MolFromMolBlock(text, removeHs=False)
    else:
        raise ModelError(f"unknown molecule format {fmt!r}; use smiles, sdf or mol")
    if mol is None:
        detail = _rdkit_complaint(text, fmt)
        raise ModelError(f"molecule {label!r}: RDKit cannot read this {fmt.upper()}{detail}")
    return mol


def _rdkit_complaint(text: str, fmt: str) -> str:
    """Why RDKit refused the input: its chemistry problems, or a syntax error."""
    Chem = _rdkit()
    if fmt == "smiles":
        raw = Chem.MolFromSmiles(text, sanitize=False)
    else:
        raw = Chem.MolFromMolBlock(text, sanitize=False, removeHs=False)
    if raw is None:
        return " (syntax error or unknown element)"
    problems = [p.Message() for p in Chem.DetectChemistryProblems(raw)]
    return f": {'; '.join(problems)}" if problems else ""


def _canonical(mol: Any, label: str, has_conformer: bool) -> tuple[str, list[list[float]] | None]:
    Chem = _rdkit()
    for atom in mol.GetAtoms():
        if atom.GetAtomicNum() == 0:
            raise ModelError(
                f"molecule {label!r}: dummy or unknown atom {atom.GetSymbol()!r} "
                f"(index {atom.GetIdx()}) is not allowed"
            )
        if atom.GetNumRadicalElectrons():
            raise ModelError(
                f"molecule {label!r}: atom {atom.GetSymbol()}{atom.GetIdx() + 1} is a radical; "
                "give a closed-shell structure with its hydrogens"
            )
    if has_conformer:
        Chem.AssignStereochemistryFrom3D(mol)
    molh = Chem.AddHs(mol, addCoords=has_conformer)
    smiles = Chem.MolToSmiles(molh, isomericSmiles=True, canonical=True)
    if not has_conformer:
        return smiles, None
    order = [int(i) for i in molh.GetProp("_smilesAtomOutputOrder").strip("[],").split(",") if i != ""]
    pos = molh.GetConformer().GetPositions()
    coords = [[round(float(x), _COORD_DECIMALS) + 0.0 for x in pos[i]] for i in order]
    return smiles, coords


class SmallMoleculeComponent(KeyedModel):
    """A small molecule: canonical SMILES with explicit hydrogens, and optionally a 3D conformer (Å)."""

    name: str = Field(..., min_length=1, description="the molecule's name, as chemists call it")
    smiles: str = Field(..., description="canonical isomeric SMILES, hydrogens explicit")
    conformer: tuple[tuple[float, float, float], ...] | None = Field(
        None, description="3D coordinates in Å, one per atom in the SMILES's atom order"
    )

    @classmethod
    def from_smiles(cls, smiles: str, name: str | None = None) -> SmallMoleculeComponent:
        label = name or smiles
        text = smiles.strip()
        if not text:
            raise ModelError(f"molecule {label!r}: empty SMILES")
        mol = _parse(text, "smiles", label)
        canon, _ = _canonical(mol, label, has_conformer=False)
        return cls(name=name or text, smiles=canon)

    @classmethod
    def from_mol_block(cls, block: str, name: str | None = None) -> SmallMoleculeComponent:
        """From one MOL block (or one SDF record); a 3D conformer in it is kept."""
        first_line = block.splitlines()[0].strip() if block.strip() else ""
        label = name or first_line or "unnamed molecule"
        mol = _parse(block, "mol", label)
        has_3d = mol.GetNumConformers() > 0 and mol.GetConformer().Is3D()
        canon, coords = _canonical(mol, label, has_conformer=has_3d)
        conformer = tuple(tuple(c) for c in coords) if coords else None
        return cls(name=name or first_line or canon, smiles=canon, conformer=conformer)

    @classmethod
    def from_sdf(cls, sdf: str) -> list[SmallMoleculeComponent]:
        """Every record of an SDF text, named by its title line (or its ``_Name``/``name`` property)."""
        records = [r for r in sdf.split("$$$$") if r.strip()]
        if not records:
            raise ModelError("SDF text holds no molecules")
        out = []
        for i, record in enumerate(records):
            body = record.lstrip("\r\n")
            title = body.splitlines()[0].strip() if body else ""
            out.append(cls.from_mol_block(body, name=title or f"molecule {i + 1}"))
        return out

    # pydantic runs "after" validators again when a built instance is placed in another model (a
    # ChemicalSystem); the RDKit check needs to run only once per instance.
    _checked: bool = PrivateAttr(default=False)

    @model_validator(mode="after")
    def _check(self) -> SmallMoleculeComponent:
        if self._checked:
            return self
        mol = self._parsed_smiles()
        canon, _ = _canonical(mol, self.name, has_conformer=False)
        if canon != self.smiles:
            raise ModelError(
                f"molecule {self.name!r}: SMILES {self.smiles!r} is not canonical with explicit "
                f"hydrogens; build it with SmallMoleculeComponent.from_smiles()"
            )
        if self.conformer is not None and len(self.conformer) != mol.GetNumAtoms():
            raise ModelError(
                f"molecule {self.name!r}: conformer has {len(self.conformer)} positions for "
                f"{mol.GetNumAtoms()} atoms"
            )
        self._checked = True
        return self

    def _parsed_smiles(self) -> Any:
        Chem = _rdkit()
        params = Chem.SmilesParserParams()
        params.removeHs = False
        mol = Chem.MolFromSmiles(self.smiles, params)
        if mol is None:
            raise ModelError(f"molecule {self.name!r}: RDKit cannot read SMILES {self.smiles!r}")
        return mol

    def to_rdkit(self) -> Any:
        """An RDKit molecule with explicit hydrogens (and the conformer, if any)."""
        mol = self._parsed_smiles()
        if self.conformer is not None:
            from rdkit.Chem import rdchem
            from rdkit.Geometry import Point3D

            conf = rdchem.Conformer(mol.GetNumAtoms())
            for i, (x, y, z) in enumerate(self.conformer):
                conf.SetAtomPosition(i, Point3D(x, y, z))
            conf.Set3D(True)
            mol.AddConformer(conf, assignId=True)
        mol.SetProp("_Name", self.name)
        return mol

    def to_mol_block(self) -> str:
        return str(_rdkit().MolToMolBlock(self.to_rdkit()))

    @property
    def formal_charge(self) -> int:
        return int(_rdkit().GetFormalCharge(self._parsed_smiles()))

    @property
    def n_atoms(self) -> int:
        return int(self._parsed_smiles().GetNumAtoms())


class ProteinComponent(KeyedModel):
    """A protein (with any cofactors or crystal waters) as PDB text."""

    name: str = Field(..., min_length=1, description="the protein's name, e.g. 'T4 lysozyme L99A'")
    pdb: str = Field(..., description="PDB text: ATOM/HETATM/TER/CONECT/CRYST1 records, '\\n' line ends")

    @classmethod
    def from_pdb(cls, text: str, name: str) -> ProteinComponent:
        return cls(name=name, pdb=text)

    @field_validator("pdb")
    @classmethod
    def _normalise(cls, text: str) -> str:
        keep = ("ATOM", "HETATM", "TER", "CONECT", "CRYST1", "MODEL", "ENDMDL")
        lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
        lines = [line for line in lines if line.startswith(keep)]
        atoms = [line for line in lines if line.startswith(("ATOM", "HETATM"))]
        if not atoms:
            raise ModelError("PDB text holds no ATOM or HETATM records")
        for number, line in enumerate(atoms, 1):
            try:
                float(line[30:38]), float(line[38:46]), float(line[46:54])
            except ValueError:
                raise ModelError(f"PDB atom record {number} has unreadable coordinates: {line!r}") from None
        return "\n".join([*lines, "END"]) + "\n"

    @property
    def n_atoms(self) -> int:
        return sum(1 for line in self.pdb.splitlines() if line.startswith(("ATOM", "HETATM")))


class SolventComponent(KeyedModel):
    """Explicit solvent: water model and ions.

    The default, 0.15 M NaCl, is the physiological buffer binding free energies are measured in; a
    hydration free energy is measured (and FreeSolv computed) in pure water, which
    :meth:`pure_water` gives and the hydration planners use unless ions are asked for.
    """

    name: str = Field("solvent", min_length=1, description="label shown to people")
    water_model: Literal["tip3p", "tip4pew", "spce", "opc"] = Field("tip3p", description="water model")
    positive_ion: Literal["Na+", "K+"] = Field("Na+", description="cation added to neutralise / salt")
    negative_ion: Literal["Cl-"] = Field("Cl-", description="anion added to neutralise / salt")
    ion_concentration_molar: float = Field(0.15, ge=0, le=5, description="salt concentration, mol/L")
    neutralize: bool = Field(True, description="add counter-ions to make the box neutral")

    @classmethod
    def pure_water(cls, **fields: Any) -> SolventComponent:
        """Water without salt (counter-ions only where the solute is charged): hydration's default."""
        return cls(**{"ion_concentration_molar": 0.0, **fields})


Component = SmallMoleculeComponent | ProteinComponent | SolventComponent
