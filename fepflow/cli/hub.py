"""The hub commands of ``fepflow``: login, submit, networks, status, results, fetch and ``tasks``."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from fepflow.cli.console import console, err
from fepflow.cli.network_results import show_network_estimates
from fepflow.cli.plan import (
    BuildLoopsOption,
    EdgesOption,
    ExperimentalOption,
    NameOption,
    PhOption,
    PresetOption,
    ProteinOption,
    ProtocolOption,
    ReferenceOption,
    RepeatsOption,
    ShapeOption,
    default_protocol,
    print_plan,
    read_campaign_files,
)
from fepflow.hub.client import Client, HubError
from fepflow.hub.schemas import NetworkStatus
from fepflow.hub.token_file import default_token_file, load_token
from fepflow.models.network import AlchemicalNetwork
from fepflow.models.network_results import NetworkEstimates
from fepflow.models.serialization import from_json
from fepflow.settings import api_settings

HubOption = typer.Option(None, "--hub", envvar="FEPFLOW_HUB_URL", help="hub URL (default: the saved login's)")
NetworkArgument = typer.Argument(..., help="network key")
KeysArgument = typer.Argument(..., help="task keys")


def hub_url(explicit: str | None) -> str:
    """The hub to talk to: ``--hub``, else the saved login's, else the configured public URL."""
    if explicit:
        return explicit.rstrip("/")
    saved = load_token(default_token_file())
    if saved:
        return saved[0]
    return api_settings().public_url.rstrip("/")


def client(hub: str | None) -> Client:
    return Client(hub_url(hub), token_file=default_token_file())


@contextmanager
def hub_client(hub: str | None) -> Iterator[Client]:
    """The client of one command; an error the hub answers is printed and exits with status 1."""
    with client(hub) as c:
        try:
            yield c
        except HubError as exc:
            err.print(f"[red]hub error {exc.status_code}:[/] {exc}")
            raise typer.Exit(1) from None


def login(
    user: str = typer.Option(..., "--user", "-u", prompt=True, help="identity"),
    password: str = typer.Option(..., prompt=True, hide_input=True, envvar="FEPFLOW_PASSWORD"),
    hub: str | None = HubOption,
) -> None:
    """Log in and keep the token (in $FEPFLOW_TOKEN_FILE or ~/.config/fepflow/token.json)."""
    with hub_client(hub) as c:
        token = c.login(user, password)
    console.print(f"logged in to {c.base_url} as {token.identity}; scopes {', '.join(token.scopes)}")
    console.print(f"token saved in {default_token_file()} (expires {token.expires_at:%Y-%m-%d %H:%M} UTC)")


def submit(
    path: Path | None = typer.Argument(
        None,
        exists=True,
        dir_okay=False,
        help="SDF, CSV of SMILES, or a network document (JSON, e.g. from fepflow plan)",
    ),
    scope: str = typer.Option(..., "--scope", "-s", help="org-campaign-project"),
    ligands: Path | None = typer.Option(
        None, "--ligands", "-l", exists=True, dir_okay=False, help="SDF or CSV of SMILES (instead of PATH)"
    ),
    protein: Path | None = ProteinOption,
    protocol: str | None = ProtocolOption,
    shape: str | None = ShapeOption,
    reference: str | None = ReferenceOption,
    edges: Path | None = EdgesOption,
    experimental: Path | None = ExperimentalOption,
    preset: str | None = PresetOption,
    repeats: int | None = RepeatsOption,
    ph: float = PhOption,
    build_loops: bool = BuildLoopsOption,
    name: str | None = NameOption,
    priority: int = typer.Option(0, help="higher runs first"),
    hub: str | None = HubOption,
) -> None:
    """Submit a network: ligands (SDF or CSV of SMILES) that the hub plans as `fepflow plan` does, or a
    network document (JSON)."""
    if (path is None) == (ligands is None):
        raise typer.BadParameter("give the ligands (or a network document) once: as PATH or with --ligands")
    source = path or ligands
    assert source is not None
    planner = {"shape": shape, "reference": reference, "edges": edges, "protein": protein}
    with hub_client(hub) as c:
        if source.suffix.lower() == ".json":
            given = [f"--{k}" for k, v in planner.items() if v is not None]
            if given:
                raise typer.BadParameter(
                    f"a network document is planned already: {', '.join(given)} are for ligands"
                )
            values = read_campaign_files(None, None, None, experimental).experimental
            network = _read_network(source)
            result = c.submit_network(
                network, scope=scope, repeats=repeats, priority=priority, experimental=values
            )
        else:
            files = read_campaign_files(source, protein, edges, experimental)
            result = c.submit_ligands(
                files.smiles,
                sdf=files.sdf,
                scope=scope,
                protocol=default_protocol(protocol, protein, shape, reference, edges),
                preset=preset,
                name=name or source.stem,
                repeats=repeats,
                priority=priority,
                protein_pdb=files.protein_pdb,
                protein_name=files.protein_name,
                shape=shape,
                reference=reference,
                edges=files.edges,
                experimental=files.experimental,
                ph=ph,
                build_loops=build_loops,
            )
    if result.plan is not None:
        print_plan(result.plan)
    verb = "submitted" if result.created else "already submitted (same keys)"
    console.print(f"{verb}: network [cyan]{result.network}[/] ({result.name!r}) in scope {result.scope}")
    console.print(f"{len(result.transformations)} transformations, {len(result.tasks)} tasks")


def _read_network(path: Path) -> AlchemicalNetwork:
    network = from_json(path.read_text())
    if not isinstance(network, AlchemicalNetwork):
        raise typer.BadParameter(f"{path} holds a {network.type_name}, not a network")
    return network


def _status_line(s: NetworkStatus) -> str:
    return ", ".join(f"{k} {v}" for k, v in s.counts.items() if v) or "no tasks"


def status(
    network: str = NetworkArgument,
    watch: bool = typer.Option(False, "--watch", "-w", help="follow until every task is finished"),
    interval: float = typer.Option(5.0, min=0.2, help="seconds between polls with --watch"),
    hub: str | None = HubOption,
) -> None:
    """Tasks of a network by state; with --watch, a progress bar until all are finished."""
    with hub_client(hub) as c:
        s = c.status(network)
        if not watch:
            console.print(f"{network}: {_status_line(s)} ({s.finished_fraction:.0%} finished)")
            return
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=console) as bar:
            job = bar.add_task("finished", total=s.total)
            while True:
                done = round(s.finished_fraction * s.total)
                bar.update(job, completed=done, total=s.total, description=_status_line(s))
                if s.total and done >= s.total:
                    break
                time.sleep(interval)
                s = c.status(network)


RESULT_VIEWS = ("transformation", "ligand", "edge")
RESULT_FORMATS = ("table", "csv", "json", "cinnabar")


def results(
    network: str = NetworkArgument,
    by: str | None = typer.Option(
        None,
        "--by",
        help="transformation | ligand | edge (default: ligand for a relative network, else transformation)",
    ),
    format: str = typer.Option(
        "table",
        "--format",
        "-f",
        help="table | csv | json | cinnabar (a relative network's CSV for cinnabar)",
    ),
    hub: str | None = HubOption,
) -> None:
    """Estimates (kcal/mol): per transformation, or for a relative network ΔG per ligand (ranked, with
    experiment and statistics where given) or ΔΔG per edge (with cycle closures)."""
    if format not in RESULT_FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(RESULT_FORMATS)}")
    if by is not None and by not in RESULT_VIEWS:
        raise typer.BadParameter(f"--by must be one of {', '.join(RESULT_VIEWS)}")
    if by == "transformation" and format == "cinnabar":
        raise typer.BadParameter(
            "--format cinnabar writes a relative network's ligands and edges: use --by ligand"
        )
    with hub_client(hub) as c:
        estimates = (
            None if by == "transformation" else _relative_estimates(c, network, required=by is not None)
        )
        if estimates is None:
            if format == "cinnabar":
                raise typer.BadParameter(
                    f"network {network} is not relative: cinnabar's CSV needs ligands and edges"
                )
            _transformation_results(c, network, format)
            return
    try:
        show_network_estimates(estimates, by or "ligand", format)
    except ValueError as exc:  # a ligand name cinnabar's CSV cannot hold
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None


def _relative_estimates(c: Client, network: str, *, required: bool) -> NetworkEstimates | None:
    """The network's estimates; None for an absolute network unless they were asked for by name."""
    try:
        return c.network_estimates(network)
    except HubError as exc:
        if exc.status_code == 409 and not required:
            return None
        raise


def _transformation_results(c: Client, network: str, format: str) -> None:
    """Per-transformation estimates as a table, the hub's CSV or JSON."""
    if format == "csv":
        console.out(c.results_csv(network), end="")
        return
    res = c.results(network)
    if format == "json":
        console.out(json.dumps(res.model_dump(mode="json"), indent=1))
        return
    table = Table(title=f"estimates of {network[:32]}… (kcal/mol)")
    for col in ("transformation", "protocol", "repeats", "ΔG", "±"):
        table.add_column(col)
    for e in res.transformations:
        dg = "" if e.dg_kcal_mol is None else f"{e.dg_kcal_mol:+.2f}"
        unc = "" if e.uncertainty_kcal_mol is None else f"{e.uncertainty_kcal_mol:.2f}"
        table.add_row(e.name, e.protocol, f"{e.n_repeats}/{e.n_tasks}", dg, unc)
    console.print(table)


def fetch(
    network: str = NetworkArgument,
    dest: Path = typer.Option(Path("results"), help="folder to write <task>/<file> into"),
    workers: int = typer.Option(8, min=1, max=64, help="concurrent downloads"),
    hub: str | None = HubOption,
) -> None:
    """Download every completed task's files, each checked against its sha-256."""
    with hub_client(hub) as c:
        files = c.fetch_network(network, dest, workers=workers)
    console.print(f"{len(files)} files verified and written under {dest}")


def page(network: str = NetworkArgument, hub: str | None = HubOption) -> None:
    """A signed link to the network's results page, to open in a browser (valid 30 min by default)."""
    with hub_client(hub) as c:
        url = c.page_link(network)
    typer.echo(url)


def networks(
    scope: str | None = typer.Option(None, help="only this scope"), hub: str | None = HubOption
) -> None:
    """List the networks in your scopes."""
    with hub_client(hub) as c:
        found = list(c.networks(scope=scope))
    table = Table(title=f"{len(found)} networks")
    for col in ("network", "name", "scopes", "edges"):
        table.add_column(col)
    for n in found:
        table.add_row(n.key, n.name or "", ", ".join(n.scopes), str(n.n_edges or ""))
    console.print(table)


COMMANDS = (login, submit, networks, status, results, page, fetch)
"""Registered on the ``fepflow`` command in this order."""

tasks_app = typer.Typer(
    help="Operate on tasks: restart errored ones, cancel, set priority.", no_args_is_help=True
)


@tasks_app.command("restart")
def tasks_restart(
    network: str = NetworkArgument,
    pattern: str | None = typer.Option(None, "--pattern", help="only tasks whose traceback matches (regex)"),
    hub: str | None = HubOption,
) -> None:
    """Move a network's errored tasks back to waiting."""
    with hub_client(hub) as c:
        changed = c.restart(network=network, traceback_pattern=pattern).changed
    console.print(f"restarted {len(changed)} tasks")


@tasks_app.command("cancel")
def tasks_cancel(keys: list[str] = KeysArgument, hub: str | None = HubOption) -> None:
    """Cancel tasks."""
    with hub_client(hub) as c:
        res = c.cancel(keys)
    console.print(f"cancelled {len(res.changed)}; left {len(res.skipped)} (finished already)")


@tasks_app.command("priority")
def tasks_priority(
    priority: int = typer.Argument(..., help="new priority (higher runs first)"),
    keys: list[str] = KeysArgument,
    hub: str | None = HubOption,
) -> None:
    """Set the priority of tasks."""
    with hub_client(hub) as c:
        changed = c.set_priority(keys, priority).changed
    console.print(f"priority {priority} set on {len(changed)} tasks")


@tasks_app.command("list")
def tasks_list(
    network: str = NetworkArgument,
    status: str | None = typer.Option(None, help="only tasks in this state"),
    hub: str | None = HubOption,
) -> None:
    """List a network's tasks (state, repeat, priority, last error)."""
    with hub_client(hub) as c:
        found = c.tasks(network, status=status)
    table = Table(title=f"{len(found)} tasks")
    for col in ("task", "state", "repeat", "priority", "last error"):
        table.add_column(col)
    for t in found:
        table.add_row(t.key, t.status, str(t.repeat), str(t.priority), (t.last_error or "")[:60])
    console.print(table)


@tasks_app.command("extend")
def tasks_extend(
    keys: list[str] = KeysArgument,
    iterations: int = typer.Option(..., min=1, help="extra production iterations"),
    hub: str | None = HubOption,
) -> None:
    """Ask for more iterations (complete tasks go back to waiting)."""
    with hub_client(hub) as c:
        res = c.extend(keys, iterations)
    console.print(f"extended {len(res.changed)}; left {len(res.skipped)}")


@tasks_app.command("repeats")
def tasks_repeats(
    network: str = NetworkArgument,
    count: int = typer.Option(1, min=1, help="new repeats per transformation"),
    hub: str | None = HubOption,
) -> None:
    """Add repeats to every transformation of a network."""
    with hub_client(hub) as c:
        res = c.add_repeats(network, count)
    console.print(f"added {len(res.changed)} tasks")
