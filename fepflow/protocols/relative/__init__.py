"""Relative free energies through a hybrid topology: hydration and binding on one RelativeProtocol."""
