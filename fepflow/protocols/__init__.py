"""Free energy protocols: settings, units of work and the gathering of repeats into an estimate."""
