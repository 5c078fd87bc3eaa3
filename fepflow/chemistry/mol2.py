"""A small Tripos MOL2 reader and writer for single-residue ligands (atom types, charges, bonds)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Mol2Atom:
    """One ``@<TRIPOS>ATOM`` record.

    Attributes
    ----------
    name : str
        Atom name (e.g. ``C1``).
    position : tuple of float
        x, y, z in Å.
    atom_type : str
        Force-field atom type (GAFF: ``c3``, ``hc``, ...).
    charge : float
        Partial charge in elementary charges.
    residue : str
        Residue name.
    """

    name: str
    position: tuple[float, float, float]
    atom_type: str
    charge: float
    residue: str = "LIG"


@dataclass(frozen=True)
class Mol2:
    """A parsed single-molecule MOL2: atoms, and bonds as 0-based ``(i, j, order)``."""

    title: str
    atoms: tuple[Mol2Atom, ...]
    bonds: tuple[tuple[int, int, str], ...]

    @property
    def charges(self) -> list[float]:
        return [a.charge for a in self.atoms]

    @property
    def atom_types(self) -> list[str]:
        return [a.atom_type for a in self.atoms]

    @property
    def positions(self) -> list[tuple[float, float, float]]:
        return [a.position for a in self.atoms]


def parse_mol2(text: str) -> Mol2:
    """Read the first molecule of a MOL2 text.

    Parameters
    ----------
    text : str
        MOL2 text with MOLECULE, ATOM and (optionally) BOND sections.

    Returns
    -------
    Mol2
        Its atoms and bonds.

    Raises
    ------
    ValueError
        A section or record that cannot be read.
    """
    section = ""
    title = ""
    atoms: list[Mol2Atom] = []
    bonds: list[tuple[int, int, str]] = []
    molecule_lines = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("@<TRIPOS>"):
            if section and line == "@<TRIPOS>MOLECULE":
                break  # a second molecule
            section = line[len("@<TRIPOS>") :]
            continue
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        try:
            if section == "MOLECULE":
                molecule_lines += 1
                if molecule_lines == 1:
                    title = line
            elif section == "ATOM":
                x, y, z = (float(v) for v in fields[2:5])
                atoms.append(
                    Mol2Atom(
                        name=fields[1],
                        position=(x, y, z),
                        atom_type=fields[5],
                        residue=fields[7] if len(fields) > 7 else "LIG",
                        charge=float(fields[8]) if len(fields) > 8 else 0.0,
                    )
                )
            elif section == "BOND":
                bonds.append((int(fields[1]) - 1, int(fields[2]) - 1, fields[3]))
        except (IndexError, ValueError) as exc:
            raise ValueError(f"MOL2 line {number} ({section}) cannot be read: {raw!r}") from exc
    if not atoms:
        raise ValueError("MOL2 text holds no @<TRIPOS>ATOM records")
    return Mol2(title=title, atoms=tuple(atoms), bonds=tuple(bonds))


def write_mol2(
    atoms: Sequence[Mol2Atom],
    bonds: Sequence[tuple[int, int, str]],
    *,
    title: str = "LIG",
    residue: str = "LIG",
    charge_type: str = "USER_CHARGES",
) -> str:
    """A MOL2 text that tleap's ``loadmol2`` reads as one residue.

    Parameters
    ----------
    atoms : sequence of Mol2Atom
        Atoms in order; positions in Å; their ``residue`` is replaced by ``residue``.
    bonds : sequence of (int, int, str)
        0-based atom indices and the Tripos bond order (``1``, ``2``, ``ar``, ...).
    title : str
        The molecule's name line.
    residue : str
        The residue name of every atom.
    charge_type : str
        The MOL2 charge-type line.

    Returns
    -------
    str
        MOL2 text; charges with 8 decimals so an AMBER round trip keeps energies exact.
    """
    lines = [
        "@<TRIPOS>MOLECULE",
        title,
        f"{len(atoms):5d} {len(bonds):5d}     1     0     0",
        "SMALL",
        charge_type,
        "",
        "",
        "@<TRIPOS>ATOM",
    ]
    for i, atom in enumerate(atoms, 1):
        x, y, z = atom.position
        lines.append(
            f"{i:7d} {atom.name:<8s} {x:10.4f} {y:10.4f} {z:10.4f} {atom.atom_type:<6s}"
            f" {1:5d} {residue:<8s} {atom.charge:12.8f}"
        )
    lines.append("@<TRIPOS>BOND")
    for i, (a, b, order) in enumerate(bonds, 1):
        lines.append(f"{i:6d} {a + 1:5d} {b + 1:5d} {order}")
    lines.append("@<TRIPOS>SUBSTRUCTURE")
    lines.append(f"     1 {residue:<8s}    1 TEMP              0 ****  ****    0 ROOT")
    return "\n".join(lines) + "\n"
