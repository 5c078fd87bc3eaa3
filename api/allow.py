"""The ``Allow`` header of a 405 answer: every method the resource supports, as the OpenAPI document
lists them. Starlette names only the methods of the first route whose path matched, so a path served
by several routes (``GET`` and ``POST /networks``) or also matched by a template (``POST
/tasks/cancel`` against ``GET /tasks/{key}``) advertised the wrong ones. The document's most specific
templates win: those with the fewest parameters among the paths matching the request's."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


@lru_cache(maxsize=4096)
def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}/]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")


def allowed_methods(document: dict[str, Any], path: str) -> list[str]:
    """The methods (upper case) the OpenAPI ``document`` lists for ``path``; [] when none matches."""
    matched = [(t, item) for t, item in document.get("paths", {}).items() if _pattern(t).match(path)]
    if not matched:
        return []
    fewest = min(t.count("{") for t, _ in matched)
    return sorted({m.upper() for t, item in matched if t.count("{") == fewest for m in item if m in METHODS})
