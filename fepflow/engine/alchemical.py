"""Absolute alchemical states: decouple a ligand from its environment with openmmtools.

Choices made here, and why:

- **Electrostatics are annihilated** (ligand-environment *and* intra-ligand charges scale with
  ``lambda_electrostatics``), as openmmtools' ``'exact'`` PME treatment requires. The intra-ligand
  part cancels against the vacuum (or gas-phase) leg of the cycle, which uses the same schedule.
- **PME: ``alchemical_pme_treatment='exact'``** (the openmmtools 0.27 default). The ligand's charges
  are scaled through NonbondedForce charge offsets, so real *and* reciprocal space see the scaled
  charges: the end states are the exact PME Hamiltonians, no cutoff artefact is introduced, and no
  extra CustomNonbondedForce is needed for electrostatics (cheaper than ``'direct-space'``, which
  keeps full-charge reciprocal space for the ligand and a switched real-space term). The price is
  that electrostatics have no softcore, so the schedule must switch charges off *before* sterics
  are softened (validated below).
- **Sterics are decoupled** (ligand-environment LJ goes, intra-ligand LJ stays) with the
  Beutler softcore (alpha = 0.5, a = b = 1, c = 6).
- **A molecule alone** (vacuum, or implicit solvent: every particle is the ligand, no periodic box)
  skips openmmtools' factory: its custom forces cost about 100 x the plain ones there (1.45 ms
  against 14 us per step for toluene in OBC2 on Reference) and do nothing that scaled charges do not
  (see :mod:`fepflow.engine.isolated`: the same end states, plain forces).
- **Dispersion correction of the alchemical region is kept** (``disable_alchemical_dispersion_correction
  =False``): state 0 then equals the original system's energy and the decoupled state has no
  ligand LRC. Set ``disable_dispersion_correction=True`` to trade that for speed on systems where
  OpenMM must recompute the correction whenever ``lambda_sterics`` changes.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import openmm
from openmm import unit

from fepflow.engine.errors import ScheduleError
from fepflow.engine.isolated import isolated_molecule, isolated_states

logger = logging.getLogger(__name__)

_BAROSTATS = (
    openmm.MonteCarloBarostat,
    openmm.MonteCarloAnisotropicBarostat,
    openmm.MonteCarloMembraneBarostat,
    openmm.MonteCarloFlexibleBarostat,
)


@dataclass(frozen=True)
class AlchemicalStates:
    """The alchemical System and one thermodynamic state per lambda window.

    Attributes
    ----------
    system : openmm.System
        The alchemically modified System (with a barostat when the states have a pressure).
    states : list of openmmtools.states.ThermodynamicState
        ``states[0]`` fully coupled, ``states[-1]`` fully decoupled: ``CompoundThermodynamicState``
        with openmmtools' alchemical forces, or, for a molecule alone, plain states with scaled
        charges (:mod:`fepflow.engine.isolated`; ``system`` is then state 0's, the original).
    ligand_atoms : tuple of int
        The alchemical region.
    """

    system: openmm.System
    states: list
    ligand_atoms: tuple[int, ...]


def validate_schedule(electrostatics: Sequence[float], sterics: Sequence[float]) -> None:
    """Check a lambda schedule; raise :class:`ScheduleError` naming the problem.

    Parameters
    ----------
    electrostatics, sterics : sequence of float
        ``lambda_electrostatics`` and ``lambda_sterics`` per state, same length, in [0, 1], state 0
        fully coupled (1, 1) and the last state fully decoupled (0, 0). Charges must be off
        (``lambda_electrostatics == 0``) wherever sterics are softened (``lambda_sterics < 1``).
    """
    elec, ster = list(electrostatics), list(sterics)
    if not elec or not ster:
        raise ScheduleError("the lambda schedule is empty")
    if len(elec) != len(ster):
        raise ScheduleError(
            f"lambda schedule lengths differ: {len(elec)} electrostatics values, {len(ster)} sterics values"
        )
    if len(elec) < 2:
        raise ScheduleError("a lambda schedule needs at least two states")
    for i, (e, s) in enumerate(zip(elec, ster, strict=True)):
        if not (0.0 <= e <= 1.0 and 0.0 <= s <= 1.0):
            raise ScheduleError(f"state {i}: lambda values must lie in [0, 1], got ({e}, {s})")
        if s < 1.0 and e > 0.0:
            raise ScheduleError(
                f"state {i}: sterics softened (lambda_sterics={s}) while charges are on "
                f"(lambda_electrostatics={e}); switch electrostatics off first"
            )
    if (elec[0], ster[0]) != (1.0, 1.0):
        raise ScheduleError(
            f"state 0 must be fully coupled (electrostatics 1, sterics 1), got ({elec[0]}, {ster[0]})"
        )
    if (elec[-1], ster[-1]) != (0.0, 0.0):
        raise ScheduleError(
            f"the last state must be fully decoupled (electrostatics 0, sterics 0), got ({elec[-1]}, {ster[-1]})"
        )


def has_barostat(system: openmm.System) -> bool:
    """Whether ``system`` holds a Monte Carlo barostat."""
    return any(isinstance(force, _BAROSTATS) for force in system.getForces())


def _checked_region(
    system: openmm.System, ligand_atoms: Sequence[int], temperature_K: float
) -> tuple[int, ...]:
    """The alchemical region as a tuple, after checking it (and the temperature)."""
    atoms = tuple(int(i) for i in ligand_atoms)
    if not atoms:
        raise ScheduleError("the alchemical region (ligand atoms) is empty")
    if len(set(atoms)) != len(atoms) or min(atoms) < 0 or max(atoms) >= system.getNumParticles():
        raise ScheduleError(
            f"ligand atom indices must be distinct and within 0..{system.getNumParticles() - 1}"
        )
    if temperature_K <= 0:
        raise ScheduleError(f"temperature must be positive, got {temperature_K} K")
    return atoms


def build_alchemical_states(
    system: openmm.System,
    ligand_atoms: Sequence[int],
    electrostatics: Sequence[float],
    sterics: Sequence[float],
    temperature_K: float,
    pressure_bar: float | None = None,
    *,
    disable_dispersion_correction: bool = False,
    plain_forces_when_isolated: bool = True,
) -> AlchemicalStates:
    """Build the alchemical System and its lambda states.

    Parameters
    ----------
    system : openmm.System
        The fully interacting system (not modified).
    ligand_atoms : sequence of int
        Indices of the ligand, the alchemical region.
    electrostatics, sterics : sequence of float
        The lambda schedule (see :func:`validate_schedule`).
    temperature_K : float
        Temperature of every state.
    pressure_bar : float, optional
        Pressure of every state. A periodic system without a barostat gets a MonteCarloBarostat; an
        existing barostat is set to this pressure. ``None`` leaves the choice to the system: NPT at
        its barostat's pressure if it has one, NVT otherwise.
    disable_dispersion_correction : bool
        Drop the long-range dispersion correction of the alchemical sterics (faster, inexact ends).
    plain_forces_when_isolated : bool
        For a molecule alone (every particle alchemical, no periodic box, plain forces), build the
        states from scaled charges (:mod:`fepflow.engine.isolated`) instead of openmmtools' custom
        forces: the same end states, about 100 x cheaper per step.

    Returns
    -------
    AlchemicalStates
        The alchemical System and the list of ``CompoundThermodynamicState``.
    """
    from openmmtools import alchemy, states

    validate_schedule(electrostatics, sterics)
    atoms = _checked_region(system, ligand_atoms, temperature_K)
    if plain_forces_when_isolated and pressure_bar is None and isolated_molecule(system, atoms):
        plain = isolated_states(system, electrostatics, temperature_K)
        return AlchemicalStates(system=plain[0].system, states=plain, ligand_atoms=atoms)

    reference = copy.deepcopy(system)
    if pressure_bar is not None and not has_barostat(reference):
        if not reference.usesPeriodicBoundaryConditions():
            raise ScheduleError("a pressure was given for a non-periodic system")
        reference.addForce(openmm.MonteCarloBarostat(pressure_bar * unit.bar, temperature_K * unit.kelvin))
        logger.debug("added a MonteCarloBarostat at %s bar", pressure_bar)

    factory = alchemy.AbsoluteAlchemicalFactory(
        alchemical_pme_treatment="exact",
        disable_alchemical_dispersion_correction=disable_dispersion_correction,
    )
    region = alchemy.AlchemicalRegion(
        alchemical_atoms=list(atoms), annihilate_electrostatics=True, annihilate_sterics=False
    )
    alchemical_system = factory.create_alchemical_system(reference, region)

    pressure = None if pressure_bar is None else pressure_bar * unit.bar
    base = states.ThermodynamicState(
        alchemical_system, temperature=temperature_K * unit.kelvin, pressure=pressure
    )
    alchemical_state = alchemy.AlchemicalState.from_system(alchemical_system)
    thermo_states = []
    for elec, ster in zip(electrostatics, sterics, strict=True):
        compound = states.CompoundThermodynamicState(copy.deepcopy(base), [copy.deepcopy(alchemical_state)])
        compound.lambda_electrostatics = float(elec)
        compound.lambda_sterics = float(ster)
        thermo_states.append(compound)
    return AlchemicalStates(system=base.system, states=thermo_states, ligand_atoms=atoms)
