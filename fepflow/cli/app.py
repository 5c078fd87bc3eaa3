"""The ``fepflow`` command: every subcommand registered on one Typer app (the console script)."""

from __future__ import annotations

import typer

import fepflow
from fepflow.cli import dev, hub, interop, plan
from fepflow.cli.admin import admin_app
from fepflow.cli.console import console

app = typer.Typer(help="fepflow: alchemical free energy campaigns.", no_args_is_help=True)


@app.command()
def version() -> None:
    """Print the fepflow version."""
    console.print(f"fepflow {fepflow.__version__}")


for command in (*dev.COMMANDS, plan.plan, *hub.COMMANDS):
    app.command()(command)
app.command("import-openfe")(interop.import_openfe_command)
app.add_typer(hub.tasks_app, name="tasks")
app.add_typer(admin_app, name="admin")
