"""The demos, each through the embedded stack, the hub and Dagster: ``make demo`` (absolute hydration
free energies, :mod:`fepflow.demo.absolute`)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """``python -m fepflow.demo ...``: the absolute demo."""
    from fepflow.demo.absolute import main as absolute

    return absolute(list(sys.argv[1:] if argv is None else argv))
