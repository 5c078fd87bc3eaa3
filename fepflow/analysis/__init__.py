"""Analysis of multistate runs: MBAR estimates, convergence and plots."""
