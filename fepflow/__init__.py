"""fepflow: alchemical free energy campaigns, from network to MBAR estimate."""

__version__ = "0.1.0"
