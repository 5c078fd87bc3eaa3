"""A frcmod holding every parameter a single-molecule prmtop uses, so tleap rebuilds it exactly.

Published parameter files (FreeSolv's, for one) were made with an older GAFF than the ``gaff.dat``
installed now: rebuilding them from atom types alone silently changes bond and angle parameters (by up
to several kJ/mol per molecule at the published geometry). Writing the prmtop's own masses, bonds,
angles, torsions and Lennard-Jones parameters into a frcmod, keyed by atom type (impropers: the
published frcmod's, see :func:`frcmod_from_prmtop`), makes tleap reproduce the published energy
whatever GAFF version it has.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from fepflow.chemistry.amberfiles import read_prmtop_sections

LEAP_DEG_TO_RAD = 0.0174533  # the constant tleap converts degrees with (not pi/180 exactly)

Key = tuple[str, ...]
Terms = tuple[tuple[int, float, float, float, float], ...]  # (periodicity, k, phase, scee, scnb)
V = TypeVar("V")


def _ints(fields: Sequence[str]) -> list[int]:
    return [int(f) for f in fields if f.strip()]


def _floats(fields: Sequence[str]) -> list[float]:
    return [float(f) for f in fields if f.strip()]


def _degrees(radians: float) -> float:
    return round(radians / LEAP_DEG_TO_RAD, 5)


def _name(types: Sequence[str]) -> str:
    return "-".join(f"{t:<2s}" for t in types)


def _put(table: dict[Key, V], key: Key, value: V, what: str) -> None:
    if table.setdefault(key, value) != value:
        raise ValueError(
            f"{what} {_name(key)} has two different parameter sets in the prmtop "
            f"({table[key]} and {value}); it cannot be written as a type-based frcmod"
        )


def _oriented(types: Key) -> Key:
    """A bond, angle or proper torsion key read in the direction tleap treats as the same."""
    return min(types, types[::-1])


def frcmod_section(text: str, name: str) -> list[str]:
    """The non-blank lines of one section of a frcmod text.

    ``name`` is ``MASS``, ``BOND``, ``ANGLE``, ``DIHE``, ``IMPROPER`` or ``NONBON``.
    """
    headers = ("MASS", "BOND", "ANGL", "DIHE", "IMPR", "NONB", "HBON", "CMAP", "IPOL", "LJED")
    lines, inside = [], False
    for line in text.splitlines()[1:]:
        head = line.strip()[:4].upper()
        if line[:1].strip() and head in headers and len(line.split()) == 1:
            inside = head == name[:4].upper()
        elif inside and line.strip():
            lines.append(line.rstrip())
    return lines


def frcmod_from_prmtop(
    text: str,
    *,
    title: str = "parameters read back from a prmtop",
    impropers: Sequence[str] | None = None,
) -> str:
    """Every parameter of a (single-molecule, GAFF-style) prmtop as frcmod text.

    Parameters
    ----------
    text : str
        The prmtop.
    title : str
        The frcmod's remark line.
    impropers : sequence of str, optional
        IMPROPER lines to write instead of the prmtop's own (see Notes).

    Returns
    -------
    str
        MASS, BOND, ANGLE, DIHE (multi-term torsions with negative periodicity on all but the last
        term), IMPROPER and NONBON sections, keyed by the prmtop's atom types.

    Notes
    -----
    tleap orders an improper's outer atoms by its own rule when it matches a type-keyed entry, so
    impropers read back from a prmtop can come out in another order (a slightly different energy).
    Passing the published frcmod's IMPROPER lines instead, with GAFF's own wildcard impropers,
    reproduces the original build.

    Raises
    ------
    ValueError
        A parameter that depends on more than atom types (two values for one type key), or a prmtop
        section that is missing.
    """
    s = read_prmtop_sections(text)
    types = [f.strip() for f in s["AMBER_ATOM_TYPE"]]
    lines = [title, "MASS"]
    mass: dict[Key, tuple[float, ...]] = {}
    for t, m in zip(types, _floats(s["MASS"]), strict=True):
        _put(mass, (t,), (round(m, 5),), "mass of")
    lines += [f"{k[0]:<2s} {v[0]:.5f}" for k, v in sorted(mass.items())]

    lines += ["", "BOND"]
    bond: dict[Key, tuple[float, ...]] = {}
    k_b, r_0 = _floats(s["BOND_FORCE_CONSTANT"]), _floats(s["BOND_EQUIL_VALUE"])
    for v in _records(s, ("BONDS_INC_HYDROGEN", "BONDS_WITHOUT_HYDROGEN"), 3):
        p = v[2] - 1
        _put(bond, _oriented((types[v[0] // 3], types[v[1] // 3])), (k_b[p], r_0[p]), "bond")
    lines += [f"{_name(k)}  {v[0]:.6f}  {v[1]:.6f}" for k, v in sorted(bond.items())]

    lines += ["", "ANGLE"]
    angle: dict[Key, tuple[float, ...]] = {}
    k_a, theta = _floats(s["ANGLE_FORCE_CONSTANT"]), _floats(s["ANGLE_EQUIL_VALUE"])
    for v in _records(s, ("ANGLES_INC_HYDROGEN", "ANGLES_WITHOUT_HYDROGEN"), 4):
        key = _oriented(tuple(types[v[i] // 3] for i in range(3)))
        _put(angle, key, (k_a[v[3] - 1], _degrees(theta[v[3] - 1])), "angle")
    lines += [f"{_name(k)}  {v[0]:.6f}  {v[1]:.5f}" for k, v in sorted(angle.items())]

    dihe, improper = _torsions(s, types)
    lines += ["", "DIHE"]
    for k, terms in sorted(dihe.items()):
        for i, (pn, pk, ph, ee, nb) in enumerate(terms):
            pn_signed = -pn if i < len(terms) - 1 else pn  # negative: more terms follow
            lines.append(
                f"{_name(k):<11s}{1:4d}  {pk:.8f}  {ph:.5f}  {pn_signed:.1f}  SCEE={ee:g} SCNB={nb:g}"
            )
    lines += ["", "IMPROPER"]
    if impropers is not None:
        lines += list(impropers)
    else:
        for k, terms in sorted(improper.items()):
            for pn, pk, ph, _, _ in terms:
                # tleap skips the 4 columns after the types (where DIHE lines have IDIVF)
                lines.append(f"{_name(k):<11s}{'':4s}  {pk:.8f}  {ph:.5f}  {pn:.1f}")

    lines += ["", "NONBON"]
    lines += [f"  {k[0]:<2s}  {v[0]:.6f}  {v[1]:.8f}" for k, v in sorted(_lennard_jones(s, types).items())]
    return "\n".join([*lines, "", ""]) + "\n"


def _records(s: dict[str, list[str]], flags: Sequence[str], width: int) -> list[list[int]]:
    out = []
    for flag in flags:
        v = _ints(s.get(flag, []))
        out += [v[n : n + width] for n in range(0, len(v) - width + 1, width)]
    return out


def _torsions(s: dict[str, list[str]], types: list[str]) -> tuple[dict[Key, Terms], dict[Key, Terms]]:
    """Proper torsions (all terms of one atom quadruple together) and impropers, keyed by types."""
    k_d, period, phase = (
        _floats(s.get(name, []))
        for name in ("DIHEDRAL_FORCE_CONSTANT", "DIHEDRAL_PERIODICITY", "DIHEDRAL_PHASE")
    )
    scee = _floats(s.get("SCEE_SCALE_FACTOR", [])) or [1.2] * len(k_d)
    scnb = _floats(s.get("SCNB_SCALE_FACTOR", [])) or [2.0] * len(k_d)
    by_atoms: dict[tuple[int, ...], list[int]] = {}
    improper_atoms: set[tuple[int, ...]] = set()
    for v in _records(s, ("DIHEDRALS_INC_HYDROGEN", "DIHEDRALS_WITHOUT_HYDROGEN"), 5):
        atoms = tuple(abs(x) // 3 for x in v[:4])  # 3rd < 0: no 1-4; 4th < 0: improper
        by_atoms.setdefault(atoms, []).append(v[4] - 1)
        if v[3] < 0:
            improper_atoms.add(atoms)
    dihe: dict[Key, Terms] = {}
    improper: dict[Key, Terms] = {}
    for atoms, indices in by_atoms.items():
        key = tuple(types[a] for a in atoms)
        terms = tuple(
            sorted((round(period[p]), k_d[p], _degrees(phase[p]), scee[p], scnb[p]) for p in indices)
        )
        if atoms in improper_atoms:
            _put(improper, key, terms, "improper")
        else:
            _put(dihe, _oriented(key), terms, "torsion")
    return dihe, improper


def _lennard_jones(s: dict[str, list[str]], types: list[str]) -> dict[Key, tuple[float, ...]]:
    """(Rmin/2 in Å, epsilon in kcal/mol) per type, from the diagonal A and B coefficients."""
    ntypes = int(s["POINTERS"][1])
    type_index = _ints(s["ATOM_TYPE_INDEX"])
    nb_index = _ints(s["NONBONDED_PARM_INDEX"])
    acoef, bcoef = _floats(s["LENNARD_JONES_ACOEF"]), _floats(s["LENNARD_JONES_BCOEF"])
    nonbon: dict[Key, tuple[float, ...]] = {}
    for atom, t in enumerate(types):
        ti = type_index[atom] - 1
        a, b = acoef[nb_index[ntypes * ti + ti] - 1], bcoef[nb_index[ntypes * ti + ti] - 1]
        # A = eps (2 R)^12, B = 2 eps (2 R)^6 with R = Rmin/2
        r_half, eps = (0.0, 0.0) if a <= 0 or b <= 0 else ((2 * a / b) ** (1 / 6) / 2, b * b / (4 * a))
        _put(nonbon, (t,), (round(r_half, 6), round(eps, 8)), "Lennard-Jones type")
    return nonbon
