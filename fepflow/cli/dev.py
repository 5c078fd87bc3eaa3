"""The commands of one person's machine: the embedded stack (``dev``, ``stop``) and the ``demo``."""

from __future__ import annotations

from pathlib import Path

import typer


def dev(
    home: Path | None = typer.Option(None, help="state folder (default $FEPFLOW_HOME or .fepflow)"),
    no_dagster: bool = typer.Option(False, help="start only MongoDB, the object store and the hub"),
) -> None:
    """Start the embedded stack in the foreground; Ctrl-C stops it and keeps the data."""
    from fepflow.devstack.__main__ import main

    argv = ["up"] + (["--home", str(home)] if home else []) + (["--no-dagster"] if no_dagster else [])
    raise typer.Exit(main(argv))


def stop(home: Path | None = typer.Option(None, help="state folder of the stack to stop")) -> None:
    """Stop an embedded stack that was left running."""
    from fepflow.devstack.__main__ import main

    raise typer.Exit(main(["stop"] + (["--home", str(home)] if home else [])))


def demo(
    molecules: list[str] = typer.Option(
        None, "--molecule", "-m", help="FreeSolv names (default: 4 small molecules; --relative: a 3-cycle)"
    ),
    preset: str = typer.Option("fast", help="protocol preset; 'production' is for GPUs"),
    relative: bool = typer.Option(
        False,
        "--relative",
        help="relative hydration free energies around a cycle (what `make demo-relative` runs)",
    ),
) -> None:
    """Hydration free energies of FreeSolv molecules on the embedded stack (what `make demo` runs)."""
    from fepflow.demo import main

    argv = (["--relative"] if relative else []) + ["--preset", preset]
    raise typer.Exit(main(argv + (["--molecules", *molecules] if molecules else [])))


COMMANDS = (dev, stop, demo)
"""Registered on the ``fepflow`` command in this order."""
