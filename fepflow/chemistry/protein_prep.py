"""Protein preparation, explicit and reported: PDBFixer and OpenMM's Modeller, before tleap sees it.

In order, each step written into the :class:`~fepflow.models.plans.ProteinPreparation` report:

1. Modified residues PDBFixer knows (MSE, ...) become their standard residue.
2. Heterogens (ligands, ions, cofactors) and waters are removed. A residue given as ``ATOM`` records
   that is neither a standard amino acid nor an ACE/NME cap is refused: it belongs to the chain, and
   removing it would leave a hole.
3. Residues of the sequence (``SEQRES``) absent from the coordinates are named. At a chain's ends
   they are left out; inside a chain they are modelled only when asked (``build_loops=True``), and
   refused otherwise, like a gap no ``SEQRES`` names (a peptide C-N distance too long,
   :func:`~fepflow.chemistry.complexes.chain_breaks`): tleap cannot build a chain with a hole.
4. Missing heavy atoms (and the C-terminal OXT) are added. A residue without its backbone N, CA or
   C, or with a heavy atom its template does not have, is refused.
5. Hydrogens at the stated pH (OpenMM's Modeller: standard pKa values; a neutral histidine is HID or
   HIE by the hydrogen bond each would make). Hydrogens already there are kept when their names are
   known; unknown ones are dropped and placed again.
6. Residues are renamed to the AMBER names of their states (HID, HIE, HIP, ASH, GLH, LYN, CYX, CYM),
   so that tleap builds the states chosen here and the report says which they are; an N-terminal
   amide hydrogen is named H1, as ff14SB's N-terminal residues name it.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fepflow.chemistry.complexes import chain_breaks
from fepflow.models.plans import HistidineState, ProteinPreparation

DEFAULT_PH = 7.0
CAPS = ("ACE", "NME")
WATERS = ("HOH", "WAT", "H2O", "TIP3", "SOL", "DOD")
BACKBONE = ("N", "CA", "C")


class ProteinPreparationError(ValueError):
    """A PDB that cannot be prepared; ``residue`` names the residue at fault (None: the whole file)."""

    def __init__(self, message: str, residue: str | None = None) -> None:
        super().__init__(message)
        self.residue = residue


@dataclass(frozen=True)
class PreparedProtein:
    """The prepared PDB text (AMBER residue names, hydrogens placed) and what was done to it."""

    pdb: str
    report: ProteinPreparation


def label(residue: Any) -> str:
    """``'HIS A 31'``: name, chain (left out when blank) and number with insertion code."""
    chain = (residue.chain.id or "").strip()
    number = f"{residue.id}{(residue.insertionCode or '').strip()}"
    return " ".join(part for part in (residue.name, chain, number) if part)


def prepare_protein(
    pdb: str, *, name: str = "protein", ph: float = DEFAULT_PH, build_loops: bool = False
) -> PreparedProtein:
    """Make ``pdb`` ready for ff14SB: the steps of the module, each reported.

    Parameters
    ----------
    pdb : str
        PDB text (``ATOM``/``HETATM`` records; ``SEQRES`` lets missing residues be named and built).
    name : str
        The protein's name, for the report.
    ph : float
        pH at which protonation states are chosen.
    build_loops : bool
        Model residues missing inside a chain from ``SEQRES`` (default: refuse such a structure).

    Raises
    ------
    ProteinPreparationError
        A file PDBFixer cannot read, an unknown residue in a chain, residues missing inside a chain
        (unless built), a residue without its backbone or with atoms its template lacks.
    """
    if not 0.0 <= ph <= 14.0:
        raise ProteinPreparationError(f"pH {ph} is outside 0-14")
    try:
        return _prepare(pdb, name, ph, build_loops)
    except ProteinPreparationError:
        raise
    except Exception as exc:  # PDBFixer and OpenMM on structures they do not expect
        raise ProteinPreparationError(f"PDBFixer could not prepare the structure: {exc}") from None


def _prepare(pdb: str, name: str, ph: float, build_loops: bool) -> PreparedProtein:
    fixer = _read(pdb)
    report = ProteinPreparation(name=name, ph=ph)
    _replace_modified(fixer, report)
    _remove_heterogens(fixer, _record_types(pdb), report)
    _missing_residues(fixer, pdb, build_loops, report)
    _check_atoms(fixer)
    _drop_unknown_hydrogens(fixer, report)
    _add_heavy_atoms(fixer, report)
    topology, positions = _add_hydrogens(fixer, ph, report)
    text = _write(topology, positions)
    remaining = chain_breaks(text)
    if remaining:
        raise ProteinPreparationError(
            f"residues are still missing after preparation, between {'; '.join(remaining)}: "
            "give SEQRES records for them (and build_loops), or end the chain there with a TER record",
            residue=remaining[0].split(" (")[0],
        )
    report.chains = [(c.id or "").strip() for c in topology.chains()]
    report.n_residues = topology.getNumResidues()
    report.n_atoms = topology.getNumAtoms()
    return PreparedProtein(pdb=text, report=report)


def _read(pdb: str) -> Any:
    import openmm
    from pdbfixer import PDBFixer

    if not any(line.startswith(("ATOM", "HETATM")) for line in pdb.splitlines()):
        raise ProteinPreparationError("the PDB text holds no ATOM or HETATM records")
    try:
        return PDBFixer(pdbfile=io.StringIO(pdb), platform=openmm.Platform.getPlatformByName("Reference"))
    except Exception as exc:  # PDBFixer and OpenMM raise many kinds on malformed files
        raise ProteinPreparationError(f"PDBFixer cannot read the PDB: {exc}") from None


def _record_types(pdb: str) -> dict[tuple[str, str], set[str]]:
    """``(chain, number+insertion) -> {'ATOM', 'HETATM'}``: how each residue was written."""
    kinds: dict[tuple[str, str], set[str]] = {}
    for line in pdb.splitlines():
        if line.startswith(("ATOM", "HETATM")):
            key = (line[21:22].strip(), line[22:27].strip())
            kinds.setdefault(key, set()).add(line[:6].strip())
    return kinds


def _replace_modified(fixer: Any, report: ProteinPreparation) -> None:
    fixer.findNonstandardResidues()
    report.replaced = [f"{label(res)} -> {standard}" for res, standard in fixer.nonstandardResidues]
    fixer.replaceNonstandardResidues()


def _remove_heterogens(
    fixer: Any, kinds: dict[tuple[str, str], set[str]], report: ProteinPreparation
) -> None:
    from pdbfixer.pdbfixer import proteinResidues

    polymer = set(proteinResidues) | set(CAPS)
    doomed, removed, waters = [], [], 0
    for residue in fixer.topology.residues():
        if residue.name in polymer:
            continue
        doomed.append(residue)
        if residue.name in WATERS:
            waters += 1
            continue
        key = ((residue.chain.id or "").strip(), f"{residue.id}{(residue.insertionCode or '').strip()}")
        if "ATOM" in kinds.get(key, set()):
            raise ProteinPreparationError(
                f"unknown residue {label(residue)}: written as ATOM records (part of the chain), "
                "but neither a standard amino acid nor a modified residue PDBFixer can replace; "
                "fepflow builds proteins from ff14SB's standard residues",
                residue=label(residue),
            )
        removed.append(label(residue))
    if waters:
        removed.append(f"{waters} water{'s' if waters > 1 else ''}")
    if doomed:
        _delete(fixer, doomed)
        report.removed = removed
        report.notes.append(
            "heterogens and waters were removed: the ligands come from their own file, and the "
            "solvent (water and ions) is added when the systems are built"
        )


def _delete(fixer: Any, items: Iterable[Any]) -> None:
    """Delete residues or atoms from the fixer's structure (OpenMM's Modeller)."""
    from openmm import app

    modeller = app.Modeller(fixer.topology, fixer.positions)
    modeller.delete(list(items))
    fixer.topology, fixer.positions = modeller.topology, modeller.positions


def _where(residues: list[Any], index: int) -> tuple[str, bool]:
    """Where missing residues go in a chain, and whether that is inside it (not at an end)."""
    if index == 0:
        return f"before {label(residues[0])} (N terminus)", False
    if index >= len(residues):
        return f"after {label(residues[-1])} (C terminus)", False
    return f"between {label(residues[index - 1])} and {label(residues[index])}", True


def _missing_residues(fixer: Any, pdb: str, build_loops: bool, report: ProteinPreparation) -> None:
    fixer.findMissingResidues()
    chains = list(fixer.topology.chains())
    inside: list[tuple[str, str]] = []  # (what is missing, the residue before it)
    for key, names in sorted(fixer.missingResidues.items()):
        residues = list(chains[key[0]].residues())
        where, internal = _where(residues, key[1])
        text = f"{len(names)} {where}: {' '.join(names)}"
        report.missing_residues.append(text)
        if internal:
            inside.append((text, label(residues[key[1] - 1])))
        else:
            del fixer.missingResidues[key]  # chain ends are left as they are
    if inside and build_loops:
        report.loops_built = [text for text, _ in inside]
        report.notes.append("residues missing inside a chain were modelled by PDBFixer: check the loops")
        return
    gaps = inside or [(f"between {b}, no SEQRES to name them", b.split(" - ")[0]) for b in chain_breaks(pdb)]
    if gaps:
        raise ProteinPreparationError(
            f"residues are missing inside a chain: {'; '.join(text for text, _ in gaps)}. fepflow does "
            "not model loops unless asked (build_loops / --build-loops, which needs SEQRES records "
            "naming them); or end the chain there with a TER record to treat the pieces as separate chains",
            residue=gaps[0][1],
        )
    if report.missing_residues:
        report.notes.append(
            "residues missing at chain ends were left out (the chains end where the coordinates do)"
        )


def _drop_unknown_hydrogens(fixer: Any, report: ProteinPreparation) -> None:
    from openmm import app

    app.Modeller._loadStandardHydrogenDefinitions()
    known = app.Modeller._residueHydrogens
    odd = []
    for residue in fixer.topology.residues():
        spec = known.get(residue.name)
        names = {h.name for h in spec.hydrogens} if spec is not None else set()
        odd += [a for a in residue.atoms() if _is_hydrogen(a) and a.name not in names]
    if odd:
        _delete(fixer, odd)
        report.notes.append(f"{len(odd)} hydrogens with names no residue template knows were placed again")


def _is_hydrogen(atom: Any) -> bool:
    return atom.element is not None and atom.element.symbol == "H"


def _check_atoms(fixer: Any) -> None:
    fixer.findMissingAtoms()
    for residue, atoms in fixer.missingAtoms.items():
        lost = [a.name for a in atoms if a.name in BACKBONE]
        if lost:
            raise ProteinPreparationError(
                f"residue {label(residue)} lacks backbone atom(s) {', '.join(lost)}: its place in the "
                "chain is unknown; remove the residue (and mark the gap with TER) or complete it",
                residue=label(residue),
            )
    for residue in fixer.topology.residues():
        template = fixer.templates.get(residue.name)
        if template is None:
            continue
        allowed = {a.name for a in template.topology.atoms()} | {"OXT"}
        extra = [a.name for a in residue.atoms() if not _is_hydrogen(a) and a.name not in allowed]
        if extra:
            raise ProteinPreparationError(
                f"residue {label(residue)} has atom(s) {', '.join(extra)} that a {residue.name} does not "
                "have: rename them to the standard PDB names or remove them",
                residue=label(residue),
            )


def _n_hydrogens(topology: Any) -> int:
    return sum(1 for a in topology.atoms() if _is_hydrogen(a))


def _add_heavy_atoms(fixer: Any, report: ProteinPreparation) -> None:
    added = [f"{label(r)}: {', '.join(a.name for a in atoms)}" for r, atoms in fixer.missingAtoms.items()]
    added += [f"{label(r)}: {', '.join(names)} (terminal)" for r, names in fixer.missingTerminals.items()]
    report.heavy_atoms_added = added
    before = _n_hydrogens(fixer.topology)
    with _seeded():
        fixer.addMissingAtoms(seed=1)
    if _n_hydrogens(fixer.topology) < before:
        report.hydrogens_rebuilt = True
        report.notes.append("heavy atoms were added, so PDBFixer placed every hydrogen again")


class _seeded:
    """Python's ``random`` seeded for the block (Modeller places new atoms randomly before minimising),
    so that the same input gives the same prepared PDB, and the same content key."""

    def __enter__(self) -> None:
        import random

        self._state = random.getstate()
        random.seed(20240101)

    def __exit__(self, *exc: object) -> None:
        import random

        random.setstate(self._state)


def _add_hydrogens(fixer: Any, ph: float, report: ProteinPreparation) -> tuple[Any, Any]:
    import openmm
    from openmm import app

    modeller = app.Modeller(fixer.topology, fixer.positions)
    before = _n_hydrogens(modeller.topology)
    with _seeded():
        modeller.addHydrogens(pH=ph, platform=openmm.Platform.getPlatformByName("Reference"))
    report.hydrogens_added = _n_hydrogens(modeller.topology) - before
    _amber_names(modeller.topology, report)
    return modeller.topology, modeller.positions


def _amber_state(residue: Any, disulfide: set[Any]) -> str:
    names = {a.name for a in residue.atoms()}
    if residue.name == "HIS":
        return "HIP" if {"HD1", "HE2"} <= names else "HID" if "HD1" in names else "HIE"
    if residue.name == "ASP" and "HD2" in names:
        return "ASH"
    if residue.name == "GLU" and "HE2" in names:
        return "GLH"
    if residue.name == "LYS" and not {"HZ1", "HZ2", "HZ3"} <= names:
        return "LYN"
    if residue.name == "CYS":
        return "CYX" if residue in disulfide else "CYS" if "HG" in names else "CYM"
    return str(residue.name)


def _amber_names(topology: Any, report: ProteinPreparation) -> None:
    """Rename residues to the AMBER names of their protonation states, and report them."""
    disulfide = {
        a.residue
        for bond in topology.bonds()
        for a in bond
        if bond[0].name == bond[1].name == "SG" and bond[0].residue is not bond[1].residue
    }
    for residue in topology.residues():
        state = _amber_state(residue, disulfide)
        if residue.name == "HIS":
            report.histidines.append(HistidineState(residue=label(residue), state=state))  # type: ignore[arg-type]
        elif state != residue.name:
            report.protonation.append(f"{label(residue)}: {state}")
        residue.name = state
    for chain in topology.chains():  # AMBER names the N-terminal amide hydrogens H1, H2, H3
        first = next(iter(chain.residues()), None)
        for atom in first.atoms() if first is not None else ():
            if atom.name == "H":
                atom.name = "H1"
    if disulfide:
        report.notes.append(
            f"{len(disulfide)} cysteines in disulfide bonds were named CYX: "
            + ", ".join(label(r) for r in sorted(disulfide, key=lambda r: r.index))
        )


def _write(topology: Any, positions: Any) -> str:
    from openmm import app

    out = io.StringIO()
    app.PDBFile.writeFile(topology, positions, out, keepIds=True)
    # every residue left is the polymer's: OpenMM writes HETATM for names it does not know (HIE, ASH)
    return "".join(
        "ATOM  " + line[6:] if line.startswith("HETATM") else line
        for line in out.getvalue().splitlines(keepends=True)
    )
