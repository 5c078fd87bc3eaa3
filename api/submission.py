"""Turning a submission body into a network, with count limits and errors that name the input.

A network document is taken as it is; a planner body goes through the one planner that ``fepflow
plan`` uses (:func:`fepflow.planning.campaign.plan_campaign`). Experimental values, with either, must
name the network's ligands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.errors import TooLarge
from api.scoping import visible_networks
from fepflow.auth.scopes import Scope, ScopeError
from fepflow.auth.tokens import TokenClaims
from fepflow.hub.schemas import LigandIn, NetworkSubmission
from fepflow.models.base import KeyedModel, ModelError
from fepflow.models.network import AlchemicalNetwork
from fepflow.models.network_results import ExperimentalValue
from fepflow.models.plans import PlanReport
from fepflow.models.serialization import from_dict
from fepflow.planning import LigandInput, PlanningError
from fepflow.planning.campaign import (
    CampaignRequest,
    match_experimental,
    network_ligand_names,
    plan_campaign,
)
from fepflow.planning.system_size import estimate_atoms
from fepflow.settings import ApiSettings
from fepflow.store.index import Index, SubmitReport
from fepflow.store.models import COLLECTION_OF


class FieldError(ModelError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Submission:
    """What a submission body becomes: the network, its experimental values, and (planner bodies)
    what the planner decided."""

    network: AlchemicalNetwork
    experimental: list[ExperimentalValue]
    plan: PlanReport | None = None


def concrete_scope(text: str) -> str:
    try:
        return str(Scope.parse(text, allow_wildcards=False))
    except ScopeError as exc:
        raise FieldError("scope", str(exc)) from None


def plan_submission(body: NetworkSubmission, limits: ApiSettings) -> Submission:
    """The network of ``body`` (a document, or planned), checked against the hub's count limits."""
    if body.network is not None:
        network = _from_document(body.network, limits)
        check_sizes(network, limits)
        try:
            experimental = match_experimental(body.experimental or [], network_ligand_names(network))
        except PlanningError as exc:
            raise FieldError("experimental", str(exc)) from None
        return Submission(network=network, experimental=experimental)
    _check_counts(body, limits)
    try:
        planned = plan_campaign(_request(body))
    except PlanningError as exc:
        _name_field(exc, body)
        raise
    if len(planned.network.edges) > limits.max_edges:
        raise TooLarge(
            f"{len(planned.network.edges)} transformations; the hub accepts {limits.max_edges} per submission"
        )
    check_sizes(planned.network, limits)
    return Submission(network=planned.network, experimental=planned.experimental, plan=planned.report)


def check_sizes(network: AlchemicalNetwork, limits: ApiSettings) -> None:
    """TooLarge (413) for a transformation that asks for more sampling per state, or a system that
    would have more atoms once built, than the hub accepts; nothing is built to find out."""
    estimated: dict[tuple[str, str], int] = {}
    for edge in network.edges:
        sim = edge.settings.get("simulation") or {}
        ns = (
            float(sim.get("production_iterations", 0))
            * float(sim.get("steps_per_iteration", 0))
            * float(sim.get("timestep_fs", 0))
            * 1e-6
        )
        if ns > limits.max_ns_per_state:
            raise TooLarge(
                f"transformation {edge.name or edge.key} asks for {ns:,.0f} ns per state "
                "(production_iterations x steps_per_iteration x timestep_fs); the hub accepts "
                f"{limits.max_ns_per_state:,.0f} (FEPFLOW_API_MAX_NS_PER_STATE)"
            )
        system = edge.settings.get("system") or {}
        for state in (edge.state_a, edge.state_b):
            memo = (state.key, repr(sorted(system.items())))
            if memo not in estimated:
                estimated[memo] = estimate_atoms(state, edge.settings)
            if estimated[memo] > limits.max_atoms:
                raise TooLarge(
                    f"system {state.name!r} would have about {estimated[memo]:,} atoms once built "
                    f"(solvent_padding_nm {system.get('solvent_padding_nm')}, "
                    f"{system.get('solvent_model')}); the hub accepts {limits.max_atoms:,} "
                    "(FEPFLOW_API_MAX_ATOMS)"
                )


def _check_counts(body: NetworkSubmission, limits: ApiSettings) -> None:
    n = len(body.ligands) if body.ligands is not None else (body.sdf or "").count("$$$$")
    what = "ligands" if body.ligands is not None else "SDF records"
    if n > limits.max_molecules:
        raise TooLarge(f"{n} {what}; the hub accepts {limits.max_molecules} per submission")
    for i, ligand in enumerate(body.ligands or []):
        _check_smiles(ligand if isinstance(ligand, str) else ligand.smiles, f"ligand {i}", limits)


def _check_smiles(smiles: Any, what: str, limits: ApiSettings) -> None:
    """TooLarge for a SMILES longer than the hub parses (checked before RDKit sees it)."""
    if isinstance(smiles, str) and len(smiles) > limits.max_smiles_chars:
        raise TooLarge(
            f"{what}: a SMILES of {len(smiles):,} characters; the hub accepts "
            f"{limits.max_smiles_chars:,} (FEPFLOW_API_MAX_SMILES_CHARS)"
        )


def _request(body: NetworkSubmission) -> CampaignRequest:
    smiles = None
    if body.ligands is not None:
        smiles = [
            LigandInput(smiles=i, name=None)
            if isinstance(i, str)
            else LigandInput(smiles=i.smiles, name=i.name)
            for i in body.ligands
            if isinstance(i, str | LigandIn)
        ]
    return CampaignRequest(
        protocol=body.protocol,
        sdf=body.sdf,
        smiles=smiles,
        protein_pdb=body.protein_pdb,
        protein_name=body.protein_name,
        shape=body.shape,
        reference=body.reference,
        edges=[tuple(e) for e in body.edges] if body.edges is not None else None,  # type: ignore[misc]
        experimental=body.experimental,
        preset=body.preset,
        settings=body.settings,
        repeats=body.repeats,
        ph=body.ph,
        build_loops=body.build_loops,
        name=body.name,
    )


def _name_field(exc: PlanningError, body: NetworkSubmission) -> None:
    """Name the body's field the error is about: the ligands are ``sdf`` or ``ligands`` as given."""
    field = getattr(exc, "field", None)
    if field in ("ligands", "sdf", None) and exc.index is None:
        exc.field = "sdf" if body.sdf is not None else "ligands"
    elif field == "settings" and body.preset:
        exc.field = "preset"


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
        for key, obj in objects.items():
            if isinstance(obj, dict) and obj.get("type") == "SmallMoleculeComponent":
                _check_smiles((obj.get("data") or {}).get("smiles"), f"object {key}", limits)
    try:
        model = from_dict(doc)
    except ModelError as exc:
        raise FieldError("network", str(exc)) from None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise FieldError("network", f"malformed network document: {exc}") from None
    if not isinstance(model, AlchemicalNetwork):
        raise FieldError("network", f"the document's root is a {model.type_name}, not an AlchemicalNetwork")
    return model


def created_for_caller(
    index: Index, claims: TokenClaims, network: AlchemicalNetwork, report: SubmitReport, network_seen: bool
) -> dict[str, int]:
    """The submission's documents new *to the caller*, per collection: those no network in the
    caller's scopes held before (``network_seen``: whether the network itself was visible before).

    What the store reports (documents new to the whole hub) would tell whether another scope had
    submitted the same chemistry; this counts as new what the caller could not see before. A
    component or system counts as seen when a transformation it belongs to was (one seen only
    through another network's different transformation is counted as new)."""
    hidden = set() if network_seen else {network.key}

    def seen(networks_of: dict[str, list[str]]) -> set[str]:
        nets = {n for ns in networks_of.values() for n in ns} - hidden
        visible = visible_networks(index, claims, sorted(nets))
        return {k for k, ns in networks_of.items() if visible.intersection(ns)}

    tasks = index.tasks.docs(report.task_keys)
    seen_tasks = seen({k: list(d.get("networks", [])) for k, d in tasks.items()})
    edges = {e.key: e for e in network.edges}
    seen_edges = seen(index.transformations.networks_by_key(sorted(edges)))
    known = {*seen_edges, *([network.key] if network_seen else [])}
    for key in seen_edges:
        known.update(_descendants(edges[key]))
    everything: dict[str, set[str]] = {}
    for model in [network, *network.edges, *(d for e in network.edges for d in _models_under(e))]:
        everything.setdefault(COLLECTION_OF[type(model)], set()).add(model.key)
    created = {name: len(keys - known) for name, keys in everything.items()}
    created["tasks"] = len([k for k in dict.fromkeys(report.task_keys) if k not in seen_tasks])
    return {name: created.get(name, 0) for name in report.created}


def _models_under(model: KeyedModel) -> list[KeyedModel]:
    found: list[KeyedModel] = []
    for child in model.children():
        found.append(child)
        found.extend(_models_under(child))
    return found


def _descendants(model: KeyedModel) -> set[str]:
    return {m.key for m in _models_under(model)}
