"""A relative network's results page, rendered from a NetworkEstimates made here: ranked ligands,
the smoke banner, the statistics against experiment, the figures, and a page without experiment."""

from __future__ import annotations

import base64
import math
import re

import pytest

from fepflow.analysis.network_plots import (
    agreement_png,
    edge_points,
    graph_layout,
    ligand_points,
    network_graph_png,
)
from fepflow.analysis.network_report import (
    NO_EXPERIMENT,
    SMOKE_BANNER,
    ranked,
    render_network_html,
)
from fepflow.analysis.report import PageFigure
from fepflow.models.network_results import (
    AgreementStatistics,
    CycleClosureEstimate,
    EdgeEstimate,
    LigandEstimate,
    NetworkEstimates,
    Statistic,
)

PNG = b"\x89PNG\r\n\x1a\n"


def _stats(n: int, rmse: float) -> AgreementStatistics:
    return AgreementStatistics(
        n=n,
        rmse=Statistic(value=rmse, low=rmse - 0.21, high=rmse + 0.28),
        mue=Statistic(value=0.41, low=0.2, high=0.7),
        r2=Statistic(value=0.64, low=0.1, high=0.99),
        kendall_tau=Statistic(value=0.67, low=-0.33, high=1.0),
    )


def estimates(*, smoke: bool = False, experiment: bool = True) -> NetworkEstimates:
    """T4 lysozyme L99A: four ligands, a three-edge cycle that does not close and a spur."""
    expt = {"benzene": -5.19, "toluene": -5.52, "ethylbenzene": -5.76, "p-xylene": -4.60}
    dg = {"benzene": -5.0, "toluene": -5.9, "ethylbenzene": -6.3, "p-xylene": -4.1}
    edges = [
        ("benzene", "toluene", -0.9, 0.15),
        ("toluene", "ethylbenzene", -0.4, 0.2),
        ("benzene", "ethylbenzene", -0.2, 0.1),
        ("toluene", "p-xylene", 1.8, 0.6),
    ]
    ranks = {name: i + 1 for i, name in enumerate(sorted(dg, key=dg.__getitem__))}
    return NetworkEstimates(
        network="AlchemicalNetwork-t4l",
        protocol="relative-binding",
        edges=[
            EdgeEstimate(
                ligand_a=a,
                ligand_b=b,
                ddg_kcal_mol=v,
                uncertainty_kcal_mol=s,
                stdev_kcal_mol=s / 2,
                mbar_error_kcal_mol=s,
                n_repeats=2,
                legs={"complex": f"T-{a}-{b}-c", "solvent": f"T-{a}-{b}-s"},
                experimental_ddg_kcal_mol=expt[b] - expt[a] if experiment else None,
                on_unclosed_cycle=b != "p-xylene",
            )
            for a, b, v, s in edges
        ],
        ligands=[
            LigandEstimate(
                ligand=name,
                dg_kcal_mol=value,
                uncertainty_kcal_mol=0.2,
                rank=ranks[name],
                experimental_dg_kcal_mol=expt[name] if experiment else None,
                experimental_uncertainty_kcal_mol=0.3 if name == "ethylbenzene" and experiment else 0.0,
            )
            for name, value in sorted(dg.items())
        ],
        cycles=[
            CycleClosureEstimate(
                ligands=["benzene", "toluene", "ethylbenzene"],
                closure_kcal_mol=-1.1,
                uncertainty_kcal_mol=0.27,
                within_2_sigma=False,
            )
        ],
        shifted_to_experiment=experiment,
        edge_statistics=_stats(4, 0.52) if experiment else None,
        ligand_statistics=_stats(4, 0.38) if experiment else None,
        warnings=["cycle benzene → toluene → ethylbenzene does not close within 2σ (-1.10 ± 0.27)"],
        smoke=smoke,
    )


def _images(page: str) -> list[str]:
    return re.findall(r"<img [^>]*>", page)


def _decoded_pngs(page: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r"src='data:image/png;base64,([^']+)'", page)]


def test_ligands_are_listed_in_rank_order_with_their_values_and_experiment() -> None:
    est = estimates()
    assert [lig.ligand for lig in ranked(est.ligands)] == ["ethylbenzene", "toluene", "benzene", "p-xylene"]
    page = render_network_html(est, title="t", subtitle="s", status={"complete": 8})
    table = page[
        page.index("<table id='ligands'>") : page.index("</table>", page.index("<table id='ligands'>"))
    ]
    names = re.findall(r"<td class='name'>([^<]+)</td>", table)
    assert names == ["ethylbenzene", "toluene", "benzene", "p-xylene"]
    assert "<td class='name'>ethylbenzene</td><td>-6.30</td><td>0.20</td><td>-5.76 ± 0.30</td>" in table
    assert "<td>1</td>" in table and "ΔG_bind" in page


def test_unranked_and_valueless_ligands_come_last() -> None:
    ligs = [
        LigandEstimate(ligand="later", connected=False, awaiting_results=True),
        LigandEstimate(ligand="none", connected=False),
        LigandEstimate(ligand="b", dg_kcal_mol=-1.0),
        LigandEstimate(ligand="a", dg_kcal_mol=-2.0, rank=2),
        LigandEstimate(ligand="c", dg_kcal_mol=-3.0, rank=1),
    ]
    assert [lig.ligand for lig in ranked(ligs)] == ["c", "a", "b", "later", "none"]
    est = NetworkEstimates(network="N", protocol="relative-hydration", ligands=ligs)
    page = render_network_html(est, title="t", subtitle="s", status={})
    assert "later (awaiting results)" in page and "none (not connected to the rest)" in page


def test_smoke_banner_only_for_smoke_results() -> None:
    smoke = render_network_html(estimates(smoke=True), title="t", subtitle="s", status={})
    assert SMOKE_BANNER in smoke and "id='smoke'" in smoke
    assert smoke.index(SMOKE_BANNER) < smoke.index("<h2>")  # above everything else
    plain = render_network_html(estimates(), title="t", subtitle="s", status={})
    assert SMOKE_BANNER not in plain


def test_statistics_with_their_intervals_and_both_correlation_plots() -> None:
    page = render_network_html(estimates(), title="t", subtitle="s", status={})
    stats = page[page.index("<table id='statistics'>") :]
    assert "<td>0.38 [0.17, 0.66] kcal/mol</td><td>0.52 [0.31, 0.80] kcal/mol</td>" in stats
    assert "<td>Kendall τ</td><td>0.67 [-0.33, 1.00]</td>" in stats
    assert "n = 4" in stats and "95% bootstrap confidence interval" in stats
    assert NO_EXPERIMENT not in page
    pngs = _decoded_pngs(page)
    assert len(pngs) == 3  # the graph, ΔG and ΔΔG
    assert all(p.startswith(PNG) and 10_000 < len(p) < 300_000 for p in pngs)
    assert "alt='ΔG_bind per ligand (centred)'" in page and "alt='ΔΔG_bind per edge'" in page


def test_without_experiment_a_sentence_instead_of_plots() -> None:
    est = estimates(experiment=False)
    assert ligand_points(est) == [] and edge_points(est) == []
    page = render_network_html(est, title="t", subtitle="s", status={"running": 2})
    assert NO_EXPERIMENT in page and "id='statistics'" not in page
    assert len(_decoded_pngs(page)) == 1  # the graph only
    assert "centred on zero" in page


def test_a_network_without_any_result_yet_renders() -> None:
    est = NetworkEstimates(
        network="N",
        protocol="relative-hydration",
        edges=[EdgeEstimate(ligand_a="a", ligand_b="b")],
        ligands=[LigandEstimate(ligand="a"), LigandEstimate(ligand="b")],
    )
    page = render_network_html(est, title="t", subtitle="s", status={"waiting": 2})
    assert "id='no-cycles'" in page and NO_EXPERIMENT in page
    assert "<td>a → b</td><td>–</td>" in page
    assert network_graph_png(NetworkEstimates(network="empty", protocol="relative-hydration")).startswith(PNG)


def test_ligand_points_are_centred_and_edge_points_paired() -> None:
    points = ligand_points(estimates())
    assert sum(p.computed for p in points) == pytest.approx(0.0, abs=1e-12)
    assert sum(p.experiment for p in points) == pytest.approx(0.0, abs=1e-12)
    by = {p.label: p for p in points}
    # differences are kept: ethylbenzene - benzene, computed -1.3, experiment -0.57
    assert by["ethylbenzene"].computed - by["benzene"].computed == pytest.approx(-1.3)
    assert by["ethylbenzene"].experiment - by["benzene"].experiment == pytest.approx(-0.57)
    edge = {p.label: p for p in edge_points(estimates())}["toluene→p-xylene"]
    assert (edge.computed, edge.experiment, edge.computed_error) == pytest.approx((1.8, 0.92, 0.6))


def test_cycle_table_edges_flagged_and_escaped_names() -> None:
    est = estimates()
    page = render_network_html(est, title="<b>", subtitle="s", status={})
    assert "<td>benzene → toluene → ethylbenzene → benzene</td><td>-1.10</td><td>0.27</td>" in page
    assert "<td class='open'>open beyond 2σ</td>" in page
    assert "&lt;b&gt;" in page and "<b><" not in page
    nasty = est.model_copy(update={"warnings": ["<script>alert(1)</script>"]})
    assert "<script>" not in render_network_html(nasty, title="t", subtitle="s", status={})


def test_depictions_edge_figures_and_links_are_on_the_page() -> None:
    svg = "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'><title>benzene</title></svg>"
    figures = {("benzene", "toluene"): [PageFigure("complex leg: overlap", "/ga4gh/drs/v1/stream/x?token=y")]}
    page = render_network_html(
        estimates(), title="t", subtitle="s", status={}, depictions={"benzene": svg},
        edge_figures=figures, links=[("bundle drs://hub/x", "/ga4gh/drs/v1/stream/b?token=y")],
    )  # fmt: skip
    [picture] = re.findall(r"src='data:image/svg\+xml;base64,([^']+)'", page)
    assert base64.b64decode(picture).decode() == svg
    assert "<h3>benzene → toluene</h3>" in page and "src='/ga4gh/drs/v1/stream/x?token=y'" in page
    assert "<ul id='drs'>" in page
    assert all(
        "onload='this.dataset.rendered=this.naturalWidth'" in img for img in _images(page) if ".png" in img
    )


def test_layout_follows_the_graph() -> None:
    names = ["a", "b", "c", "d"]
    pos = graph_layout(names, [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")])
    assert set(pos) == set(names)
    assert all(-1.0 - 1e-9 <= v <= 1.0 + 1e-9 for xy in pos.values() for v in xy)

    def dist(p: str, q: str) -> float:
        return math.dist(pos[p], pos[q])

    # the triangle's sides are about equal; d sits further from a and b than from its neighbour c
    sides = [dist("a", "b"), dist("b", "c"), dist("c", "a")]
    assert max(sides) / min(sides) < 1.25
    assert dist("c", "d") < min(dist("a", "d"), dist("b", "d"))
    pairs = [(p, q) for p in names for q in names if p < q]
    assert min(dist(p, q) for p, q in pairs) > 0.3  # no two nodes on top of each other
    assert graph_layout(["x"], []) == {"x": (0.0, 0.0)}


def test_agreement_png_without_statistics() -> None:
    points = edge_points(estimates())
    assert agreement_png(points, None, quantity="ΔΔG", title="t").startswith(PNG)
