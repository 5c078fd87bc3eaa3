"""The results page of a relative binding network (T4 lysozyme L99A, three ligands on a cycle), its
results inserted into the index for both legs of every edge, served by the hub on a real port and
opened in headless Chromium: the smoke banner, the graph, the ligands ranked with their depictions,
ΔG and ΔΔG against experiment with the statistics, the cycle closure that does not close, and every
leg's overlap and convergence plots, each image decoded by the browser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np
import pytest
from api_support import SCOPE, bearer, complete_task, served_on_loopback
from stack_support import chromium_dom, chromium_screenshot

from api.main import create_app
from fepflow.analysis.mbar import analyse
from fepflow.analysis.network_report import SMOKE_BANNER
from fepflow.analysis.plots import plot_convergence, plot_overlap_matrix
from fepflow.data import t4l99a
from fepflow.mapping import draw_mapping
from fepflow.models.components import SmallMoleculeComponent
from fepflow.models.network import AlchemicalNetwork
from fepflow.models.network_results import ExperimentalValue
from fepflow.models.results import TaskSummary
from fepflow.planning.relative import plan_network
from fepflow.protocols.relative.binding import RelativeBindingProtocol
from fepflow.settings import ApiSettings, AuthSettings
from fepflow.store.index import Index
from fepflow.store.objects import ObjectStore

pytestmark = pytest.mark.integration
pytest_plugins = ["api_fixtures"]

SMILES = {"benzene": "c1ccccc1", "toluene": "Cc1ccccc1", "ethylbenzene": "CCc1ccccc1"}
TRUE_DG = {"benzene": -5.0, "toluene": -5.8, "ethylbenzene": -6.6}
"""The binding free energies the legs are made from (kcal/mol)."""
EXPERIMENT = {"benzene": -5.19, "toluene": -5.52, "ethylbenzene": -5.76}
"""T4 lysozyme L99A (Morton, Baase and Matthews 1995), kcal/mol."""
SKEW = 0.9
"""Added to the complex leg of the benzene -> toluene edge: the cycle then opens by 0.9 kcal/mol."""
LEG_ERROR = 0.1


@pytest.fixture()
def live_hub(hub_index: Index, hub_objects: ObjectStore, auth_config: AuthSettings) -> Iterator[str]:
    """The hub served by uvicorn on a free loopback port (a browser needs a real server)."""

    def app(base: str) -> Any:
        return create_app(
            index=hub_index, objects=hub_objects, api=ApiSettings(public_url=base), auth_config=auth_config
        )

    with served_on_loopback(app) as base:
        yield base


def _leg_plots(tmp_path: Path) -> dict[str, bytes]:
    """Real overlap and convergence plots of an MBAR analysis (3D oscillators, three states)."""
    rng = np.random.default_rng(3)
    k = np.array([1.0, 2.0, 4.0])
    r2 = np.stack([(rng.normal(scale=1 / np.sqrt(kk), size=(400, 3)) ** 2).sum(axis=1) for kk in k])
    result = analyse(0.5 * k[None, :, None] * r2[:, None, :])
    out = {}
    for leg in ("complex", "solvent"):
        overlap = plot_overlap_matrix(result, tmp_path / f"{leg}_overlap.png", title=f"{leg} leg")
        convergence = plot_convergence(result, tmp_path / f"{leg}_convergence.png", temperature_K=298.15)
        out[f"{leg}_overlap.png"], out[f"{leg}_convergence.png"] = (
            overlap.read_bytes(),
            convergence.read_bytes(),
        )
    return out


def _ligands_of(transformation: Any) -> tuple[SmallMoleculeComponent, SmallMoleculeComponent]:
    return (
        next(iter(transformation.state_a.small_molecules().values())),
        next(iter(transformation.state_b.small_molecules().values())),
    )


def _complete_network(index: Index, objects: ObjectStore, network: AlchemicalNetwork, tmp_path: Path) -> None:
    """Submit the network and complete both legs of every edge: complex leg ΔG_b - ΔG_a (+ SKEW on
    benzene -> toluene) + 1.5, solvent leg 1.5, so that ΔΔG_bind = complex - solvent."""
    report = index.submit_network(network, scope=SCOPE)
    index.networks.set_experimental(
        network.key,
        scope=SCOPE,
        values=[
            ExperimentalValue(ligand=n, dg_kcal_mol=v, uncertainty_kcal_mol=0.1)
            for n, v in EXPERIMENT.items()
        ],
    )
    by_key = {t.key: t for t in network.edges}
    plots = _leg_plots(tmp_path)
    for task_key in report.task_keys:
        transformation = by_key[index.tasks.get(task_key).transformation_key]
        a, b = _ligands_of(transformation)
        leg = "complex" if transformation.state_a.protein is not None else "solvent"
        dg = 1.5 + (
            TRUE_DG[b.name] - TRUE_DG[a.name] + (SKEW if (a.name, b.name) == ("benzene", "toluene") else 0.0)
            if leg == "complex"
            else 0.0
        )
        summary = TaskSummary(
            protocol="relative-binding", transformation=transformation.key, repeat=0,
            quantity=f"ΔG_{leg}({a.name} -> {b.name})", dg_kcal_mol=dg, dg_mbar_error_kcal_mol=LEG_ERROR,
            ligand_a=a.name, ligand_b=b.name, leg=leg,
        )  # fmt: skip
        assert transformation.mapping is not None
        files = {
            f"{leg}_overlap.png": plots[f"{leg}_overlap.png"],
            f"{leg}_convergence.png": plots[f"{leg}_convergence.png"],
            "mapping.svg": draw_mapping(a, b, transformation.mapping).encode(),
        }
        complete_task(index, objects, task_key, stored_summary=summary.to_stored(), files=files)


def _table(dom: str, table_id: str) -> str:
    start = dom.index(f'<table id="{table_id}">')
    return dom[start : dom.index("</table>", start)]


@pytest.fixture()
def network() -> AlchemicalNetwork:
    ligands = [SmallMoleculeComponent.from_smiles(s, n) for n, s in SMILES.items()]
    return plan_network(
        ligands, name="T4L99A relative", cycles=True, protein=t4l99a.protein(),
        settings=RelativeBindingProtocol.preset_settings("smoke"),
    )  # fmt: skip


def test_relative_binding_page_in_chromium(
    live_hub: str, hub_index: Index, hub_objects: ObjectStore, network: AlchemicalNetwork, tmp_path: Path
) -> None:
    assert len(network.edges) == 6  # three edges on one cycle, two legs each
    _complete_network(hub_index, hub_objects, network, tmp_path)
    link = httpx.get(f"{live_hub}/api/v1/networks/{network.key}/page-link", headers=bearer([SCOPE]))
    assert link.status_code == 200
    url = link.json()["url"]
    assert urlsplit(url).netloc == urlsplit(live_hub).netloc

    dom = chromium_dom(url, tmp_path)
    assert SMOKE_BANNER in dom and dom.index(SMOKE_BANNER) < dom.index("<h2>")
    # ranked by ΔG: ethylbenzene, toluene, benzene (true -6.6, -5.8, -5.0; the skew moves each by 0.3)
    ligands = _table(dom, "ligands")
    assert re.findall(r'<td class="name">([^<]+)</td>', ligands) == ["ethylbenzene", "toluene", "benzene"]
    values = {
        name: float(value)
        for name, value in re.findall(r'<td class="name">([^<]+)</td><td>([-+0-9.]+)</td>', ligands)
    }
    # shifted to the experimental mean (-5.49): the computed mean is the experimental mean
    assert sum(values.values()) / 3 == pytest.approx(sum(EXPERIMENT.values()) / 3, abs=0.006)
    for name, value in values.items():
        assert value - sum(values.values()) / 3 == pytest.approx(TRUE_DG[name] + 5.8, abs=0.31)
    assert ligands.count('src="data:image/svg+xml;base64,') == 3  # a depiction of each ligand
    assert "<td>-5.76 ± 0.10</td>" in ligands  # ethylbenzene's experiment
    # the cycle does not close: 0.9 against σ = sqrt(3 · 2 · 0.1²) = 0.24
    cycles = _table(dom, "cycles")
    assert re.search(r"<td>[+-]0\.90</td><td>0\.24</td><td class=\"open\">open beyond 2σ</td>", cycles), (
        cycles
    )
    edges = _table(dom, "edges")
    # benzene -> toluene: -0.8 + 0.9 skew, σ sqrt(2) · 0.1 (the legs in quadrature); or the reverse
    assert "<td>benzene → toluene</td><td>+0.10</td><td>0.14</td>" in edges or (
        "<td>toluene → benzene</td><td>-0.10</td><td>0.14</td>" in edges
    ), edges
    stats = _table(dom, "statistics")
    assert re.search(r"<td>RMSE</td><td>[0-9.]+ \[[-0-9.]+, [0-9.]+\] kcal/mol</td>", stats), stats
    images = re.findall(r"<img [^>]*>", dom)
    # the graph, ΔG and ΔΔG plots, 3 depictions, and per edge: its mapping + overlap and convergence of 2 legs
    assert len(images) == 3 + 3 + 3 * (1 + 2 * 2), len(images)
    unrendered = [
        img[:160]
        for img in images
        if "data:image/svg" not in img and not re.search(r'data-rendered="[1-9][0-9]*"', img)
    ]
    assert not unrendered, unrendered
    assert dom.count("drs://") == 6  # one bundle per leg

    shot = chromium_screenshot(url, tmp_path, tmp_path / "page.png")
    assert shot.startswith(b"\x89PNG") and len(shot) > 100_000


def test_relative_hydration_page_before_any_result(hub: Any, hub_index: Index) -> None:
    """A relative hydration cycle just submitted: the page renders with every edge waiting, no
    experiment and no banner (the fast preset's numbers mean something)."""
    ligands = [SmallMoleculeComponent.from_smiles(s, n) for n, s in SMILES.items()]
    network = plan_network(ligands, name="hydration cycle", cycles=True)
    hub_index.submit_network(network, scope=SCOPE)
    url = urlsplit(
        hub.get(f"/api/v1/networks/{network.key}/page-link", headers=bearer([SCOPE])).json()["url"]
    )
    page = hub.get(f"{url.path}?{url.query}")
    assert page.status_code == 200
    html = page.text
    assert "relative-hydration" in html and "ΔG_hyd" in html and SMOKE_BANNER not in html
    assert len(re.findall(r"<td>[^<]+ → [^<]+</td><td>–</td><td>–</td>", html)) == 3  # no values yet
    assert "id='no-experiment'" in html and "id='no-cycles'" in html
    assert html.count("data:image/svg+xml;base64,") == 3  # the ligands are drawn all the same
