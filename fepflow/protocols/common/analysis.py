"""What the analyse units share: MBAR per leg, how far to trust a leg, and the per-leg bundle files.

Per leg the bundle gets the decorrelated reduced energies and the overlap matrix (in
``energies.npz``, float32, enough to redo MBAR), an overlap and a convergence plot; trajectories are
never part of it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fepflow.analysis.mbar import MBARResult, analyse_reduced_energies, decorrelated_indices, kT_kcal_per_mol
from fepflow.analysis.plots import plot_convergence, plot_overlap_matrix
from fepflow.engine.sampling import SamplingOutcome
from fepflow.engine.storage import read_reduced_energies
from fepflow.models.results import LegSummary

logger = logging.getLogger(__name__)

MIN_NEIGHBOUR_OVERLAP = 0.03
"""Below this, neighbouring lambda states barely overlap: MBAR's estimate and its error bar are not to
be trusted, and the result is flagged as not good (add lambda windows between those states)."""
MIN_ROUND_TRIPS = 2
"""Replica exchange: fewer round trips than this (summed over the replicas, each a walk from the
coupled state to the decoupled one and back) means configurations barely travel along the schedule,
so each state samples what it started with ..."""
MIN_NEIGHBOUR_ACCEPTANCE = 0.05
"""... and an exchange acceptance below this between two neighbouring states is the bottleneck that
stops them (add a window there)."""
FORWARD_REVERSE_SIGMAS = 2.0
"""The forward and reverse halves should agree within this many combined standard errors ..."""
FORWARD_REVERSE_FLOOR_KT = 0.2
"""... or within this much (kT), whichever is larger: MBAR errors of tiny systems can be 0.01 kT."""
MAX_EQUILIBRATION_FRACTION = 0.5
"""Equilibration detection discarding more than this share of a leg's iterations means the leg was
still relaxing (too short an equilibration, or a box still shrinking under NPT): its estimate rests on
the few samples left."""

MBAR_STATISTICS = (
    "n_states",
    "n_iterations",
    "equilibration_iterations",
    "statistical_inefficiency",
    "n_uncorrelated_samples",
    "min_neighbour_overlap",
    "round_trips",
    "min_neighbour_acceptance",
)
"""What a leg's summary takes from its MBAR analysis as it is."""


def leg_summary(result: MBARResult, outcome: SamplingOutcome, temperature_K: float) -> LegSummary:
    """One leg's ΔG with its MBAR error, sampling statistics and the forward/reverse check."""
    kt = kT_kcal_per_mol(temperature_K)
    half = len(result.forward_dg_kT) // 2
    fwd, rev = result.forward_dg_kT[half - 1], result.reverse_dg_kT[half - 1]
    combined = math.hypot(result.forward_ddg_kT[half - 1], result.reverse_ddg_kT[half - 1])
    return LegSummary(
        dg_kcal_mol=result.dg_kT * kt,
        dg_mbar_error_kcal_mol=result.ddg_kT * kt,
        **{name: getattr(result, name) for name in MBAR_STATISTICS},
        forward_half_kcal_mol=float(fwd * kt),
        reverse_half_kcal_mol=float(rev * kt),
        forward_reverse_agree=bool(
            abs(fwd - rev) <= max(FORWARD_REVERSE_SIGMAS * combined, FORWARD_REVERSE_FLOOR_KT)
        ),
        ns_per_day=outcome.ns_per_day,
        platform=outcome.platform_name,
        resumed=outcome.resumed,
        sampling_s=outcome.sampling_s,
        energy_matrix_s=outcome.energy_matrix_s,
        **outcome.stopping(),  # why sampling ended where it did (issue 16: sample until precise)
    )


def leg_warnings(legs: Mapping[str, LegSummary]) -> list[str]:
    """What a user should know before trusting the legs' estimates (overlap, mixing, halves,
    equilibration); each is logged as a warning too."""
    warnings = []
    for leg, s in legs.items():
        if s.min_neighbour_overlap is not None and s.min_neighbour_overlap < MIN_NEIGHBOUR_OVERLAP:
            warnings.append(
                f"{leg} leg: smallest neighbour overlap {s.min_neighbour_overlap:.3f} < {MIN_NEIGHBOUR_OVERLAP}: "
                "result not good, add lambda windows where neighbouring states barely overlap"
            )
        warnings += mixing_warnings(leg, s)
        if not s.forward_reverse_agree:
            warnings.append(f"{leg} leg: forward and reverse halves disagree")
        if s.equilibration_iterations > MAX_EQUILIBRATION_FRACTION * s.n_iterations:
            warnings.append(
                f"{leg} leg: equilibration detection discarded {s.equilibration_iterations} of "
                f"{s.n_iterations} iterations; equilibrate longer (simulation.equilibration_ps) or "
                "extend the task"
            )
    for warning in warnings:
        logger.warning(warning)
    return warnings


def mixing_warnings(leg: str, s: LegSummary) -> list[str]:
    """Poor replica mixing: too few round trips, or a neighbour pair that rarely exchanges (replica
    exchange only: a leg without proposed exchanges has no acceptance and gets none)."""
    if s.min_neighbour_acceptance is None:
        return []
    warnings = []
    if s.round_trips is not None and s.round_trips < MIN_ROUND_TRIPS:
        warnings.append(
            f"{leg} leg: poor replica mixing, {s.round_trips} round trips < {MIN_ROUND_TRIPS} "
            "(coupled -> decoupled -> coupled, all replicas); sample longer or add windows"
        )
    if s.min_neighbour_acceptance < MIN_NEIGHBOUR_ACCEPTANCE:
        warnings.append(
            f"{leg} leg: poor replica mixing, smallest neighbour exchange acceptance "
            f"{s.min_neighbour_acceptance:.3f} < {MIN_NEIGHBOUR_ACCEPTANCE}; add a window there"
        )
    return warnings


@dataclass
class LegAnalyses:
    """The legs' summaries and the bundle files made from them."""

    legs: dict[str, LegSummary] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)


def analyse_legs(
    outcomes: Mapping[str, SamplingOutcome], bundle: Path, *, temperature_K: float, title: str
) -> LegAnalyses:
    """MBAR on each leg's storage; ``energies.npz`` and each leg's overlap and convergence plots
    (titled ``"<title>, <leg> leg"``) written to ``bundle``."""
    bundle.mkdir(parents=True, exist_ok=True)
    out = LegAnalyses()
    arrays: dict[str, np.ndarray] = {}
    for leg, outcome in outcomes.items():
        energies = read_reduced_energies(outcome.storage_path)
        result = analyse_reduced_energies(energies)
        out.legs[leg] = leg_summary(result, outcome, temperature_K)
        keep, _, _ = decorrelated_indices(energies.u_kln)
        arrays[f"{leg}_u_kln"] = energies.u_kln[:, :, keep].astype(np.float32)
        arrays[f"{leg}_overlap"] = np.asarray(result.overlap_matrix, dtype=np.float32)
        leg_title = f"{title}, {leg} leg"
        out.files[f"{leg}_overlap.png"] = plot_overlap_matrix(
            result, bundle / f"{leg}_overlap.png", title=leg_title
        )
        out.files[f"{leg}_convergence.png"] = plot_convergence(
            result, bundle / f"{leg}_convergence.png", temperature_K=temperature_K, title=leg_title
        )
    np.savez_compressed(bundle / "energies.npz", **arrays)  # type: ignore[arg-type]
    out.files["energies.npz"] = bundle / "energies.npz"
    return out
