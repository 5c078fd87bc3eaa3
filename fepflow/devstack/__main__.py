"""``python -m fepflow.devstack [up|stop|env]``: run the embedded stack in the foreground (Ctrl-C stops it)."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from fepflow.devstack.processes import ServerStartError
from fepflow.devstack.stack import EmbeddedStack, config_from_env


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fepflow.devstack", description=__doc__)
    parser.add_argument(
        "command",
        nargs="?",
        default="up",
        choices=["up", "stop", "env"],
        help="up: start and wait for Ctrl-C (default); stop: stop a stack left running; "
        "env: print the variables that point a shell at the stack",
    )
    parser.add_argument("--home", type=Path, help="state folder (default $FEPFLOW_HOME or .fepflow)")
    parser.add_argument("--mongo-port", type=int)
    parser.add_argument("--dagit-port", type=int)
    parser.add_argument("--api-port", type=int)
    parser.add_argument("--no-dagster", action="store_true", help="start only MongoDB, the store and the hub")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config = config_from_env(
        home=args.home,
        mongo_port=args.mongo_port,
        dagit_port=args.dagit_port,
        api_port=args.api_port,
        with_dagster=not args.no_dagster,
    )
    stack = EmbeddedStack(config)
    if args.command == "env":
        for name, value in config.env().items():
            print(f"export {name}='{value}'")
        return 0
    if args.command == "stop":
        left = stack.stop_leftovers()
        print(f"stopped: {', '.join(left)}" if left else "nothing of the embedded stack was running")
        return 0

    stopping = False

    def _stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    started = time.monotonic()
    print(f"fepflow embedded stack: state in {config.home}")
    try:
        stack.start(report=lambda msg: print(f"  {msg}", flush=True))
    except (ServerStartError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"\nready in {time.monotonic() - started:.1f} s", flush=True)
    for name, url in config.urls().items():
        print(f"  {name:<14} {url}")
    print('\nPoint a shell at it with:  eval "$(python -m fepflow.devstack env)"')
    print("Press Ctrl-C to stop; the data stays in", config.home, flush=True)
    code = 0
    while not stopping:
        dead = stack.failed()
        if dead:
            for proc in dead:
                print(
                    f"error: {proc.name} stopped unexpectedly; last lines of {proc.log_path}:\n"
                    f"{proc.log_tail()}",
                    file=sys.stderr,
                )
            code = 1
            break
        time.sleep(0.5)
    print("\nstopping ...", flush=True)
    stack.stop()
    print("stopped; data kept in", config.home, flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
