"""Minimal readers for AMBER prmtop and inpcrd text (no parmed): what a ligand's MOL2 needs."""

from __future__ import annotations

import re
from dataclasses import dataclass

AMBER_CHARGE_SCALE = 18.2223  # prmtop charges are e * sqrt(332.0522173 kcal Å / mol)

_FORMAT = re.compile(r"\(\s*(\d+)\s*([aAiIeEfF])\s*(\d+)")


@dataclass(frozen=True)
class PrmtopAtoms:
    """The per-atom content of a prmtop that a MOL2 carries.

    Attributes
    ----------
    names, types : list of str
        ``ATOM_NAME`` and ``AMBER_ATOM_TYPE``.
    charges : list of float
        ``CHARGE`` divided by 18.2223 (elementary charges).
    atomic_numbers : list of int
        ``ATOMIC_NUMBER`` (empty when the prmtop predates that section).
    bonds : list of (int, int)
        0-based atom pairs from ``BONDS_INC_HYDROGEN`` and ``BONDS_WITHOUT_HYDROGEN``.
    residue_labels : list of str
        ``RESIDUE_LABEL``.
    """

    names: list[str]
    types: list[str]
    charges: list[float]
    atomic_numbers: list[int]
    bonds: list[tuple[int, int]]
    residue_labels: list[str]


def read_prmtop_sections(text: str) -> dict[str, list[str]]:
    """Every ``%FLAG`` section of a prmtop as its list of fixed-width fields (strings, unstripped).

    Raises
    ------
    ValueError
        A section without a readable ``%FORMAT`` line.
    """
    sections: dict[str, list[str]] = {}
    flag: str | None = None
    width = 0
    for line in text.splitlines():
        if line.startswith("%FLAG"):
            flag = line[5:].strip()
            sections[flag] = []
            width = 0
        elif line.startswith("%FORMAT"):
            match = _FORMAT.search(line)
            if match is None:
                raise ValueError(f"prmtop section {flag}: unreadable format line {line!r}")
            width = int(match.group(3))
        elif line.startswith("%"):
            continue  # %VERSION, %COMMENT
        elif flag is not None:
            if width == 0:
                raise ValueError(f"prmtop section {flag} has data before its %FORMAT line")
            for start in range(0, len(line.rstrip("\n")), width):
                field = line[start : start + width]
                if field.strip() or line[start:].strip():
                    sections[flag].append(field)
    return sections


def read_prmtop_atoms(text: str) -> PrmtopAtoms:
    """Names, GAFF types, charges and bonds of a prmtop's atoms.

    Raises
    ------
    ValueError
        A required section is missing or its length disagrees with the atom count.
    """
    s = read_prmtop_sections(text)
    for flag in ("POINTERS", "ATOM_NAME", "CHARGE", "AMBER_ATOM_TYPE"):
        if flag not in s:
            raise ValueError(f"prmtop has no %FLAG {flag} section")
    n_atoms = int(s["POINTERS"][0])
    names = [f.strip() for f in s["ATOM_NAME"]][:n_atoms]
    types = [f.strip() for f in s["AMBER_ATOM_TYPE"]][:n_atoms]
    charges = [float(f) / AMBER_CHARGE_SCALE for f in s["CHARGE"]][:n_atoms]
    numbers = [int(f) for f in s.get("ATOMIC_NUMBER", []) if f.strip()][:n_atoms]
    if not (len(names) == len(types) == len(charges) == n_atoms):
        raise ValueError(f"prmtop atom sections disagree with POINTERS' {n_atoms} atoms")
    bonds: list[tuple[int, int]] = []
    for flag in ("BONDS_INC_HYDROGEN", "BONDS_WITHOUT_HYDROGEN"):
        values = [int(f) for f in s.get(flag, []) if f.strip()]
        if len(values) % 3:
            raise ValueError(f"prmtop {flag} does not hold triples")
        for k in range(0, len(values), 3):
            # stored as 3 * (index - 1); 0-based index = value / 3
            bonds.append((abs(values[k]) // 3, abs(values[k + 1]) // 3))
    labels = [f.strip() for f in s.get("RESIDUE_LABEL", [])]
    return PrmtopAtoms(names, types, charges, numbers, sorted(bonds), labels)


def read_inpcrd(text: str) -> tuple[list[tuple[float, float, float]], tuple[float, ...] | None]:
    """Coordinates (Å) and, if present, the box line (a, b, c, alpha, beta, gamma) of an inpcrd.

    Raises
    ------
    ValueError
        Too few coordinates for the atom count on line 2.
    """
    lines = text.splitlines()
    if len(lines) < 2:
        raise ValueError("inpcrd text is too short")
    n_atoms = int(lines[1].split()[0])
    values: list[float] = []
    for line in lines[2:]:
        values.extend(float(line[i : i + 12]) for i in range(0, len(line.rstrip()), 12))
    need = 3 * n_atoms
    if len(values) < need:
        raise ValueError(f"inpcrd holds {len(values)} numbers for {n_atoms} atoms")
    coords = [(values[i], values[i + 1], values[i + 2]) for i in range(0, need, 3)]
    rest = values[need:]
    # velocities (another 3N numbers) may precede the box line
    if len(rest) >= need + 6:
        rest = rest[need:]
    box = tuple(rest[:6]) if len(rest) >= 6 else None
    return coords, box
