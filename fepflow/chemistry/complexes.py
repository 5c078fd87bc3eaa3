"""Protein-ligand complexes in water, built by tleap: ff14SB protein, GAFF ligand, TIP3P, ions.

Before tleap runs, the protein's PDB is checked for chain breaks (a peptide C-N distance above
2.0 Å between consecutive residues of one chain: residues missing from the structure); tleap's own
complaints (unknown residues, atoms its templates lack, atoms without a type) are turned into an
error that names the residues. The ligand keeps the coordinates it was parameterised with (its
component's conformer, which must sit in the pocket), or takes ``ligand_coordinates_angstrom``.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fepflow.chemistry import amber
from fepflow.chemistry.errors import ParameterizationError
from fepflow.chemistry.mol2 import parse_mol2, write_mol2
from fepflow.chemistry.parameters import RESIDUE_NAME, LigandParameters
from fepflow.chemistry.systems import WATER_MODELS, ion_commands, ion_counts, waters_added
from fepflow.chemistry.tleap import DEFAULT_TLEAP_TIMEOUT_S, BuiltSystem, LeapOutput, pme_options
from fepflow.models.components import ProteinComponent

logger = logging.getLogger(__name__)

PROTEIN_FORCEFIELD = "leaprc.protein.ff14SB"
MAX_PEPTIDE_BOND_A = 2.0
_UNKNOWN_RESIDUE = re.compile(r"Unknown residue:\s*(\S+)\s+number:\s*(\d+)")
_NEW_ATOM = re.compile(r"Created a new atom named:\s*(\S+)\s+within residue:\s*\.R<(\S+) (\d+)>")
_NO_TYPE = re.compile(r"Atom \.R<(\S+) (\d+)>\.A<(\S+) \d+> does not have a type")


class ComplexError(ParameterizationError):
    """A protein that cannot be built (chain breaks, unknown residues or atoms), named before any simulation."""


def chain_breaks(pdb: str, max_bond_a: float = MAX_PEPTIDE_BOND_A) -> list[str]:
    """Gaps between consecutive residues of a chain (no TER between them) whose C-N distance is too long."""
    residues: list[tuple[str, str, str, dict[str, np.ndarray]]] = []  # (chain, number, name, atoms)
    breaks_after_ter: set[int] = set()
    for line in pdb.splitlines():
        if line.startswith("TER"):
            breaks_after_ter.add(len(residues))
            continue
        if not line.startswith(("ATOM", "HETATM")):
            continue
        key = (line[21:22], line[22:27].strip(), line[17:20].strip())
        if not residues or residues[-1][:3] != key:
            residues.append((*key, {}))
        residues[-1][3][line[12:16].strip()] = np.array(
            [float(line[30:38]), float(line[38:46]), float(line[46:54])]
        )
    out = []
    for k in range(1, len(residues)):
        prev, cur = residues[k - 1], residues[k]
        if k in breaks_after_ter or prev[0] != cur[0] or "C" not in prev[3] or "N" not in cur[3]:
            continue
        distance = float(np.linalg.norm(prev[3]["C"] - cur[3]["N"]))
        if distance > max_bond_a:
            out.append(f"{prev[2]} {prev[1]} - {cur[2]} {cur[1]} (C-N {distance:.1f} Å)")
    return out


def _leap_problems(log: str, limit: int = 12) -> list[str]:
    """tleap's complaints about the protein, one line per residue or atom (unknown residues first)."""
    unknown = _UNKNOWN_RESIDUE.findall(log)
    names = {name for name, _ in unknown}
    # tleap numbers residues from 0 in file order
    problems = [
        f"unknown residue {name} (residue {int(number) + 1} in file order)" for name, number in unknown
    ]
    problems += [
        f"atom {atom} of {res} {num} is not in the ff14SB template"
        for atom, res, num in _NEW_ATOM.findall(log)
        if res not in names
    ]
    problems += [
        f"atom {atom} of {res} {num} has no type"
        for res, num, atom in _NO_TYPE.findall(log)
        if res not in names
    ]
    problems = list(dict.fromkeys(problems))
    if len(problems) > limit:
        problems = [*problems[:limit], f"and {len(problems) - limit} more"]
    return problems


def _placed_mol2(params: LigandParameters, coordinates: np.ndarray | None) -> str:
    if coordinates is None:
        return params.mol2
    parsed = parse_mol2(params.mol2)
    xyz = np.asarray(coordinates, dtype=float)
    if xyz.shape != (len(parsed.atoms), 3):
        raise ValueError(f"ligand coordinates of shape {xyz.shape} for {len(parsed.atoms)} atoms")
    atoms = [
        dataclasses.replace(a, position=(float(p[0]), float(p[1]), float(p[2])))
        for a, p in zip(parsed.atoms, xyz, strict=True)
    ]
    return write_mol2(atoms, parsed.bonds, title=parsed.title, residue=RESIDUE_NAME)


def build_complex(
    protein: ProteinComponent,
    params: LigandParameters,
    *,
    ligand_coordinates_angstrom: Sequence[Sequence[float]] | np.ndarray | None = None,
    padding_nm: float = 1.0,
    water_model: str = "tip3p",
    ion_concentration_molar: float = 0.15,
    positive_ion: str = "Na+",
    negative_ion: str = "Cl-",
    nonbonded_cutoff_nm: float = 0.9,
    hydrogen_mass_amu: float | None = 3.0,
    constraints: str | None = "HBonds",
    timeout_s: float = DEFAULT_TLEAP_TIMEOUT_S,
) -> BuiltSystem:
    """Protein (ff14SB) + ligand (its GAFF parameters) in a neutralised water box with salt, PME.

    Raises
    ------
    ComplexError
        Chain breaks in the protein, or residues/atoms tleap cannot type (all of them named).
    ParameterizationError
        Any other tleap failure.
    """
    from openmm import unit

    gaps = chain_breaks(protein.pdb)
    if gaps:
        raise ComplexError(
            protein.name, "tleap", "residues are missing from the structure between " + "; ".join(gaps)
        )
    leaprc, box_unit, _ = WATER_MODELS[water_model]
    mol2 = _placed_mol2(
        params, None if ligand_coordinates_angstrom is None else np.asarray(ligand_coordinates_angstrom)
    )
    leap = _Leap(
        protein, params, mol2, _leap_head(params.forcefield, leaprc, box_unit, padding_nm), timeout_s
    )
    first = leap.run(["charge COMPLEX"], save=False)
    problems = _leap_problems(first.log)
    if problems:
        raise ComplexError(protein.name, "tleap", "; ".join(problems))
    n_waters = waters_added(first.log)
    cations, anions = ion_counts(_net_charge(first.log), n_waters, ion_concentration_molar, True)
    built = leap.run(ion_commands("COMPLEX", positive_ion, cations, negative_ion, anions), save=True)
    system, topology, positions, box = _load(built)
    ligand_atoms = [a.index for r in topology.residues() if r.name == RESIDUE_NAME for a in r.atoms()]
    if len(ligand_atoms) != params.n_atoms:
        raise ParameterizationError(
            protein.name, "tleap", f"found {len(ligand_atoms)} ligand atoms, expected {params.n_atoms}"
        )
    system = _create(system, nonbonded_cutoff_nm, constraints, hydrogen_mass_amu)
    system.setDefaultPeriodicBoxVectors(*box)
    description = (
        f"{protein.name} (ff14SB) + {params.name} ({params.forcefield.upper()}), {water_model.upper()}, "
        f"{padding_nm:g} nm padding, {cations} {positive_ion} + {anions} {negative_ion}, PME {nonbonded_cutoff_nm:g} nm"
    )
    logger.info("built %s: %d atoms", description, system.getNumParticles())
    return BuiltSystem(
        system=system,
        topology=topology,
        positions=positions,
        box_vectors=unit.Quantity(
            np.array([[v.x, v.y, v.z] for v in (b.value_in_unit(unit.nanometer) for b in box)]),
            unit.nanometer,
        ),
        ligand_atoms=ligand_atoms,
        prmtop_text=built.prmtop,
        inpcrd_text=built.inpcrd,
        description=description,
    )


def _leap_head(forcefield: str, water_leaprc: str, box_unit: str, padding_nm: float) -> list[str]:
    """tleap commands that load the force fields and both molecules and solvate the complex."""
    return [
        f"source {PROTEIN_FORCEFIELD}",
        f"source leaprc.{forcefield}",
        f"source {water_leaprc}",
        "loadamberparams ligand.frcmod",
        f"{RESIDUE_NAME} = loadmol2 ligand.mol2",
        "PROT = loadpdb protein.pdb",
        f"COMPLEX = combine {{ PROT {RESIDUE_NAME} }}",
        f"solvatebox COMPLEX {box_unit} {padding_nm * 10.0:.4f}",
    ]


@dataclasses.dataclass(frozen=True)
class _Leap:
    """tleap on one complex: the inputs written to a fresh directory, ``head`` then the commands."""

    protein: ProteinComponent
    params: LigandParameters
    mol2: str
    head: list[str]
    timeout_s: float

    def run(self, commands: list[str], save: bool) -> LeapOutput:
        """Run; with ``save`` the prmtop and inpcrd are written and returned, else only the log."""
        script = (
            self.head
            + commands
            + (["saveamberparm COMPLEX system.prmtop system.inpcrd"] if save else [])
            + ["quit"]
        )
        name = self.protein.name
        with tempfile.TemporaryDirectory(prefix="fepflow-complex-") as tmp:
            work = Path(tmp)
            (work / "ligand.mol2").write_text(self.mol2)
            (work / "ligand.frcmod").write_text(self.params.frcmod)
            (work / "protein.pdb").write_text(self.protein.pdb)
            (work / "leap.in").write_text("\n".join(script) + "\n")
            try:
                run = amber.run_tool(
                    "tleap",
                    ["-f", "leap.in"],
                    cwd=work,
                    molecule=name,
                    timeout_s=self.timeout_s,
                    outputs=["system.prmtop", "system.inpcrd"] if save else [],
                )
            except ParameterizationError as exc:
                problems = _leap_problems(exc.log_tail + "\n" + _read(work / "leap.log"))
                if problems:
                    raise ComplexError(name, "tleap", "; ".join(problems), exc.log_tail) from None
                raise
            if not save:
                return LeapOutput("", "", run.output)
            return LeapOutput(
                (work / "system.prmtop").read_text(), (work / "system.inpcrd").read_text(), run.output
            )


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def _net_charge(log: str) -> int:
    """The solute's net charge from tleap's ``solvatebox`` / ``check`` output (0 when not reported)."""
    found = re.findall(r"unperturbed charge of the unit[^:]*:\s*(-?\d+\.\d+)", log, flags=re.IGNORECASE)
    if not found:
        found = re.findall(r"Total unperturbed charge:\s*(-?\d+\.\d+)", log)
    return round(float(found[-1])) if found else 0


def _load(leap: Any) -> tuple[Any, Any, Any, Any]:
    from openmm import app

    with tempfile.TemporaryDirectory(prefix="fepflow-prmtop-") as tmp:
        (Path(tmp) / "system.prmtop").write_text(leap.prmtop)
        (Path(tmp) / "system.inpcrd").write_text(leap.inpcrd)
        prmtop = app.AmberPrmtopFile(str(Path(tmp) / "system.prmtop"))
        inpcrd = app.AmberInpcrdFile(str(Path(tmp) / "system.inpcrd"))
    from openmm import unit

    return (
        prmtop,
        prmtop.topology,
        inpcrd.getPositions(asNumpy=True).in_units_of(unit.nanometer),
        inpcrd.getBoxVectors(),
    )


def _create(prmtop: Any, cutoff_nm: float, constraints: str | None, hmr: float | None) -> Any:
    return prmtop.createSystem(**pme_options(cutoff_nm, constraints, hmr))
