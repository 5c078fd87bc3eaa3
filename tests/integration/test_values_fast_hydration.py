"""Values guarded: the fast preset's model (GBSA-OBC2, GAFF2/AM1-BCC) gives the hydration free energies
its long runs gave, for five small molecules, and orders them as experiment does.

Each molecule runs once with the short settings of ``tests/fast_values.py`` (100 ps per state, fixed
length, two molecules at a time); the references (one run of 600 ps per state each) and each
molecule's tolerance are in ``tests/data/fast_hydration_values.json`` with the command that made
them. The tolerance is the measured offset of three short repeats from the reference plus 4 combined
standard deviations (their spread, the reference's MBAR error), within 0.15-0.35 kcal/mol: the spreads
measured were 0.0002-0.024 kcal/mol, so every molecule's tolerance is the 0.15 floor. A sign error,
kJ instead of kcal, a leg left out or a 0.5 kcal/mol bias fails (checked against the stored values in
the first test, so that new references cannot loosen the guard). About 30 s of CPU; 2 min 5 s wall
measured on the shared 2-core machine at load 22.
"""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fast_values import MOLECULES, REFERENCE, SHORT, run

REFERENCES: dict[str, Any] = json.loads(REFERENCE.read_text())["molecules"]
KJ_PER_KCAL = 4.184


def test_the_tolerances_catch_sign_unit_leg_and_bias_errors() -> None:
    for name, ref in REFERENCES.items():
        dg, tol = ref["reference_dg_kcal_mol"], ref["tolerance_kcal_mol"]
        assert tol < 0.5, f"{name}: a 0.5 kcal/mol bias would pass"
        assert abs(2 * dg) > tol, f"{name}: a sign error would pass"
        assert abs(dg * KJ_PER_KCAL - dg) > tol, f"{name}: kJ/mol for kcal/mol would pass"
    for leg in ("solvent", "vacuum"):
        caught = [
            n for n, ref in REFERENCES.items() if abs(ref["legs_kcal_mol"][leg]) > ref["tolerance_kcal_mol"]
        ]
        assert caught, f"leaving out the {leg} leg would pass for every molecule"
    assert set(REFERENCES) == set(MOLECULES)


@pytest.fixture(scope="module")
def computed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    work: Path = tmp_path_factory.mktemp("values")
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool:
        futures = {name: pool.submit(run, name, SHORT, 0, work / name, work / "cache") for name in MOLECULES}
        return {name: f.result() for name, f in futures.items()}


@pytest.mark.parametrize("name", list(MOLECULES))
def test_the_fast_model_reproduces_its_reference(computed: dict[str, dict[str, Any]], name: str) -> None:
    ref = REFERENCES[name]
    dg = computed[name]["dg_kcal_mol"]
    assert dg == pytest.approx(ref["reference_dg_kcal_mol"], abs=ref["tolerance_kcal_mol"]), (
        f"{name}: ΔG_hyd {dg:+.3f} kcal/mol, reference {ref['reference_dg_kcal_mol']:+.3f} "
        f"± {ref['tolerance_kcal_mol']} (legs now {computed[name]['legs_kcal_mol']}, "
        f"reference {ref['legs_kcal_mol']})"
    )


def test_the_order_is_experiments(computed: dict[str, dict[str, Any]]) -> None:
    dg = {name: row["dg_kcal_mol"] for name, row in computed.items()}
    assert dg["methanol"] < dg["methane"] - 3.0  # experiment: -5.1 and +2.0 kcal/mol
    assert dg["ethanol"] < dg["methane"] - 3.0  # -5.0
    assert dg["phenol"] < dg["toluene"] - 3.0  # -6.6 and -0.9
    assert dg["methane"] > 0  # methane is less soluble in water than in vacuum
