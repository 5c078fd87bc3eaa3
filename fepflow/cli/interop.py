"""``fepflow import-openfe``: a network planned by openfe (gufe's JSON) as a fepflow network document,
with a report of what was carried over and what was not. ``fepflow submit`` takes openfe's file
directly too (the same import, the same report)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fepflow.cli.console import MessageFormatOption, console, err, message_format, print_json
from fepflow.interop.gufe_json import is_gufe
from fepflow.interop.openfe_import import import_network
from fepflow.models.base import ModelError
from fepflow.models.network import AlchemicalNetwork
from fepflow.models.serialization import to_json


def is_gufe_text(text: str) -> bool:
    """True for a JSON text in gufe's shapes (keyed chain or nested object)."""
    try:
        return is_gufe(json.loads(text))
    except json.JSONDecodeError:
        return False


def import_openfe(path: Path, text: str | None = None, *, name: str | None = None) -> AlchemicalNetwork:
    """The network of openfe's file ``path``; the import's report goes to stderr; a clear error exits."""
    try:
        network, report = import_network(text if text is not None else path.read_text(), name=name)
    except (ModelError, ValueError) as exc:
        err.print(f"[red]{path}: not imported:[/] {exc}", markup=True, highlight=False)
        raise typer.Exit(1) from None
    for line in report.lines():
        err.print(line, markup=False, highlight=False)
    return network


def import_openfe_command(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="openfe's network (gufe JSON)"),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="where to write fepflow's network (default: <name>.fepflow.json)"
    ),
    name: str | None = typer.Option(None, "--name", help="the network's name (default: openfe's)"),
    format: str | None = MessageFormatOption,
) -> None:
    """Import a network planned by openfe (e.g. `openfe plan-rbfe-network`'s alchemicalNetwork JSON):
    ligands, poses, atom mappings, protein and solvent carried over, its settings converted; what
    fepflow does not carry over is listed. Submit the result with `fepflow submit`."""
    fmt = message_format(format)
    network = import_openfe(path, name=name)
    target = output or path.with_name(f"{path.stem}.fepflow.json")
    target.write_text(to_json(network))
    if fmt == "json":
        print_json({"network": network.key, "output": str(target), "transformations": len(network.edges)})
        return
    console.print(f"wrote {target} ({len(network.edges)} transformations), network:")
    console.print(network.key, highlight=False)
