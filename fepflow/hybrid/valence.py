"""Bonded terms of the hybrid: bonds, angles and torsions.

- A term whose atoms are all core is interpolated: ``(1 - lambda_bonded) E_A + lambda_bonded E_B``
  (a term present in one state only has no counterpart: it fades in or out).
- A term touching a unique atom (or the environment) keeps its own state's parameters at every
  lambda: unique atoms stay bonded to the core as dummies, so their valence energy is the same at
  both ends of every leg and cancels in the thermodynamic cycle (ΔΔG = ΔG(leg 1) - ΔG(leg 2)).
"""

from __future__ import annotations

from typing import Any

import openmm
from openmm import unit

from fepflow.hybrid.atoms import HybridAtoms
from fepflow.hybrid.dummies import DummyRules
from fepflow.hybrid.parameters import BONDED


def _force(system: openmm.System, kind: type) -> Any | None:
    found = [f for f in system.getForces() if isinstance(f, kind)]
    return found[0] if found else None


def plain(value: Any) -> float:
    """A number in OpenMM's MD units (nm, kJ/mol, radians, e)."""
    return float(value.value_in_unit_system(unit.md_unit_system)) if unit.is_quantity(value) else float(value)


def _periodic(system: openmm.System) -> bool:
    return bool(system.usesPeriodicBoundaryConditions())


def _side(sides: dict[str, Any]) -> str:
    return "a" if "a" in sides else "b"


def _fading(side: str, first: float, strength: float) -> list[float]:
    """Per-term parameters ``[x_a, k_a, x_b, k_b]`` of a term present in state ``side`` only."""
    return [first, strength, first, 0.0] if side == "a" else [first, 0.0, first, strength]


def add_bonds(
    hybrid: openmm.System, sys_a: openmm.System, sys_b: openmm.System, atoms: HybridAtoms, rules: DummyRules
) -> None:
    constant = openmm.HarmonicBondForce()
    interp = openmm.CustomBondForce(f"(1-{BONDED})*0.5*k_a*(r-r0_a)^2 + {BONDED}*0.5*k_b*(r-r0_b)^2")
    interp.addGlobalParameter(BONDED, 0.0)
    for name in ("r0_a", "k_a", "r0_b", "k_b"):
        interp.addPerBondParameter(name)
    terms: dict[tuple[int, int], dict[str, tuple[float, float]]] = {}
    for side, system, index in (("a", sys_a, None), ("b", sys_b, atoms.hybrid_of_b)):
        force = _force(system, openmm.HarmonicBondForce)
        if force is None:
            continue
        for n in range(force.getNumBonds()):
            i, j, r0, k = force.getBondParameters(n)
            if index is not None:
                i, j = index[i], index[j]
            terms.setdefault((min(i, j), max(i, j)), {})[side] = (plain(r0), plain(k))
    for (i, j), sides in sorted(terms.items()):
        if {atoms.kind(i), atoms.kind(j)} == {"core"}:
            r0a, ka = sides.get("a", (sides.get("b", (0.0, 0.0))[0], 0.0))
            r0b, kb = sides.get("b", (r0a, 0.0))
            interp.addBond(i, j, [r0a, ka, r0b, kb])
            continue
        r0, k = sides.get("a", sides.get("b"))  # type: ignore[misc]
        if rules.keeps("bond", (i, j)):
            constant.addBond(i, j, r0, k)
        else:
            interp.addBond(i, j, _fading(_side(sides), r0, k))
    interp.setUsesPeriodicBoundaryConditions(_periodic(sys_a))
    constant.setUsesPeriodicBoundaryConditions(_periodic(sys_a))
    hybrid.addForce(constant)
    hybrid.addForce(interp)


def add_angles(
    hybrid: openmm.System, sys_a: openmm.System, sys_b: openmm.System, atoms: HybridAtoms, rules: DummyRules
) -> None:
    constant = openmm.HarmonicAngleForce()
    interp = openmm.CustomAngleForce(f"(1-{BONDED})*0.5*k_a*(theta-t0_a)^2 + {BONDED}*0.5*k_b*(theta-t0_b)^2")
    interp.addGlobalParameter(BONDED, 0.0)
    for name in ("t0_a", "k_a", "t0_b", "k_b"):
        interp.addPerAngleParameter(name)
    terms: dict[tuple[int, int, int], dict[str, tuple[float, float]]] = {}
    for side, system, index in (("a", sys_a, None), ("b", sys_b, atoms.hybrid_of_b)):
        force = _force(system, openmm.HarmonicAngleForce)
        if force is None:
            continue
        for n in range(force.getNumAngles()):
            i, j, k, t0, kk = force.getAngleParameters(n)
            if index is not None:
                i, j, k = index[i], index[j], index[k]
            key = (i, j, k) if i < k else (k, j, i)
            terms.setdefault(key, {})[side] = (plain(t0), plain(kk))
    for (i, j, k), sides in sorted(terms.items()):
        if {atoms.kind(i), atoms.kind(j), atoms.kind(k)} == {"core"}:
            t0a, ka = sides.get("a", (sides.get("b", (0.0, 0.0))[0], 0.0))
            t0b, kb = sides.get("b", (t0a, 0.0))
            interp.addAngle(i, j, k, [t0a, ka, t0b, kb])
            continue
        t0, kk = sides.get("a", sides.get("b"))  # type: ignore[misc]
        if rules.keeps("angle", (i, j, k)):
            constant.addAngle(i, j, k, t0, kk)
        else:
            interp.addAngle(i, j, k, _fading(_side(sides), t0, kk))
    interp.setUsesPeriodicBoundaryConditions(_periodic(sys_a))
    constant.setUsesPeriodicBoundaryConditions(_periodic(sys_a))
    hybrid.addForce(constant)
    hybrid.addForce(interp)


def add_torsions(
    hybrid: openmm.System, sys_a: openmm.System, sys_b: openmm.System, atoms: HybridAtoms, rules: DummyRules
) -> None:
    constant = openmm.PeriodicTorsionForce()
    interp = openmm.CustomTorsionForce(f"((1-side)*(1-{BONDED}) + side*{BONDED})*k*(1+cos(n*theta-phase))")
    interp.addGlobalParameter(BONDED, 0.0)
    for name in ("side", "n", "phase", "k"):
        interp.addPerTorsionParameter(name)
    for side, system, index in ((0.0, sys_a, None), (1.0, sys_b, atoms.hybrid_of_b)):
        force = _force(system, openmm.PeriodicTorsionForce)
        if force is None:
            continue
        for t in range(force.getNumTorsions()):
            i, j, k, m, n, phase, kk = force.getTorsionParameters(t)
            if index is not None:
                i, j, k, m = index[i], index[j], index[k], index[m]
            if {atoms.kind(x) for x in (i, j, k, m)} == {"core"} or not rules.keeps("torsion", (i, j, k, m)):
                interp.addTorsion(i, j, k, m, [side, float(n), plain(phase), plain(kk)])
            else:
                constant.addTorsion(i, j, k, m, n, phase, kk)
    interp.setUsesPeriodicBoundaryConditions(_periodic(sys_a))
    constant.setUsesPeriodicBoundaryConditions(_periodic(sys_a))
    hybrid.addForce(constant)
    hybrid.addForce(interp)
