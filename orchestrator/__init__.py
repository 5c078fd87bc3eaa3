"""fepflow's Dagster code location."""
