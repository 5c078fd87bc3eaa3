"""Turning a submission body into a network, with count limits and errors that name the molecule."""

from __future__ import annotations

from typing import Any

from api.errors import TooLarge
from fepflow.auth.scopes import Scope, ScopeError
from fepflow.hub.schemas import LigandIn, NetworkSubmission
from fepflow.models.base import ModelError
from fepflow.models.network import AlchemicalNetwork
from fepflow.models.serialization import from_dict
from fepflow.planning import (
    LigandInput,
    absolute_network,
    ligands_from_sdf,
    ligands_from_smiles,
    protocol_settings,
)
from fepflow.settings import ApiSettings


class FieldError(ModelError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def concrete_scope(text: str) -> str:
    try:
        return str(Scope.parse(text, allow_wildcards=False))
    except ScopeError as exc:
        raise FieldError("scope", str(exc)) from None


def build_network(body: NetworkSubmission, limits: ApiSettings) -> AlchemicalNetwork:
    if body.network is not None:
        return _from_document(body.network, limits)
    if body.ligands is not None:
        if len(body.ligands) > limits.max_molecules:
            raise TooLarge(
                f"{len(body.ligands)} ligands; the hub accepts {limits.max_molecules} per submission"
            )
        items = [
            LigandInput(smiles=i, name=None)
            if isinstance(i, str)
            else LigandInput(smiles=i.smiles, name=i.name)
            for i in body.ligands
            if isinstance(i, str | LigandIn)
        ]
        ligands = ligands_from_smiles(items)
    else:
        text = body.sdf or ""
        n = text.count("$$$$")
        if n > limits.max_molecules:
            raise TooLarge(f"{n} SDF records; the hub accepts {limits.max_molecules} per submission")
        try:
            ligands = ligands_from_sdf(text)
        except ModelError as exc:
            exc.field = "sdf"  # type: ignore[attr-defined]
            raise
    if len(ligands) > limits.max_edges:
        raise TooLarge(f"{len(ligands)} transformations; the hub accepts {limits.max_edges} per submission")
    try:
        settings = protocol_settings(body.protocol, body.preset, body.settings)
    except ModelError as exc:
        raise FieldError("preset" if body.preset else "protocol", str(exc)) from None
    name = body.name or f"{body.protocol} of {len(ligands)} molecules"
    try:
        return absolute_network(ligands, name=name, protocol=body.protocol, settings=settings)
    except ModelError as exc:
        raise FieldError("protocol", str(exc)) from None


def _from_document(doc: dict[str, Any], limits: ApiSettings) -> AlchemicalNetwork:
    objects = doc.get("objects")
    if isinstance(objects, dict):
        types = [o.get("type") for o in objects.values() if isinstance(o, dict)]
        n_mol = types.count("SmallMoleculeComponent")
        n_edges = types.count("Transformation")
        if n_mol > limits.max_molecules:
            raise TooLarge(f"{n_mol} molecules; the hub accepts {limits.max_molecules} per submission")
        if n_edges > limits.max_edges:
            raise TooLarge(f"{n_edges} transformations; the hub accepts {limits.max_edges} per submission")
    try:
        model = from_dict(doc)
    except ModelError as exc:
        raise FieldError("network", str(exc)) from None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise FieldError("network", f"malformed network document: {exc}") from None
    if not isinstance(model, AlchemicalNetwork):
        raise FieldError("network", f"the document's root is a {model.type_name}, not an AlchemicalNetwork")
    return model
