"""Network documents: who may see them (their scopes), their summary fields, pages of them.

A network's document is written by :class:`fepflow.store.models.ModelStore` (with its scopes and
edge count); this class answers the questions asked about stored networks without rebuilding them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.collection import Collection

from fepflow.auth.scopes import scopes_filter
from fepflow.models.network_results import ExperimentalValue
from fepflow.store.batched import find_in
from fepflow.store.pages import Page, page_query

SUMMARY = {"data": 0, "experimental": 0}
"""Every field of a network document but the model itself (and its experimental values)."""


class NetworkIndex:
    """The ``networks`` collection."""

    def __init__(self, coll: Collection[dict[str, Any]]) -> None:
        self.coll = coll

    def index_specs(self) -> dict[str, list[IndexModel]]:
        return {
            self.coll.name: [
                IndexModel([("scopes", ASCENDING), ("_id", ASCENDING)], name="scopes_id"),
                IndexModel([("name", ASCENDING)], name="name"),
            ]
        }

    def summary(self, key: str) -> dict[str, Any] | None:
        """The network's document without its model (name, scopes, n_edges, created_at), or None."""
        return self.coll.find_one({"_id": key}, SUMMARY)

    def scopes_of(self, key: str) -> list[str] | None:
        """The scopes network ``key`` was submitted to; None when there is no such network."""
        doc = self.coll.find_one({"_id": key}, {"scopes": 1})
        return None if doc is None else list(doc.get("scopes", []))

    def scopes_by_key(self, keys: Sequence[str]) -> dict[str, list[str]]:
        """The scopes of each of ``keys`` that is a stored network (others are left out)."""
        if not keys:
            return {}
        return {
            str(d["_id"]): list(d.get("scopes", [])) for d in find_in(self.coll, "_id", keys, {"scopes": 1})
        }

    def set_experimental(self, network_key: str, values: Sequence[ExperimentalValue], *, scope: str) -> None:
        """Store the measured values of the network's ligands that ``scope`` gave (replacing what that
        scope gave before). Each scope keeps its own: a network document is shared by every scope that
        submitted the same chemistry, and one scope's measurements are not another's to see or change.

        Raises KeyError when there is no such network; a resubmission of the network keeps them."""
        if not scope or "." in scope or scope.startswith("$"):
            raise ValueError(f"not a scope: {scope!r}")
        docs = [ExperimentalValue.model_validate(v).model_dump() for v in values]
        names = [d["ligand"] for d in docs]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"experimental values given twice for: {', '.join(duplicates)}")
        if (
            self.coll.update_one(
                {"_id": network_key}, {"$set": {f"experimental.{scope}": docs}}
            ).matched_count
            == 0
        ):
            raise KeyError(f"no network {network_key!r}")

    def experimental(self, network_key: str, scopes: Sequence[str] | None = None) -> list[ExperimentalValue]:
        """The measured values stored for the network's ligands by ``scopes`` (every scope when None:
        the operator's view), one per ligand, the first scope in sorted order winning a ligand that
        several gave; none when none were given."""
        doc = self.coll.find_one({"_id": network_key}, {"experimental": 1}) or {}
        by_scope = doc.get("experimental") or {}
        wanted = sorted(by_scope) if scopes is None else sorted(set(scopes) & set(by_scope))
        out: dict[str, ExperimentalValue] = {}
        for scope in wanted:
            for d in by_scope[scope]:
                value = ExperimentalValue.model_validate(d)
                out.setdefault(value.ligand, value)
        return list(out.values())

    def page(
        self,
        *,
        scopes: Sequence[str] | None = None,
        granted: Sequence[str] | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> Page:
        """Network summaries, oldest key first, ``limit`` per page: every one, those submitted to one
        of ``scopes``, or those in a scope ``granted`` covers (a token's scopes; wildcards allowed,
        the regex they become may match more than :func:`fepflow.auth.scopes.scope_allows` does)."""
        query: dict[str, Any] = {}
        if scopes is not None:
            query = {"scopes": {"$in": list(scopes)}}
        elif granted is not None:
            query = scopes_filter(list(granted))
        return page_query(self.coll, query, limit=limit, after=after, projection=SUMMARY)
