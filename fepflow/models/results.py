"""What a task produces and what its repeats add up to: the one definition of a result.

Every protocol writes a :class:`TaskSummary` (to the bundle's ``summary.json`` and the index); the
hub, Dagster, the CLI and the results page read it, and :func:`gather` is the one way repeats are
combined. All free energies are in kcal/mol.

Names say what they are:

* ``dg_kcal_mol`` is the free energy change of the transformation the task ran: ΔG_hyd for an
  absolute hydration, ΔΔG(A -> B) for a relative one, one leg's ΔG(A -> B) for a relative binding leg.
  ``quantity`` spells out which.
* ``dg_mbar_error_kcal_mol`` is MBAR's uncertainty of that value (never a ΔΔG).
* An :class:`Estimate` of several repeats quotes their standard deviation (openfe's convention), with
  one repeat its MBAR error, which is likely understated; ``uncertainty_basis`` says which.

Summaries written before version 2 stored the uncertainty as ``ddg_kcal_mol`` (and the value again
under protocol-specific names such as ``dg_hyd_kcal_mol``); :meth:`TaskSummary.from_stored` reads
them, so nothing computed by an earlier version is lost.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field

SUMMARY_VERSION = 2
"""Version of :class:`TaskSummary`'s layout; documents without ``summary_version`` are version 1."""

# version 1 names of the value and its error, by protocol (the generic pair came last and is preferred)
_V1_VALUE_KEYS = ("dg_kcal_mol", "dg_hyd_kcal_mol", "ddg_hyd_kcal_mol", "dg_leg_kcal_mol")
_V1_ERROR_KEYS = ("ddg_kcal_mol", "dg_hyd_error_kcal_mol", "ddg_hyd_error_kcal_mol", "dg_leg_error_kcal_mol")


class LegSummary(BaseModel):
    """One leg's MBAR estimate and how far to trust it."""

    model_config = ConfigDict(extra="allow")

    dg_kcal_mol: float = Field(
        ..., description="the leg's ΔG: decoupling (absolute) or A -> B (relative), kcal/mol"
    )
    dg_mbar_error_kcal_mol: float = Field(..., description="MBAR uncertainty of the leg's ΔG, kcal/mol")
    n_states: int
    n_iterations: int
    equilibration_iterations: int
    statistical_inefficiency: float | None = None
    n_uncorrelated_samples: int | None = None
    min_neighbour_overlap: float | None = None
    round_trips: int | None = Field(None, description="replicas' walks first -> last -> first state")
    min_neighbour_acceptance: float | None = Field(
        None, description="smallest exchange acceptance between neighbouring states"
    )
    forward_half_kcal_mol: float | None = None
    reverse_half_kcal_mol: float | None = None
    forward_reverse_agree: bool = True
    ns_per_day: float | None = None
    platform: str | None = None
    resumed: bool = False
    sampling_s: float | None = None
    energy_matrix_s: float | None = None

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> LegSummary:
        """A leg as stored by any version (version 1 named the value ``dg_decouple_kcal_mol`` for
        absolute legs and the error ``dg_error_kcal_mol`` / ``dg_decouple_error_kcal_mol``)."""
        d = dict(data)
        for old in ("dg_decouple_kcal_mol",):
            if old in d:
                d.setdefault("dg_kcal_mol", d.pop(old))
        for old in ("dg_error_kcal_mol", "dg_decouple_error_kcal_mol"):
            if old in d:
                d.setdefault("dg_mbar_error_kcal_mol", d.pop(old))
        return cls.model_validate(d)


class TaskSummary(BaseModel):
    """The summary of one task (one repeat of one transformation)."""

    model_config = ConfigDict(extra="allow")

    summary_version: int = SUMMARY_VERSION
    protocol: str
    transformation: str = Field(..., description="key of the transformation")
    repeat: int = Field(..., ge=0)
    quantity: str = Field("ΔG", description="what dg_kcal_mol is, e.g. 'ΔG_hyd' or 'ΔΔG_hyd(A -> B)'")
    dg_kcal_mol: float = Field(..., description="the transformation's free energy change, kcal/mol")
    dg_mbar_error_kcal_mol: float = Field(..., ge=0, description="MBAR uncertainty of dg_kcal_mol, kcal/mol")
    ligand: str | None = Field(None, description="the molecule of an absolute transformation")
    ligand_key: str | None = None
    ligand_a: str | None = Field(None, description="ligand A of a relative transformation")
    ligand_b: str | None = Field(None, description="ligand B of a relative transformation")
    leg: str | None = Field(None, description="the leg a relative binding task ran (complex or solvent)")
    legs: dict[str, LegSummary] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    # how the value came about (each protocol fills what applies to it)
    exact_dg_kcal_mol: float | None = Field(None, description="the exact answer, where one is known")
    dispersion_correction_kcal_mol: float | None = Field(
        None, description="end states' long-range dispersion correction included in dg_kcal_mol"
    )
    mean_volume_nm3: float | None = Field(None, description="box volume the dispersion correction used")
    kT_kcal_mol: float | None = None
    solvent_model: str | None = None
    sampling_ns_per_state: float | None = None
    ns_per_day: dict[str, float | None] = Field(default_factory=dict, description="per leg")
    setup: dict[str, Any] = Field(default_factory=dict, description="what the setup unit built")
    settings: dict[str, Any] = Field(default_factory=dict, description="the protocol's settings")
    platform: str | None = None
    host: str | None = None
    versions: dict[str, str] = Field(default_factory=dict, description="the science stack's versions")
    timings: dict[str, float] = Field(default_factory=dict, description="seconds per unit and in total")

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> TaskSummary:
        """A summary as stored by any version of fepflow (index document or ``summary.json``)."""
        d = dict(data)
        if int(d.get("summary_version", 1)) < 2:
            d = _upgrade_v1(d)
        d["legs"] = {name: LegSummary.from_stored(leg) for name, leg in (d.get("legs") or {}).items()}
        return cls.model_validate(d)

    def to_stored(self) -> dict[str, Any]:
        """The document written to ``summary.json`` and the index (fields without a value left out)."""
        return self.model_dump(mode="json", exclude_none=True)


STORED_VALUE_FIELDS = ("summary_version", "dg_mbar_error_kcal_mol", *_V1_VALUE_KEYS, *_V1_ERROR_KEYS)
"""The summary fields :func:`stored_value` reads, for index queries that project a summary."""


def stored_value(summary: dict[str, Any]) -> tuple[float, float] | None:
    """``(value, MBAR error)`` of a stored summary of any version (None while it has no value); reads
    only :data:`STORED_VALUE_FIELDS`, so an index query may project just those."""
    if int(summary.get("summary_version", 1)) >= 2:
        value, error = summary.get("dg_kcal_mol"), summary.get("dg_mbar_error_kcal_mol")
    else:
        value = next((summary[k] for k in _V1_VALUE_KEYS if summary.get(k) is not None), None)
        error = next((summary[k] for k in _V1_ERROR_KEYS if summary.get(k) is not None), None)
    if value is None:
        return None
    return float(value), float(error or 0.0)


def _upgrade_v1(d: dict[str, Any]) -> dict[str, Any]:
    value, error = stored_value(d) or (None, 0.0)
    for key in (*_V1_VALUE_KEYS, *_V1_ERROR_KEYS):
        d.pop(key, None)
    d["dg_kcal_mol"] = value
    d["dg_mbar_error_kcal_mol"] = error
    d["summary_version"] = SUMMARY_VERSION
    d.setdefault("quantity", _V1_QUANTITIES.get(str(d.get("protocol")), "ΔG"))
    d.setdefault("repeat", 0)
    d.setdefault("transformation", "")
    return d


_V1_QUANTITIES = {
    "absolute-hydration": "ΔG_hyd",
    "relative-hydration": "ΔΔG_hyd(A -> B)",
    "relative-binding": "ΔG_leg(A -> B)",
}


SINGLE_RUN_NOTE = "one run: MBAR's error of that run alone, likely understated; run repeats for a spread"
"""What every place that prints a one-repeat estimate's error says beside it."""


def uncertainty_basis(n_repeats: int) -> str:
    """What the headline error of an estimate of ``n_repeats`` repeats is (see :class:`Estimate`)."""
    if n_repeats >= 2:
        return f"standard deviation of {n_repeats} repeats"
    return SINGLE_RUN_NOTE


SINGLE_RUN_MARK = "*"
"""Marks an error bar that is a single run's MBAR error."""
UNCERTAINTY_NOTE = (
    "± is the standard deviation of a molecule's repeats (openfe's convention); "
    f"{SINGLE_RUN_MARK} marks a molecule with one run, whose ± is that run's MBAR error alone and "
    "likely understated (run repeats for an honest error bar)."
)
"""What every table of estimates says beside its ± column."""


def uncertainty_text(value: float | None, basis: str | None) -> str:
    """An error bar as tables print it: two decimals, marked where it is a single run's MBAR error."""
    if value is None:
        return "–"
    return f"{value:.2f}{SINGLE_RUN_MARK if basis == SINGLE_RUN_NOTE else ''}"


class Estimate(BaseModel):
    """A transformation's estimate from its completed repeats, in kcal/mol.

    The headline error (:attr:`uncertainty_kcal_mol`) follows openfe's convention: with two or more
    repeats it is their standard deviation (the spread of independent runs, which catches sampling
    problems MBAR cannot see); with one repeat it is that run's MBAR error, which is likely
    understated, and :attr:`uncertainty_basis` says so. The MBAR error of the mean is kept beside it.
    """

    model_config = ConfigDict(frozen=True)

    dg_kcal_mol: float = Field(..., description="mean of the repeats' values")
    stdev_kcal_mol: float = Field(..., description="standard deviation of the repeats (0 for one)")
    mbar_error_kcal_mol: float = Field(..., description="MBAR uncertainty of the mean: sqrt(Σ σ_i²) / n")
    n_repeats: int = Field(..., description="completed repeats in the estimate")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def uncertainty_kcal_mol(self) -> float:
        """What to quote: the repeats' standard deviation (n >= 2), else the single run's MBAR error."""
        return self.stdev_kcal_mol if self.n_repeats >= 2 else self.mbar_error_kcal_mol

    @computed_field  # type: ignore[prop-decorator]
    @property
    def uncertainty_basis(self) -> str:
        """What :attr:`uncertainty_kcal_mol` is, in words (a warning for a single run)."""
        return uncertainty_basis(self.n_repeats)


def gather(summaries: Iterable[TaskSummary]) -> Estimate:
    """Combine the summaries of a transformation's completed repeats: the one way repeats add up."""
    return gather_values([(s.dg_kcal_mol, s.dg_mbar_error_kcal_mol) for s in summaries])


def gather_stored(summaries: Iterable[dict[str, Any]]) -> Estimate | None:
    """Combine repeats' summaries as stored (any version, or projected to :data:`STORED_VALUE_FIELDS`);
    summaries without a value are left out, and None comes back where none has one."""
    values = [v for v in map(stored_value, summaries) if v is not None]
    return gather_values(values) if values else None


def gather_values(values: list[tuple[float, float]]) -> Estimate:
    """Combine repeats given as ``(value, MBAR error)`` pairs in kcal/mol."""
    if not values:
        raise ValueError("no completed repeats to gather")
    n = len(values)
    mean = sum(v for v, _ in values) / n
    stdev = math.sqrt(sum((v - mean) ** 2 for v, _ in values) / (n - 1)) if n > 1 else 0.0
    mbar = math.sqrt(sum(e * e for _, e in values)) / n
    return Estimate(dg_kcal_mol=mean, stdev_kcal_mol=stdev, mbar_error_kcal_mol=mbar, n_repeats=n)


class EstimateRow(BaseModel):
    """One transformation of a network with its estimate (None until a repeat completes): the row
    the hub serves, the CLI prints and the CSV holds."""

    transformation: str
    name: str
    protocol: str
    ligand: str | None = None
    n_tasks: int = 0
    n_repeats: int = 0
    dg_kcal_mol: float | None = None
    uncertainty_kcal_mol: float | None = Field(
        None, description="headline error: repeat standard deviation, or one run's MBAR error"
    )
    uncertainty_basis: str | None = Field(None, description="what uncertainty_kcal_mol is, in words")
    stdev_kcal_mol: float | None = None
    mbar_error_kcal_mol: float | None = None
    complex_kcal_mol: float | None = Field(None, description="absolute binding: mean ΔG_complex over repeats")
    solvent_kcal_mol: float | None = Field(None, description="absolute binding: mean ΔG_solvent over repeats")
    restraint_correction_kcal_mol: float | None = Field(
        None, description="absolute binding: the restraint's standard-state correction ΔG_restraint (mean)"
    )

    @classmethod
    def with_estimate(cls, estimate: Estimate | None, **fields: Any) -> EstimateRow:
        """A row of ``fields`` holding ``estimate``'s numbers (none while there is no estimate)."""
        numbers = estimate.model_dump() if estimate is not None else {}
        return cls(**fields, **numbers)


class MoleculeValue(BaseModel):
    """A molecule's own free energy, where the transformation's ΔG is the molecule's (absolute)."""

    molecule: str
    dg_kcal_mol: float
    uncertainty_kcal_mol: float | None = None
    protocol: str
    uncertainty_basis: str | None = Field(None, description="what uncertainty_kcal_mol is, in words")
