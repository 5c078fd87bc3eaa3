"""Where the commands write: ``console`` for what was asked for, ``err`` for what went wrong."""

from __future__ import annotations

from rich.console import Console

console = Console()
err = Console(stderr=True)
