"""Errors shared across fepflow's packages, in a module that imports nothing of fepflow (so that any
package may raise them without an import cycle)."""


class ModelError(ValueError):
    """Input that cannot become a valid fepflow model; the message names the offending input."""
