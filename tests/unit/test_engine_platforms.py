"""Platform choice: only platforms that can run a Context count; a bad request names what works."""

from __future__ import annotations

import openmm
import pytest

from fepflow.engine.errors import PlatformError
from fepflow.engine.platforms import (
    PlatformChoice,
    choose_platform,
    device_properties,
    working_platforms,
)


def test_default_choice_works_and_prefers_gpus() -> None:
    choice = choose_platform(threads=1)
    working = working_platforms(threads=1)
    assert choice.name in working
    preferred = [name for name in ("CUDA", "OpenCL", "CPU") if name in working]
    assert choice.name == preferred[0]
    system = openmm.System()
    system.addParticle(1.0)
    context = openmm.Context(system, openmm.VerletIntegrator(0.001), choice.platform, choice.properties)
    assert context.getPlatform().getName() == choice.name


def test_cpu_gets_threads_and_no_precision() -> None:
    choice = choose_platform("CPU", threads=1)
    assert choice.name == "CPU"
    assert choice.properties == {"Threads": "1"}
    assert not choice.is_gpu


def test_bogus_platform_names_itself_and_what_works() -> None:
    with pytest.raises(PlatformError) as err:
        choose_platform("Bogus")
    message = str(err.value)
    assert "'Bogus'" in message
    assert "working platforms:" in message
    assert "CPU" in message


def test_unusable_gpu_platform_is_refused_with_reason() -> None:
    if "CUDA" in working_platforms():
        pytest.skip("CUDA works on this machine")
    with pytest.raises(
        PlatformError, match=r"'CUDA' does not work on this machine .*working platforms: .*CPU"
    ):
        choose_platform("CUDA")


def test_bad_arguments() -> None:
    with pytest.raises(PlatformError, match="precision"):
        choose_platform("CPU", precision="quad")  # type: ignore[arg-type]
    with pytest.raises(PlatformError, match="threads"):
        choose_platform("CPU", threads=0)


def test_device_properties_pins_gpus_only() -> None:
    cpu = choose_platform("CPU", threads=1)
    assert device_properties(cpu, 1) is cpu
    fake_gpu = PlatformChoice(name="CUDA", platform=cpu.platform, properties={"Precision": "mixed"})
    pinned = device_properties(fake_gpu, 3)
    assert pinned.properties == {"Precision": "mixed", "DeviceIndex": "3"}
    assert fake_gpu.properties == {"Precision": "mixed"}
    assert device_properties(fake_gpu, "0,1").properties["DeviceIndex"] == "0,1"
    with pytest.raises(PlatformError, match="device index"):
        device_properties(fake_gpu, -1)
