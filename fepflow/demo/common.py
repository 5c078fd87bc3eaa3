"""What both demos share: the embedded stack started or reused, the client, a progress bar, the goodbye."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fepflow.devstack.stack import EmbeddedStack, StackConfig, config_from_env, running_stack
from fepflow.hub.client import Client
from fepflow.hub.token_file import default_token_file


def start_or_reuse(config: StackConfig, console: Console) -> EmbeddedStack:
    stack = EmbeddedStack(config)
    if running_stack(config) is not None:
        console.print(f"using the embedded stack already running from {config.home}")
        stack.local_identity()
        return stack
    # the demos' simulations are single-threaded: one simulation per core
    os.environ.setdefault("FEPFLOW_ENGINE_CPU_SLOTS", str(max(1, min(os.cpu_count() or 1, 8))))
    os.environ.setdefault("FEPFLOW_ENGINE_CPU_THREADS", "1")
    with console.status("starting the embedded stack (MongoDB wire server, Dagster, hub) ..."):
        stack.start(report=lambda msg: console.print(f"  {msg}"))
    return stack


@contextmanager
def stack_client(console: Console) -> Iterator[tuple[StackConfig, Client] | None]:
    """The embedded stack's config and a client logged in as its local identity; None if it did not start."""
    config = config_from_env()
    try:
        start_or_reuse(config, console)
    except Exception as exc:  # a port in use, a server that would not start: say which, and stop
        console.print(f"[red]the embedded stack did not start:[/] {exc}")
        yield None
        return
    token_file = (
        Path(os.environ["FEPFLOW_TOKEN_FILE"])
        if os.environ.get("FEPFLOW_TOKEN_FILE")
        else default_token_file()
    )
    with Client(config.hub_url, token_file=token_file) as client:
        yield config, client


def watch(client: Client, network: str, console: Console, timeout_s: float) -> dict[str, int]:
    """A progress bar until every task is complete, errored or cancelled."""
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    deadline = time.monotonic() + timeout_s
    with Progress(*columns, TextColumn("{task.fields[states]}"), console=console) as bar:
        job = bar.add_task("simulations", total=None, states="")
        while True:
            status = client.status(network)
            c = status.counts
            done = c.get("complete", 0) + c.get("error", 0) + c.get("cancelled", 0)
            states = ", ".join(f"{k} {v}" for k, v in c.items() if v)
            bar.update(job, total=status.total, completed=done, states=states)
            if done >= status.total:
                return dict(c)
            if time.monotonic() > deadline:
                console.print(f"[yellow]still running after {timeout_s:.0f} s: {states}[/]")
                return dict(c)
            time.sleep(2.0)


def report_failures(console: Console, network: str, counts: dict[str, int]) -> None:
    if counts.get("error"):
        console.print(
            f"[yellow]{counts['error']} task(s) failed:[/] see Dagit, or `fepflow tasks list {network} --status error`"
        )


def goodbye(console: Console, config: StackConfig, started: float) -> None:
    """The stack's addresses and the time taken; the stack keeps running."""
    for name, url in config.urls().items():
        console.print(f"  {name:<14} {url}")
    console.print(
        f"\nDone in {time.monotonic() - started:.0f} s. The stack keeps running for Dagit and the hub; stop it with [bold]make stop[/]."
    )
