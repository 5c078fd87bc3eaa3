"""The one error of planning: a network that cannot be planned, or a molecule that cannot be used."""

from __future__ import annotations

from fepflow.models.base import ModelError


class PlanningError(ModelError):
    """A network that cannot be planned (duplicate names, unmappable pairs, an unknown reference), or
    an input molecule that cannot be used.

    About one molecule of the input, ``index`` is its position there and ``name`` its name (or its
    SMILES); both are None when the error is about the network as a whole. ``field``, when given, names
    the input at fault as the hub's submission body calls it (``protein_pdb``, ``edges``,
    ``experimental``, ...); it is set only when given, so that a default can be taken with ``getattr``.
    """

    def __init__(
        self, message: str, *, index: int | None = None, name: str | None = None, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.index = index
        self.name = name
        if field is not None:
            self.field = field
