"""Build one hybrid OpenMM System from ligand A's system (with any environment) and ligand B's.

``system_a`` is ligand A in its environment (vacuum, or water and ions with PME), as built by
:mod:`fepflow.chemistry`; ``system_b`` is ligand B alone (its vacuum system: only its parameters are
read). The environment and its treatment (cutoffs, PME, dispersion correction, constraints) come
from A. In implicit solvent (GBSA-OBC2, :mod:`fepflow.hybrid.implicit`) both systems carry a
``GBSAOBCForce`` (B's is read for its radii and scale factors).

Masses: A's for A's particles, B's for the unique-B atoms (masses do not change configurational free
energies). Constraints: A's, plus B's that involve a unique-B atom; a core bond constrained in both
keeps A's length (logged when B's differs: its end state B then has A's X-H lengths).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import openmm

from fepflow.hybrid.atoms import HybridAtoms, HybridError
from fepflow.hybrid.dummies import DummyGroup, DummyRules
from fepflow.hybrid.implicit import add_implicit
from fepflow.hybrid.nonbonded import add_nonbonded
from fepflow.hybrid.valence import add_angles, add_bonds, add_torsions, plain

logger = logging.getLogger(__name__)

_HANDLED = (
    openmm.HarmonicBondForce,
    openmm.HarmonicAngleForce,
    openmm.PeriodicTorsionForce,
    openmm.NonbondedForce,
    openmm.GBSAOBCForce,
)
_COPIED = (openmm.CMMotionRemover, openmm.MonteCarloBarostat)


@dataclass
class HybridSystem:
    """The hybrid System and its atom bookkeeping."""

    system: openmm.System
    atoms: HybridAtoms
    softcore_alpha: float
    dispersion_coefficients: tuple[float, float] | None = None
    """``(C_A, C_B)``, kJ/mol nm^3: the end states' dispersion corrections times the volume, to be
    added after sampling (None without a dispersion correction)."""
    dummy_groups: tuple[DummyGroup, ...] = ()
    """Each end state's dummy groups, with the bonded terms kept and removed
    (:mod:`fepflow.hybrid.dummies`)."""

    def dispersion_correction_kj_mol(self, volume_a_nm3: float, volume_b_nm3: float) -> float:
        """What to add to ΔG(A -> B): ``C_B / <V>_B - C_A / <V>_A`` (0 without a correction)."""
        if self.dispersion_coefficients is None:
            return 0.0
        c_a, c_b = self.dispersion_coefficients
        return c_b / volume_b_nm3 - c_a / volume_a_nm3


def _check_forces(system: openmm.System, label: str) -> None:
    for force in system.getForces():
        if not isinstance(force, _HANDLED + _COPIED):
            raise HybridError(
                f"system {label} has a {type(force).__name__}, which the hybrid topology does not handle "
                "(vacuum, explicit solvent, or GBSA-OBC2 implicit solvent)"
            )


def build_hybrid(
    system_a: openmm.System,
    ligand_atoms_a: Sequence[int],
    system_b: openmm.System,
    pairs: Iterable[tuple[int, int]],
    *,
    softcore_alpha: float = 0.5,
    dummy_rules: bool = True,
) -> HybridSystem:
    """The hybrid of ligand A (in ``system_a``) and ligand B (``system_b``, the ligand alone).

    Parameters
    ----------
    system_a : openmm.System
        Ligand A and its environment.
    ligand_atoms_a : sequence of int
        Ligand A's particles in ``system_a``, in the ligand's atom order (the mapping's A numbering).
    system_b : openmm.System
        Ligand B alone, its particles in the mapping's B numbering.
    pairs : iterable of (int, int)
        The atom mapping (``AtomMapping.pairs``).
    softcore_alpha : float
        Softcore alpha of the unique atoms' Lennard-Jones.
    dummy_rules : bool
        Apply the dummy-atom rules (:mod:`fepflow.hybrid.dummies`); False keeps every bonded term of
        the unique atoms at full strength, as before them (for comparisons only).

    Returns
    -------
    HybridSystem
        Global parameters :data:`LAMBDA_PARAMETERS`, all 0 (state A) by default.

    Raises
    ------
    HybridError
        Unsupported forces, a mapping outside the ligands, core atoms whose exclusions differ.
    """
    _check_forces(system_a, "A")
    _check_forces(system_b, "B")
    atoms = HybridAtoms.from_mapping(
        system_a.getNumParticles(), ligand_atoms_a, system_b.getNumParticles(), pairs
    )
    hybrid = openmm.System()
    hybrid.setDefaultPeriodicBoxVectors(*system_a.getDefaultPeriodicBoxVectors())
    for i in range(system_a.getNumParticles()):
        hybrid.addParticle(system_a.getParticleMass(i))
    b_of_hybrid = {h: j for j, h in atoms.hybrid_of_b.items()}
    for h in range(atoms.n_a, atoms.n_hybrid):
        hybrid.addParticle(system_b.getParticleMass(b_of_hybrid[h]))
    for i in range(system_a.getNumParticles()):
        if system_a.isVirtualSite(i):
            hybrid.setVirtualSite(i, system_a.getVirtualSite(i))
    _add_constraints(hybrid, system_a, system_b, atoms)
    rules = DummyRules.from_systems(system_a, system_b, atoms, apply=dummy_rules)
    add_bonds(hybrid, system_a, system_b, atoms, rules)
    add_angles(hybrid, system_a, system_b, atoms, rules)
    add_torsions(hybrid, system_a, system_b, atoms, rules)
    rules.log()
    coefficients = add_nonbonded(hybrid, system_a, system_b, atoms, softcore_alpha)
    add_implicit(hybrid, system_a, system_b, atoms)
    for force in system_a.getForces():
        if isinstance(force, _COPIED):
            hybrid.addForce(openmm.XmlSerializer.clone(force))
    return HybridSystem(
        system=hybrid,
        atoms=atoms,
        softcore_alpha=softcore_alpha,
        dispersion_coefficients=coefficients,
        dummy_groups=tuple(rules.groups),
    )


def _add_constraints(
    hybrid: openmm.System, sys_a: openmm.System, sys_b: openmm.System, atoms: HybridAtoms
) -> None:
    have: dict[tuple[int, int], float] = {}
    for n in range(sys_a.getNumConstraints()):
        i, j, d = sys_a.getConstraintParameters(n)
        hybrid.addConstraint(i, j, d)
        have[(min(i, j), max(i, j))] = plain(d)
    for n in range(sys_b.getNumConstraints()):
        i, j, d = sys_b.getConstraintParameters(n)
        hi, hj = atoms.hybrid_of_b[i], atoms.hybrid_of_b[j]
        key = (min(hi, hj), max(hi, hj))
        if key in have:
            if abs(have[key] - plain(d)) > 1e-4:
                logger.info(
                    "core constraint %s: A's length %.4f nm kept, B's is %.4f", key, have[key], plain(d)
                )
            continue
        if atoms.kind(hi) == "b" or atoms.kind(hj) == "b":
            hybrid.addConstraint(hi, hj, d)
            have[key] = plain(d)
        else:
            logger.info("core pair %s constrained in B only: left unconstrained", key)
