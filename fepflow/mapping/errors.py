"""The error raised when two ligands cannot be mapped onto each other."""

from __future__ import annotations

from fepflow.models.base import ModelError


class MappingError(ModelError):
    """No acceptable atom mapping (different net charges, no common core, or an invalid mapping)."""
