"""OpenMM platform choice: CUDA > OpenCL > CPU, counting only platforms that can run a Context.

A platform that OpenMM lists may still fail when a Context is created (no driver, no device, a
plugin compiled for another CUDA). :func:`choose_platform` therefore creates a Context on a
one-particle System for each candidate and keeps the first that works.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Literal

import openmm

from fepflow.engine.errors import PlatformError

logger = logging.getLogger(__name__)

#: Platforms tried, in order, when no name is given. Reference is only used when asked for by name.
PREFERRED_ORDER: tuple[str, ...] = ("CUDA", "OpenCL", "CPU")
GPU_PLATFORMS: frozenset[str] = frozenset({"CUDA", "OpenCL", "HIP"})
Precision = Literal["single", "mixed", "double"]


@dataclass(frozen=True)
class PlatformChoice:
    """An OpenMM platform known to work here, with the properties to create Contexts with.

    Attributes
    ----------
    name : str
        Platform name (``"CUDA"``, ``"OpenCL"``, ``"CPU"`` or ``"Reference"``).
    platform : openmm.Platform
        The platform object.
    properties : dict of str to str
        Platform properties for ``openmm.Context`` (``Precision`` on GPUs, ``Threads`` on CPU,
        ``DeviceIndex`` once pinned with :func:`device_properties`).
    """

    name: str
    platform: openmm.Platform = field(repr=False, compare=False)
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def is_gpu(self) -> bool:
        """Whether the platform runs on a GPU."""
        return self.name in GPU_PLATFORMS


def _properties_for(name: str, threads: int | None, precision: Precision) -> dict[str, str]:
    if name in GPU_PLATFORMS:
        return {"Precision": precision}
    if name == "CPU" and threads is not None:
        return {"Threads": str(threads)}
    return {}


def _registered_platforms() -> list[str]:
    return [openmm.Platform.getPlatform(i).getName() for i in range(openmm.Platform.getNumPlatforms())]


def _try_platform(name: str, properties: dict[str, str]) -> tuple[openmm.Platform | None, str]:
    """Create a Context on a one-particle System; return the platform, or None and why it failed."""
    try:
        platform = openmm.Platform.getPlatformByName(name)
    except Exception as exc:  # OpenMMException: no such platform registered
        return None, f"not registered ({exc})"
    system = openmm.System()
    system.addParticle(1.0)
    integrator = openmm.VerletIntegrator(0.001)
    try:
        context = openmm.Context(system, integrator, platform, properties)
        context.setPositions([openmm.Vec3(0.0, 0.0, 0.0)])
        context.getState(getEnergy=True)
        del context
    except Exception as exc:  # any driver, device or property failure
        return None, str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return platform, ""


def working_platforms(*, threads: int | None = None, precision: Precision = "mixed") -> list[str]:
    """Names of the registered platforms on which a Context can actually be created.

    Parameters
    ----------
    threads : int, optional
        CPU thread count to test the CPU platform with.
    precision : {"single", "mixed", "double"}
        Precision to test GPU platforms with.

    Returns
    -------
    list of str
        Working platform names, in OpenMM's registration order.
    """
    return [
        name
        for name in _registered_platforms()
        if _try_platform(name, _properties_for(name, threads, precision))[0] is not None
    ]


def choose_platform(
    name: str | None = None, *, threads: int | None = None, precision: Precision = "mixed"
) -> PlatformChoice:
    """Choose a working OpenMM platform.

    Parameters
    ----------
    name : str, optional
        A platform to use (``"CUDA"``, ``"OpenCL"``, ``"CPU"``, ``"Reference"``). Without it the first
        working platform of CUDA, OpenCL, CPU is chosen.
    threads : int, optional
        Threads for the CPU platform (``Threads`` property); OpenMM's default when omitted.
    precision : {"single", "mixed", "double"}
        Precision on GPU platforms (``Precision`` property); mixed by default.

    Returns
    -------
    PlatformChoice
        The platform and the Context properties to use with it.

    Raises
    ------
    PlatformError
        The requested platform does not work here (the message names it, why, and the platforms
        that do work), or no platform works at all.
    """
    if precision not in ("single", "mixed", "double"):
        raise PlatformError(f"precision must be 'single', 'mixed' or 'double', not {precision!r}")
    if threads is not None and threads < 1:
        raise PlatformError(f"threads must be at least 1, not {threads}")
    failures: dict[str, str] = {}
    candidates = [name] if name is not None else list(PREFERRED_ORDER)
    for candidate in candidates:
        properties = _properties_for(candidate, threads, precision)
        platform, why = _try_platform(candidate, properties)
        if platform is not None:
            logger.info("OpenMM platform %s with properties %s", candidate, properties)
            return PlatformChoice(name=candidate, platform=platform, properties=properties)
        failures[candidate] = why
        logger.debug("OpenMM platform %s does not work here: %s", candidate, why)
    working = working_platforms(threads=threads, precision=precision)
    if name is not None:
        raise PlatformError(
            f"OpenMM platform {name!r} does not work on this machine ({failures[name]}); "
            f"working platforms: {', '.join(working) or 'none'}"
        )
    if "Reference" in working:
        # The slow reference platform is never chosen silently, but it is better than nothing.
        logger.warning("no fast OpenMM platform works here (%s); using Reference", failures)
        platform, _ = _try_platform("Reference", {})
        return PlatformChoice(name="Reference", platform=platform, properties={})
    raise PlatformError(f"no OpenMM platform works on this machine: {failures}")


def device_properties(choice: PlatformChoice, device_index: int | str) -> PlatformChoice:
    """Pin a platform choice to one GPU device (``DeviceIndex``), for one slot of a GPU allocator.

    Parameters
    ----------
    choice : PlatformChoice
        A choice from :func:`choose_platform`.
    device_index : int or str
        Device index as OpenMM counts them (after ``CUDA_VISIBLE_DEVICES``); a comma-separated
        string spreads one Context over several devices.

    Returns
    -------
    PlatformChoice
        A copy with ``DeviceIndex`` set on GPU platforms; CPU and Reference have no devices to pin,
        so their choice comes back unchanged.

    Raises
    ------
    PlatformError
        A negative index.
    """
    text = str(device_index)
    if any(not part.strip().isdigit() for part in text.split(",")):
        raise PlatformError(f"device index must be a non-negative integer, not {device_index!r}")
    if not choice.is_gpu:
        return choice
    return dataclasses.replace(choice, properties={**choice.properties, "DeviceIndex": text})
