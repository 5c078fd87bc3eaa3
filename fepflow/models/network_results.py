"""A relative network's answer: ΔΔG per edge, ΔG per ligand, cycle closures, agreement with experiment.

The one definition of what the hub serves at ``GET /networks/{key}/estimates``, what Dagster's network
estimate asset stores, what ``fepflow results --by ligand|edge`` prints and what the results page
draws. All values in kcal/mol. Edge values are ``ΔΔG(A -> B) = G_B - G_A``: for relative binding the
complex leg minus the solvent leg, for relative hydration the transformation's own value; the
uncertainty quoted is, per leg, the repeats' standard deviation (a single run's MBAR error where a leg
has one repeat; never below the MBAR error), the legs (independent) added in quadrature.

Ligand values are maximum-likelihood estimates from every edge (:mod:`fepflow.analysis.network`):
centred on zero, or, when experimental values are given, shifted so that their mean over the ligands
with experiment equals the experimental mean (cinnabar's convention).
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class ExperimentalValue(BaseModel):
    """A measured free energy of one ligand (binding or hydration, as the network's protocol)."""

    ligand: str = Field(..., min_length=1)
    dg_kcal_mol: float
    uncertainty_kcal_mol: float = Field(0.0, ge=0)


class EdgeEstimate(BaseModel):
    """One edge A -> B of the network, its legs combined and its repeats gathered."""

    ligand_a: str
    ligand_b: str
    ddg_kcal_mol: float | None = Field(None, description="ΔΔG(A -> B); None until every leg has a result")
    uncertainty_kcal_mol: float | None = Field(
        None,
        description="per leg max(repeat standard deviation, MBAR error); one repeat: its MBAR error, likely "
        "understated; legs in quadrature",
    )
    stdev_kcal_mol: float | None = Field(None, description="spread of the repeats (legs combined)")
    mbar_error_kcal_mol: float | None = Field(None, description="MBAR error of the mean, legs combined")
    n_repeats: int = Field(0, description="fewest completed repeats over the edge's legs")
    legs: dict[str, str] = Field(default_factory=dict, description="leg name -> transformation key")
    experimental_ddg_kcal_mol: float | None = None
    experimental_uncertainty_kcal_mol: float | None = None
    on_unclosed_cycle: bool = Field(False, description="lies on a cycle that does not close within 2σ")


class LigandEstimate(BaseModel):
    """One ligand's maximum-likelihood ΔG."""

    ligand: str
    dg_kcal_mol: float | None = None
    uncertainty_kcal_mol: float | None = None
    experimental_dg_kcal_mol: float | None = None
    experimental_uncertainty_kcal_mol: float | None = None
    rank: int | None = Field(None, description="1 = most favourable computed ΔG")
    connected: bool = Field(True, description="False when no computed edge links it to the rest")
    awaiting_results: bool = Field(
        False, description="not connected yet, but edges whose tasks are still to finish would connect it"
    )


class CycleClosureEstimate(BaseModel):
    """One independent cycle: the signed sum of ΔΔG around it (0 for consistent results)."""

    ligands: list[str]
    closure_kcal_mol: float
    uncertainty_kcal_mol: float
    within_2_sigma: bool


class Statistic(BaseModel):
    """A statistic against experiment with its bootstrap confidence interval."""

    value: float
    low: float
    high: float
    confidence: float = 0.95


class AgreementStatistics(BaseModel):
    """Computed against experiment over ``n`` values (RMSE, MUE, R², Kendall τ)."""

    n: int
    rmse: Statistic | None = None
    mue: Statistic | None = None
    r2: Statistic | None = None
    kendall_tau: Statistic | None = None


class NetworkEstimates(BaseModel):
    """Everything a relative network's results say."""

    network: str
    protocol: str
    edges: list[EdgeEstimate] = Field(default_factory=list)
    ligands: list[LigandEstimate] = Field(default_factory=list)
    cycles: list[CycleClosureEstimate] = Field(default_factory=list)
    shifted_to_experiment: bool = False
    edge_statistics: AgreementStatistics | None = Field(None, description="ΔΔG per edge vs experiment")
    ligand_statistics: AgreementStatistics | None = Field(
        None, description="ΔG per ligand vs experiment, both centred"
    )
    warnings: list[str] = Field(default_factory=list)
    smoke: bool = Field(False, description="computed with the smoke preset: the numbers mean nothing")
