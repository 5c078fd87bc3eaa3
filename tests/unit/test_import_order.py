"""Every fepflow module imports on its own, first, in a fresh interpreter: no import cycles.

One subprocess imports each module after dropping every ``fepflow`` module from ``sys.modules``, so
each import starts from nothing of fepflow (third-party packages stay loaded, which keeps this fast).
"""

from __future__ import annotations

import subprocess
import sys

SCRIPT = r"""
import importlib, pkgutil, sys, traceback
import fepflow

names = sorted(m.name for m in pkgutil.walk_packages(fepflow.__path__, "fepflow."))
failed = []
for name in names:
    for loaded in [m for m in sys.modules if m == "fepflow" or m.startswith("fepflow.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception:
        failed.append(name + ": " + traceback.format_exc().strip().splitlines()[-1])
print(len(names))
for line in failed:
    print("FAILED", line)
"""


def test_every_module_imports_first() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert int(lines[0]) > 40  # the walk found the package's modules
    assert [line for line in lines[1:] if line.startswith("FAILED")] == []
