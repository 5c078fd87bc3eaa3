"""Which bonded terms keep a hybrid's dummy atoms attached (Fleck, Wieder & Boresch, JCTC 2021, 17, 4403).

The unique atoms of one end state are dummies at the other: they lose every nonbonded interaction
but stay bonded to the physical part. They cancel from ΔΔG only if their bonded terms contribute a
factor to the configurational integral that does not depend on the physical atoms' coordinates, and
they must still sit in a defined place. So, for each dummy group (unique atoms of one state joined by
bonds or by a common junction atom P1 of the physical part) these terms are kept:

- every term among the group's atoms and P1 alone (the group's interior, its bonds to P1, angles
  D-D-P1 and D-P1-D, torsions D-D-D-P1 ...): they place dummies relative to P1 and touch no other
  physical atom;
- for each root dummy D1 (bonded to P1): at most two angles D1-P1-X, X the preferred physical
  neighbours of P1 (those that continue into a torsion, then heavy ones, first; the first is P2) --
  except at a junction with three or more physical neighbours none of which continues into a
  torsion (an sp3 carbon whose other neighbours are hydrogens, as in ethane -> methanol): there all
  its junction angles stay. Two would fix the dummy only up to a mirror image (the second solution
  lies on the third neighbour), and the removed third angle, faded in along λ, then leaves no
  overlap between neighbouring windows (measured: zero overlap for methane -> ethane in vacuum and
  OBC2 with two angles);
- for each root at most one torsion (all its periodic terms): D1-P1-P2-P3 where the force field has
  one (the dummy's orientation from a chain of physical atoms), otherwise D-D1-P1-P2 (the group's
  rotation about D1-P1).

Every other term that spans the junction (a third angle at P1, further torsions, impropers over
P1's physical neighbours, a bond to a second junction atom) is removed at the end state where the
group is dummy and present at full strength where it is physical: the hybrid stays exact at both
end states up to the kept dummy terms, which depend on physical coordinates only through P1 and the
chosen partners P2, the second angle partner and P3.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import openmm

from fepflow.hybrid.atoms import HybridAtoms

logger = logging.getLogger(__name__)

KINDS = ("bond", "angle", "torsion")


@dataclass
class DummyGroup:
    """One dummy group of one end state and the terms the rules keep and remove."""

    side: str
    """``"a"`` or ``"b"``: the end state whose unique atoms these are (dummies at the other end)."""
    atoms: tuple[int, ...]
    junction: int
    roots: tuple[int, ...]
    angle_partners: tuple[int, ...]
    torsions: tuple[tuple[int, ...], ...]
    """The kept junction-spanning torsions (atom quadruples), at most one per root."""
    removed: dict[str, set[tuple[int, ...]]] = field(default_factory=lambda: {k: set() for k in KINDS})
    kept: dict[str, set[tuple[int, ...]]] = field(default_factory=lambda: {k: set() for k in KINDS})

    def keeps(self, kind: str, term: tuple[int, ...]) -> bool:
        """Whether the rules keep ``term`` (hybrid indices, every non-group atom physical)."""
        physical = [i for i in term if i not in self.atoms]
        if all(i == self.junction for i in physical):
            return True
        if kind == "angle":
            return term[1] == self.junction and _ends(term, self.roots, self.angle_partners)
        if kind == "torsion":
            return term in self.torsions or term[::-1] in self.torsions
        return False

    def summary(self) -> dict[str, object]:
        """What the run's metadata records: atoms, junction, and the counts of removed terms."""
        return {
            "side": self.side,
            "atoms": list(self.atoms),
            "junction": self.junction,
            "angle_partners": list(self.angle_partners),
            "torsions_kept": [list(t) for t in self.torsions],
            "removed": {k: sorted(list(t) for t in v) for k, v in self.removed.items()},
        }


def _ends(term: tuple[int, ...], roots: Iterable[int], partners: Iterable[int]) -> bool:
    first, last = term[0], term[-1]
    roots, partners = set(roots), set(partners)
    return (first in roots and last in partners) or (last in roots and first in partners)


def topology(system: openmm.System, index: Mapping[int, int] | None) -> dict[int, set[int]]:
    """Bonded neighbours (harmonic bonds and constraints), in hybrid indices."""
    adjacency: dict[int, set[int]] = {}
    pairs = [system.getConstraintParameters(n)[:2] for n in range(system.getNumConstraints())]
    for force in system.getForces():
        if isinstance(force, openmm.HarmonicBondForce):
            pairs += [force.getBondParameters(n)[:2] for n in range(force.getNumBonds())]
    for i, j in pairs:
        hi, hj = (index[i], index[j]) if index is not None else (i, j)
        adjacency.setdefault(hi, set()).add(hj)
        adjacency.setdefault(hj, set()).add(hi)
    return adjacency


def torsion_quadruples(system: openmm.System, index: Mapping[int, int] | None) -> set[tuple[int, ...]]:
    """Every torsion's atoms (hybrid indices) in the force field's order."""
    out: set[tuple[int, ...]] = set()
    for force in system.getForces():
        if isinstance(force, openmm.PeriodicTorsionForce):
            for n in range(force.getNumTorsions()):
                atoms = force.getTorsionParameters(n)[:4]
                out.add(tuple(index[i] for i in atoms) if index is not None else tuple(atoms))
    return out


def _components(unique: frozenset[int], adjacency: dict[int, set[int]]) -> list[list[int]]:
    """Unique atoms joined by a bond or by a common physical neighbour (their junction)."""
    parent = {u: u for u in unique}

    def find(u: int) -> int:
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    by_junction: dict[int, int] = {}
    for u in sorted(unique):
        for v in sorted(adjacency.get(u, ())):
            if v in unique:
                parent[find(u)] = find(v)
            elif v in by_junction:
                parent[find(u)] = find(by_junction[v])
            else:
                by_junction[v] = u
    groups: dict[int, list[int]] = {}
    for u in sorted(unique):
        groups.setdefault(find(u), []).append(u)
    return list(groups.values())


def dummy_groups(
    side: str, unique: frozenset[int], adjacency: dict[int, set[int]], quadruples: set[tuple[int, ...]]
) -> list[DummyGroup]:
    """The dummy groups of one end state's unique atoms and the junction terms each keeps."""
    out = []
    for atoms in _components(unique, adjacency):
        group = set(atoms)
        junctions = sorted({v for u in atoms for v in adjacency.get(u, ()) if v not in group})
        if not junctions:
            continue  # not bonded to the physical part: nothing spans a junction
        junction = max(junctions, key=lambda p: (sum(1 for u in atoms if p in adjacency[u]), -p))
        roots = tuple(u for u in atoms if junction in adjacency[u])
        oriented = _oriented(quadruples, group)
        starts = {q[2] for q in oriented if q[1] == junction and q[0] in roots and q[3] not in group}
        neighbours = adjacency[junction] - group - unique
        ordered = sorted(neighbours, key=lambda p: (p not in starts, -len(adjacency.get(p, ())), p))
        # two angles fix a dummy bonded to a junction with three or more physical neighbours only up
        # to a mirror image; with no torsion into the physical part to tell the two apart, keep them all
        mirror = len(ordered) >= 3 and ordered[0] not in starts
        partners = tuple(ordered if mirror else ordered[:2])
        found = (_torsion_for(r, junction, partners, group, oriented, adjacency) for r in roots)
        torsions = tuple(t for t in found if t is not None)
        out.append(DummyGroup(side, tuple(atoms), junction, roots, partners, torsions))
    return out


def _oriented(quadruples: set[tuple[int, ...]], group: set[int]) -> list[tuple[int, ...]]:
    """Torsions written from their group end (the first atom a group atom where either end is)."""
    return sorted(q if q[0] in group else q[::-1] for q in quadruples)


def _torsion_for(
    root: int,
    junction: int,
    partners: tuple[int, ...],
    group: set[int],
    oriented: list[tuple[int, ...]],
    adjacency: dict[int, set[int]],
) -> tuple[int, ...] | None:
    """The one torsion that orients ``root``'s part of the group: D1-P1-P2-P3 (P3 the most connected),
    otherwise D-D1-P1-P2."""
    if not partners:
        return None
    p2 = partners[0]
    chains = [q for q in oriented if q[:3] == (root, junction, p2) and q[3] not in group]
    if chains:
        return min(chains, key=lambda q: (-len(adjacency.get(q[3], ())), q))
    inner = [q for q in oriented if q[1:] == (root, junction, p2) and q[0] in group]
    return min(inner) if inner else None


def _canonical(term: tuple[int, ...]) -> tuple[int, ...]:
    return min(term, term[::-1])


class DummyRules:
    """The dummy groups of both end states; decides, and records, which terms a hybrid keeps."""

    def __init__(self, groups: list[DummyGroup], apply: bool = True) -> None:
        self.groups = groups
        self.apply = apply
        """False: every term kept (the treatment before these rules, for comparisons)."""
        self._group_of = {atom: group for group in groups for atom in group.atoms}

    @classmethod
    def from_systems(
        cls, sys_a: openmm.System, sys_b: openmm.System, atoms: HybridAtoms, apply: bool = True
    ) -> DummyRules:
        groups = []
        for side, system, index, unique in (
            ("a", sys_a, None, atoms.unique_a),
            ("b", sys_b, atoms.hybrid_of_b, atoms.unique_b),
        ):
            adjacency = topology(system, index)
            groups += dummy_groups(side, unique, adjacency, torsion_quadruples(system, index))
        return cls(groups, apply)

    def keeps(self, kind: str, term: tuple[int, ...]) -> bool:
        """Whether a term (hybrid indices) stays at full strength at both end states; recorded."""
        touched = {id(g): g for g in (self._group_of.get(i) for i in term) if g is not None}
        if not touched:
            return True
        keep = not self.apply or all(group.keeps(kind, term) for group in touched.values())
        first = min(touched.values(), key=lambda g: g.atoms)
        (first.kept if keep else first.removed)[kind].add(_canonical(term))
        return keep

    def log(self) -> None:
        for group in self.groups:
            removed = ", ".join(f"{len(group.removed[k])} {k}s" for k in KINDS)
            logger.info(
                "dummy group %s of state %s at junction %d (angle partners %s, torsions kept %s): removed %s "
                "at the end state where it is dummy (%s)",
                list(group.atoms),
                group.side.upper(),
                group.junction,
                list(group.angle_partners),
                [list(t) for t in group.torsions],
                removed,
                "; ".join(f"{k} {list(t)}" for k in KINDS for t in sorted(group.removed[k])) or "nothing",
            )

    def summary(self) -> list[dict[str, object]]:
        return [group.summary() for group in self.groups]
