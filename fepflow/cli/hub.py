"""The hub commands of ``fepflow``: login, submit, networks, status, results, fetch and ``tasks``."""

from __future__ import annotations

import json
import time
import webbrowser
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from fepflow.cli.console import (
    FormatOption,
    MessageFormatOption,
    console,
    err,
    list_format,
    message_format,
    print_json,
    print_plain_blocks,
    show_rows,
)
from fepflow.cli.interop import import_openfe, is_gufe_text
from fepflow.cli.network_results import show_network_estimates, transformation_rows
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
from fepflow.hub.schemas import AllocationRequest, NetworkStatus, SubmitResult, TaskChanges
from fepflow.hub.token_file import default_token_file, load_token
from fepflow.interop.openfe_tsv import gather_tsv
from fepflow.models.network import AlchemicalNetwork
from fepflow.models.network_results import NetworkEstimates
from fepflow.models.results import UNCERTAINTY_NOTE
from fepflow.models.serialization import from_json
from fepflow.settings import api_settings
from fepflow.store.lookup import short_key

HubOption = typer.Option(None, "--hub", envvar="FEPFLOW_HUB_URL", help="hub URL (default: the saved login's)")
NetworkArgument = typer.Argument(
    ..., help="network: its name, key, or a unique prefix of the key (4+ hex digits)"
)
KeysArgument = typer.Argument(
    ..., help="task keys, or unique prefixes of them (4+ hex digits, as tables show)"
)


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
            err.print(f"[red]hub error {exc.status_code}:[/] {escape(str(exc))}")
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
        help="SDF, CSV of SMILES, or a network document (JSON: from fepflow plan, or openfe's planners)",
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
    target: float | None = typer.Option(
        None,
        "--target-uncertainty",
        help="opt in to the allocation strategy (relative networks): add repeats where they lower the "
        "per-ligand uncertainty most until every ligand is at or below this (kcal/mol); needs --budget-hours",
    ),
    budget_hours: float | None = typer.Option(
        None, "--budget-hours", help="the allocation strategy's compute budget, slot-hours"
    ),
    format: str | None = MessageFormatOption,
    hub: str | None = HubOption,
) -> None:
    """Submit a network: ligands (SDF or CSV of SMILES) that the hub plans as `fepflow plan` does, or a
    network document (JSON)."""
    if (path is None) == (ligands is None):
        raise typer.BadParameter("give the ligands (or a network document) once: as PATH or with --ligands")
    source = path or ligands
    assert source is not None
    fmt = message_format(format)
    allocation = _allocation(target, budget_hours)
    planner = {"shape": shape, "reference": reference, "edges": edges, "protein": protein}
    with hub_client(hub) as c:
        if source.suffix.lower() == ".json":
            sent = {"scope": scope, "repeats": repeats, "priority": priority, "allocation": allocation}
            result = _submit_document(c, source, planner, experimental, sent)
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
                allocation=allocation,
            )
    _print_submitted(result, fmt)


def _submit_document(
    c: Client, source: Path, planner: dict[str, Any], experimental: Path | None, sent: dict[str, Any]
) -> SubmitResult:
    """Submit a network document: fepflow's (e.g. from fepflow plan) or openfe's (imported)."""
    given = [f"--{k}" for k, v in planner.items() if v is not None]
    if given:
        raise typer.BadParameter(f"a network document is planned already: {', '.join(given)} are for ligands")
    values = read_campaign_files(None, None, None, experimental).experimental
    return c.submit_network(_read_network(source), experimental=values, **sent)


def _print_submitted(result: SubmitResult, fmt: str) -> None:
    if fmt == "json":
        print_json(result.model_dump(mode="json"))
        return
    if result.plan is not None:
        print_plan(result.plan)
    verb = "submitted" if result.created else "already submitted (same keys)"
    console.print(f"{verb}: network ({result.name!r}) in scope {result.scope}:")
    console.print(f"[cyan]{result.network}[/]")
    console.print(f"{len(result.transformations)} transformations, {len(result.tasks)} tasks")


def _allocation(target: float | None, budget_hours: float | None) -> AllocationRequest | None:
    """The allocation strategy of --target-uncertainty and --budget-hours (both or neither)."""
    if target is None and budget_hours is None:
        return None
    if target is None or budget_hours is None:
        raise typer.BadParameter("an allocation strategy needs both --target-uncertainty and --budget-hours")
    try:
        return AllocationRequest(target_kcal_mol=target, budget_hours=budget_hours)
    except ValidationError as exc:
        problems = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
        raise typer.BadParameter(f"allocation strategy: {problems}") from None


def _read_network(path: Path) -> AlchemicalNetwork:
    text = path.read_text()
    if is_gufe_text(text):  # planned by openfe: imported, and what was not carried over said
        return import_openfe(path, text)
    network = from_json(text)
    if not isinstance(network, AlchemicalNetwork):
        raise typer.BadParameter(f"{path} holds a {network.type_name}, not a network")
    return network


def _status_line(s: NetworkStatus) -> str:
    return ", ".join(f"{k} {v}" for k, v in s.counts.items() if v) or "no tasks"


def status(
    network: str = NetworkArgument,
    watch: bool = typer.Option(False, "--watch", "-w", help="follow until every task is finished"),
    interval: float = typer.Option(5.0, min=0.2, help="seconds between polls with --watch"),
    format: str | None = MessageFormatOption,
    hub: str | None = HubOption,
) -> None:
    """Tasks of a network by state; with --watch, a progress bar until all are finished (when piped:
    a line whenever the counts change)."""
    fmt = message_format(format)
    with hub_client(hub) as c:
        network = c.network_key(network)
        s = c.status(network)
        if not watch or fmt == "json" or not console.is_terminal:
            _print_status(network, s, fmt)
            while watch and not (s.total and round(s.finished_fraction * s.total) >= s.total):
                time.sleep(interval)
                s, before = c.status(network), s
                if s.counts != before.counts:
                    _print_status(network, s, fmt)
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


def _print_status(network: str, s: NetworkStatus, fmt: str) -> None:
    if fmt == "json":
        typer.echo(json.dumps(s.model_dump(mode="json")))
    else:
        console.print(f"{network}: {_status_line(s)} ({s.finished_fraction:.0%} finished)")


RESULT_VIEWS = ("transformation", "ligand", "edge")
RESULT_FORMATS = ("table", "plain", "csv", "json", "cinnabar", "openfe-dg", "openfe-ddg")
NEEDS_RELATIVE = ("cinnabar", "openfe-dg", "openfe-ddg")
"""Formats of a relative network's ligands and edges only."""


def results(
    network: str = NetworkArgument,
    by: str | None = typer.Option(
        None,
        "--by",
        help="transformation | ligand | edge (default: ligand for a relative network, else transformation)",
    ),
    format: str | None = typer.Option(
        None,
        "--format",
        "-f",
        help="table | plain | csv | json | cinnabar | openfe-dg | openfe-ddg (default: table at a terminal, "
        "plain tab-separated lines with whole keys when piped; cinnabar: a relative network's CSV for "
        "cinnabar; openfe-*: the TSV of `openfe gather --report dg|ddg`)",
    ),
    hub: str | None = HubOption,
) -> None:
    """Estimates (kcal/mol): per transformation, or for a relative network ΔG per ligand (ranked, with
    experiment and statistics where given) or ΔΔG per edge (with cycle closures)."""
    format = format or ("table" if console.is_terminal else "plain")
    if format not in RESULT_FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(RESULT_FORMATS)}")
    if by is not None and by not in RESULT_VIEWS:
        raise typer.BadParameter(f"--by must be one of {', '.join(RESULT_VIEWS)}")
    if by == "transformation" and format in NEEDS_RELATIVE:
        raise typer.BadParameter(
            f"--format {format} writes a relative network's ligands and edges: use --by ligand"
        )
    with hub_client(hub) as c:
        network = c.network_key(network)
        estimates = (
            None if by == "transformation" else _relative_estimates(c, network, required=by is not None)
        )
        if estimates is None:
            if format in NEEDS_RELATIVE:
                raise typer.BadParameter(
                    f"network {network} is not relative: --format {format} needs ligands and edges"
                )
            _transformation_results(c, network, format)
            return
    try:
        if format.startswith("openfe-"):
            typer.echo(gather_tsv(estimates, format.removeprefix("openfe-")), nl=False)
        else:
            show_network_estimates(estimates, by or "ligand", format)
    except ValueError as exc:  # a ligand name cinnabar's CSV (or a TSV) cannot hold
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
    columns, rows = transformation_rows(res.transformations)
    if format == "plain":
        print_plain_blocks([(f"estimates of {network} (kcal/mol)", columns, rows)], note=UNCERTAINTY_NOTE)
        return
    show_rows(f"estimates of {short_key(network)} (kcal/mol)", columns, rows, "table")
    console.print(UNCERTAINTY_NOTE)


def fetch(
    network: str = NetworkArgument,
    dest: Path = typer.Option(
        Path("results"), help="folder to write <transformation>.repeat-<n>/<file> into (and tasks.tsv)"
    ),
    workers: int = typer.Option(8, min=1, max=64, help="concurrent downloads"),
    format: str | None = MessageFormatOption,
    hub: str | None = HubOption,
) -> None:
    """Download every completed task's files, each checked against its sha-256, into a folder per
    task named by its transformation and repeat (dest/tasks.tsv lists each folder's task key)."""
    fmt = message_format(format)
    with hub_client(hub) as c:
        network = c.network_key(network)
        files = c.fetch_network(network, dest, workers=workers)
    if fmt == "json":
        print_json({"network": network, "dest": str(dest), "files": [str(f) for f in files]})
        return
    console.print(f"{len(files)} files verified and written under {dest}")


def page(
    network: str = NetworkArgument,
    open_browser: bool = typer.Option(False, "--open", "-o", help="open the link in a browser too"),
    format: str | None = MessageFormatOption,
    hub: str | None = HubOption,
) -> None:
    """Print a fresh signed link to the network's results page, alone on its line (valid 30 min by
    default); with --open, open it in the browser too."""
    fmt = message_format(format)
    with hub_client(hub) as c:
        network = c.network_key(network)
        url = c.page_link(network)
    if fmt == "json":
        print_json({"network": network, "url": url})
    else:
        typer.echo(url)
    if open_browser and not webbrowser.open(url):
        err.print("no browser could be opened here: copy the link above")


def networks(
    scope: str | None = typer.Option(None, help="only this scope"),
    format: str | None = FormatOption,
    hub: str | None = HubOption,
) -> None:
    """List the networks in your scopes (a table shows short keys; any command takes them back)."""
    fmt = list_format(format)
    with hub_client(hub) as c:
        found = list(c.networks(scope=scope))
    rows = [(n.key, n.name or "", n.scopes, n.n_edges) for n in found]
    show_rows(f"{len(found)} networks", ("network", "name", "scopes", "edges"), rows, fmt, keys=("network",))


COMMANDS = (login, submit, networks, status, results, page, fetch)
"""Registered on the ``fepflow`` command in this order."""

tasks_app = typer.Typer(
    help="Operate on tasks: restart errored ones, cancel, set priority.", no_args_is_help=True
)


def _report_changes(res: TaskChanges, fmt: str, text: str) -> None:
    """What a task command changed: ``text`` (formatted with ``changed`` and ``skipped`` counts), or
    the hub's answer as JSON (whole keys)."""
    if fmt == "json":
        print_json(res.model_dump(mode="json"))
    else:
        console.print(text.format(changed=len(res.changed), skipped=len(res.skipped)))


@tasks_app.command("restart")
def tasks_restart(
    network: str = NetworkArgument,
    pattern: str | None = typer.Option(None, "--pattern", help="only tasks whose traceback matches (regex)"),
    format: str | None = MessageFormatOption,
    hub: str | None = HubOption,
) -> None:
    """Move a network's errored tasks back to waiting."""
    fmt = message_format(format)
    with hub_client(hub) as c:
        res = c.restart(network=c.network_key(network), traceback_pattern=pattern)
    _report_changes(res, fmt, "restarted {changed} tasks")


@tasks_app.command("cancel")
def tasks_cancel(
    keys: list[str] = KeysArgument, format: str | None = MessageFormatOption, hub: str | None = HubOption
) -> None:
    """Cancel tasks."""
    fmt = message_format(format)
    with hub_client(hub) as c:
        res = c.cancel(keys)
    _report_changes(res, fmt, "cancelled {changed}; left {skipped} (finished already)")


@tasks_app.command("priority")
def tasks_priority(
    priority: int = typer.Argument(..., help="new priority (higher runs first)"),
    keys: list[str] = KeysArgument,
    format: str | None = MessageFormatOption,
    hub: str | None = HubOption,
) -> None:
    """Set the priority of tasks."""
    fmt = message_format(format)
    with hub_client(hub) as c:
        res = c.set_priority(keys, priority)
    _report_changes(res, fmt, f"priority {priority} set on {{changed}} tasks")


@tasks_app.command("list")
def tasks_list(
    network: str = NetworkArgument,
    status: str | None = typer.Option(None, help="only tasks in this state"),
    format: str | None = FormatOption,
    hub: str | None = HubOption,
) -> None:
    """List a network's tasks (state, repeat, priority, last error); a table shows short keys."""
    fmt = list_format(format)
    with hub_client(hub) as c:
        found = c.tasks(c.network_key(network), status=status)
    columns = ("task", "transformation", "state", "repeat", "priority", "last error")
    rows = [
        (t.key, t.transformation, t.status, t.repeat, t.priority, (t.last_error or "")[:60]) for t in found
    ]
    show_rows(f"{len(found)} tasks", columns, rows, fmt, keys=("task", "transformation"))


@tasks_app.command("extend")
def tasks_extend(
    keys: list[str] = KeysArgument,
    iterations: int = typer.Option(..., min=1, help="extra production iterations"),
    format: str | None = MessageFormatOption,
    hub: str | None = HubOption,
) -> None:
    """Ask for more iterations (complete tasks go back to waiting)."""
    fmt = message_format(format)
    with hub_client(hub) as c:
        res = c.extend(keys, iterations)
    _report_changes(res, fmt, "extended {changed}; left {skipped}")


@tasks_app.command("repeats")
def tasks_repeats(
    network: str = NetworkArgument,
    count: int = typer.Option(1, min=1, help="new repeats per transformation"),
    format: str | None = MessageFormatOption,
    hub: str | None = HubOption,
) -> None:
    """Add repeats to every transformation of a network."""
    fmt = message_format(format)
    with hub_client(hub) as c:
        res = c.add_repeats(c.network_key(network), count)
    _report_changes(res, fmt, "added {changed} tasks")
