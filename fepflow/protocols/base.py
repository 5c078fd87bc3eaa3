"""The protocol interface every free energy method plugs into.

A protocol turns one repeat of one transformation (a *task*) into a result bundle, in units that
each leave their work on disk so that a task killed at any moment resumes where it stopped:

    setup -> simulate (one unit per leg) -> analyse

:meth:`Protocol.run_task` is that sequence, written once: a protocol says which legs a transformation
has and supplies the three hooks (:meth:`Protocol.setup`, :meth:`Protocol.simulate`,
:meth:`Protocol.analyse`). Every protocol's analysis produces a
:class:`~fepflow.models.results.TaskSummary`, and :meth:`Protocol.gather` combines repeats the one way
(:func:`fepflow.models.results.gather`). Protocols know nothing of Dagster, MongoDB or the object
store: the runner calls :meth:`Protocol.run_task` with a working folder and uploads what it returns.
"""

from __future__ import annotations

import functools
import logging
import socket
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

from fepflow.models.base import ModelError
from fepflow.models.protocol_registry import normalise_settings
from fepflow.models.results import Estimate, TaskSummary, gather
from fepflow.models.transformations import Transformation
from fepflow.protocols.common.bundle import versions, write_summary

if TYPE_CHECKING:
    from fepflow.engine.platforms import PlatformChoice

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""``progress(unit, done, total)``: called as a unit advances (iterations, or 0/1 for short units)."""

Report = Callable[[int, int], None]
"""``report(done, total)``: one unit's progress."""


class ProtocolError(ModelError):
    """A transformation this protocol cannot run, reported before any simulation starts."""


@dataclass
class TaskResult:
    """What one task produced: its summary and the files of its bundle."""

    summary: TaskSummary
    files: dict[str, Path] = field(default_factory=dict)
    """Bundle member name -> file on disk (energies.npz, summary.json, plots, log)."""


@dataclass(frozen=True)
class RunContext:
    """One task being run: what the hooks of :meth:`Protocol.run_task` are given."""

    transformation: Transformation
    repeat: int
    workdir: Path
    platform: PlatformChoice
    extend_iterations: int = 0
    cache_dir: Path | None = None
    ligand_parameters: Any = None
    """Parameters to use instead of computing them: one molecule's, or a mapping by molecule name."""

    @property
    def bundle(self) -> Path:
        return self.workdir / "bundle"


class Protocol(ABC):
    """Base class: settings validated once; presets by name; one task run at a time."""

    name: ClassVar[str]
    settings_model: ClassVar[type[BaseModel]]
    presets: ClassVar[dict[str, dict[str, Any]]] = {}
    default_platform: ClassVar[str | None] = None
    """The platform a task runs on when the caller names none (None: the fastest available)."""

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
    def legs(self, transformation: Transformation) -> Sequence[str]:
        """The simulation units of a task, in the order they run."""

    @abstractmethod
    def setup(self, run: RunContext) -> dict[str, Any]:
        """Build what the legs simulate (or find it built); returns the setup's record."""

    @abstractmethod
    def simulate(self, run: RunContext, setup: dict[str, Any], leg: str, report: Report) -> Any:
        """Run, resume or extend one leg; returns its sampling outcome."""

    @abstractmethod
    def analyse(self, run: RunContext, setup: dict[str, Any], outcomes: dict[str, Any]) -> TaskResult:
        """The summary and bundle files from the legs' outcomes (summary.json is written afterwards)."""

    def run_task(
        self,
        transformation: Transformation,
        *,
        repeat: int,
        workdir: Path,
        platform: str | None = None,
        extend_iterations: int = 0,
        progress: Progress | None = None,
        cache_dir: Path | None = None,
        ligand_parameters: Any = None,
        threads: int | None = None,
    ) -> TaskResult:
        """Run (or resume, or extend) one repeat in ``workdir`` and return its bundle."""
        from fepflow.engine.storage import quiet_openmmtools_loggers

        quiet_openmmtools_loggers()  # before openmmtools (and with it pymbar) is first imported
        from fepflow.engine.platforms import choose_platform

        self.validate(transformation)
        with task_log(workdir):
            logger.info(
                "task %s repeat %d of %s in %s", transformation.label, repeat, transformation.key, workdir
            )
            run = RunContext(
                transformation=transformation,
                repeat=repeat,
                workdir=workdir,
                platform=choose_platform(platform or self.default_platform, threads=threads),
                extend_iterations=extend_iterations,
                cache_dir=cache_dir,
                ligand_parameters=ligand_parameters,
            )
            return run_stages(
                setup=lambda: self.setup(run),
                legs=self.legs(transformation),
                simulate=lambda setup, leg, report: self.simulate(run, setup, leg, report),
                analyse=lambda setup, outcomes: self.analyse(run, setup, outcomes),
                progress=progress,
            )

    def task_summary(self, run: RunContext, **fields: Any) -> TaskSummary:
        """A summary of ``run`` with what every protocol records (settings, platform, host, versions)
        and the protocol's ``fields``; ``ns_per_day`` per leg from the legs where they are given."""
        legs = fields.get("legs") or {}
        return TaskSummary(
            protocol=self.name,
            transformation=run.transformation.key,
            repeat=run.repeat,
            platform=run.platform.name,
            settings=self.settings.model_dump(mode="json"),
            host=socket.gethostname(),
            versions=versions(),
            ns_per_day={leg: s.ns_per_day for leg, s in legs.items()},
            **fields,
        )

    @staticmethod
    def gather(summaries: Sequence[TaskSummary]) -> Estimate:
        """Combine a transformation's completed repeats (:func:`fepflow.models.results.gather`)."""
        return gather(summaries)


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
    setup: Callable[[], dict[str, Any]],
    legs: Sequence[str],
    simulate: Callable[[dict[str, Any], str, Report], Any],
    analyse: Callable[[dict[str, Any], dict[str, Any]], TaskResult],
    progress: Progress | None = None,
) -> TaskResult:
    """setup -> one simulation unit per leg -> analyse, each reported to ``progress`` and timed.

    ``simulate(setup, leg, report)`` runs (or resumes, or extends) one leg; ``analyse(setup,
    outcomes)`` makes the summary and bundle. The summary gets ``timings`` (seconds per unit and in
    total) and is written to the bundle's summary.json.
    """
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
        outcomes[leg] = simulate(prepared, leg, functools.partial(say, leg))
        timings[f"{leg}_s"] = time.monotonic() - t0
    say("analyse", 0, 1)
    t0 = time.monotonic()
    result = analyse(prepared, outcomes)
    timings["analyse_s"] = time.monotonic() - t0
    result.summary.timings = {**timings, "total_s": time.monotonic() - started}
    write_summary(result.summary, result.files["summary.json"])
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
