"""Downstream of the simulations: per-transformation estimates and per-network summaries."""

from dagster import AssetExecutionContext, Backoff, MaterializeResult, MetadataValue, RetryPolicy, asset

from fepflow.store.rollups import update_estimates, update_network_summaries
from orchestrator.resources import IndexResource

STORE_RETRY = RetryPolicy(max_retries=3, delay=2, backoff=Backoff.EXPONENTIAL)


@asset(
    deps=["simulation"],
    group_name="estimates",
    retry_policy=STORE_RETRY,
    kinds={"mongodb"},
    description="ΔG per transformation: its completed repeats gathered by the protocol (mean, spread, MBAR error).",
)
def transformation_estimates(context: AssetExecutionContext, index: IndexResource) -> MaterializeResult:
    idx = index.open()
    try:
        docs = update_estimates(idx)
    finally:
        idx.close()
    rows = "\n".join(
        f"| {d.get('name') or d['transformation'][:24]} | {d['dg_kcal_mol']:+.2f} | {d['uncertainty_kcal_mol']:.2f} | {d['n_repeats']} |"
        for d in docs[:200]
    )
    context.log.info(f"{len(docs)} transformation estimates updated")
    return MaterializeResult(
        metadata={
            "transformations": len(docs),
            "estimates": MetadataValue.md(
                "| transformation | ΔG (kcal/mol) | ± | repeats |\n|---|---|---|---|\n" + rows
                if docs
                else "none yet"
            ),
        }
    )


@asset(
    deps=[transformation_estimates],
    group_name="estimates",
    retry_policy=STORE_RETRY,
    kinds={"mongodb"},
    description="Per network: tasks by state, fraction complete and its transformations' estimates.",
)
def network_summaries(context: AssetExecutionContext, index: IndexResource) -> MaterializeResult:
    idx = index.open()
    try:
        docs = update_network_summaries(idx)
    finally:
        idx.close()
    rows = "\n".join(
        f"| {d['network'][:40]} | {d['n_tasks']} | {d['fraction_complete']:.0%} | {d['n_estimates']} |"
        for d in docs
    )
    return MaterializeResult(
        metadata={
            "networks": len(docs),
            "summary": MetadataValue.md(
                "| network | tasks | done | estimates |\n|---|---|---|---|\n" + rows if docs else "none yet"
            ),
        }
    )
