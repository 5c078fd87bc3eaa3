"""Relative campaigns as a chemist runs them, through the embedded stack as real processes.

``fepflow plan`` and ``fepflow submit`` (the console script, against the stack's hub) of a relative
**binding** network from the repository's T4 lysozyme L99A PDB and ligand SDF with its experimental
CSV, and of a relative **hydration** cycle from a SMILES CSV with FreeSolv's experimental values; then
the task sensor, the simulations (the ``smoke`` preset: 3 windows, 0.08 ps per window), the network
estimate asset in Dagster; ``fepflow results --by ligand`` lists every ligand with ΔG ± error, the
cinnabar CSV parses by cinnabar's rules, and the results page renders in headless Chromium.

``make test`` runs one binding edge (benzene -> toluene: a complex leg and a solvent leg) and the
three-edge hydration cycle; ``make validate`` runs the repository's whole three-ligand binding
campaign. The numbers of a smoke run mean nothing: the tests check that every part ran and agrees
with every other (the hub's estimates, the CLI's tables and the cinnabar CSV give the same values).
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from stack_support import CPU_STACK_ENV, chromium_dom, running_stack

from fepflow.data.freesolv import entry
from fepflow.devstack.stack import EmbeddedStack
from fepflow.hub.client import Client
from fepflow.models.network_results import NetworkEstimates
from fepflow.store.index import Index
from fepflow.store.network_estimates import NetworkEstimateStore

pytestmark = [pytest.mark.integration, pytest.mark.slow]

T4L99A = Path(__file__).resolve().parents[2] / "fepflow" / "data" / "t4l99a"
HYDRATION_CYCLE = ("methane", "ethane", "methanol")


@dataclass
class Stack:
    stack: EmbeddedStack
    token_file: Path

    def client(self) -> Client:
        return Client(self.stack.config.hub_url, token_file=self.token_file)

    def fepflow(self, *args: str, timeout_s: float = 600) -> str:
        """The ``fepflow`` console script, pointed at this stack's hub as its local identity."""
        env = {
            **os.environ,
            "FEPFLOW_HUB_URL": self.stack.config.hub_url,
            "FEPFLOW_TOKEN_FILE": str(self.token_file),
            "COLUMNS": "200",
        }
        script = Path(sys.executable).with_name("fepflow")
        done = subprocess.run(
            [str(script), *args], capture_output=True, text=True, env=env, timeout=timeout_s, check=False
        )
        assert done.returncode == 0, f"fepflow {' '.join(args)}\n{done.stdout}\n{done.stderr}"
        return done.stdout


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Iterator[Stack]:
    token_file = tmp_path_factory.mktemp("client") / "token.json"
    env = {**CPU_STACK_ENV, "FEPFLOW_TOKEN_FILE": str(token_file)}
    with running_stack(tmp_path_factory.mktemp("relative"), repo_root, env) as running:
        yield Stack(running, token_file)


# -- inputs -----------------------------------------------------------------------------------------


def sdf_records(path: Path, names: tuple[str, ...]) -> str:
    """The records of ``names`` from an SDF, in the file's order."""
    records = [r for r in path.read_text().split("$$$$\n") if r.strip()]
    chosen = [r for r in records if r.splitlines()[0].strip() in names]
    assert len(chosen) == len(names), f"{names} not all in {path}"
    return "".join(r + "$$$$\n" for r in chosen)


def experimental_rows(path: Path, names: tuple[str, ...]) -> str:
    """The comment lines, the header and the rows of ``names`` of an experimental CSV."""
    lines = path.read_text().splitlines()
    data = [line for line in lines if line.strip() and not line.startswith("#")]
    kept = [line for line in data[1:] if line.split(",")[0] in names]
    assert len(kept) == len(names), f"{names} not all in {path}"
    return "\n".join([line for line in lines if line.startswith("#")] + data[:1] + kept) + "\n"


def t4l99a_ligands() -> tuple[str, ...]:
    """The names of the repository's T4L99A series, as its experimental CSV lists them."""
    lines = (T4L99A / "experimental.csv").read_text().splitlines()
    data = [line for line in lines if line.strip() and not line.startswith("#")]
    return tuple(line.split(",")[0] for line in data[1:])


def binding_inputs(folder: Path, names: tuple[str, ...]) -> list[str]:
    """``--protein/--ligands/--experimental`` options for ``names`` of the repository's T4L99A series."""
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
        "relative-binding",
    ]


def hydration_inputs(folder: Path, names: tuple[str, ...]) -> list[str]:
    """A SMILES CSV and FreeSolv's experimental values for ``names``, as a chemist would write them."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ligands.csv").write_text("name,smiles\n" + "".join(f"{n},{entry(n).smiles}\n" for n in names))
    (folder / "experimental.csv").write_text(
        "name,dG,error\n"
        + "".join(f"{n},{entry(n).expt_kcal_mol},{entry(n).expt_err_kcal_mol}\n" for n in names)
    )
    return [
        "--ligands",
        str(folder / "ligands.csv"),
        "--experimental",
        str(folder / "experimental.csv"),
        "--protocol",
        "relative-hydration",
    ]


# -- checks -----------------------------------------------------------------------------------------


def wait_for_tasks(stack: Stack, client: Client, network: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = client.status(network)
        assert not status.counts.get("error"), client.tasks(network, status="error")
        if status.counts.get("complete", 0) == status.total:
            return
        dead = stack.stack.failed()
        assert not dead, f"stack process died: {[p.name for p in dead]}\n{dead[0].log_tail()}"
        time.sleep(2.0)
    raise AssertionError(f"tasks of {network} not complete after {timeout_s} s: {client.status(network)}")


def wait_for_estimates(client: Client, network: str, ligands: int, timeout_s: float) -> NetworkEstimates:
    """The hub's estimates once every ligand has a value (the estimate asset refreshes as results land)."""
    deadline = time.monotonic() + timeout_s
    while True:
        estimates = client.network_estimates(network)
        values = [lig for lig in estimates.ligands if lig.dg_kcal_mol is not None]
        if len(values) == ligands:
            return estimates
        assert time.monotonic() < deadline, estimates.model_dump_json(indent=1)
        time.sleep(2.0)


ASSET_QUERY = """
query Asset($key: AssetKeyInput!) {
  assetOrError(assetKey: $key) {
    ... on Asset { assetMaterializations(limit: 1) { metadataEntries { label ... on MarkdownMetadataEntry { mdStr } } } }
  }
}
"""


def check_estimate_asset(stack: Stack, network: str, estimates: NetworkEstimates, timeout_s: float) -> None:
    """Dagster's network_estimates asset, run again once every edge had its results, stored the same
    answer as the hub's, and Dagit shows its ligand table."""
    index = Index.connect(stack.stack.config.mongo_url, "fepflow")
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            stored = NetworkEstimateStore(index).get(network)
            if stored is not None and all(edge.ddg_kcal_mol is not None for edge in stored.edges):
                break
            assert time.monotonic() < deadline, f"no complete network_estimates for {network}: {stored}"
            time.sleep(2.0)
    finally:
        index.close()
    hub = {lig.ligand: lig.dg_kcal_mol for lig in estimates.ligands}
    assert {lig.ligand: lig.dg_kcal_mol for lig in stored.ligands} == pytest.approx(hub, abs=1e-9)
    # the asset stores each network's answer before its run records the materialization, so the
    # latest materialization may still be an earlier run's (another network's) for a moment
    config = stack.stack.config
    deadline = max(deadline, time.monotonic() + 60.0)
    while True:
        response = httpx.post(
            f"http://{config.host}:{config.dagit_port}/graphql",
            json={"query": ASSET_QUERY, "variables": {"key": {"path": ["network_estimates"]}}},
            timeout=60,
        )
        response.raise_for_status()
        (materialization,) = response.json()["data"]["assetOrError"]["assetMaterializations"]
        tables = [m["mdStr"] for m in materialization["metadataEntries"] if m["label"] == "ligands"]
        if tables and all(name in tables[0] for name in hub):
            break
        assert time.monotonic() < deadline, materialization
        time.sleep(2.0)


def read_cinnabar(text: str) -> tuple[dict[str, tuple[float, float]], list[tuple[str, str, float, float]]]:
    """Experimental and calculated blocks, by the rules of cinnabar's ``read_csv`` (legacy format):
    3 fields after the line naming the experimental block, 5 after the calculated one, '#' comments."""
    experimental: dict[str, tuple[float, float]] = {}
    calculated = []
    block = None
    for line in text.splitlines():
        if "Experiment" in line:
            block = "expt"
        if "Calculate" in line or "Relative" in line:
            block = "calc"
        fields = line.split(",")
        if not line or line[0] == "#":
            continue
        if block == "expt" and len(fields) == 3:
            experimental[fields[0].strip()] = (float(fields[1]), float(fields[2]))
        elif block == "calc" and len(fields) == 5:
            a, b, ddg, mbar, other = fields
            calculated.append((a.strip(), b.strip(), float(ddg), float(mbar) + float(other)))
    return experimental, calculated


def check_results(stack: Stack, network: str, estimates: NetworkEstimates, tmp_path: Path) -> None:
    """The CLI's per-ligand table and JSON, the cinnabar CSV and the page agree with the hub's estimates."""
    table = stack.fepflow("results", network, "--by", "ligand")
    for lig in estimates.ligands:
        assert lig.dg_kcal_mol is not None and lig.uncertainty_kcal_mol is not None
        assert math.isfinite(lig.dg_kcal_mol) and lig.uncertainty_kcal_mol >= 0
        row = next(
            (line for line in table.splitlines() if re.search(rf"\b{re.escape(lig.ligand)}\b", line)), ""
        )
        assert f"{lig.dg_kcal_mol:+.2f}" in row and f"{lig.uncertainty_kcal_mol:.2f}" in row, (lig, table)
    as_json = json.loads(stack.fepflow("results", network, "--by", "ligand", "--format", "json"))
    rows = as_json["ligands"] if isinstance(as_json, dict) else as_json
    assert {r["ligand"] for r in rows} == {lig.ligand for lig in estimates.ligands}

    experimental, calculated = read_cinnabar(stack.fepflow("results", network, "--format", "cinnabar"))
    expected_expt = {
        lig.ligand: lig.experimental_dg_kcal_mol for lig in estimates.ligands if lig.experimental_dg_kcal_mol
    }
    assert {k: v[0] for k, v in experimental.items()} == pytest.approx(expected_expt, abs=0.005)
    edges = {(e.ligand_a, e.ligand_b): e for e in estimates.edges}
    assert len(calculated) == len(edges)
    for a, b, ddg, sigma in calculated:
        edge = edges[(a, b)]
        assert ddg == pytest.approx(edge.ddg_kcal_mol, abs=0.005) and sigma >= 0

    dom = chromium_dom(
        stack.fepflow("page", network).strip(), tmp_path
    )  # the signed link `fepflow page` prints
    assert "smoke" in dom.lower()  # the page says the numbers are not meaningful
    images = re.findall(r"<img [^>]*>", dom)
    for lig in estimates.ligands:  # each ligand's 2-D depiction, an inline SVG
        assert any(f'alt="{lig.ligand}"' in i and "data:image/svg" in i for i in images), lig.ligand
    # every plot (PNG) was drawn by the browser: the graph, correlations, each leg's overlap and convergence
    plots = [i for i in images if "data:image/svg" not in i]
    assert len(plots) >= 2 + 2 * sum(len(e.legs) for e in estimates.edges), len(plots)
    assert not [i for i in plots if not re.search(r'data-rendered="[1-9][0-9]*"', i)]


def run_campaign(
    stack: Stack,
    options: list[str],
    scope: str,
    n_ligands: int,
    n_edges: int,
    tmp_path: Path,
    timeout_s: float,
) -> NetworkEstimates:
    """``fepflow plan``, then ``fepflow submit`` of the same inputs; simulations, estimates and results."""
    started = time.monotonic()
    planned = tmp_path / "plan"
    out = stack.fepflow("plan", *options, "--preset", "smoke", "--out", str(planned))
    pictures = [p for p in planned.iterdir() if p.suffix in {".svg", ".png"}]
    assert pictures and all(p.stat().st_size > 0 for p in pictures), out
    assert list(planned.glob("*.json")), out
    out = stack.fepflow("submit", *options, "--preset", "smoke", "--scope", scope)
    with stack.client() as client:
        (network,) = [n.key for n in client.networks(scope=scope)]
        assert network in out
        wait_for_tasks(stack, client, network, timeout_s)
        simulated = time.monotonic()
        estimates = wait_for_estimates(client, network, n_ligands, 120)
    check_estimate_asset(stack, network, estimates, 120)
    assert estimates.smoke and estimates.shifted_to_experiment
    assert len(estimates.ligands) == n_ligands and len(estimates.edges) == n_edges
    check_results(stack, network, estimates, tmp_path)
    print(
        f"{scope}: {n_ligands} ligands, {n_edges} edges; planned, submitted and simulated in "
        f"{simulated - started:.0f} s, all checks in {time.monotonic() - started:.0f} s"
    )
    return estimates


# -- the campaigns ----------------------------------------------------------------------------------


@pytest.mark.timeout(1500)
def test_one_edge_binding_campaign(stack: Stack, tmp_path: Path) -> None:
    options = binding_inputs(tmp_path / "inputs", ("benzene", "toluene"))
    estimates = run_campaign(stack, options, "e2e-relative-binding", 2, 1, tmp_path, 1200)
    (edge,) = estimates.edges
    assert set(edge.legs) == {"complex", "solvent"}
    # one edge: the two ligands' ΔG differ by its ΔΔG, and their mean is the experimental mean
    values = {lig.ligand: lig.dg_kcal_mol or 0.0 for lig in estimates.ligands}
    assert values[edge.ligand_b] - values[edge.ligand_a] == pytest.approx(edge.ddg_kcal_mol, abs=1e-6)
    expt = [lig.experimental_dg_kcal_mol or 0.0 for lig in estimates.ligands]
    assert sum(values.values()) / 2 == pytest.approx(sum(expt) / 2, abs=1e-6)


@pytest.mark.timeout(900)
def test_hydration_cycle_campaign(stack: Stack, tmp_path: Path) -> None:
    options = [*hydration_inputs(tmp_path / "inputs", HYDRATION_CYCLE), "--shape", "cycles"]
    estimates = run_campaign(stack, options, "e2e-relative-hydration", 3, 3, tmp_path, 600)
    (cycle,) = estimates.cycles
    assert set(cycle.ligands) == set(HYDRATION_CYCLE)
    # the closure is the signed sum of the three edges around the cycle
    assert math.isfinite(cycle.closure_kcal_mol) and cycle.uncertainty_kcal_mol > 0


@pytest.mark.validation
@pytest.mark.timeout(3600)
def test_three_ligand_binding_campaign(stack: Stack, tmp_path: Path) -> None:
    names = t4l99a_ligands()
    assert len(names) == 3
    options = [*binding_inputs(tmp_path / "inputs", names), "--shape", "cycles"]
    estimates = run_campaign(stack, options, "e2e-relative-bindingthree", 3, 3, tmp_path, 3000)
    assert len(estimates.cycles) == 1 and all(lig.connected for lig in estimates.ligands)
