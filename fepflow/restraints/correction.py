"""The standard-state correction of a Boresch restraint: the free energy of releasing it.

Sign convention (the one place fepflow states it; :mod:`fepflow.protocols.absolute.binding` uses it):

    ΔG_restraint = G(ligand decoupled, free, at the standard volume V° = 1/(N_A · 1 mol/L))
                 - G(ligand decoupled, held by the restraint)
                 = -kT ln[ 8π² V° / Z_r ],   Z_r = ∫ exp(-U_r/kT) r² sinθa sinθb dr dθa dφa dθb dφb dφc

It is *negative* (letting go of the ligand gains translational and rotational entropy); 8π² V° is the
rigid-body configurational integral of the free ligand (orientations times volume). For harmonic
restraints narrow enough that sin θ and r² barely change over their width (Boresch et al. 2003,
J Phys Chem B 107, 9535, eq. 32):

    Z_r ≈ r0² sinθa0 sinθb0 (2π kT)³ / sqrt(K_r K_θa K_θb K_φa K_φb K_φc)

so ΔG_restraint = -kT ln[ 8π² V° sqrt(Π K) / (r0² sinθa0 sinθb0 (2π kT)³) ]. The numerical form
integrates Z_r over the six coordinates (it factorises into one-dimensional integrals), exact for
any force constants.
"""

from __future__ import annotations

import math

import numpy as np

from fepflow.restraints.geometry import BoreschGeometry

AVOGADRO = 6.02214076e23
STANDARD_VOLUME_NM3 = 1.0e24 / AVOGADRO
"""V° = 1 L/mol per molecule = 1.66054 nm³."""
GAS_CONSTANT_KJ_MOL_K = 8.314462618e-3
KJ_PER_KCAL = 4.184


def kT_kj_mol(temperature_K: float) -> float:
    return GAS_CONSTANT_KJ_MOL_K * temperature_K


def restraint_release_free_energy(
    geometry: BoreschGeometry, temperature_K: float, standard_volume_nm3: float = STANDARD_VOLUME_NM3
) -> float:
    """ΔG_restraint (kcal/mol), Boresch's analytic formula (see the module for the sign)."""
    kT = kT_kj_mol(temperature_K)
    r0, theta_a, theta_b = geometry.values[:3]
    sqrt_k = math.sqrt(math.prod(geometry.force_constants))
    ratio = (
        8.0
        * math.pi**2
        * standard_volume_nm3
        * sqrt_k
        / (r0**2 * math.sin(theta_a) * math.sin(theta_b) * (2.0 * math.pi * kT) ** 3)
    )
    return -kT * math.log(ratio) / KJ_PER_KCAL


def restrained_integral(geometry: BoreschGeometry, temperature_K: float) -> float:
    """Z_r (nm³ rad³) by quadrature over each of the six coordinates (the integrand factorises)."""
    from scipy import integrate

    kT = kT_kj_mol(temperature_K)
    r0, theta_a0, theta_b0 = geometry.values[:3]
    k_r, k_ta, k_tb, *k_phis = geometry.force_constants
    width = 12.0 * math.sqrt(kT / k_r)
    z_r, _ = integrate.quad(
        lambda r: r * r * math.exp(-0.5 * k_r * (r - r0) ** 2 / kT),
        max(0.0, r0 - width),
        r0 + width,
        points=[r0],
    )
    z = z_r
    for theta0, k in ((theta_a0, k_ta), (theta_b0, k_tb)):
        z_t, _ = integrate.quad(
            lambda t, t0=theta0, kk=k: math.sin(t) * math.exp(-0.5 * kk * (t - t0) ** 2 / kT),
            0.0,
            math.pi,
            points=[theta0],
        )
        z *= z_t
    for k in k_phis:  # a wrapped harmonic dihedral: the integral does not depend on phi0
        z_p, _ = integrate.quad(lambda d, kk=k: math.exp(-0.5 * kk * d * d / kT), -math.pi, math.pi)
        z *= z_p
    return float(z)


def numerical_release_free_energy(
    geometry: BoreschGeometry, temperature_K: float, standard_volume_nm3: float = STANDARD_VOLUME_NM3
) -> float:
    """ΔG_restraint (kcal/mol) from Z_r integrated numerically (no narrow-restraint approximation)."""
    kT = kT_kj_mol(temperature_K)
    z = restrained_integral(geometry, temperature_K)
    return float(-kT * np.log(8.0 * math.pi**2 * standard_volume_nm3 / z) / KJ_PER_KCAL)
