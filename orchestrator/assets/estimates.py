"""Downstream of the simulations: the estimate of each transformation from its completed repeats."""

from typing import Any

from dagster import AssetExecutionContext, Backoff, MaterializeResult, MetadataValue, RetryPolicy, asset

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
    description="ΔG per transformation: its completed repeats gathered by the protocol (mean, spread, MBAR error).",
)
def transformation_estimates(context: AssetExecutionContext, index: IndexResource) -> MaterializeResult:
    with index.session() as idx:
        docs = update_estimates(idx)
    rows = [
        f"| {d.get('name') or d['transformation'][:24]} | {d['dg_kcal_mol']:+.2f} | {d['uncertainty_kcal_mol']:.2f} | {d['n_repeats']} |"
        for d in docs[:200]
    ]
    context.log.info(f"{len(docs)} transformation estimates updated")
    return MaterializeResult(
        metadata={
            "transformations": len(docs),
            "estimates": markdown_table(["transformation", "ΔG (kcal/mol)", "±", "repeats"], rows),
        }
    )
