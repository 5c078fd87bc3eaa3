"""Names and short keys instead of whole ones: a network by its name or a unique prefix of its key,
a task or transformation by a unique prefix of its key (like git's abbreviated hashes).

Every lookup is scoped: only what the caller's granted scopes see is a candidate, so neither a
match nor an ambiguity ever reveals a key of another scope. A prefix needs at least
:data:`MIN_PREFIX` hex digits; it may be given with its type (``AlchemicalNetwork-3f9a1c``) or
without (``3f9a1c``). A whole key is returned as it is (the caller checks it as before).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from pymongo.collection import Collection

from fepflow.auth.scopes import scope_allows, scopes_filter
from fepflow.store.models import NotFound

MIN_PREFIX = 4
"""Fewest hex digits of a key prefix."""
SHORT_KEY = 12
"""Hex digits shown where a table abbreviates a key (the CLI accepts them back)."""
MAX_CANDIDATES = 10
"""Most candidates an ambiguity lists."""
MAX_SCANNED = 500
"""Most stored matches of one prefix looked at (a short prefix matching more is ambiguous anyway)."""

_FULL_KEY = re.compile(r"[A-Za-z]+-[0-9a-f]{64}")
_PREFIX = re.compile(r"(?:(?P<type>[A-Za-z]+)-)?(?P<hex>[0-9a-f]{" + str(MIN_PREFIX) + ",64})")

NETWORK_TYPES = ("AlchemicalNetwork",)
TRANSFORMATION_TYPES = ("Transformation",)
TASK_TYPES = ("Task",)


class AmbiguousKey(ValueError):
    """A name or prefix that names several objects the caller sees; ``candidates`` are (key, name)."""

    def __init__(self, kind: str, ref: str, candidates: Sequence[tuple[str, str | None]]) -> None:
        self.kind, self.ref, self.candidates = kind, ref, list(candidates)
        shown = "; ".join(f"{k} ({n})" if n else k for k, n in self.candidates[:MAX_CANDIDATES])
        more = len(self.candidates) - MAX_CANDIDATES
        tail = f"; and {more} more" if more > 0 else ""
        super().__init__(
            f"{kind} {ref!r} is ambiguous: it matches {len(self.candidates)} {kind}s: {shown}{tail}. "
            "Give more of the key (or the whole key)."
        )


def is_full_key(ref: str) -> bool:
    """True for a whole key (``Type-`` and 64 hex digits)."""
    return bool(_FULL_KEY.fullmatch(ref))


def short_key(key: str) -> str:
    """The first :data:`SHORT_KEY` hex digits of a key (what tables show); other text as it is."""
    if is_full_key(key):
        return key.split("-", 1)[1][:SHORT_KEY]
    return key


def prefix_regex(ref: str, types: Sequence[str]) -> str | None:
    """An anchored regex for the keys ``ref`` abbreviates, or None when it is no key prefix."""
    match = _PREFIX.fullmatch(ref)
    if match is None:
        return None
    given = match.group("type")
    if given is not None and given not in types:
        return None
    names = [given] if given else list(types)
    alternatives = re.escape(names[0]) if len(names) == 1 else "(?:" + "|".join(map(re.escape, names)) + ")"
    return f"^{alternatives}-{match.group('hex')}"  # anchored on a literal prefix: uses the _id index


def _one(kind: str, ref: str, found: list[tuple[str, str | None]]) -> str:
    if not found:
        raise NotFound(f"{kind} {ref} not found (no key, key prefix or name matches in your scopes)")
    if len(found) > 1:
        raise AmbiguousKey(kind, ref, sorted(found))
    return found[0][0]


def resolve_network(coll: Collection[dict[str, Any]], ref: str, granted: Sequence[str]) -> str:
    """The key of the one network in the ``granted`` scopes that ``ref`` names: its key, a unique
    prefix of its key, or its name. NotFound or :class:`AmbiguousKey` otherwise."""
    if is_full_key(ref):
        return ref
    which: list[dict[str, Any]] = [{"name": ref}]
    regex = prefix_regex(ref, NETWORK_TYPES)
    if regex is not None:
        which.append({"_id": {"$regex": regex}})
    query = {"$and": [scopes_filter(list(granted)), {"$or": which}]}
    docs = coll.find(query, {"name": 1, "scopes": 1}).limit(MAX_SCANNED)
    found = [
        (str(d["_id"]), d.get("name"))
        for d in docs
        if any(scope_allows(list(granted), s) for s in d.get("scopes", []))
    ]
    return _one("network", ref, found)


def resolve_keys(
    coll: Collection[dict[str, Any]],
    kind: str,
    refs: Sequence[str],
    types: Sequence[str],
    visible: Callable[[list[dict[str, Any]]], set[str]],
) -> list[str]:
    """The whole keys of ``refs`` (each a key or a unique key prefix) among the documents of ``coll``
    that ``visible`` keeps (it gets documents with their ``networks`` and returns the visible keys).
    Whole keys are returned as they are; a prefix that matches nothing visible is NotFound."""
    out = []
    for ref in refs:
        if is_full_key(ref):
            out.append(ref)
            continue
        regex = prefix_regex(ref, types)
        if regex is None:
            raise NotFound(f"{kind} {ref} not found (not a key, nor a prefix of {MIN_PREFIX}+ hex digits)")
        docs = list(coll.find({"_id": {"$regex": regex}}, {"networks": 1}).limit(MAX_SCANNED))
        seen = visible(docs)
        out.append(_one(kind, ref, [(str(d["_id"]), None) for d in docs if str(d["_id"]) in seen]))
    return out


def transformation_names(coll: Collection[dict[str, Any]], network_key: str) -> dict[str, str | None]:
    """The name of each transformation of network ``network_key`` (None for one without), by key."""
    return {str(d["_id"]): d.get("name") for d in coll.find({"networks": network_key}, {"name": 1})}
