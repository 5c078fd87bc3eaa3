"""Downstream of the estimates: per network, its tasks by state and its transformations' estimates."""

from dagster import AssetExecutionContext, MaterializeResult, asset

from fepflow.store.rollups import update_network_summaries
from orchestrator.assets.estimates import ROLLUP, markdown_table, transformation_estimates
from orchestrator.resources import IndexResource


@asset(
    deps=[transformation_estimates],
    **ROLLUP,
    description="Per network: tasks by state, fraction complete and its transformations' estimates.",
)
def network_summaries(context: AssetExecutionContext, index: IndexResource) -> MaterializeResult:
    with index.session() as idx:
        docs = update_network_summaries(idx)
    rows = [
        f"| {d['network'][:40]} | {d['n_tasks']} | {d['fraction_complete']:.0%} | {d['n_estimates']} |"
        for d in docs
    ]
    return MaterializeResult(
        metadata={
            "networks": len(docs),
            "summary": markdown_table(["network", "tasks", "done", "estimates"], rows),
        }
    )
