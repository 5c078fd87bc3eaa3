"""The end states' long-range dispersion correction, applied after sampling instead of during it.

OpenMM 8.6.1 does not recompute a NonbondedForce's dispersion correction when a global parameter
that drives Lennard-Jones parameter offsets changes (measured, Reference and CPU platforms: 50 LJ
particles in a 3 nm box, one epsilon offset; after ``setParameter`` 44.683 kJ/mol, a Context made at
the new value 44.634). The hybrid's core Lennard-Jones changes through such offsets, so every lambda
state sharing a Context would carry state A's correction (ethane -> methanol in a 2.7 nm water box:
0.03 kJ/mol off at lambda 1). (A CustomNonbondedForce's long-range correction *is* recomputed.) The
hybrid therefore samples *without* any dispersion correction (NonbondedForce and softcore force) and
the end states' full correction is added to the end states afterwards:

    E_LRC(state) = C_state / V            (C from the real end state's Lennard-Jones parameters)
    ΔG += <C_B / V>_B - <C_A / V>_A       ≈ C_B / <V>_B - C_A / <V>_A

With a fixed box (or small volume fluctuations) this is exact to first order. Measured for ethane ->
methanol in TIP3P (1.0 nm padding, 23.3 nm^3): +0.048 kcal/mol on the solvent leg. Sampling without
the correction also leaves its small pressure term out of the NPT ensemble.
"""

from __future__ import annotations

import numpy as np
import openmm

from fepflow.hybrid.atoms import HybridAtoms
from fepflow.hybrid.parameters import lambda_values
from fepflow.hybrid.valence import plain


def lrc_coefficient(sigma_epsilon: list[tuple[float, float]], cutoff_nm: float) -> float:
    """OpenMM's NonbondedForce dispersion correction times the volume (kJ/mol nm^3), no switching.

    As in OpenMM's ``NonbondedForceImpl::calcDispersionCorrection``: particles grouped into classes
    of equal (sigma, epsilon); pairs of classes counted ``n_i n_j`` (``n_i (n_i + 1) / 2`` within a
    class); Lorentz-Berthelot mixing; ``8 pi N^2 (<eps sigma^12> / (9 rc^9) - <eps sigma^6> / (3 rc^3))``
    with the averages over ``N (N + 1) / 2`` interactions.
    """
    classes: dict[tuple[float, float], int] = {}
    for key in sigma_epsilon:
        classes[key] = classes.get(key, 0) + 1
    items = list(classes.items())
    sum12 = sum6 = 0.0
    for a, ((si, ei), ni) in enumerate(items):
        for (sj, ej), nj in items[a:]:
            count = ni * (ni + 1) / 2 if (si, ei) == (sj, ej) else ni * nj
            sigma, eps = 0.5 * (si + sj), np.sqrt(ei * ej)
            sum12 += count * eps * sigma**12
            sum6 += count * eps * sigma**6
    n = float(len(sigma_epsilon))
    interactions = n * (n + 1) / 2
    return float(
        8
        * n
        * n
        * np.pi
        * (sum12 / interactions / (9 * cutoff_nm**9) - sum6 / interactions / (3 * cutoff_nm**3))
    )


def end_state_parameters(
    nb: openmm.NonbondedForce, atoms: HybridAtoms, unique_lj: dict[int, tuple[float, float]], lam: float
) -> list[tuple[float, float]]:
    """(sigma, epsilon) of every hybrid particle in the real end state (``lam`` 0: A, 1: B).

    The other state's unique atoms are counted with epsilon 0, as OpenMM would count particles
    without Lennard-Jones (their share of N changes the correction by about n/N^2, negligible).
    """
    values = lambda_values(lam)
    present = atoms.unique_a if lam == 0.0 else atoms.unique_b
    offsets: dict[int, list[tuple[str, float, float]]] = {}
    for k in range(nb.getNumParticleParameterOffsets()):
        name, i, _, ds, de = nb.getParticleParameterOffset(k)
        offsets.setdefault(i, []).append((name, plain(ds), plain(de)))
    out = []
    for i in range(nb.getNumParticles()):
        _, s, e = nb.getParticleParameters(i)
        s, e = plain(s), plain(e)
        for name, ds, de in offsets.get(i, []):
            s += values.get(name, 0.0) * ds
            e += values.get(name, 0.0) * de
        if i in present:
            s, e = unique_lj[i]
        out.append((s, e))
    return out


def dispersion_coefficients(
    nb: openmm.NonbondedForce, atoms: HybridAtoms, unique_lj: dict[int, tuple[float, float]]
) -> tuple[float, float]:
    """``(C_A, C_B)`` in kJ/mol nm^3 for the hybrid's NonbondedForce ``nb`` (see the module)."""
    if nb.getUseSwitchingFunction():
        raise ValueError(
            "the end-state dispersion correction is implemented without a switching function only"
        )
    cutoff = plain(nb.getCutoffDistance())
    c_a = lrc_coefficient(end_state_parameters(nb, atoms, unique_lj, 0.0), cutoff)
    c_b = lrc_coefficient(end_state_parameters(nb, atoms, unique_lj, 1.0), cutoff)
    return c_a, c_b
