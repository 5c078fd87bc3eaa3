"""Running tleap on one ligand and loading its prmtop/inpcrd into OpenMM."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fepflow.chemistry import amber
from fepflow.chemistry.errors import ParameterizationError
from fepflow.chemistry.parameters import RESIDUE_NAME, LigandParameters

logger = logging.getLogger(__name__)

DEFAULT_TLEAP_TIMEOUT_S = 300.0
CONSTRAINTS = ("HBonds", "AllBonds", "HAngles", None)


@dataclass
class BuiltSystem:
    """A system ready for simulation, with the AMBER files it came from.

    Attributes
    ----------
    system : openmm.System
        Forces, masses (hydrogen mass repartitioned if asked) and constraints; no barostat.
    topology : openmm.app.Topology
        Residue ``LIG`` first, then water and ions.
    positions : openmm.unit.Quantity
        ``(n_atoms, 3)`` positions in nm.
    box_vectors : openmm.unit.Quantity or None
        Periodic box vectors (nm) for explicit solvent, else None.
    ligand_atoms : list of int
        The ligand's atom indices.
    prmtop_text, inpcrd_text : str
        tleap's output, kept for the record.
    description : str
        What was built, in words.
    """

    system: Any
    topology: Any
    positions: Any
    box_vectors: Any
    ligand_atoms: list[int]
    prmtop_text: str
    inpcrd_text: str
    description: str


@dataclass(frozen=True)
class LeapOutput:
    """tleap's prmtop and inpcrd text and its console output."""

    prmtop: str
    inpcrd: str
    log: str


def run_tleap(
    params: LigandParameters,
    commands: list[str],
    *,
    leaprcs: tuple[str, ...] = (),
    save: bool = True,
    timeout_s: float = DEFAULT_TLEAP_TIMEOUT_S,
) -> LeapOutput:
    """Load the ligand in tleap, run ``commands`` on the unit ``LIG`` and save it.

    Parameters
    ----------
    params : LigandParameters
        The ligand; ``leaprc.<forcefield>`` is sourced first, then ``leaprcs``.
    commands : list of str
        tleap commands run after ``LIG = loadmol2 ligand.mol2``.
    leaprcs : tuple of str
        Further leaprc files (water models).
    save : bool
        Write ``saveamberparm`` (False: only the console output is wanted, e.g. to count waters).
    timeout_s : float
        Time limit.

    Returns
    -------
    LeapOutput
        Empty prmtop/inpcrd text when ``save`` is False.

    Raises
    ------
    ParameterizationError
        ``tool="tleap"``: tleap reported errors, did not write its files, or timed out.
    """
    script = [f"source leaprc.{params.forcefield}", *(f"source {rc}" for rc in leaprcs)]
    script += ["loadamberparams ligand.frcmod", f"{RESIDUE_NAME} = loadmol2 ligand.mol2", *commands]
    if save:
        script.append(f"saveamberparm {RESIDUE_NAME} system.prmtop system.inpcrd")
    script.append("quit")
    outputs = ["system.prmtop", "system.inpcrd"] if save else []
    with tempfile.TemporaryDirectory(prefix="fepflow-tleap-") as tmp:
        work = Path(tmp)
        (work / "ligand.mol2").write_text(params.mol2)
        (work / "ligand.frcmod").write_text(params.frcmod)
        (work / "leap.in").write_text("\n".join(script) + "\n")
        run = amber.run_tool(
            "tleap",
            ["-f", "leap.in"],
            cwd=work,
            molecule=params.name,
            timeout_s=timeout_s,
            outputs=outputs,
        )
        if not save:
            return LeapOutput("", "", run.output)
        return LeapOutput(
            (work / "system.prmtop").read_text(), (work / "system.inpcrd").read_text(), run.output
        )


def openmm_constraints(constraints: str | None) -> Any:
    """The ``openmm.app`` constraint constant for a name (None: no constraints)."""
    from openmm import app

    if constraints not in CONSTRAINTS:
        raise ValueError(f"unknown constraints {constraints!r}; use one of {CONSTRAINTS}")
    return None if constraints is None else getattr(app, constraints)


def pme_options(cutoff_nm: float, constraints: str | None, hydrogen_mass_amu: float | None) -> dict[str, Any]:
    """``createSystem`` arguments of a periodic water box: PME at ``cutoff_nm``, rigid water, HMR."""
    from openmm import app, unit

    return {
        "nonbondedMethod": app.PME,
        "nonbondedCutoff": cutoff_nm * unit.nanometer,
        "constraints": openmm_constraints(constraints),
        "rigidWater": True,
        "hydrogenMass": hydrogen_mass(hydrogen_mass_amu),
    }


def hydrogen_mass(hydrogen_mass_amu: float | None) -> Any:
    """``createSystem``'s ``hydrogenMass`` for repartitioning to ``hydrogen_mass_amu`` (None: none)."""
    from openmm import unit

    return hydrogen_mass_amu * unit.amu if hydrogen_mass_amu else None


def load_openmm(
    params: LigandParameters, leap: LeapOutput, description: str, **create_system: Any
) -> BuiltSystem:
    """An OpenMM system from tleap's files via ``AmberPrmtopFile.createSystem(**create_system)``.

    Raises
    ------
    ParameterizationError
        ``tool="tleap"`` when the first residue is not the ligand as given.
    """
    from openmm import app, unit

    with tempfile.TemporaryDirectory(prefix="fepflow-prmtop-") as tmp:
        (Path(tmp) / "system.prmtop").write_text(leap.prmtop)
        (Path(tmp) / "system.inpcrd").write_text(leap.inpcrd)
        prmtop = app.AmberPrmtopFile(str(Path(tmp) / "system.prmtop"))
        inpcrd = app.AmberInpcrdFile(str(Path(tmp) / "system.inpcrd"))
    system = prmtop.createSystem(**create_system)
    first = next(prmtop.topology.residues())
    ligand_atoms = [atom.index for atom in first.atoms()]
    if first.name != RESIDUE_NAME or len(ligand_atoms) != params.n_atoms:
        raise ParameterizationError(
            params.name,
            "tleap",
            f"first residue is {first.name} with {len(ligand_atoms)} atoms, "
            f"expected {RESIDUE_NAME} with {params.n_atoms}",
        )
    positions = inpcrd.getPositions(asNumpy=True).in_units_of(unit.nanometer)
    box = None
    if inpcrd.boxVectors is not None:
        import numpy as np
        from openmm import Vec3

        vectors = [Vec3(*v.value_in_unit(unit.nanometer)) for v in inpcrd.getBoxVectors()]
        system.setDefaultPeriodicBoxVectors(*vectors)
        prmtop.topology.setPeriodicBoxVectors(vectors * unit.nanometer)
        box = unit.Quantity(np.array([list(v) for v in vectors]), unit.nanometer)
    logger.info("built %s: %d atoms", description, system.getNumParticles())
    return BuiltSystem(
        system=system,
        topology=prmtop.topology,
        positions=positions,
        box_vectors=box,
        ligand_atoms=ligand_atoms,
        prmtop_text=leap.prmtop,
        inpcrd_text=leap.inpcrd,
        description=description,
    )
