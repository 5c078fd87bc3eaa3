"""Generalised-Born implicit solvent (GBSA-OBC2, OpenMM's ``GBSAOBCForce``) in a hybrid.

The two end states' ``GBSAOBCForce`` become one ``CustomGBForce`` with OBC2's Born radii, its
polarisation energy and its ACE surface-area term (OpenMM's own formulas), whose per-atom charge,
radius, scale factor and presence follow the hybrid's λ parameters:

- a core atom's charge goes from A's to B's with ``lambda_electrostatics_core``, its radius and
  scale factor with ``lambda_sterics_core``;
- a unique atom keeps its own radius; its charge follows the nonbonded schedule (A's go off with
  ``lambda_electrostatics_delete``, B's come on with ``lambda_electrostatics_insert``), and its
  presence (its descreening of other atoms' Born radii and its surface-area term) with the sterics
  schedule (``1 - lambda_sterics_delete`` for A's, ``lambda_sterics_insert`` for B's).

At λ = 0 the force is A's ``GBSAOBCForce`` exactly (B's unique atoms neither carry charge nor
descreen), at λ = 1 B's: the end states are the real molecules in implicit solvent.
"""

from __future__ import annotations

import math

import openmm

from fepflow.hybrid.atoms import HybridAtoms, HybridError
from fepflow.hybrid.parameters import (
    ELEC_CORE,
    ELEC_DELETE,
    ELEC_INSERT,
    STERICS_CORE,
    STERICS_DELETE,
    STERICS_INSERT,
)
from fepflow.hybrid.valence import plain

ONE_4PI_EPS0 = 138.935456
"""kJ/mol nm / e², as OpenMM's GB kernels use it."""
DIELECTRIC_OFFSET = 0.009
"""nm, OBC's offset of the intrinsic radii."""
PROBE_RADIUS = 0.14
"""nm, the ACE surface-area term's solvent probe."""

_PER_PARTICLE = ("qa", "qb", "ra", "rb", "sa", "sb", "wc", "wa", "wb")


def _obc(system: openmm.System, label: str) -> openmm.GBSAOBCForce | None:
    found = [f for f in system.getForces() if isinstance(f, openmm.GBSAOBCForce)]
    if len(found) > 1:
        raise HybridError(f"system {label} has {len(found)} GBSAOBCForces; one at most")
    return found[0] if found else None


def _definitions(suffix: str) -> str:
    """Charge, presence, scale factor and radius of particle ``suffix`` ('', '1' or '2') at λ (an
    OpenMM expression's definitions may use only those that follow them)."""
    s = suffix
    return (
        f"q{s}=wc{s}*(qa{s}+(qb{s}-qa{s})*{ELEC_CORE})+wa{s}*qa{s}*(1-{ELEC_DELETE})+wb{s}*qb{s}*{ELEC_INSERT}; "
        f"p{s}=wc{s}+wa{s}*(1-{STERICS_DELETE})+wb{s}*{STERICS_INSERT}; "
        f"sc{s}=sa{s}+(sb{s}-sa{s})*{STERICS_CORE}; "
        f"or{s}=rad{s}-{DIELECTRIC_OFFSET}; rad{s}=ra{s}+(rb{s}-ra{s})*{STERICS_CORE}"
    )


def _custom_gb(solute: float, solvent: float, surface_energy: float) -> openmm.CustomGBForce:
    force = openmm.CustomGBForce()
    for name in _PER_PARTICLE:
        force.addPerParticleParameter(name)
    for name in (ELEC_CORE, ELEC_DELETE, ELEC_INSERT, STERICS_CORE, STERICS_DELETE, STERICS_INSERT):
        force.addGlobalParameter(name, 0.0)
    pre = ONE_4PI_EPS0 * (1.0 / solute - 1.0 / solvent)
    ace = 4.0 * math.pi * surface_energy
    force.addComputedValue(
        "I",
        "p2*step(r+sr2-or1)*0.5*(1/L-1/U+0.25*(r-sr2^2/r)*(1/(U^2)-1/(L^2))+0.5*log(L/U)/r); "
        "U=r+sr2; L=max(or1, D); D=abs(r-sr2); sr2=sc2*or2; " + _definitions("1") + "; " + _definitions("2"),
        openmm.CustomGBForce.ParticlePairNoExclusions,
    )
    force.addComputedValue(
        "B",
        "1/(1/or-tanh(psi-0.8*psi^2+4.85*psi^3)/rad); psi=I*or; " + _definitions(""),
        openmm.CustomGBForce.SingleParticle,
    )
    force.addEnergyTerm(
        f"p*{ace!r}*(rad+{PROBE_RADIUS})^2*(rad/B)^6 - 0.5*{pre!r}*q^2/B; " + _definitions(""),
        openmm.CustomGBForce.SingleParticle,
    )
    force.addEnergyTerm(
        f"-{pre!r}*q1*q2/f; f=sqrt(r^2+B1*B2*exp(-r^2/(4*B1*B2))); "
        + _definitions("1")
        + "; "
        + _definitions("2"),
        openmm.CustomGBForce.ParticlePairNoExclusions,
    )
    return force


def add_implicit(
    hybrid: openmm.System, sys_a: openmm.System, sys_b: openmm.System, atoms: HybridAtoms
) -> bool:
    """Add the hybrid's GB force when the end states have one; False when neither has.

    Raises
    ------
    HybridError
        One end state in implicit solvent and the other not, or the two with different GB settings.
    """
    gb_a, gb_b = _obc(sys_a, "A"), _obc(sys_b, "B")
    if gb_a is None and gb_b is None:
        return False
    if gb_a is None or gb_b is None:
        raise HybridError("one end state is in implicit solvent and the other is not: build both alike")
    settings = [
        (g.getSoluteDielectric(), g.getSolventDielectric(), plain(g.getSurfaceAreaEnergy()))
        for g in (gb_a, gb_b)
    ]
    if settings[0] != settings[1]:
        raise HybridError(f"the end states' GB settings differ: A {settings[0]}, B {settings[1]}")
    if gb_a.getNonbondedMethod() != openmm.GBSAOBCForce.NoCutoff:
        raise HybridError("implicit solvent hybrids are built without a cutoff (GBSAOBCForce.NoCutoff)")
    force = _custom_gb(*settings[0])
    b_of_hybrid = {h: j for j, h in atoms.hybrid_of_b.items()}
    for h in range(atoms.n_hybrid):
        kind = atoms.kind(h)
        a = [plain(v) for v in gb_a.getParticleParameters(h)] if kind != "b" else None
        b = [plain(v) for v in gb_b.getParticleParameters(b_of_hybrid[h])] if h in b_of_hybrid else None
        qa, ra, sa = a if a is not None else (0.0, *b[1:])  # type: ignore[index]
        qb, rb, sb = b if b is not None else (qa if kind == "env" else 0.0, ra, sa)
        flags = {"core": (1.0, 0.0, 0.0), "env": (1.0, 0.0, 0.0), "a": (0.0, 1.0, 0.0), "b": (0.0, 0.0, 1.0)}[
            kind
        ]
        force.addParticle([qa, qb, ra, rb, sa, sb, *flags])
    hybrid.addForce(force)
    return True
