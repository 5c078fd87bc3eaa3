"""The README's Python examples run as written, and its commands name real make targets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest


def test_python_examples_run(repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every example parses, and all but those marked ``# long-running`` run as written (in a scratch
    folder: the hydration example writes its task folder where it runs)."""
    monkeypatch.chdir(tmp_path)
    text = (repo_root / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks
    for block in blocks:
        code = compile(block, "README.md", "exec")  # every example at least parses
        if not block.startswith("# long-running"):
            exec(code, {})


def test_make_targets_in_the_readme_exist(repo_root: Path) -> None:
    text = (repo_root / "README.md").read_text()
    makefile = (repo_root / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.M))
    used = set(re.findall(r"\bmake ([a-z][a-z-]+)", text))
    assert {"demo", "test"} <= used
    assert used - targets == set()
