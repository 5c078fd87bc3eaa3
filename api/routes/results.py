"""Results of one transformation (its repeats and their estimate) and single result documents."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Path as PathParam

from api.deps import ClaimsDep, IndexDep, TransformationKey, result_ref
from api.scoping import transformation_doc
from fepflow.hub.schemas import TransformationResults
from fepflow.models.results import gather_stored
from fepflow.store.results import ResultNotFound

router = APIRouter(tags=["results"])


def _plain(doc: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if k != "_id"}
    out["key"] = str(doc["_id"])
    return out


@router.get(
    "/transformations/{key}/results",
    summary="A transformation's completed repeats and their estimate",
    response_model=TransformationResults,
)
def transformation_results(
    key: TransformationKey, claims: ClaimsDep, index: IndexDep
) -> TransformationResults:
    transformation_doc(index, claims, key)
    docs = index.results.for_transformation(key)
    estimate = gather_stored(d.get("summary") or {} for d in docs)  # summaries of any version
    return TransformationResults(
        transformation=key,
        estimate=estimate.model_dump() if estimate is not None else None,
        repeats=[_plain(d) for d in docs],
    )


@router.get("/results/{key}", summary="One result document (its task completed with it)")
def get_result(
    key: Annotated[str, PathParam(description="the result: whole key or a unique prefix (4+ hex digits)")],
    claims: ClaimsDep,
    index: IndexDep,
) -> dict[str, Any]:
    key = result_ref(index, claims, key)
    try:
        doc = index.results.get(key)
    except ResultNotFound:
        raise ResultNotFound(key) from None
    try:
        transformation_doc(index, claims, doc["transformation"])
    except KeyError:
        raise ResultNotFound(key) from None
    return _plain(doc)
