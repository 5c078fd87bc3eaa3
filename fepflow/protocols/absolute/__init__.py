"""Absolute free energies: a ligand decoupled from its environment (hydration)."""
