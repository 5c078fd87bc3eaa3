"""Request and response bodies of the hub, defined once: the hub (``api/``) serves them and the client
(:mod:`fepflow.hub.client`) reads them, so both always agree on the wire contract (what the OpenAPI
document shows).

Request bodies forbid unknown fields (a typo is a 422, not silently ignored). Response bodies derive
from :class:`Answer`, which ignores fields it does not know, so a client reads the answers of a newer
hub that added fields. The estimate row and a molecule's value are the result model's own
(:class:`~fepflow.models.results.EstimateRow`, :class:`~fepflow.models.results.MoleculeValue`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fepflow.auth.tokens import encode_token
from fepflow.models.network_results import ExperimentalValue
from fepflow.models.plans import PlanReport, Shape
from fepflow.models.results import EstimateRow, MoleculeValue
from fepflow.settings import AuthSettings

API_PREFIX = "/api/v1"
"""Where the hub's own endpoints live."""
DRS_PREFIX = "/ga4gh/drs/v1"
"""Where the hub's GA4GH DRS endpoints live."""

TaskKey = str
MAX_KEYS = 10_000
"""Most task or transformation keys one request may name."""
MAX_BULK = 1000
"""Most DRS objects (or object/access pairs) one bulk request may name."""


class Answer(BaseModel):
    """A response body: unknown fields are ignored, so older clients read newer hubs' answers."""

    model_config = ConfigDict(extra="ignore")


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- auth ---------------------------------------------------------------------------------------


class Token(Answer):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(..., description="seconds until the token expires")
    expires_at: datetime
    identity: str
    scopes: list[str]

    @classmethod
    def issue(
        cls,
        identifier: str,
        scopes: list[str],
        auth: AuthSettings,
        ttl: timedelta,
        *,
        auth_time: datetime | None = None,
    ) -> Token:
        """A signed access token for ``identifier`` with ``scopes``, valid for ``ttl``, of the session
        that began at ``auth_time`` (now: a login)."""
        now = datetime.now(UTC)
        token, expires = encode_token(
            identifier,
            list(scopes),
            secret=auth.secret_key.get_secret_value(),
            algorithm=auth.algorithm,
            ttl=ttl,
            extra={"auth_time": int((auth_time or now).timestamp())},
            now=now,
        )
        return cls(
            access_token=token,
            expires_in=int(ttl.total_seconds()),
            expires_at=expires,
            identity=identifier,
            scopes=list(scopes),
        )


class WhoAmI(Answer):
    identity: str
    scopes: list[str]
    expires_at: datetime


# -- networks -----------------------------------------------------------------------------------


class LigandIn(_Request):
    smiles: str = Field(..., min_length=1, max_length=5000, description="SMILES of the molecule")
    name: str | None = Field(None, min_length=1, max_length=200, description="name (default: the SMILES)")


LigandName = Annotated[str, Field(min_length=1, max_length=200)]
PLANNER_FIELDS = ("protein_pdb", "protein_name", "shape", "reference", "edges", "build_loops")
"""Planner inputs that a network document (already planned) does not take."""


_NULL = {"type": "null"}
_SOURCES = ("network", "ligands", "sdf")


def _only(source: str) -> dict[str, Any]:
    """The JSON-schema branch of a submission whose ligands come from ``source`` alone (a network
    document takes none of the planner's inputs)."""
    given = {"network": {"type": "object"}, "ligands": {"type": "array"}, "sdf": {"type": "string"}}[source]
    others = {s: _NULL for s in _SOURCES if s != source}
    planner = {f: ({"const": False} if f == "build_loops" else _NULL) for f in PLANNER_FIELDS}
    return {
        "required": [source],
        "properties": {source: given, **others, **(planner if source == "network" else {})},
    }


SUBMISSION_RULES: dict[str, Any] = {
    "oneOf": [_only(s) for s in _SOURCES],
    "not": {
        "anyOf": [
            {
                "required": ["edges", "shape"],
                "properties": {"edges": {"type": "array"}, "shape": {"type": "string"}},
            },
            {
                "required": ["edges", "reference"],
                "properties": {"edges": {"type": "array"}, "reference": {"type": "string"}},
            },
        ]
    },
    "anyOf": [
        {"properties": {"reference": _NULL}},
        {"required": ["shape"], "properties": {"shape": {"const": "star"}}},
    ],
}
"""The rules :meth:`NetworkSubmission._one_source` checks, in the OpenAPI document: exactly one of
``network``, ``ligands`` or ``sdf``; no planner input with a network document; ``edges`` or a
``shape`` (and ``reference``), not both; a ``reference`` only for shape ``star``."""
CONCRETE_SCOPE = r"^[a-z0-9_]+-[a-z0-9_]+-[a-z0-9_]+$"


class AllocationRequest(_Request):
    """A network's allocation strategy (:class:`fepflow.analysis.allocation.Strategy`): Dagster's
    allocation sensor adds repeats (extensions beyond ``max_repeats``) to the transformations whose
    extra sampling lowers the per-ligand uncertainty most per second of compute."""

    target_kcal_mol: float = Field(
        ..., gt=0, le=100, description="stop when every ligand's uncertainty is at or below this"
    )
    budget_hours: float = Field(
        ..., ge=0, le=1_000_000, description="compute the strategy may add, slot-hours"
    )
    max_pending: int = Field(4, ge=1, le=1000, description="most of its tasks waiting or running at once")
    max_repeats: int = Field(
        8, ge=1, le=100, description="repeats per transformation before it extends instead"
    )

    def strategy(self) -> dict[str, Any]:
        """The strategy's fields, as :class:`fepflow.analysis.allocation.Strategy` takes them."""
        return {
            "target_kcal_mol": self.target_kcal_mol,
            "budget_s": self.budget_hours * 3600.0,
            "max_pending": self.max_pending,
            "max_repeats": self.max_repeats,
        }


class NetworkSubmission(_Request):
    """Either a network document (``network``), or a planner body: ligands (``ligands`` as SMILES or
    ``sdf``), a protocol and, for binding, the protein; for relative networks a shape or edges, all planned by the
    same planner as ``fepflow plan`` (:func:`fepflow.planning.campaign.plan_campaign`). Experimental
    values go with either, their names matching the network's ligands."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=SUBMISSION_RULES)

    scope: str = Field(
        ...,
        description="org-campaign-project the network is filed under",
        max_length=200,
        pattern=CONCRETE_SCOPE,
    )
    network: dict[str, Any] | None = Field(None, description="a fepflow/1 network document")
    name: str | None = Field(None, min_length=1, max_length=200, description="network name (planner body)")
    ligands: list[LigandIn | str] | None = Field(None, description="ligands as SMILES (planner body)")
    sdf: str | None = Field(None, description="ligands as SDF text, posed for binding (planner body)")
    protocol: str = Field(
        "absolute-hydration",
        max_length=100,
        description="absolute-hydration, absolute-binding, relative-hydration or relative-binding (planner body)",
    )
    preset: str | None = Field(None, max_length=100, description="protocol preset, e.g. 'fast'")
    settings: dict[str, Any] | None = Field(None, description="protocol settings merged over the preset")
    repeats: int | None = Field(None, ge=1, le=100, description="repeats per transformation")
    priority: int = Field(0, ge=-1_000_000, le=1_000_000)
    protein_pdb: str | None = Field(
        None,
        min_length=1,
        description="the protein as PDB text (relative-binding, absolute-binding), prepared by PDBFixer",
    )
    protein_name: str | None = Field(None, min_length=1, max_length=200, description="the protein's name")
    shape: Shape | None = Field(
        None, description="relative networks: mst (default), star (with reference) or cycles"
    )
    reference: LigandName | None = Field(None, description="the star's centre, a ligand name")
    edges: list[tuple[LigandName, LigandName]] | None = Field(
        None, min_length=1, max_length=MAX_KEYS, description="exactly these ligand pairs A -> B (no shape)"
    )
    experimental: list[ExperimentalValue] | None = Field(
        None, max_length=MAX_KEYS, description="measured ΔG per ligand (kcal/mol), names as the ligands'"
    )
    ph: float = Field(7.0, ge=0.0, le=14.0, description="pH for the protein's protonation states")
    build_loops: bool = Field(False, description="model residues missing inside a chain (needs SEQRES)")
    allocation: AllocationRequest | None = Field(
        None,
        description="opt the (relative) network in to the allocation strategy: repeats are added where "
        "they lower the per-ligand uncertainty most, until the target is met or the budget spent",
    )

    @model_validator(mode="after")
    def _one_source(self) -> NetworkSubmission:
        given = [n for n in ("network", "ligands", "sdf") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'network', 'ligands' or 'sdf'")
        if self.network is not None:
            planned = [f for f in PLANNER_FIELDS if getattr(self, f) not in (None, False)]
            if planned:
                raise ValueError(
                    f"a network document is planned already: {', '.join(planned)} are for a planner body"
                )
        if self.edges is not None and (self.shape is not None or self.reference is not None):
            raise ValueError("give 'edges' or a 'shape' (and 'reference'), not both")
        if self.reference is not None and self.shape != "star":
            raise ValueError("'reference' is the centre of shape 'star'")
        return self


class SubmitResult(Answer):
    network: str
    name: str
    scope: str
    created: bool = Field(..., description="True when the network is new in this scope (201)")
    transformations: list[str]
    tasks: list[str]
    created_documents: dict[str, int]
    plan: PlanReport | None = Field(
        None, description="what the planner decided (planner bodies): ligands, edges and scores, protein"
    )


class NetworkSummary(Answer):
    key: str
    name: str | None = None
    scopes: list[str]
    n_edges: int | None = None
    created_at: datetime | None = None


class NetworkPage(Answer):
    items: list[NetworkSummary]
    next_after: str | None


class NetworkStatus(Answer):
    network: str
    counts: dict[str, int]
    total: int
    finished_fraction: float


class NetworkResults(Answer):
    network: str
    transformations: list[EstimateRow]
    molecules: list[MoleculeValue]


class TransformationResults(Answer):
    transformation: str
    estimate: dict[str, Any] | None
    repeats: list[dict[str, Any]]


# -- tasks --------------------------------------------------------------------------------------


class TaskOut(Answer):
    key: str
    transformation: str
    repeat: int
    status: str
    priority: int = 0
    attempts: int = 0
    networks: list[str] = []
    created_at: datetime | None = None
    updated_at: datetime | None = None
    last_error: str | None = None
    traceback: str | None = None
    result: dict[str, Any] | None = None
    extend_iterations: int = 0


class TaskPage(Answer):
    items: list[TaskOut]
    next_after: str | None


class TaskKeys(_Request):
    tasks: list[TaskKey] = Field(..., min_length=1, max_length=MAX_KEYS)


class PriorityRequest(TaskKeys):
    priority: int = Field(..., ge=-1_000_000, le=1_000_000)


class ExtendRequest(TaskKeys):
    iterations: int = Field(..., ge=1, le=1_000_000, description="extra production iterations")


class RestartRequest(_Request):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {"required": ["network"], "properties": {"network": {"type": "string"}}},
                {"required": ["tasks"], "properties": {"tasks": {"type": "array", "minItems": 1}}},
            ]
        },
    )

    network: str | None = Field(None, description="restart the errored tasks of this network")
    tasks: list[TaskKey] | None = Field(None, max_length=MAX_KEYS, description="or only these tasks")
    traceback_pattern: str | None = Field(
        None,
        max_length=1000,
        description="only tasks whose traceback matches this regular expression (RE2: no backreferences "
        "or lookaround)",
        json_schema_extra={"format": "regex"},
    )

    @model_validator(mode="after")
    def _target(self) -> RestartRequest:
        if self.network is None and not self.tasks:
            raise ValueError("give 'network' or 'tasks'")
        return self


class RepeatsRequest(_Request):
    count: int = Field(..., ge=1, le=100, description="new repeats per transformation")
    transformations: list[str] | None = Field(
        None, max_length=MAX_KEYS, description="only these transformations (default: all of the network)"
    )


class TaskChanges(Answer):
    changed: list[TaskKey]
    skipped: list[dict[str, str]] = []


# -- GA4GH DRS 1.5 ------------------------------------------------------------------------------


class Checksum(Answer):
    checksum: str
    type: str


class AccessURL(Answer):
    url: str
    headers: list[str] | None = None


class AccessMethod(Answer):
    type: str
    access_id: str | None = None
    access_url: AccessURL | None = None
    region: str | None = None


class ContentsObject(Answer):
    name: str
    id: str | None = None
    drs_uri: list[str] | None = None


class DrsObject(Answer):
    id: str
    name: str | None = None
    self_uri: str
    size: int
    created_time: str
    updated_time: str | None = None
    version: str | None = None
    mime_type: str | None = None
    checksums: list[Checksum]
    access_methods: list[AccessMethod] | None = None
    contents: list[ContentsObject] | None = None
    description: str | None = None
    aliases: list[str] | None = None

    def sha256(self) -> str | None:
        """The object's sha-256 checksum, when it carries one."""
        return next((c.checksum for c in self.checksums if c.type.lower() in ("sha-256", "sha256")), None)


class BulkRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # the spec lets requests carry more

    bulk_object_ids: list[Annotated[str, Field(max_length=200)]] = Field(
        ..., min_length=1, max_length=MAX_BULK
    )
    passports: list[str] | None = None


class BulkObjectAccessIds(BaseModel):
    bulk_object_id: Annotated[str, Field(max_length=200)]
    bulk_access_ids: list[Annotated[str, Field(max_length=50)]] = Field(..., min_length=1, max_length=10)


class BulkAccessRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    bulk_object_access_ids: list[BulkObjectAccessIds] = Field(..., min_length=1, max_length=MAX_BULK)
    passports: list[str] | None = None


class BulkAccessURL(AccessURL):
    drs_object_id: str
    drs_access_id: str


class BulkSummary(Answer):
    requested: int
    resolved: int
    unresolved: int


class Unresolved(Answer):
    error_code: int
    object_ids: list[str]


class BulkResponse(Answer):
    summary: BulkSummary
    unresolved_drs_objects: list[Unresolved]
    resolved_drs_object: list[DrsObject]


class BulkAccessResponse(Answer):
    summary: BulkSummary
    unresolved_drs_objects: list[Unresolved]
    resolved_drs_object_access_urls: list[BulkAccessURL]


class Authorizations(Answer):
    drs_object_id: str | None = None
    supported_types: list[str]
    passport_auth_issuers: list[str] | None = None
    bearer_auth_issuers: list[str] | None = None
