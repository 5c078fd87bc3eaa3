"""The report pieces: agreement statistics, the correlation plot, and the results page's HTML."""

from __future__ import annotations

import pytest

from fepflow.analysis.report import (
    MoleculeRow,
    PageFigure,
    agreement,
    correlation_png,
    pairs_against,
    render_html,
)

ROWS = [
    MoleculeRow("methanol", -4.1, 0.2, experiment_kcal_mol=-5.1, published_kcal_mol=-3.5),
    MoleculeRow("toluene", -0.5, 0.3, experiment_kcal_mol=-0.9, published_kcal_mol=-0.6),
    MoleculeRow("phenol", -6.0, 0.4, experiment_kcal_mol=-6.6, published_kcal_mol=-5.8),
    MoleculeRow("<script>", None, None),
]


def test_agreement_against_references() -> None:
    stats = agreement(pairs_against(ROWS, "experiment"))
    assert stats is not None and stats.n == 3
    assert stats.mae == pytest.approx((1.0 + 0.4 + 0.6) / 3)
    assert stats.rmse == pytest.approx(((1.0 + 0.16 + 0.36) / 3) ** 0.5)
    assert stats.r is not None and stats.r > 0.95
    assert agreement([]) is None


def test_correlation_plot_is_a_png() -> None:
    data = correlation_png(ROWS)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert 5_000 < len(data) < 200_000


def test_page_lists_values_escapes_names_and_marks_images() -> None:
    page = render_html(
        title="t",
        subtitle="s",
        status={"complete": 3, "error": 0},
        rows=ROWS,
        figures=[PageFigure("corr", "correlation.png")],
        links=[("summary.json", "/ga4gh/drs/v1/stream/x?token=y")],
    )
    assert "<td>methanol</td><td>-4.10</td><td>0.20</td><td>-3.50</td><td>-5.10</td>" in page
    assert "&lt;script&gt;" in page and "<script>" not in page
    assert "against experiment: MAE 0.67 kcal/mol" in page
    assert "complete 3" in page and "error 0" not in page
    assert "onload='this.dataset.rendered=this.naturalWidth'" in page
    assert "href='/ga4gh/drs/v1/stream/x?token=y'" in page


def test_a_single_runs_error_bar_is_marked_and_explained() -> None:
    from fepflow.analysis.report import UNCERTAINTY_NOTE
    from fepflow.models.results import gather_values, uncertainty_basis

    one = gather_values([(-4.1, 0.004)])  # the demo's "± 0.00"
    three = gather_values([(-4.1, 0.004), (-4.4, 0.004), (-4.0, 0.004)])
    rows = [
        MoleculeRow(
            "methanol", one.dg_kcal_mol, one.uncertainty_kcal_mol, uncertainty_basis=one.uncertainty_basis
        ),
        MoleculeRow(
            "phenol", three.dg_kcal_mol, three.uncertainty_kcal_mol, uncertainty_basis=uncertainty_basis(3)
        ),
    ]
    page = render_html(title="t", subtitle="s", status={}, rows=rows)
    assert "<td>methanol</td><td>-4.10</td><td>0.00*</td>" in page
    assert "<td>phenol</td><td>-4.17</td><td>0.21</td>" in page  # the spread, not 0.21 / √3
    assert UNCERTAINTY_NOTE.replace("'", "&#x27;") in page and "likely understated" in UNCERTAINTY_NOTE
