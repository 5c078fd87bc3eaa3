"""What every chemistry protocol shares: settings sections, setup, simulation, per-leg analysis, bundle."""
