"""The demo's method line says how long each leg sampled (legs stop once precise), from a summary."""

from __future__ import annotations

from fepflow.demo.absolute import _sampling_length


def test_sampling_length_comes_from_the_legs_iterations() -> None:
    summary = {
        "settings": {"simulation": {"steps_per_iteration": 500, "timestep_fs": 4.0}},
        "legs": {"solvent": {"n_iterations": 50}, "vacuum": {"n_iterations": 70}},
        "sampling_ns_per_state": 0.8,  # the preset's maximum: not what ran
    }
    text = _sampling_length(summary)
    assert "solvent 100 ps" in text and "vacuum 140 ps" in text and "0.80" not in text


def test_summaries_without_legs_fall_back_to_the_settings_length() -> None:
    assert _sampling_length({"sampling_ns_per_state": 0.4}) == "0.40 ns of sampling per state"
    assert _sampling_length({}) == "sampling length unknown"
