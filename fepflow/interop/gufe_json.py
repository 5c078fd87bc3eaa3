"""Reading gufe's JSON (the format openfe's planners write) into fepflow's components.

gufe writes a ``GufeTokenizable`` in two shapes, both read here:

* a **keyed chain** (``to_json``, what ``openfe plan-rbfe-network`` writes today): a list of
  ``[key, object]`` pairs, dependencies first, where an object names another as ``{":gufe-key:": key}``;
* a **nested dict** (``to_dict``, older openfe): every object inline.

Every object carries ``__qualname__``, ``__module__`` and ``:version:``. Settings values with units
are ``{":is_custom:": true, "magnitude": m, "unit": "nanometer", ...}``. A ``SmallMoleculeComponent``
is RDKit's molecule as ``atoms`` ``(atomic number, isotope, formal charge, aromatic, chiral tag,
atom-map number, properties[, hybridisation])``, ``bonds`` ``(begin, end, bond type, stereo,
properties)`` with RDKit's enum numbers, a ``conformer`` ``(positions as an .npy file in latin-1
text, properties)`` and ``molprops`` (its name is ``ofe-name``). A ``ProteinComponent`` is
``atoms`` ``(atomic number, chain, serial, segment, insertion code, atom name, residue name,
residue number, hetero "Y"/"N", formal charge)``, ``bonds`` and ``conformers`` (.npy, Å).
"""

from __future__ import annotations

import io
import json
from typing import Any

from fepflow.models.base import ModelError
from fepflow.models.components import ProteinComponent, SmallMoleculeComponent, SolventComponent

GUFE_KEY = ":gufe-key:"
MATCH_TOLERANCE_A = 2e-3
"""How far (Å) an atom of fepflow's canonical conformer may lie from the gufe atom it is."""


class GufeFormatError(ModelError):
    """A document that is not gufe's JSON of an object fepflow reads."""


def is_gufe(data: Any) -> bool:
    """True for a parsed JSON document in one of gufe's shapes."""
    if isinstance(data, list):
        return bool(data) and all(
            isinstance(p, list) and len(p) == 2 and isinstance(p[1], dict) for p in data
        )
    return isinstance(data, dict) and "__qualname__" in data and ":version:" in data


def resolve(data: Any) -> dict[str, Any]:
    """The root object of a gufe document (the last of a keyed chain) with every reference replaced
    by the object it names; the same object stays one (shared) dict."""
    if isinstance(data, dict):
        return data
    if not is_gufe(data):
        raise GufeFormatError("not gufe's JSON: expected a keyed chain ([key, object] pairs) or an object")
    table = {str(k): v for k, v in data}
    done: dict[str, dict[str, Any]] = {}

    def follow(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {GUFE_KEY}:
                key = str(value[GUFE_KEY])
                if key not in done:
                    if key not in table:
                        raise GufeFormatError(f"the document names {key}, which it does not hold")
                    done[key] = {k: follow(v) for k, v in table[key].items()}
                return done[key]
            return {k: follow(v) for k, v in value.items()}
        if isinstance(value, list):
            return [follow(v) for v in value]
        return value

    return dict(follow({GUFE_KEY: str(data[-1][0])}))


def qualname(obj: Any) -> str:
    return str(obj.get("__qualname__", "")) if isinstance(obj, dict) else ""


def numpy_text(text: str) -> Any:
    """An array gufe stored as the bytes of an .npy file decoded as latin-1."""
    import numpy as np

    return np.load(io.BytesIO(text.encode("latin-1")), allow_pickle=False)


def _rdkit_molecule(d: dict[str, Any]) -> Any:
    from rdkit import Chem

    mol = Chem.RWMol()
    for atom in d["atoms"]:
        a = Chem.Atom(int(atom[0]))
        a.SetIsotope(int(atom[1]))
        a.SetFormalCharge(int(atom[2]))
        a.SetIsAromatic(bool(atom[3]))
        a.SetChiralTag(Chem.ChiralType.values[int(atom[4])])
        a.SetNoImplicit(True)  # gufe's molecules hold every hydrogen explicitly
        mol.AddAtom(a)
    for bond in d["bonds"]:
        mol.AddBond(int(bond[0]), int(bond[1]), Chem.BondType.values[int(bond[2])])
    positions = numpy_text(d["conformer"][0])
    conformer = Chem.Conformer(mol.GetNumAtoms())
    for i, (x, y, z) in enumerate(positions):
        conformer.SetAtomPosition(i, (float(x), float(y), float(z)))
    conformer.Set3D(True)
    mol.AddConformer(conformer, assignId=True)
    Chem.SanitizeMol(mol)
    return mol.GetMol()


def ligand_name(d: dict[str, Any]) -> str:
    props = d.get("molprops") or {}
    return str(props.get("ofe-name") or props.get("_Name") or "")


def small_molecule(d: dict[str, Any]) -> tuple[SmallMoleculeComponent, dict[int, int]]:
    """fepflow's molecule (canonical atom order) and where each gufe atom index went in it."""
    from rdkit import Chem

    name = ligand_name(d)
    if not name:
        raise GufeFormatError("a SmallMoleculeComponent has no name (molprops 'ofe-name'): name every ligand")
    try:
        mol = _rdkit_molecule(d)
    except (KeyError, IndexError, ValueError, RuntimeError) as exc:
        raise GufeFormatError(
            f"molecule {name!r}: RDKit cannot rebuild it from gufe's atoms and bonds: {exc}"
        ) from None
    component = SmallMoleculeComponent.from_mol_block(Chem.MolToMolBlock(mol), name=name)
    return component, _atom_order(mol, component)


def _atom_order(mol: Any, component: SmallMoleculeComponent) -> dict[int, int]:
    """gufe atom index -> fepflow atom index, matched by element and position (a conformer's atoms
    are at distinct places)."""
    import numpy as np

    theirs = mol.GetConformer().GetPositions()
    elements = [a.GetAtomicNum() for a in mol.GetAtoms()]
    ours = component.to_rdkit()
    order: dict[int, int] = {}
    for k, (atom, xyz) in enumerate(zip(ours.GetAtoms(), component.conformer or (), strict=True)):
        distance = np.linalg.norm(theirs - np.asarray(xyz), axis=1)
        i = int(np.argmin(distance))
        if distance[i] > MATCH_TOLERANCE_A or elements[i] != atom.GetAtomicNum() or i in order:
            raise GufeFormatError(f"molecule {component.name!r}: atom {k} matches no gufe atom")
        order[i] = k
    return order


def protein(d: dict[str, Any]) -> ProteinComponent:
    """fepflow's protein: gufe's atoms and first conformer as PDB ATOM/HETATM records."""
    from rdkit import Chem

    table = Chem.GetPeriodicTable()
    positions = numpy_text(d["conformers"][0])
    lines = []
    for atom, (x, y, z) in zip(d["atoms"], positions, strict=True):
        number, chain, serial, _segment, icode, name, resname, resnum, hetero, charge = atom
        element = table.GetElementSymbol(int(number))
        padded = name if len(name) >= 4 or len(element) == 2 else f" {name:<3}"
        sign = "" if not charge else f"{abs(int(charge))}{'+' if charge > 0 else '-'}"
        record = "HETATM" if hetero == "Y" else "ATOM"
        lines.append(
            f"{record:<6}{int(serial) % 100000:>5} {padded:<4} {resname:>3} {chain or 'A':1}"
            f"{int(resnum) % 10000:>4}{(icode or ' ')[:1]}   {x:8.3f}{y:8.3f}{z:8.3f}  1.00  0.00"
            f"          {element:>2}{sign:>2}"
        )
    return ProteinComponent.from_pdb("\n".join(lines), name=str(d.get("name") or "protein"))


MOLAR = {"molar": 1.0, "millimolar": 1e-3, "micromolar": 1e-6}


def solvent(d: dict[str, Any], water_model: str) -> SolventComponent:
    """fepflow's solvent from gufe's (water as SMILES ``O``, ions, concentration like "0.15 molar")."""
    if d.get("smiles", "O") != "O":
        raise GufeFormatError(f"solvent {d.get('smiles')!r}: fepflow simulates water only")
    magnitude, _, unit_name = str(d.get("ion_concentration", "0.15 molar")).partition(" ")
    if unit_name not in MOLAR:
        raise GufeFormatError(f"ion concentration {d.get('ion_concentration')!r}: unknown unit")
    return SolventComponent(
        water_model=water_model,  # type: ignore[arg-type]
        positive_ion=d.get("positive_ion", "Na+"),
        negative_ion=d.get("negative_ion", "Cl-"),
        ion_concentration_molar=float(magnitude) * MOLAR[unit_name],
        neutralize=bool(d.get("neutralize", True)),
    )


def load(text: str) -> dict[str, Any]:
    """The root object of a gufe JSON text, references resolved (GufeFormatError otherwise)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GufeFormatError(f"not JSON: {exc}") from None
    return resolve(data)
