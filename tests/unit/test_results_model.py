"""The one result model: summaries written by earlier versions of fepflow read as the current one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fepflow.models.results import (
    STORED_VALUE_FIELDS,
    SUMMARY_VERSION,
    TaskSummary,
    gather,
    gather_stored,
    stored_value,
)

V1_NAMES = {
    "ddg_kcal_mol",
    "dg_hyd_kcal_mol",
    "dg_hyd_error_kcal_mol",
    "ddg_hyd_kcal_mol",
    "ddg_hyd_error_kcal_mol",
    "dg_leg_kcal_mol",
    "dg_leg_error_kcal_mol",
}


@pytest.fixture()
def v1_absolute(repo_root: Path) -> dict[str, Any]:
    """A bundle's summary.json as the absolute hydration protocol wrote it before version 2."""
    return dict(json.loads((repo_root / "tests" / "data" / "summary_v1_absolute.json").read_text()))


def test_a_version_1_summary_json_reads_as_the_current_summary(v1_absolute: dict[str, Any]) -> None:
    summary = TaskSummary.from_stored(v1_absolute)
    assert summary.summary_version == SUMMARY_VERSION
    assert (summary.dg_kcal_mol, summary.dg_mbar_error_kcal_mol) == (-4.71, 0.18)
    assert summary.quantity == "ΔG_hyd" and summary.protocol == "absolute-hydration"
    assert (summary.ligand, summary.repeat) == ("methanol", 1)
    solvent, vacuum = summary.legs["solvent"], summary.legs["vacuum"]
    assert (solvent.dg_kcal_mol, solvent.dg_mbar_error_kcal_mol) == (0.53, 0.16)
    assert (vacuum.dg_kcal_mol, vacuum.dg_mbar_error_kcal_mol) == (-4.18, 0.08)
    assert vacuum.statistical_inefficiency is None and solvent.resumed is True
    # what it recorded besides the numbers is kept
    assert summary.solvent_model is not None and summary.solvent_model.startswith("explicit")
    assert summary.sampling_ns_per_state == 0.05 and summary.setup["solvent_atoms"] == 2611
    assert summary.ns_per_day == {"solvent": 48.2, "vacuum": 912.0} and summary.timings["total_s"] == 880.2
    assert summary.warnings == v1_absolute["warnings"] and summary.host == "gpu-node-3"
    # stored again, it is a version-2 document with one name for the value and one for its error
    stored = summary.to_stored()
    assert stored["summary_version"] == SUMMARY_VERSION and not V1_NAMES & set(stored)
    assert not {"dg_decouple_kcal_mol", "dg_decouple_error_kcal_mol"} & set(stored["legs"]["solvent"])
    assert TaskSummary.from_stored(stored) == summary
    assert stored_value(stored) == stored_value(v1_absolute) == (-4.71, 0.18)


def test_every_version_1_layout_gives_its_value_and_error() -> None:
    relative = {
        "protocol": "relative-hydration",
        "transformation": "Transformation-r",
        "repeat": 0,
        "ligand_a": "ethane",
        "ligand_b": "methanol",
        "ddg_hyd_kcal_mol": -6.1,
        "ddg_hyd_error_kcal_mol": 0.3,
        "dg_kcal_mol": -6.1,
        "ddg_kcal_mol": 0.3,
        "dispersion_correction_kcal_mol": -0.02,
        "legs": {
            leg: {
                "dg_kcal_mol": dg,
                "dg_error_kcal_mol": 0.2,
                "n_states": 11,
                "n_iterations": 50,
                "equilibration_iterations": 2,
                "min_neighbour_overlap": 0.1,
            }
            for leg, dg in (("solvent", -3.0), ("vacuum", 3.08))
        },
    }
    binding_leg = {
        "protocol": "relative-binding",
        "leg": "complex",
        "dg_leg_kcal_mol": 1.5,
        "dg_leg_error_kcal_mol": 0.4,
    }
    harmonic = {
        "protocol": "harmonic-reference",
        "dg_kcal_mol": 0.36,
        "ddg_kcal_mol": 0.01,
        "exact_dg_kcal_mol": 0.362,
    }
    # absolute summaries before the generic names were added carried only the protocol's own
    early_absolute = {"protocol": "absolute-hydration", "dg_hyd_kcal_mol": -5.0, "dg_hyd_error_kcal_mol": 0.2}
    read = {
        name: TaskSummary.from_stored(doc)
        for name, doc in (
            ("relative", relative),
            ("binding", binding_leg),
            ("harmonic", harmonic),
            ("early", early_absolute),
        )
    }
    assert (read["relative"].dg_kcal_mol, read["relative"].dg_mbar_error_kcal_mol) == (-6.1, 0.3)
    assert read["relative"].quantity == "ΔΔG_hyd(A -> B)" and read["relative"].ligand_b == "methanol"
    assert read["relative"].legs["vacuum"].dg_mbar_error_kcal_mol == 0.2
    assert read["relative"].dispersion_correction_kcal_mol == -0.02
    assert (read["binding"].dg_kcal_mol, read["binding"].dg_mbar_error_kcal_mol, read["binding"].leg) == (
        1.5,
        0.4,
        "complex",
    )
    assert read["harmonic"].exact_dg_kcal_mol == 0.362 and read["harmonic"].dg_mbar_error_kcal_mol == 0.01
    assert (read["early"].dg_kcal_mol, read["early"].dg_mbar_error_kcal_mol) == (-5.0, 0.2)


def test_stored_repeats_of_both_versions_gather_alike(v1_absolute: dict[str, Any]) -> None:
    v2 = TaskSummary.from_stored(v1_absolute).model_copy(update={"dg_kcal_mol": -4.31, "repeat": 2})
    stored = [v1_absolute, v2.to_stored(), {"protocol": "absolute-hydration"}]  # the last has no value yet
    projected = [{k: s[k] for k in STORED_VALUE_FIELDS if k in s} for s in stored]
    estimate = gather_stored(projected)
    assert estimate is not None and estimate.n_repeats == 2
    assert estimate.dg_kcal_mol == pytest.approx(-4.51)
    assert estimate == gather([TaskSummary.from_stored(s) for s in stored[:2]])
    assert gather_stored([{"protocol": "absolute-hydration"}]) is None


def test_the_headline_error_is_the_repeat_spread_and_a_single_run_says_it_is_understated() -> None:
    from fepflow.models.results import SINGLE_RUN_NOTE, EstimateRow, gather_values

    three = gather_values([(-5.0, 0.05), (-5.4, 0.05), (-5.2, 0.05)])
    # openfe's convention: the standard deviation of the repeats (0.2), not the standard error (0.115)
    # nor the MBAR error of the mean (0.029): the old max(standard error, MBAR) quoted 0.115
    assert three.uncertainty_kcal_mol == pytest.approx(0.2)
    assert three.uncertainty_basis == "standard deviation of 3 repeats"
    assert three.mbar_error_kcal_mol == pytest.approx(0.05 / 3**0.5)  # kept beside it
    one = gather_values([(-5.0, 0.004)])
    assert one.uncertainty_kcal_mol == pytest.approx(0.004)
    assert one.uncertainty_basis == SINGLE_RUN_NOTE and "understated" in SINGLE_RUN_NOTE
    row = EstimateRow.with_estimate(one, transformation="t", name="n", protocol="absolute-hydration")
    assert row.uncertainty_basis == SINGLE_RUN_NOTE and row.uncertainty_kcal_mol == pytest.approx(0.004)
