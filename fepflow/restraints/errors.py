"""The error of a restraint that cannot be chosen or applied."""

from __future__ import annotations

from fepflow.errors import ModelError


class RestraintError(ModelError):
    """No usable restraint (no receptor atoms in reach, collinear anchors, a ligand without a rigid core)."""
