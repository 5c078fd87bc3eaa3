"""Patterns users send to match stored text (tracebacks), run by RE2: time linear in the text, so
no pattern can stall the hub (Python's backtracking ``re`` takes exponential time on ``(.|.)*Z``).

RE2 has no backreferences and no lookaround; such a pattern is refused with that reason.
"""

from __future__ import annotations

from typing import Any

import re2

MAX_PATTERN_MEMORY = 8 << 20  # bytes RE2 may use for one compiled pattern


class PatternError(ValueError):
    """A pattern RE2 cannot compile; the message says why."""


def compile_pattern(pattern: str) -> Any:
    """``pattern`` compiled by RE2 (``.search(text)`` as with ``re``); :class:`PatternError` otherwise."""
    options = re2.Options()
    options.log_errors = False
    options.max_mem = MAX_PATTERN_MEMORY
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise PatternError(
            f"not a regular expression the linear-time matcher (RE2) accepts: {reason} "
            "(RE2 has no backreferences such as \\1 and no lookaround such as (?=...))"
        ) from None
