"""Absolute binding's contributions averaged over repeats, as rows and roll-ups carry them."""

from __future__ import annotations

import pytest

from fepflow.models.binding import mean_contributions
from fepflow.models.results import EstimateRow


def _summary(complex_: float, solvent: float, restraint: float) -> dict:
    return {
        "dg_kcal_mol": solvent - complex_ - restraint,
        "contributions": {
            "complex_kcal_mol": complex_,
            "solvent_kcal_mol": solvent,
            "restraint_correction_kcal_mol": restraint,
            "formula": "ΔG_bind = ΔG_solvent - ΔG_complex - ΔG_restraint",
        },
    }


def test_means_over_repeats_and_nothing_for_other_protocols() -> None:
    means = mean_contributions([_summary(14.0, 1.0, -7.0), _summary(15.0, 0.5, -7.2), {"dg_kcal_mol": 1.0}])
    assert means == pytest.approx(
        {"complex_kcal_mol": 14.5, "solvent_kcal_mol": 0.75, "restraint_correction_kcal_mol": -7.1}
    )
    assert mean_contributions([{"dg_kcal_mol": -3.0, "ligand": "ethanol"}]) == {}
    row = EstimateRow(transformation="t", name="binding of benzene", protocol="absolute-binding", **means)
    assert row.restraint_correction_kcal_mol == pytest.approx(-7.1)


def test_fepflow_results_shows_the_contributions_only_for_binding() -> None:
    from fepflow.cli.network_results import transformation_rows

    binding = EstimateRow(
        transformation="t1",
        name="binding of benzene",
        protocol="absolute-binding",
        n_tasks=1,
        n_repeats=1,
        dg_kcal_mol=-5.25,
        uncertainty_kcal_mol=0.4,
        complex_kcal_mol=13.0,
        solvent_kcal_mol=0.75,
        restraint_correction_kcal_mol=-7.0,
    )
    columns, rows = transformation_rows([binding])
    assert columns[-3:] == ["ΔG_complex", "ΔG_solvent", "ΔG_restraint"]
    assert rows == [
        ["binding of benzene", "absolute-binding", "1/1", "-5.25", "0.40", "+13.00", "+0.75", "-7.00"]
    ]
    hydration = EstimateRow(transformation="t2", name="hydration of ethanol", protocol="absolute-hydration")
    assert transformation_rows([hydration])[0] == ["transformation", "protocol", "repeats", "ΔG", "±"]


def test_dagster_estimates_table_shows_the_contributions() -> None:
    from orchestrator.assets.estimates import estimate_rows

    docs = [
        {"transformation": "t1", "name": "binding of toluene", "dg_kcal_mol": -5.0, "uncertainty_kcal_mol": 0.3,
         "n_repeats": 3, "complex_kcal_mol": 12.5, "solvent_kcal_mol": 0.5, "restraint_correction_kcal_mol": -7.0},
        {"transformation": "t2", "name": "hydration of ethanol", "dg_kcal_mol": -5.1, "uncertainty_kcal_mol": 0.1,
         "n_repeats": 1},
    ]  # fmt: skip
    columns, rows = estimate_rows(docs)
    assert columns[-3:] == ["ΔG_complex", "ΔG_solvent", "ΔG_restraint"]
    assert rows[0] == "| binding of toluene | -5.00 | 0.30 | 3 | +12.50 | +0.50 | -7.00 |"
    assert rows[1].endswith("| 1 |  |  |  |")
    assert estimate_rows(docs[1:])[0] == ["transformation", "ΔG (kcal/mol)", "±", "repeats"]


def test_results_page_sentence_states_the_cycle() -> None:
    from fepflow.models.binding import contribution_sentence

    values = {"complex_kcal_mol": 13.0, "solvent_kcal_mol": 0.75, "restraint_correction_kcal_mol": -7.0}
    sentence = contribution_sentence("benzene", values)
    assert sentence is not None and sentence.startswith("benzene: ΔG_bind -5.25 = ΔG_solvent +0.75")
    assert contribution_sentence("ethanol", {"complex_kcal_mol": None}) is None
