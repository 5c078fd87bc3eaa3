"""Names and short keys instead of whole ones: a network by its name or a unique prefix of its key,
a task, transformation or result by a unique prefix of its key, a DRS object by a unique prefix of
its id (like git's abbreviated hashes).

Every lookup is scoped: only what the caller's granted scopes see is a candidate, so neither a
match nor an ambiguity ever reveals a key of another scope. A prefix needs at least
:data:`MIN_PREFIX` hex digits; it may be given with its type (``AlchemicalNetwork-3f9a1c``) or
without (``3f9a1c``); a DRS id has no type. A whole key is returned as it is (the caller checks it
as before), and a prefix that is also a whole stored key of something visible names that one.
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
RESULT_TYPES = ("Result",)
DRS_TYPES: tuple[str, ...] = ()
"""DRS ids carry no type: 32 hex digits."""
DRS_ID_DIGITS = 32
"""Hex digits of a whole DRS id (``fepflow.store.drs.drs_id``)."""


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


def is_drs_prefix(ref: str) -> bool:
    """True for a prefix of a DRS id shorter than a whole one (4 to 31 hex digits): anything else is
    looked up as the id it is."""
    return len(ref) < DRS_ID_DIGITS and prefix_regex(ref, DRS_TYPES) is not None


def prefix_regex(ref: str, types: Sequence[str]) -> str | None:
    """An anchored regex for the keys ``ref`` abbreviates, or None when it is no key prefix; with no
    ``types``, for ids that are bare hex digits (DRS ids)."""
    match = _PREFIX.fullmatch(ref)
    if match is None:
        return None
    given = match.group("type")
    if not types:
        return None if given is not None else f"^{match.group('hex')}"
    if given is not None and given not in types:
        return None
    names = [given] if given else list(types)
    alternatives = re.escape(names[0]) if len(names) == 1 else "(?:" + "|".join(map(re.escape, names)) + ")"
    return f"^{alternatives}-{match.group('hex')}"  # anchored on a literal prefix: uses the _id index


def _one(kind: str, ref: str, found: list[tuple[str, str | None]], named: bool = False) -> str:
    if not found:
        what = "key, key prefix or name" if named else "key or key prefix"
        raise NotFound(f"{kind} {ref} not found (no {what} matches in your scopes)")
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
    return _one("network", ref, found, named=True)


def resolve_keys(
    coll: Collection[dict[str, Any]],
    kind: str,
    refs: Sequence[str],
    types: Sequence[str],
    visible: Callable[[list[dict[str, Any]]], set[str] | dict[str, str | None]],
    *,
    fields: Sequence[str] = ("networks",),
    whole: Callable[[str], bool] = is_full_key,
) -> list[str]:
    """The whole keys of ``refs`` (each a key or a unique key prefix) among the documents of ``coll``
    that ``visible`` keeps: it gets the matching documents (with ``fields``) and returns the keys the
    caller sees, or a mapping of them to a name that an ambiguity lists beside each.

    A ``whole`` key is returned as it is (the caller checks it); a prefix that matches nothing
    visible is NotFound, one that matches several is :class:`AmbiguousKey` (unless one of them is
    ``ref`` itself)."""
    out = []
    for ref in refs:
        if whole(ref):
            out.append(ref)
            continue
        regex = prefix_regex(ref, types)
        if regex is None:
            raise NotFound(f"{kind} {ref} not found (not a key, nor a prefix of {MIN_PREFIX}+ hex digits)")
        projection = dict.fromkeys(fields, 1) or {"_id": 1}
        docs = list(coll.find({"_id": {"$regex": regex}}, projection).limit(MAX_SCANNED))
        seen = visible(docs)
        names = seen if isinstance(seen, dict) else dict.fromkeys(seen)
        found = [(str(d["_id"]), names.get(str(d["_id"]))) for d in docs if str(d["_id"]) in names]
        exact = [f for f in found if f[0] == ref]
        out.append(_one(kind, ref, exact or found))
    return out


def transformation_names(coll: Collection[dict[str, Any]], network_key: str) -> dict[str, str | None]:
    """The name of each transformation of network ``network_key`` (None for one without), by key."""
    return {str(d["_id"]): d.get("name") for d in coll.find({"networks": network_key}, {"name": 1})}
