"""The demos: ``make demo`` (absolute hydration free energies, :mod:`fepflow.demo.absolute`) and
``make demo-relative`` / ``fepflow demo --relative`` (a relative hydration cycle,
:mod:`fepflow.demo.relative`), each through the embedded stack, the hub and Dagster.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """``python -m fepflow.demo [--relative] ...``: the absolute demo, or with ``--relative`` the relative one."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "--relative" in args:
        from fepflow.demo.relative import main as relative

        return relative([a for a in args if a != "--relative"])
    from fepflow.demo.absolute import main as absolute

    return absolute(args)
