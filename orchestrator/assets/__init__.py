"""The assets: ``simulation`` (one partition per task) -> ``transformation_estimates`` ->
``network_summaries``."""

from orchestrator.assets.estimates import transformation_estimates
from orchestrator.assets.networks import network_summaries
from orchestrator.assets.simulation import simulation

__all__ = ["network_summaries", "simulation", "transformation_estimates"]
