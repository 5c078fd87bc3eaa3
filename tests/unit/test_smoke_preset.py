"""The smoke presets: tiny, and recognisable by their settings alone; the other presets are not smoke runs."""

from __future__ import annotations

import pytest

from fepflow.models.protocol_registry import protocol_class
from fepflow.models.smoke import SMOKE_MAX_PS_PER_STATE, is_smoke, sampling_ps_per_state

CHEMISTRY = ("absolute-hydration", "relative-hydration", "relative-binding")


@pytest.mark.parametrize("protocol", CHEMISTRY)
def test_smoke_preset_is_tiny_and_recognised(protocol: str) -> None:
    cls = protocol_class(protocol)
    smoke = cls.preset_settings("smoke")
    # 4 iterations x 10 steps x 2 fs = 0.08 ps per state, 3 states, one repeat
    assert sampling_ps_per_state(smoke) == pytest.approx(0.08)
    assert smoke["repeats"] == 1
    assert cls(smoke).settings.simulation.ns_per_state == pytest.approx(8e-5)
    assert is_smoke(smoke)
    # an override of the smoke preset is still a smoke run
    assert is_smoke(cls.preset_settings("smoke", simulation={"production_iterations": 6}))
    for preset in ("fast", "production"):
        settings = cls.preset_settings(preset)
        assert not is_smoke(settings)
        assert sampling_ps_per_state(settings) >= 10 * SMOKE_MAX_PS_PER_STATE


def test_smoke_windows() -> None:
    for protocol in ("relative-hydration", "relative-binding"):
        assert protocol_class(protocol).preset_settings("smoke")["lambdas"]["windows"] == 3
    lambdas = protocol_class("absolute-hydration").preset_settings("smoke")["lambdas"]
    assert len(lambdas["electrostatics"]) == len(lambdas["sterics"]) == 3


def test_settings_without_sampling_are_not_smoke() -> None:
    assert not is_smoke({})
    assert not is_smoke({"simulation": {"production_iterations": 1}})
    # the harmonic reference has no simulation section: never a smoke run
    assert not is_smoke(protocol_class("harmonic-reference").preset_settings("fast"))
