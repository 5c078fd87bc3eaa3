"""Scopes ``org-campaign-project``; a granted scope may end in wildcards (``org-*-*``, ``org-camp-*``).

A wildcard stands for one whole part and may only follow concrete parts, so ``*-camp-proj`` and
``org-*-proj`` are refused. Objects are always stored under concrete scopes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_PART = re.compile(r"[a-z0-9_]+")
WILDCARD = "*"


class ScopeError(ValueError):
    """A string that is not a valid scope."""


@dataclass(frozen=True)
class Scope:
    org: str
    campaign: str
    project: str

    @classmethod
    def parse(cls, text: str, *, allow_wildcards: bool = True) -> Scope:
        parts = text.split("-") if isinstance(text, str) else []
        if len(parts) != 3:
            raise ScopeError(f"scope {text!r} must have three parts, org-campaign-project")
        seen_wildcard = False
        for name, part in zip(("org", "campaign", "project"), parts, strict=True):
            if part == WILDCARD:
                if not allow_wildcards:
                    raise ScopeError(f"scope {text!r}: a stored object needs a concrete {name}, not '*'")
                seen_wildcard = True
            elif seen_wildcard:
                raise ScopeError(f"scope {text!r}: wildcards may only trail (e.g. org-*-*)")
            elif not _PART.fullmatch(part):
                raise ScopeError(f"scope {text!r}: {name} {part!r} must be lowercase letters, digits or _")
        return cls(*parts)

    @property
    def parts(self) -> tuple[str, str, str]:
        return (self.org, self.campaign, self.project)

    @property
    def is_concrete(self) -> bool:
        return WILDCARD not in self.parts

    def __str__(self) -> str:
        return "-".join(self.parts)

    def allows(self, target: Scope | str) -> bool:
        """True when this (granted) scope covers the concrete scope ``target``."""
        other = target if isinstance(target, Scope) else _try_parse(target)
        if other is None or not other.is_concrete:
            return False
        return all(mine in (WILDCARD, theirs) for mine, theirs in zip(self.parts, other.parts, strict=True))

    def prefix(self) -> str:
        """The concrete leading parts with their dashes (``org-`` for ``org-*-*``)."""
        concrete = [p for p in self.parts if p != WILDCARD]
        if not concrete:
            return ""
        return "-".join(concrete) + ("-" if len(concrete) < 3 else "")


def _try_parse(text: str) -> Scope | None:
    try:
        return Scope.parse(text)
    except ScopeError:
        return None


def scope_allows(granted: list[str] | tuple[str, ...], target: str) -> bool:
    """True when any of the ``granted`` scopes covers ``target``."""
    parsed = [s for s in (_try_parse(g) for g in granted) if s is not None]
    return any(s.allows(target) for s in parsed)


def any_allowed(granted: list[str] | tuple[str, ...], targets: list[str]) -> bool:
    return any(scope_allows(granted, t) for t in targets)


def scopes_filter(granted: list[str] | tuple[str, ...], field: str = "scopes") -> dict[str, Any]:
    """A MongoDB filter matching documents whose ``field`` holds a scope ``granted`` covers.

    Concrete scopes become one ``$in``; wildcard scopes anchored prefix regexes (which use the index).
    A document matched by a regex is still checked with :func:`scope_allows` by callers that need
    the exact rule (the regex alone cannot tell ``org-a-b`` from ``org-a-b-c``).
    """
    exact: list[str] = []
    clauses: list[dict[str, Any]] = []
    for text in granted:
        scope = _try_parse(text)
        if scope is None:
            continue
        if scope.is_concrete:
            exact.append(str(scope))
        else:
            # parts are [a-z0-9_] and dashes, nothing a regex treats specially: a plain prefix
            clauses.append({field: {"$regex": "^" + scope.prefix()}})
    if exact:
        clauses.insert(0, {field: {"$in": sorted(set(exact))}})
    if not clauses:
        return {field: {"$in": []}}
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}
