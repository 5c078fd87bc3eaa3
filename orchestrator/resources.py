"""Dagster resources for fepflow's stores, configured from the environment with ``EnvVar``.

Nothing is read at import: Dagster resolves each ``EnvVar`` when a run or sensor builds the resource,
and the remaining settings (database name, S3 endpoint and keys) are read by pydantic-settings then.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster import ConfigurableResource, EnvVar

from fepflow.engine.slots import SlotAllocator, detect_gpus, plan_slots
from fepflow.settings import EngineSettings, MongoSettings, ObjectStoreSettings
from fepflow.store.index import Index
from fepflow.store.objects import ObjectStore, open_object_store


class IndexResource(ConfigurableResource):  # type: ignore[misc]
    """The MongoDB index. Fields left unset come from the ``FEPFLOW_MONGO_*`` variables at run time."""

    url: str
    database: str | None = None
    timeout_ms: int | None = None

    def open(self) -> Index:
        given = {"url": self.url, "database": self.database, "timeout_ms": self.timeout_ms}
        return Index.from_settings(MongoSettings(**{k: v for k, v in given.items() if v not in (None, "")}))

    @contextmanager
    def session(self) -> Iterator[Index]:
        """The index, closed when the block ends."""
        index = self.open()
        try:
            yield index
        finally:
            index.close()


class ObjectStoreResource(ConfigurableResource):  # type: ignore[misc]
    """The content-addressed object store (file:// or s3://).

    Fields left unset come from the ``FEPFLOW_OBJECTS_*`` variables at run time, so optional S3
    settings need not be set at all where the store is a folder.
    """

    url: str
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None

    def open(self) -> ObjectStore:
        given = {
            "url": self.url,
            "s3_endpoint_url": self.s3_endpoint_url,
            "s3_region": self.s3_region,
            "s3_access_key_id": self.s3_access_key_id,
            "s3_secret_access_key": self.s3_secret_access_key,
        }
        return open_object_store(
            ObjectStoreSettings(**{k: v for k, v in given.items() if v not in (None, "")})
        )


def resources_from_env() -> dict[str, ConfigurableResource]:
    """Resources whose settings are read from the environment at run time: the two URLs through
    Dagster's ``EnvVar`` (shown in Dagit), everything else by pydantic-settings when opened."""
    return {
        "index": IndexResource(url=EnvVar("FEPFLOW_MONGO_URL")),
        "objects": ObjectStoreResource(url=EnvVar("FEPFLOW_OBJECTS_URL")),
        "engine": EngineResource(),
    }


class EngineResource(ConfigurableResource):  # type: ignore[misc]
    """This host's simulation engine: platform, device slots and working folders.

    Its settings are the ``FEPFLOW_ENGINE_*`` variables, read by :class:`fepflow.settings.EngineSettings`
    when a run asks for them (each run worker reads its own host's values).
    """

    def settings(self) -> EngineSettings:
        return EngineSettings()

    def allocator(self) -> SlotAllocator:
        s = self.settings()
        slots = plan_slots(
            detect_gpus(s.gpu_devices),
            slots_per_gpu=s.slots_per_gpu,
            cpu_slots=s.cpu_slots,
            cpu_threads=s.cpu_threads,
        )
        return SlotAllocator(slots, Path(s.slot_dir))
