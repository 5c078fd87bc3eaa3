"""Downstream of the simulations: the estimate of each transformation from its completed repeats."""

from typing import Any

from dagster import AssetExecutionContext, Backoff, MaterializeResult, MetadataValue, RetryPolicy, asset

from fepflow.models.binding import CONTRIBUTIONS, LABELS
from fepflow.models.results import UNCERTAINTY_NOTE, uncertainty_text
from fepflow.store.rollups import update_estimates
from orchestrator.resources import IndexResource

STORE_RETRY = RetryPolicy(max_retries=3, delay=2, backoff=Backoff.EXPONENTIAL)
"""The roll-ups only read and write MongoDB: a brief outage is retried."""

ROLLUP: dict[str, Any] = {"group_name": "estimates", "retry_policy": STORE_RETRY, "kinds": {"mongodb"}}
"""What every roll-up asset is: in the estimates group, on MongoDB, retried through brief outages."""


def markdown_table(columns: list[str], rows: list[str]) -> MetadataValue:
    """A markdown table for Dagit (``rows`` are ``| a | b |`` lines); "none yet" when there are none."""
    if not rows:
        return MetadataValue.md("none yet")
    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns)
    return MetadataValue.md(head + "\n" + "\n".join(rows))


@asset(
    deps=["simulation"],
    **ROLLUP,
    description="ΔG per transformation: its completed repeats gathered by the protocol (mean, spread, MBAR "
    "error); for absolute binding also ΔG_complex, ΔG_solvent and the restraint's ΔG_restraint "
    "(ΔG_bind = ΔG_solvent - ΔG_complex - ΔG_restraint).",
)
def transformation_estimates(context: AssetExecutionContext, index: IndexResource) -> MaterializeResult:
    with index.session() as idx:
        docs = update_estimates(idx)
    columns, rows = estimate_rows(docs[:200])
    context.log.info(f"{len(docs)} transformation estimates updated")
    return MaterializeResult(
        metadata={
            "transformations": len(docs),
            "estimates": markdown_table(columns, rows),
            "±": UNCERTAINTY_NOTE,
        }
    )


def estimate_rows(docs: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Markdown rows of roll-up documents, with absolute binding's contributions where any has them."""
    binding = any(name in d for d in docs for name in CONTRIBUTIONS)
    extra = list(CONTRIBUTIONS) if binding else []
    columns = ["transformation", "ΔG (kcal/mol)", "±", "repeats"] + [LABELS[name] for name in extra]
    rows = []
    for d in docs:
        cells = [str(d.get("name") or d["transformation"][:24]), f"{d['dg_kcal_mol']:+.2f}"]
        cells += [
            uncertainty_text(d["uncertainty_kcal_mol"], d.get("uncertainty_basis")),
            str(d["n_repeats"]),
        ]
        cells += [f"{d[name]:+.2f}" if name in d else "" for name in extra]
        rows.append("| " + " | ".join(cells) + " |")
    return columns, rows
