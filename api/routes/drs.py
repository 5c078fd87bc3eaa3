"""GA4GH Data Repository Service v1 (spec 1.5): service-info, objects, access URLs, bulk lookups.

An object's scope is its transformation's networks' scopes; an object outside the caller's scopes is
answered exactly like a missing one. Access methods: ``s3`` (a presigned https URL) when the object
store is S3, ``https`` (streamed by the hub, with a short-lived signed link) for the file store.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

import fepflow
from api.deps import (
    ApiSettingsDep,
    AuthSettingsDep,
    ClaimsDep,
    IndexDep,
    ObjectsDep,
    active_identity,
    drs_ref,
)
from api.scoping import visible_drs_objects
from fepflow.auth.tokens import TokenClaims, TokenError, decode_token, encode_token
from fepflow.hub.schemas import (
    DRS_PREFIX,
    MAX_BULK,
    AccessMethod,
    AccessURL,
    Authorizations,
    BulkAccessRequest,
    BulkAccessResponse,
    BulkAccessURL,
    BulkRequest,
    BulkResponse,
    BulkSummary,
    Checksum,
    ContentsObject,
    DrsObject,
    Unresolved,
)
from fepflow.settings import ApiSettings, AuthSettings
from fepflow.store.index import Index
from fepflow.store.models import NotFound
from fepflow.store.objects import ObjectNotFound, ObjectStore

STREAM_PURPOSE = "drs-stream"
STREAM_TTL = timedelta(minutes=15)

router = APIRouter(prefix=DRS_PREFIX, tags=["drs"])
public = APIRouter(prefix=DRS_PREFIX, tags=["drs"])  # routes that authenticate by a signed link instead


def drs_error(status: int, msg: str) -> HTTPException:
    return HTTPException(status, msg)


def _host(settings: ApiSettings) -> str:
    return urlsplit(settings.public_url).hostname or "localhost"


def _rfc3339(value: Any) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return str(value)


def _one(index: Index, claims: TokenClaims, object_id: str) -> dict[str, Any]:
    """The object ``object_id`` names (its id, or a unique prefix of it) when the caller may see it."""
    object_id = drs_ref(index, claims, object_id)
    doc = visible_drs_objects(index, claims, [object_id]).get(object_id)
    if doc is None:
        raise drs_error(404, f"no DRS object {object_id}")
    return doc


def _access_methods(objects: ObjectStore) -> list[AccessMethod]:
    if objects.url.startswith("s3://"):
        region = getattr(objects, "_region", None)
        return [AccessMethod(type="s3", access_id="s3", region=region if isinstance(region, str) else None)]
    return [AccessMethod(type="https", access_id="https")]


def to_drs(doc: dict[str, Any], settings: ApiSettings, objects: ObjectStore) -> DrsObject:
    object_id = str(doc["_id"])
    host = _host(settings)
    contents = None
    if doc.get("kind") == "bundle":
        contents = [
            ContentsObject(name=c["name"], id=c["id"], drs_uri=[f"drs://{host}/{c['id']}"])
            for c in doc.get("contents", [])
        ]
    return DrsObject(
        id=object_id,
        name=doc.get("name"),
        self_uri=f"drs://{host}/{object_id}",
        size=int(doc.get("size", 0)),
        created_time=_rfc3339(doc.get("created_time") or doc.get("created_at")),
        mime_type=doc.get("mime_type"),
        checksums=[Checksum(checksum=doc["checksum_sha256"], type="sha-256")],
        access_methods=_access_methods(objects) if doc.get("object_key") else None,
        contents=contents,
        description=f"task {doc.get('task')} of transformation {doc.get('transformation')}",
    )


@router.get("/service-info", summary="GA4GH service-info for this DRS")
def service_info(request: Request, index: IndexDep, settings: ApiSettingsDep) -> dict[str, Any]:
    return {
        "id": f"org.fepflow.{_host(settings)}",
        "name": "fepflow DRS",
        "type": {"group": "org.ga4gh", "artifact": "drs", "version": "1.5.0"},
        "description": "Result bundles and files of fepflow free energy tasks.",
        "organization": {"name": "fepflow", "url": settings.public_url},
        "version": fepflow.__version__,
        "drs": {"maxBulkRequestLength": MAX_BULK},
    }


@router.get(
    "/objects/{object_id}",
    summary="Get info about a DrsObject",
    response_model=DrsObject,
    response_model_exclude_none=True,
)
def get_object(
    object_id: str,
    claims: ClaimsDep,
    index: IndexDep,
    objects: ObjectsDep,
    settings: ApiSettingsDep,
    expand: Annotated[bool, Query()] = False,
) -> DrsObject:
    return to_drs(_one(index, claims, object_id), settings, objects)


@router.post(
    "/objects",
    summary="Get info about multiple DrsObjects",
    response_model=BulkResponse,
    response_model_exclude_none=True,
)
def bulk_objects(
    body: BulkRequest, claims: ClaimsDep, index: IndexDep, objects: ObjectsDep, settings: ApiSettingsDep
) -> BulkResponse:
    """Each id (or unique id prefix) resolved; ones missing or outside the caller's scopes are
    unresolved with 404, ambiguous prefixes with 409."""
    ids = list(dict.fromkeys(body.bulk_object_ids))
    whole, failed = _resolve(index, claims, ids)
    found = visible_drs_objects(index, claims, list(dict.fromkeys(whole.values())))
    for ref, object_id in whole.items():
        if object_id not in found:
            failed[ref] = 404
    resolved = list(dict.fromkeys(whole[i] for i in ids if i not in failed))
    return BulkResponse(
        summary=BulkSummary(requested=len(ids), resolved=len(ids) - len(failed), unresolved=len(failed)),
        unresolved_drs_objects=_unresolved(failed),
        resolved_drs_object=[to_drs(found[i], settings, objects) for i in resolved],
    )


def _resolve(index: Index, claims: TokenClaims, refs: list[str]) -> tuple[dict[str, str], dict[str, int]]:
    """The whole id of each of ``refs`` (an id or a unique id prefix), and the error code (404, or 409
    for an ambiguous prefix) of each that names no one object the caller sees."""
    whole: dict[str, str] = {}
    failed: dict[str, int] = {}
    for ref in refs:
        try:
            whole[ref] = drs_ref(index, claims, ref)
        except NotFound:
            failed[ref] = 404
        except HTTPException as exc:
            failed[ref] = exc.status_code
    return whole, failed


def _unresolved(failed: dict[str, int]) -> list[Unresolved]:
    codes: dict[int, list[str]] = {}
    for ref, code in failed.items():
        codes.setdefault(code, []).append(ref)
    return [Unresolved(error_code=c, object_ids=ids) for c, ids in codes.items()]


@router.get(
    "/objects/{object_id}/access/{access_id}",
    summary="Get a URL for fetching bytes",
    response_model=AccessURL,
    response_model_exclude_none=True,
)
def get_access_url(
    object_id: str,
    access_id: str,
    claims: ClaimsDep,
    index: IndexDep,
    objects: ObjectsDep,
    settings: ApiSettingsDep,
    auth: AuthSettingsDep,
) -> AccessURL:
    url = _access_url(_one(index, claims, object_id), access_id, claims, objects, settings, auth)
    return AccessURL(url=url)


@router.post(
    "/objects/access",
    summary="Get URLs for fetching bytes from multiple objects",
    response_model=BulkAccessResponse,
    response_model_exclude_none=True,
)
def bulk_access_urls(
    body: BulkAccessRequest,
    claims: ClaimsDep,
    index: IndexDep,
    objects: ObjectsDep,
    settings: ApiSettingsDep,
    auth: AuthSettingsDep,
) -> BulkAccessResponse:
    """One URL per (object, access id) pair; pairs that cannot be served are listed by error code."""
    pairs = [(m.bulk_object_id, a) for m in body.bulk_object_access_ids for a in m.bulk_access_ids]
    if len(pairs) > MAX_BULK:
        raise drs_error(413, f"{len(pairs)} object/access pairs; at most {MAX_BULK} per request")
    whole, failed = _resolve(index, claims, list(dict.fromkeys(o for o, _ in pairs)))
    found = visible_drs_objects(index, claims, list(dict.fromkeys(whole.values())))
    resolved: list[BulkAccessURL] = []
    unresolved: dict[str, int] = {}
    for ref, access_id in dict.fromkeys(pairs):
        try:
            if ref in failed:
                raise drs_error(failed[ref], f"DRS object {ref} not resolved")
            if whole[ref] not in found:
                raise drs_error(404, f"no DRS object {ref}")
            url = _access_url(found[whole[ref]], access_id, claims, objects, settings, auth)
        except HTTPException as exc:
            unresolved.setdefault(ref, exc.status_code)
            continue
        resolved.append(BulkAccessURL(drs_object_id=whole[ref], drs_access_id=access_id, url=url))
    requested = len(dict.fromkeys(pairs))
    return BulkAccessResponse(
        summary=BulkSummary(
            requested=requested, resolved=len(resolved), unresolved=requested - len(resolved)
        ),
        unresolved_drs_objects=_unresolved(unresolved),
        resolved_drs_object_access_urls=resolved,
    )


def _access_url(
    doc: dict[str, Any],
    access_id: str,
    claims: TokenClaims,
    objects: ObjectStore,
    settings: ApiSettings,
    auth: AuthSettings,
) -> str:
    """The URL that fetches ``doc``'s bytes by ``access_id``: presigned S3, or a signed hub stream."""
    object_id = str(doc["_id"])
    offered = {m.access_id for m in _access_methods(objects)} if doc.get("object_key") else set()
    if access_id not in offered:
        raise drs_error(404, f"object {object_id} has no access method {access_id!r}")
    if access_id == "s3":
        url = objects.presigned_url(doc["object_key"])
        if url is None:
            raise drs_error(500, "the object store could not presign a URL")
        return str(url)
    return settings.public_url.rstrip("/") + stream_path(claims.subject, object_id, auth)


def stream_path(subject: str, object_id: str, auth: AuthSettings) -> str:
    """The hub path that streams ``object_id``, with a short-lived signed token for it."""
    link, _ = encode_token(
        subject,
        [],
        secret=auth.secret_key.get_secret_value(),
        algorithm=auth.algorithm,
        ttl=STREAM_TTL,
        purpose=STREAM_PURPOSE,
        extra={"obj": object_id},
    )
    return f"{DRS_PREFIX}/stream/{object_id}?token={link}"


@public.options(
    "/objects/{object_id}",
    summary="How to authorise for an object (the same for every object here)",
    response_model=Authorizations,
    response_model_exclude_none=True,
)
def object_authorizations(object_id: str, settings: ApiSettingsDep) -> Authorizations:
    # answered without a token and for any id, so it reveals nothing about which objects exist
    base = settings.public_url.rstrip("/")
    return Authorizations(
        drs_object_id=object_id,
        supported_types=["BearerAuth"],
        bearer_auth_issuers=[f"{base}/api/v1/auth/token"],
    )


@public.get("/stream/{object_id}", summary="The bytes of an object (the https access method's URL)")
def stream(
    request: Request,
    object_id: str,
    index: IndexDep,
    objects: ObjectsDep,
    auth: AuthSettingsDep,
    token: Annotated[str, Query(max_length=4000)],
) -> StreamingResponse:
    try:
        link = decode_token(
            token, secret=auth.secret_key.get_secret_value(), algorithm=auth.algorithm, purpose=STREAM_PURPOSE
        )
    except TokenError as exc:
        raise drs_error(401, str(exc)) from None
    if link.extra.get("obj") != object_id:
        raise drs_error(401, "this link is for another object")
    identity = active_identity(request.app.state, link.subject)
    now = TokenClaims(identity.identifier, identity.scopes, expires_at=link.expires_at)
    doc = visible_drs_objects(index, now, [object_id]).get(object_id)
    if doc is None or not doc.get("object_key"):
        raise drs_error(404, f"no DRS object {object_id}")
    try:
        reader = objects.open(doc["object_key"])
    except ObjectNotFound:
        raise drs_error(404, f"the bytes of {object_id} are not in the object store") from None

    def chunks() -> Any:
        with reader:
            yield from reader.iter_chunks()

    headers = {"Content-Length": str(doc.get("size", "")), "X-Checksum-Sha256": doc["checksum_sha256"]}
    if doc.get("kind") == "bundle":
        headers.pop("Content-Length")  # a bundle's size counts its contents; the bytes are its manifest
    return StreamingResponse(
        chunks(), media_type=doc.get("mime_type") or "application/octet-stream", headers=headers
    )
