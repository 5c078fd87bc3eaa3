"""An absolute binding campaign as a chemist runs it, through the embedded stack as real processes.

``fepflow plan`` and ``fepflow submit --protocol absolute-binding`` of benzene from the repository's
T4 lysozyme L99A PDB and ligand SDF with its experimental CSV; the task sensor and the simulation (the
``smoke`` preset: the restraint chosen from 0.1 ps of NPT, 4 complex and 3 solvent states, 0.08 ps
per state); Dagster's per-transformation roll-up; ``fepflow results`` with ΔG_bind and its
contributions (ΔG_complex, ΔG_solvent, ΔG_restraint); the results page (its HTML, from the signed
link ``fepflow page`` prints). The numbers of a smoke run mean nothing: the test checks that every
part ran, that the parts agree, and that ΔG_bind = ΔG_solvent - ΔG_complex - ΔG_restraint everywhere it is shown.

Under ``make validate`` (the ``validation`` marker), not ``make test``: with the stack's start it takes
about 4 minutes on a 2-core machine (measured: 261 s, of which 188 s planning, submission and the
simulation, at load average ~30), beyond what a default-suite test may cost.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from stack_support import CPU_STACK_ENV, running_stack
from test_relative_campaign import T4L99A, Stack, experimental_rows, sdf_records, wait_for_tasks

from fepflow.models.results import EstimateRow
from fepflow.store.index import Index

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.validation]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Iterator[Stack]:
    token_file = tmp_path_factory.mktemp("client") / "token.json"
    env = {**CPU_STACK_ENV, "FEPFLOW_TOKEN_FILE": str(token_file)}
    with running_stack(tmp_path_factory.mktemp("absolute"), repo_root, env) as running:
        yield Stack(running, token_file)


def inputs(folder: Path, names: tuple[str, ...]) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ligands.sdf").write_text(sdf_records(T4L99A / "ligands.sdf", names))
    (folder / "experimental.csv").write_text(experimental_rows(T4L99A / "experimental.csv", names))
    return [
        "--protein",
        str(T4L99A / "protein.pdb"),
        "--ligands",
        str(folder / "ligands.sdf"),
        "--experimental",
        str(folder / "experimental.csv"),
        "--protocol",
        "absolute-binding",
        "--preset",
        "smoke",
    ]


def rolled_up(stack: Stack, transformation: str, timeout_s: float) -> dict:
    """Dagster's roll-up of ``transformation`` once it holds the contributions."""
    index = Index.connect(stack.stack.config.mongo_url, "fepflow")
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            doc = index.coll("estimates").find_one({"_id": transformation})
            if doc is not None and "complex_kcal_mol" in doc:
                return dict(doc)
            assert time.monotonic() < deadline, f"no roll-up with contributions for {transformation}: {doc}"
            time.sleep(2.0)
    finally:
        index.close()


def check_row(row: EstimateRow) -> None:
    assert row.protocol == "absolute-binding" and row.ligand == "benzene" and row.n_repeats == 1
    parts = (row.complex_kcal_mol, row.solvent_kcal_mol, row.restraint_correction_kcal_mol)
    assert row.dg_kcal_mol is not None and all(p is not None and math.isfinite(p) for p in parts)
    complex_, solvent, restraint = (float(p) for p in parts)  # type: ignore[arg-type]
    assert restraint < 0  # releasing the restraint to 1 M gains entropy
    assert row.dg_kcal_mol == pytest.approx(solvent - complex_ - restraint, abs=1e-9)


@pytest.mark.timeout(1800)
def test_benzene_absolute_binding_campaign(stack: Stack, tmp_path: Path) -> None:
    started = time.monotonic()
    options = inputs(tmp_path / "inputs", ("benzene",))
    planned = tmp_path / "plan"
    out = stack.fepflow("plan", *options, "--out", str(planned))
    assert "absolute-binding" in out and list(planned.glob("*.json")), out
    out = stack.fepflow("submit", *options, "--scope", "e2e-absolute-binding")
    with stack.client() as client:
        (network,) = [n.key for n in client.networks(scope="e2e-absolute-binding")]
        assert network in out
        wait_for_tasks(stack, client, network, 1500)
        simulated = time.monotonic()
        (row,) = client.results(network).transformations
    check_row(row)
    doc = rolled_up(stack, row.transformation, 120)
    for name in ("dg_kcal_mol", "complex_kcal_mol", "solvent_kcal_mol", "restraint_correction_kcal_mol"):
        assert doc[name] == pytest.approx(getattr(row, name), abs=1e-9)

    table = stack.fepflow("results", network)
    header = next(line for line in table.splitlines() if "ΔG_complex" in line)
    assert "ΔG_solvent" in header and "ΔG_restraint" in header
    line = next(line for line in table.splitlines() if "binding of benzene" in line)
    for value in (
        row.dg_kcal_mol,
        row.complex_kcal_mol,
        row.solvent_kcal_mol,
        row.restraint_correction_kcal_mol,
    ):
        assert f"{value:+.2f}" in line, (value, table)

    page = httpx.get(stack.fepflow("page", network).strip(), timeout=60)  # the signed link it prints
    page.raise_for_status()
    assert "ΔG_bind = ΔG_solvent − ΔG_complex − ΔG_restraint" in page.text
    assert "-5.19" in page.text and "submitted values" in page.text  # the ITC value, not FreeSolv's hydration
    assert f"benzene: ΔG_bind {row.dg_kcal_mol:+.2f} = ΔG_solvent {row.solvent_kcal_mol:+.2f}" in page.text, (
        page.text
    )
    print(
        f"absolute binding of benzene (smoke): planned, submitted and simulated in {simulated - started:.0f} s, "
        f"all checks in {time.monotonic() - started:.0f} s; ΔG_bind {row.dg_kcal_mol:+.2f} = "
        f"{row.solvent_kcal_mol:+.2f} - {row.complex_kcal_mol:+.2f} - ({row.restraint_correction_kcal_mol:+.2f})"
    )
