"""The protocol interface every free energy method plugs into.

A protocol turns one repeat of one transformation (a *task*) into a result bundle, in units that
each leave their work on disk so that a task killed at any moment resumes where it stopped:

    setup -> simulate (one unit per leg) -> analyse

and ``gather`` combines the summaries of a transformation's repeats into one estimate. Protocols know
nothing of Dagster, MongoDB or the object store: the orchestrator calls :meth:`Protocol.run_task`
with a working folder and uploads what it returns.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel

from fepflow.models.base import ModelError
from fepflow.models.transformations import Transformation
from fepflow.protocols.registry import normalise_settings

Progress = Callable[[str, int, int], None]
"""``progress(unit, done, total)``: called as a unit advances (iterations, or 0/1 for short units)."""


class ProtocolError(ModelError):
    """A transformation this protocol cannot run, reported before any simulation starts."""


@dataclass
class TaskResult:
    """What one task produced: a JSON-able summary and the files of its bundle."""

    summary: dict[str, Any]
    files: dict[str, Path] = field(default_factory=dict)
    """Bundle member name -> file on disk (energies.npz, summary.json, plots, log)."""


@dataclass(frozen=True)
class Estimate:
    """A transformation's estimate from its repeats, in kcal/mol."""

    dg_kcal_mol: float
    """Mean of the repeats' ΔG."""
    stdev_kcal_mol: float
    """Standard deviation of the repeats' ΔG (0 for one repeat)."""
    mbar_error_kcal_mol: float
    """MBAR uncertainty of the mean: sqrt(sum σ_i²) / n."""
    n_repeats: int
    """How many completed repeats went into the estimate."""

    @property
    def uncertainty_kcal_mol(self) -> float:
        """The larger of the repeat spread (standard error) and the MBAR error: what to quote."""
        sem = self.stdev_kcal_mol / math.sqrt(self.n_repeats) if self.n_repeats > 1 else 0.0
        return max(sem, self.mbar_error_kcal_mol)


def gather_estimates(values: list[tuple[float, float]]) -> Estimate:
    """Combine repeats given as ``(ΔG, MBAR error)`` pairs in kcal/mol."""
    if not values:
        raise ValueError("no completed repeats to gather")
    n = len(values)
    mean = sum(v for v, _ in values) / n
    stdev = math.sqrt(sum((v - mean) ** 2 for v, _ in values) / (n - 1)) if n > 1 else 0.0
    mbar = math.sqrt(sum(e * e for _, e in values)) / n
    return Estimate(dg_kcal_mol=mean, stdev_kcal_mol=stdev, mbar_error_kcal_mol=mbar, n_repeats=n)


class Protocol(ABC):
    """Base class: settings validated once; presets by name; one task run at a time."""

    name: ClassVar[str]
    settings_model: ClassVar[type[BaseModel]]
    presets: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init__(self, settings: BaseModel | dict[str, Any] | None = None) -> None:
        data = normalise_settings(self.name, settings if settings is not None else {})
        self.settings = self.settings_model.model_validate(data)

    @classmethod
    def preset_settings(cls, preset: str, **overrides: Any) -> dict[str, Any]:
        """The full settings of a named preset, with ``overrides`` merged into its sections."""
        if preset not in cls.presets:
            raise ProtocolError(
                f"protocol {cls.name!r} has no preset {preset!r}; presets: {', '.join(cls.presets)}"
            )
        merged = _merge(cls.presets[preset], overrides)
        return normalise_settings(cls.name, merged)

    @classmethod
    def from_preset(cls, preset: str, **overrides: Any) -> Protocol:
        return cls(cls.preset_settings(preset, **overrides))

    @classmethod
    def for_transformation(cls, transformation: Transformation) -> Protocol:
        if transformation.protocol != cls.name:
            raise ProtocolError(
                f"transformation {transformation.label!r} uses protocol {transformation.protocol!r}, not {cls.name!r}"
            )
        return cls(transformation.settings)

    @abstractmethod
    def validate(self, transformation: Transformation) -> None:
        """Raise :class:`ProtocolError` for anything that would fail later; runs nothing."""

    @abstractmethod
    def run_task(
        self,
        transformation: Transformation,
        *,
        repeat: int,
        workdir: Path,
        platform: str | None = None,
        extend_iterations: int = 0,
        progress: Progress | None = None,
    ) -> TaskResult:
        """Run (or resume, or extend) one repeat in ``workdir`` and return its bundle."""

    @staticmethod
    @abstractmethod
    def gather(summaries: list[dict[str, Any]]) -> Estimate:
        """Combine the summaries of a transformation's completed repeats."""


@contextmanager
def task_log(workdir: Path) -> Iterator[Path]:
    """While a task runs, what fepflow logs at INFO and above also goes to ``workdir/task.log``, which
    the analysis puts in the bundle (appended to on resume, so a resumed task's log tells both runs)."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "task.log"
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    package_logger = logging.getLogger("fepflow")
    package_logger.addHandler(handler)
    if package_logger.level == logging.NOTSET or package_logger.level > logging.INFO:
        package_logger.setLevel(logging.INFO)
    try:
        yield path
    finally:
        package_logger.removeHandler(handler)
        handler.close()


def run_stages(
    *,
    setup: Callable[[], Any],
    legs: Sequence[str],
    simulate: Callable[[str, Callable[[int, int], None]], Any],
    analyse: Callable[[Any, dict[str, Any], dict[str, float]], TaskResult],
    progress: Progress | None = None,
) -> TaskResult:
    """setup -> one simulation unit per leg -> analyse, each reported to ``progress`` and timed.

    ``simulate(leg, report)`` runs (or resumes, or extends) one leg; ``analyse(prepared, outcomes,
    timings)`` makes the bundle. The summary gets ``timings`` (seconds per unit and in total) and is
    rewritten to the bundle's summary.json.
    """
    from fepflow.protocols.common.analysis import write_summary

    say = progress or (lambda unit, done, total: None)
    started = time.monotonic()
    timings: dict[str, float] = {}
    say("setup", 0, 1)
    t0 = time.monotonic()
    prepared = setup()
    timings["setup_s"] = time.monotonic() - t0
    say("setup", 1, 1)
    outcomes: dict[str, Any] = {}
    for leg in legs:
        t0 = time.monotonic()
        outcomes[leg] = simulate(leg, functools.partial(say, leg))
        timings[f"{leg}_s"] = time.monotonic() - t0
    say("analyse", 0, 1)
    t0 = time.monotonic()
    result = analyse(prepared, outcomes, timings)
    timings["analyse_s"] = time.monotonic() - t0
    result.summary["timings"] = {**timings, "total_s": time.monotonic() - started}
    write_summary(result)
    say("analyse", 1, 1)
    return result


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out
