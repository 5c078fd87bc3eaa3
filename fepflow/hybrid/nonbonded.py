"""Nonbonded terms of the hybrid: one NonbondedForce with lambda offsets, one softcore force.

**NonbondedForce** (all particles; PME, cutoffs and the dispersion correction as in system A):

- charges interpolate through parameter offsets, so real and reciprocal space see the same charges
  and both end states are the exact PME Hamiltonians: core ``q_A -> q_B`` with
  ``lambda_electrostatics_core``; unique-A ``q_A -> 0`` with ``lambda_electrostatics_delete``;
  unique-B ``0 -> q_B`` with ``lambda_electrostatics_insert``;
- core Lennard-Jones ``(sigma, epsilon)_A -> _B`` with ``lambda_sterics_core``; unique atoms carry
  epsilon 0 here (their Lennard-Jones is in the softcore force);
- the ligands' exceptions (1-2, 1-3 exclusions and scaled 1-4 pairs): core pairs interpolate A -> B;
  pairs with a unique-A atom scale to zero with the ``*_delete`` lambdas; pairs with a unique-B atom
  grow from zero with the ``*_insert`` lambdas; every unique-A / unique-B pair is excluded.

**CustomNonbondedForce** (softcore Lennard-Jones of the unique atoms with everything but the other
ligand's unique atoms; Beutler et al. 1994 as in openmmtools):

    U = lam 4 eps (x^2 - x),   x = 1 / (alpha (1 - lam) + (r / sigma)^6)

with ``lam = 1 - lambda_sterics_delete`` for a unique-A pair and ``lambda_sterics_insert`` for a
unique-B pair; Lorentz-Berthelot mixing; same cutoff and switch as A.

Neither force carries a long-range dispersion correction: OpenMM would keep the NonbondedForce's at
the lambdas the Context was made with (its LJ offsets are not followed). The end states' corrections
are returned as coefficients and applied after sampling (:mod:`fepflow.hybrid.dispersion`).
"""

from __future__ import annotations

import copy
from typing import Any

import openmm

from fepflow.hybrid.atoms import HybridAtoms, HybridError
from fepflow.hybrid.dispersion import dispersion_coefficients
from fepflow.hybrid.parameters import (
    ELEC_CORE,
    ELEC_DELETE,
    ELEC_INSERT,
    NONBONDED_PARAMETERS,
    STERICS_CORE,
    STERICS_DELETE,
    STERICS_INSERT,
)
from fepflow.hybrid.valence import plain

SIGMA_FLOOR_NM = 0.1
"""A softcore sigma for atoms without Lennard-Jones (epsilon 0, sigma 0 in AMBER files): their pairs
have epsilon 0 anyway, and sigma 0 would divide by zero in the force."""


def nonbonded_force(system: openmm.System) -> openmm.NonbondedForce:
    found = [f for f in system.getForces() if isinstance(f, openmm.NonbondedForce)]
    if len(found) != 1:
        raise HybridError(f"a hybrid needs exactly one NonbondedForce per system, found {len(found)}")
    return found[0]


def _particle(force: openmm.NonbondedForce, i: int) -> tuple[float, float, float]:
    q, s, e = force.getParticleParameters(i)
    return plain(q), plain(s), plain(e)


def _exceptions(
    force: openmm.NonbondedForce, index: Any, ligand: frozenset[int]
) -> dict[tuple[int, int], tuple]:
    out = {}
    for n in range(force.getNumExceptions()):
        i, j, qq, s, e = force.getExceptionParameters(n)
        if index is not None:
            i, j = index[i], index[j]
        if i in ligand and j in ligand:
            out[(min(i, j), max(i, j))] = (plain(qq), plain(s), plain(e))
    return out


def add_nonbonded(
    hybrid: openmm.System,
    sys_a: openmm.System,
    sys_b: openmm.System,
    atoms: HybridAtoms,
    softcore_alpha: float,
) -> tuple[float, float] | None:
    """Add both forces; return the end states' dispersion coefficients ``(C_A, C_B)`` (kJ/mol nm^3)
    when A uses a dispersion correction (the hybrid itself then has none: see
    :mod:`fepflow.hybrid.dispersion`), else None."""
    nb_a, nb_b = nonbonded_force(sys_a), nonbonded_force(sys_b)
    nb = copy.deepcopy(nb_a)
    for name in NONBONDED_PARAMETERS:
        nb.addGlobalParameter(name, 0.0)
    b_of_hybrid = {h: j for j, h in atoms.hybrid_of_b.items()}
    # per-particle (sigma_a, eps_a, sigma_b, eps_b) for the softcore force
    lj: list[tuple[float, float, float, float]] = []
    for h in range(atoms.n_a):
        q, s, e = _particle(nb_a, h)
        kind = atoms.kind(h)
        if kind == "core":
            qb, sb, eb = _particle(nb_b, b_of_hybrid[h])
            nb.addParticleParameterOffset(ELEC_CORE, h, qb - q, 0.0, 0.0)
            if (sb, eb) != (s, e):
                nb.addParticleParameterOffset(STERICS_CORE, h, 0.0, sb - s, eb - e)
            lj.append((s, e, sb, eb))
        elif kind == "a":
            nb.setParticleParameters(h, q, s, 0.0)
            nb.addParticleParameterOffset(ELEC_DELETE, h, -q, 0.0, 0.0)
            lj.append((s, e, s, e))
        else:
            lj.append((s, e, s, e))
    for h in range(atoms.n_a, atoms.n_hybrid):
        qb, sb, eb = _particle(nb_b, b_of_hybrid[h])
        nb.addParticle(0.0, sb, 0.0)
        nb.addParticleParameterOffset(ELEC_INSERT, h, qb, 0.0, 0.0)
        lj.append((sb, eb, sb, eb))

    _add_exceptions(nb, nb_a, nb_b, atoms)
    coefficients = None
    if nb.getUseDispersionCorrection() and nb.getNonbondedMethod() != openmm.NonbondedForce.NoCutoff:
        unique_lj = {h: lj[h][:2] for h in atoms.unique_a | atoms.unique_b}
        coefficients = dispersion_coefficients(nb, atoms, unique_lj)
        nb.setUseDispersionCorrection(False)
    hybrid.addForce(nb)
    # OpenMM's CPU and GPU platforms need every nonbonded force to have the same exclusions
    excluded = set()
    for n in range(nb.getNumExceptions()):
        i, j, *_ = nb.getExceptionParameters(n)
        excluded.add((min(i, j), max(i, j)))
    if atoms.unique_a or atoms.unique_b:  # without interaction groups it would act on every pair
        hybrid.addForce(_softcore(nb_a, atoms, lj, excluded, softcore_alpha))
    return coefficients


def _add_exceptions(
    nb: openmm.NonbondedForce, nb_a: openmm.NonbondedForce, nb_b: openmm.NonbondedForce, atoms: HybridAtoms
) -> None:
    """The ligands' exceptions on ``nb`` (a copy of A's force), with their lambda offsets (see the module)."""
    ligand = atoms.ligand
    exc_a = _exceptions(nb_a, None, ligand)
    exc_b = _exceptions(nb_b, atoms.hybrid_of_b, ligand)
    existing = {}
    for n in range(nb.getNumExceptions()):
        i, j, *_ = nb.getExceptionParameters(n)
        existing[(min(i, j), max(i, j))] = n
    pairs = set(exc_a) | set(exc_b)
    pairs |= {(min(i, j), max(i, j)) for i in atoms.unique_a for j in atoms.unique_b}
    for i, j in sorted(pairs):
        kinds = {atoms.kind(i), atoms.kind(j)}
        if "a" in kinds and "b" in kinds:
            base, offsets = (0.0, 1.0, 0.0), []
        elif "a" in kinds:
            qq, s, e = exc_a[(i, j)]
            base, offsets = (qq, s, e), [(ELEC_DELETE, -qq, 0.0, 0.0), (STERICS_DELETE, 0.0, 0.0, -e)]
        elif "b" in kinds:
            qq, s, e = exc_b[(i, j)]
            base, offsets = (0.0, s, 0.0), [(ELEC_INSERT, qq, 0.0, 0.0), (STERICS_INSERT, 0.0, 0.0, e)]
        else:
            if (i, j) not in exc_a or (i, j) not in exc_b:
                raise HybridError(
                    f"core atoms {i} and {j} are excluded from each other in one ligand only: the mapping "
                    "changes the bonds between core atoms"
                )
            (qa, sa, ea), (qb, sb, eb) = exc_a[(i, j)], exc_b[(i, j)]
            base, offsets = (
                (qa, sa, ea),
                [(ELEC_CORE, qb - qa, 0.0, 0.0), (STERICS_CORE, 0.0, sb - sa, eb - ea)],
            )
        if (i, j) in existing:
            n = existing[(i, j)]
            nb.setExceptionParameters(n, i, j, *base)
        else:
            n = nb.addException(i, j, *base)
        for name, dq, ds, de in offsets:
            if (dq, ds, de) != (0.0, 0.0, 0.0):
                nb.addExceptionParameterOffset(name, n, dq, ds, de)


def _softcore(
    nb_a: openmm.NonbondedForce,
    atoms: HybridAtoms,
    lj: list[tuple[float, float, float, float]],
    excluded: set[tuple[int, int]],
    alpha: float,
) -> openmm.CustomNonbondedForce:
    expression = (
        "lam*4*eps*(x^2 - x);"
        "x = 1/(softcore_alpha*(1-lam) + (r/sig)^6);"
        f"lam = ua*(1-{STERICS_DELETE}) + ub*{STERICS_INSERT};"
        "ua = max(ua1, ua2); ub = max(ub1, ub2);"
        "sig = 0.5*(sig1 + sig2); eps = sqrt(eps1*eps2);"
        f"sig1 = (1-{STERICS_CORE})*sa1 + {STERICS_CORE}*sb1; sig2 = (1-{STERICS_CORE})*sa2 + {STERICS_CORE}*sb2;"
        f"eps1 = (1-{STERICS_CORE})*ea1 + {STERICS_CORE}*eb1; eps2 = (1-{STERICS_CORE})*ea2 + {STERICS_CORE}*eb2"
    )
    force = openmm.CustomNonbondedForce(expression)
    for name in (STERICS_CORE, STERICS_DELETE, STERICS_INSERT):
        force.addGlobalParameter(name, 0.0)
    force.addGlobalParameter("softcore_alpha", alpha)
    for name in ("sa", "ea", "sb", "eb", "ua", "ub"):
        force.addPerParticleParameter(name)
    for h, (sa, ea, sb, eb) in enumerate(lj):
        sa = sa if ea > 0 or sa > 0 else SIGMA_FLOOR_NM
        sb = sb if eb > 0 or sb > 0 else SIGMA_FLOOR_NM
        kind = atoms.kind(h)
        force.addParticle([sa, ea, sb, eb, float(kind == "a"), float(kind == "b")])
    for i, j in sorted(excluded):
        force.addExclusion(i, j)
    method = nb_a.getNonbondedMethod()
    if method == openmm.NonbondedForce.NoCutoff:
        force.setNonbondedMethod(openmm.CustomNonbondedForce.NoCutoff)
    elif method == openmm.NonbondedForce.CutoffNonPeriodic:
        force.setNonbondedMethod(openmm.CustomNonbondedForce.CutoffNonPeriodic)
    else:
        force.setNonbondedMethod(openmm.CustomNonbondedForce.CutoffPeriodic)
    force.setCutoffDistance(nb_a.getCutoffDistance())
    force.setUseSwitchingFunction(nb_a.getUseSwitchingFunction())
    force.setSwitchingDistance(nb_a.getSwitchingDistance())
    force.setUseLongRangeCorrection(False)  # applied to the end states afterwards (fepflow.hybrid.dispersion)
    everything_but_b = set(range(atoms.n_a))
    everything_but_a = set(range(atoms.n_hybrid)) - set(atoms.unique_a)
    if atoms.unique_a:
        force.addInteractionGroup(sorted(atoms.unique_a), sorted(everything_but_b))
    if atoms.unique_b:
        force.addInteractionGroup(sorted(atoms.unique_b), sorted(everything_but_a))
    return force
