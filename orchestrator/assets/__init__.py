"""The assets: ``simulation`` (one partition per task) -> ``transformation_estimates`` ->
``network_summaries`` and ``network_estimates`` (relative networks)."""

from orchestrator.assets.estimates import transformation_estimates
from orchestrator.assets.network_estimates import network_estimates
from orchestrator.assets.networks import network_summaries
from orchestrator.assets.simulation import simulation

__all__ = ["network_estimates", "network_summaries", "simulation", "transformation_estimates"]
