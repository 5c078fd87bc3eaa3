"""Hybrid topology without AmberTools: bookkeeping, schedule, positions, and end-state energies on
small hand-made force fields (every term type the GAFF systems have: bonds, angles, proper torsions,
charges, Lennard-Jones, 1-2/1-3 exclusions and scaled 1-4 pairs)."""

from __future__ import annotations

import json

import numpy as np
import openmm
import pytest
from openmm import unit
from rdkit.Chem import rdDistGeom

from fepflow.hybrid import (
    HybridAtoms,
    HybridError,
    HybridSystem,
    build_hybrid,
    default_windows,
    hybrid_positions,
    lambda_values,
    schedule,
)
from fepflow.hybrid.positions import hydrogen_groups, superpose
from fepflow.mapping import map_ligands
from fepflow.models import SmallMoleculeComponent

LJ = {"H": (0.25, 0.07), "C": (0.34, 0.36), "O": (0.30, 0.88), "Cl": (0.35, 1.1)}


def toy_system(molecule: SmallMoleculeComponent) -> tuple[openmm.System, np.ndarray]:
    """A vacuum System with made-up but complete parameters, and a 3D conformer (nm)."""
    mol = molecule.to_rdkit()
    params = rdDistGeom.ETKDGv3()
    params.randomSeed = 42
    rdDistGeom.EmbedMolecule(mol, params)
    x = mol.GetConformer().GetPositions() / 10.0
    system = openmm.System()
    for atom in mol.GetAtoms():
        system.addParticle(atom.GetMass())
    bonds = openmm.HarmonicBondForce()
    angles = openmm.HarmonicAngleForce()
    torsions = openmm.PeriodicTorsionForce()
    nb = openmm.NonbondedForce()
    nb.setNonbondedMethod(openmm.NonbondedForce.NoCutoff)
    pairs = []
    for b in mol.GetBonds():
        i, j = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
        z = b.GetBeginAtom().GetAtomicNum() + b.GetEndAtom().GetAtomicNum()
        bonds.addBond(i, j, np.linalg.norm(x[i] - x[j]) * 1.02, 2.0e5 + 1e3 * z)
        pairs.append((i, j))
    for atom in mol.GetAtoms():
        j = atom.GetIdx()
        nbrs = [n.GetIdx() for n in atom.GetNeighbors()]
        for a in range(len(nbrs)):
            for c in range(a + 1, len(nbrs)):
                i, k = nbrs[a], nbrs[c]
                u, v = x[i] - x[j], x[k] - x[j]
                theta = np.arccos(np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v))
                angles.addAngle(i, j, k, theta * 0.98, 400.0 + 10 * atom.GetAtomicNum())
    for b in mol.GetBonds():
        j, k = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
        for i in (n.GetIdx() for n in mol.GetAtomWithIdx(j).GetNeighbors() if n.GetIdx() != k):
            for m in (n.GetIdx() for n in mol.GetAtomWithIdx(k).GetNeighbors() if n.GetIdx() != j):
                torsions.addTorsion(i, j, k, m, 3, 0.0, 0.6 + 0.1 * mol.GetAtomWithIdx(m).GetAtomicNum())
                torsions.addTorsion(i, j, k, m, 1, np.pi, 0.3)
    charges = [0.1 * ((a.GetIdx() * 7) % 5 - 2) for a in mol.GetAtoms()]
    charges = [q - sum(charges) / len(charges) for q in charges]
    for atom, q in zip(mol.GetAtoms(), charges, strict=True):
        sigma, eps = LJ[atom.GetSymbol()]
        nb.addParticle(q, sigma, eps)
    nb.createExceptionsFromBonds(pairs, 0.8333, 0.5)
    for force in (bonds, angles, torsions, nb):
        system.addForce(force)
    return system, x


GB = {"H": (0.12, 0.85), "C": (0.17, 0.72), "O": (0.15, 0.85), "Cl": (0.175, 0.80)}


def with_gb(system: openmm.System, molecule: SmallMoleculeComponent) -> openmm.System:
    """``system`` plus a GBSA-OBC2 force (its NonbondedForce's charges, made-up radii and scales)."""
    nb = next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))
    gb = openmm.GBSAOBCForce()
    for i, atom in enumerate(molecule.to_rdkit().GetAtoms()):
        gb.addParticle(nb.getParticleParameters(i)[0], *GB[atom.GetSymbol()])
    system.addForce(gb)
    return system


def energy(system: openmm.System, x: np.ndarray, values: dict[str, float] | None = None) -> float:
    context = openmm.Context(
        system, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName("Reference")
    )
    context.setPositions(x * unit.nanometer)
    for name, value in (values or {}).items():
        context.setParameter(name, value)
    return float(context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole))


def canonical(term: tuple[int, ...]) -> tuple[int, ...]:
    return min(tuple(term), tuple(term)[::-1])


def valence_touching(
    system: openmm.System,
    unique: set[int],
    removed: set[tuple[int, ...]] = frozenset(),  # type: ignore[assignment]
) -> openmm.System:
    """Only the bonds, angles and torsions that involve an atom of ``unique``, less ``removed`` (atom
    tuples in either direction)."""
    out = openmm.System()
    for i in range(system.getNumParticles()):
        out.addParticle(system.getParticleMass(i))
    for force in system.getForces():
        if isinstance(force, openmm.HarmonicBondForce):
            new = openmm.HarmonicBondForce()
            for n in range(force.getNumBonds()):
                p = force.getBondParameters(n)
                if set(p[:2]) & unique and canonical(p[:2]) not in removed:
                    new.addBond(*p)
        elif isinstance(force, openmm.HarmonicAngleForce):
            new = openmm.HarmonicAngleForce()
            for n in range(force.getNumAngles()):
                p = force.getAngleParameters(n)
                if set(p[:3]) & unique and canonical(p[:3]) not in removed:
                    new.addAngle(*p)
        elif isinstance(force, openmm.PeriodicTorsionForce):
            new = openmm.PeriodicTorsionForce()
            for n in range(force.getNumTorsions()):
                p = force.getTorsionParameters(n)
                if set(p[:4]) & unique and canonical(p[:4]) not in removed:
                    new.addTorsion(*p)
        else:
            continue
        out.addForce(new)
    return out


def removed_terms(hybrid: HybridSystem, side: str, own: dict[int, int]) -> set[tuple[int, ...]]:
    """The terms the hybrid removed from state ``side``'s dummies, in that ligand's own atom numbers."""
    return {
        canonical(tuple(own[h] for h in term))
        for group in hybrid.dummy_groups
        if group.side == side
        for terms in group.removed.values()
        for term in terms
    }


@pytest.mark.parametrize(
    ("smiles_a", "smiles_b"),
    [
        ("CC", "CO"),
        ("C", "CC"),
        ("Cc1ccccc1", "Oc1ccccc1"),
        ("c1ccccc1", "Cc1ccccc1"),
        ("CCCl", "CCO"),
        ("CO", "CO"),
    ],
)
@pytest.mark.parametrize("implicit", [False, True])
def test_end_states_equal_the_real_molecules(smiles_a: str, smiles_b: str, implicit: bool) -> None:
    """In vacuum and in GBSA-OBC2 (OpenMM's GBSAOBCForce in the real molecules, the hybrid's own
    CustomGBForce): lambda 0 is A plus B's kept dummy valence, lambda 1 is B plus A's, to 1e-6 kJ/mol."""
    a, b = SmallMoleculeComponent.from_smiles(smiles_a), SmallMoleculeComponent.from_smiles(smiles_b)
    mapping = map_ligands(a, b)
    sys_a, x_a = toy_system(a)
    sys_b, x_b = toy_system(b)
    if implicit:
        sys_a, sys_b = with_gb(sys_a, a), with_gb(sys_b, b)
    hybrid = build_hybrid(sys_a, range(sys_a.getNumParticles()), sys_b, mapping.pairs)
    atoms = hybrid.atoms
    x = hybrid_positions(x_a, x_b, atoms)
    b_idx = atoms.state_b_ligand()
    unique_b = {j for j, h in enumerate(b_idx) if h in atoms.unique_b}
    unique_a = set(atoms.unique_a)
    e0 = energy(hybrid.system, x, lambda_values(0.0))
    e1 = energy(hybrid.system, x, lambda_values(1.0))
    # the dummies' removed terms are absent at the end state where they are dummies, and nothing else
    removed_b = removed_terms(hybrid, "b", {h: j for j, h in enumerate(b_idx)})
    removed_a = removed_terms(hybrid, "a", {i: i for i in range(atoms.n_a)})
    ref0 = energy(sys_a, x[: atoms.n_a]) + energy(valence_touching(sys_b, unique_b, removed_b), x[b_idx])
    ref1 = energy(sys_b, x[b_idx]) + energy(valence_touching(sys_a, unique_a, removed_a), x[: atoms.n_a])
    assert e0 == pytest.approx(ref0, abs=1e-6)
    assert e1 == pytest.approx(ref1, abs=1e-6)
    if atoms.unique_a or atoms.unique_b:
        assert e0 != pytest.approx(e1, abs=1e-3)


def test_softcore_keeps_overlapping_unique_atoms_finite() -> None:
    a, b = SmallMoleculeComponent.from_smiles("CC"), SmallMoleculeComponent.from_smiles("CO")
    sys_a, x_a = toy_system(a)
    sys_b, x_b = toy_system(b)
    hybrid = build_hybrid(sys_a, range(sys_a.getNumParticles()), sys_b, map_ligands(a, b).pairs)
    x = hybrid_positions(x_a, x_b, hybrid.atoms)
    for lam in schedule(11):
        assert np.isfinite(energy(hybrid.system, x, lambda_values(lam)))
    # put B's unique oxygen on top of A's unique carbon: they never interact, so no blow-up
    o = next(iter(sorted(hybrid.atoms.unique_b)))
    c = next(
        i for i in sorted(hybrid.atoms.unique_a) if sys_a.getParticleMass(i).value_in_unit(unit.dalton) > 2
    )
    x2 = x.copy()
    x2[o] = x2[c] + 1e-3
    assert np.isfinite(energy(hybrid.system, x2, lambda_values(0.5)))


def test_hybrid_atom_bookkeeping() -> None:
    # A: 5 ligand atoms then 3 environment particles; B: 4 atoms, 3 mapped
    atoms = HybridAtoms.from_mapping(8, [0, 1, 2, 3, 4], 4, [(0, 0), (1, 2), (3, 1)])
    assert atoms.core == {0, 1, 3}
    assert atoms.unique_a == {2, 4}
    assert atoms.unique_b == {8}
    assert atoms.hybrid_of_b == {0: 0, 2: 1, 1: 3, 3: 8}
    assert atoms.n_hybrid == 9
    assert [atoms.kind(h) for h in (0, 2, 5, 8)] == ["core", "a", "env", "b"]
    assert atoms.state_b_ligand() == [0, 3, 1, 8]
    with pytest.raises(HybridError, match="outside"):
        HybridAtoms.from_mapping(8, [0, 1], 4, [(5, 0)])
    with pytest.raises(HybridError, match="empty"):
        HybridAtoms.from_mapping(8, [0, 1], 4, [])


def test_schedule() -> None:
    assert schedule() == pytest.approx([i / 10 for i in range(11)])
    v0, v1, half = lambda_values(0.0), lambda_values(1.0), lambda_values(0.5)
    assert set(v0.values()) == {0.0} and set(v1.values()) == {1.0}
    # at the midpoint A's unique charges are off and B's unique atoms fully grown, still uncharged
    assert half["lambda_electrostatics_delete"] == 1.0 and half["lambda_sterics_insert"] == 1.0
    assert half["lambda_sterics_delete"] == 0.0 and half["lambda_electrostatics_insert"] == 0.0
    assert lambda_values(0.25)["lambda_electrostatics_delete"] == 0.5
    assert default_windows(2) == 11 and default_windows(7) == 17 and default_windows(100) == 31
    with pytest.raises(ValueError):
        lambda_values(1.5)


def test_superpose_recovers_a_rigid_motion() -> None:
    rng = np.random.default_rng(3)
    mobile = rng.normal(size=(6, 3))
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    target = mobile @ q.T + np.array([1.0, -2.0, 0.5])
    rot, shift = superpose(mobile, target)
    assert np.allclose(mobile @ rot.T + shift, target, atol=1e-10)


def test_unsupported_forces_are_refused() -> None:
    a = SmallMoleculeComponent.from_smiles("CC")
    sys_a, _ = toy_system(a)
    sys_a.addForce(openmm.CustomExternalForce("x"))
    with pytest.raises(HybridError, match="CustomExternalForce"):
        build_hybrid(sys_a, range(8), toy_system(a)[0], [(0, 0)])
    with pytest.raises(HybridError, match="implicit solvent and the other is not"):
        build_hybrid(with_gb(toy_system(a)[0], a), range(8), toy_system(a)[0], [(0, 0)])


def toy_hybrid(smiles_a: str, smiles_b: str) -> tuple[HybridSystem, openmm.System, openmm.System, np.ndarray]:
    a, b = SmallMoleculeComponent.from_smiles(smiles_a), SmallMoleculeComponent.from_smiles(smiles_b)
    sys_a, x_a = toy_system(a)
    sys_b, x_b = toy_system(b)
    hybrid = build_hybrid(sys_a, range(sys_a.getNumParticles()), sys_b, map_ligands(a, b).pairs)
    return hybrid, sys_a, sys_b, hybrid_positions(x_a, x_b, hybrid.atoms)


# (state, group size, junction's physical neighbours kept as angle partners, kept bonds / angles /
# torsion quadruples, removed bonds / angles / torsion quadruples). The toy force field has every
# angle and every proper torsion (two periodic terms each), as GAFF does.
DUMMY_COUNTS = {
    # ethane's second CH3 (dummy in methanol) on a carbon whose other neighbours are three H: all three
    # C-C-H angles (two would leave a mirror image), one H-C-C-H torsion of nine; methanol's OH: the
    # three O-C-H angles, one of three H-O-C-H torsions
    ("CC", "CO"): [("a", 4, 3, (4, 9, 1), (0, 0, 8)), ("b", 2, 3, (2, 4, 1), (0, 0, 2))],
    # methane's fourth H (dummy in ethane): its three H-C-H angles; ethane's dummy CH3 as above
    ("C", "CC"): [("a", 1, 3, (1, 3, 0), (0, 0, 0)), ("b", 4, 3, (4, 9, 1), (0, 0, 8))],
    # benzene's H at the ipso carbon and toluene's CH3: both ring angles (a dual junction), one torsion
    # into the ring (X-ipso-ortho-meta); the other ring torsions and the CH3 rotor torsions go
    ("c1ccccc1", "Cc1ccccc1"): [("a", 1, 2, (1, 2, 1), (0, 0, 3)), ("b", 4, 2, (4, 8, 1), (0, 0, 9))],
}


@pytest.mark.parametrize(("smiles_a", "smiles_b"), list(DUMMY_COUNTS))
def test_dummy_groups_keep_one_bond_few_angles_one_torsion(smiles_a: str, smiles_b: str) -> None:
    hybrid, *_ = toy_hybrid(smiles_a, smiles_b)
    found = [
        (
            g.side,
            len(g.atoms),
            len(g.angle_partners),
            tuple(len(g.kept[k]) for k in ("bond", "angle", "torsion")),
            tuple(len(g.removed[k]) for k in ("bond", "angle", "torsion")),
        )
        for g in hybrid.dummy_groups
    ]
    assert found == DUMMY_COUNTS[(smiles_a, smiles_b)]
    # what the relative setup records in each leg's metadata (JSON)
    recorded = json.loads(json.dumps([g.summary() for g in hybrid.dummy_groups]))
    assert [[len(r["removed"][k]) for k in ("bond", "angle", "torsion")] for r in recorded] == [
        list(row[4]) for row in found
    ]
    for group in hybrid.dummy_groups:
        (root,) = group.roots
        spanning_angles = [t for t in group.kept["angle"] if set(t) - set(group.atoms) - {group.junction}]
        assert sorted(spanning_angles) == sorted(
            min((root, group.junction, p), (p, group.junction, root)) for p in group.angle_partners
        )
        assert len(group.torsions) == len(group.kept["torsion"]) <= 1  # methane has no torsion
        assert {min(t, t[::-1]) for t in group.torsions} == group.kept["torsion"]
        # nothing within the group and its junction atom is removed
        inner = set(group.atoms) | {group.junction}
        assert not [t for terms in group.removed.values() for t in terms if set(t) <= inner]


def frame(hybrid: HybridSystem, side: str) -> set[int]:
    """The physical atoms the kept dummy terms of state ``side``'s groups touch."""
    out: set[int] = set()
    for group in hybrid.dummy_groups:
        if group.side == side:
            out |= {group.junction, *group.angle_partners}
            out |= {i for t in group.torsions for i in t} - set(group.atoms)
    return out


@pytest.mark.parametrize(("smiles_a", "smiles_b"), list(DUMMY_COUNTS))
def test_dummy_energy_ignores_physical_atoms_outside_the_attachment(smiles_a: str, smiles_b: str) -> None:
    """At each end state, hybrid energy minus the real molecule's is the dummies' kept valence; moving
    every physical atom but the junction and its chosen partners leaves it unchanged (to 1e-9
    kJ/mol), while the terms the rules removed would have changed (by more than 0.1 kJ/mol)."""
    hybrid, sys_a, sys_b, x = toy_hybrid(smiles_a, smiles_b)
    atoms = hybrid.atoms
    b_idx = atoms.state_b_ligand()
    rng = np.random.default_rng(7)
    for lam, side, real, real_x in ((0.0, "b", sys_a, list(range(atoms.n_a))), (1.0, "a", sys_b, b_idx)):
        dummies = atoms.unique_b if side == "b" else atoms.unique_a
        moved = [h for h in range(atoms.n_hybrid) if h not in dummies and h not in frame(hybrid, side)]
        y = x.copy()
        y[moved] += rng.normal(scale=0.03, size=(len(moved), 3))

        def dummy_energy(z: np.ndarray, lam: float = lam, real=real, real_x=real_x) -> float:  # type: ignore[no-untyped-def]
            return energy(hybrid.system, z, lambda_values(lam)) - energy(real, z[real_x])

        assert dummy_energy(y) == pytest.approx(dummy_energy(x), abs=1e-9)
        own = {h: j for j, h in enumerate(b_idx)} if side == "b" else {i: i for i in range(atoms.n_a)}
        system = sys_b if side == "b" else sys_a
        removed = removed_terms(hybrid, side, own)
        only_removed = valence_touching(system, {own[h] for h in dummies})
        kept = valence_touching(system, {own[h] for h in dummies}, removed)
        ligand = b_idx if side == "b" else list(range(atoms.n_a))

        def removed_energy(z: np.ndarray, ligand=ligand, only_removed=only_removed, kept=kept) -> float:  # type: ignore[no-untyped-def]
            return energy(only_removed, z[ligand]) - energy(kept, z[ligand])

        if any(set(t) & {own[h] for h in moved if h in own} for t in removed):
            assert abs(removed_energy(y) - removed_energy(x)) > 0.1


def _angle_deg(x: np.ndarray, i: int, j: int, k: int) -> float:
    u, v = x[i] - x[j], x[k] - x[j]
    return float(np.degrees(np.arccos(np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v))))


@pytest.mark.parametrize("swap", [False, True])
def test_unique_group_placed_on_the_side_of_the_group_it_replaces(swap: bool) -> None:
    """Ethane -> methanol: B's hydroxyl goes where A's dummy methyl is, whichever sense the two
    conformers label the mapped methyl hydrogens in (an odd relabelling can be fitted by no proper
    rotation; fitted as paired, the methyl turned upside down and the oxygen landed opposite the
    dummy carbon, a trigonal-bipyramidal carbon that sampling never undid)."""
    a, b = SmallMoleculeComponent.from_smiles("CC"), SmallMoleculeComponent.from_smiles("CO")
    sys_a, x_a = toy_system(a)
    sys_b, x_b = toy_system(b)
    mapping = map_ligands(a, b)
    a_of_b = {j: i for i, j in mapping.pairs}
    methyl_h = [j for j in hydrogen_groups(x_b, sorted(a_of_b))[0]]
    assert len(methyl_h) == 3
    if swap:  # relabel two of B's methyl hydrogens: the other sense
        x_b = x_b.copy()
        x_b[[methyl_h[0], methyl_h[1]]] = x_b[[methyl_h[1], methyl_h[0]]]
    hybrid = build_hybrid(sys_a, range(sys_a.getNumParticles()), sys_b, mapping.pairs)
    atoms = hybrid.atoms
    x = hybrid_positions(x_a, x_b, atoms)
    carbon_b = next(j for j in a_of_b if b.to_rdkit().GetAtomWithIdx(j).GetSymbol() == "C")
    oxygen = atoms.hybrid_of_b[
        next(j for j in range(atoms.n_ligand_b) if b.to_rdkit().GetAtomWithIdx(j).GetSymbol() == "O")
    ]
    junction = a_of_b[carbon_b]
    dummy_carbon = next(i for i in atoms.unique_a if a.to_rdkit().GetAtomWithIdx(i).GetSymbol() == "C")
    assert _angle_deg(x, dummy_carbon, junction, oxygen) < 15.0
    for h in (a_of_b[j] for j in methyl_h):
        assert _angle_deg(x, h, junction, oxygen) == pytest.approx(
            _angle_deg(x, h, junction, dummy_carbon), abs=15.0
        )


def test_hydrogen_groups_by_geometry() -> None:
    """Hydrogens (one neighbour within 0.1145 nm) grouped by their atom; heavy atoms never."""
    _, x = toy_system(SmallMoleculeComponent.from_smiles("CCO"))
    groups = hydrogen_groups(x, list(range(len(x))))
    assert sorted(len(g) for g in groups) == [2, 3]  # CH2 and CH3; the hydroxyl H is alone
