"""Dagster resources for fepflow's stores, configured from the environment with ``EnvVar``.

Nothing is read at import: Dagster resolves each ``EnvVar`` when a run or sensor builds the resource,
and the remaining settings (database name, S3 endpoint and keys) are read by pydantic-settings then.
"""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource, EnvVar

from fepflow.engine.slots import SlotAllocator, detect_gpus, plan_slots
from fepflow.settings import EngineSettings, MongoSettings, ObjectStoreSettings
from fepflow.store.index import Index
from fepflow.store.objects import ObjectStore, open_object_store


class IndexResource(ConfigurableResource):  # type: ignore[misc]
    """The MongoDB index."""

    url: str
    database: str = "fepflow"
    timeout_ms: int = 5000

    def open(self) -> Index:
        return Index.from_settings(
            MongoSettings(url=self.url, database=self.database, timeout_ms=self.timeout_ms)
        )


class ObjectStoreResource(ConfigurableResource):  # type: ignore[misc]
    """The content-addressed object store (file:// or s3://)."""

    url: str
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None

    def open(self) -> ObjectStore:
        return open_object_store(
            ObjectStoreSettings(
                url=self.url,
                s3_endpoint_url=self.s3_endpoint_url or None,
                s3_region=self.s3_region,
                s3_access_key_id=self.s3_access_key_id or None,
                s3_secret_access_key=self.s3_secret_access_key or None,
            )
        )


def resources_from_env() -> dict[str, ConfigurableResource]:
    """Resources whose settings Dagster reads from the environment at run time."""
    return {
        "index": IndexResource(url=EnvVar("FEPFLOW_MONGO_URL"), database=EnvVar("FEPFLOW_MONGO_DATABASE")),
        "objects": ObjectStoreResource(
            url=EnvVar("FEPFLOW_OBJECTS_URL"),
            s3_endpoint_url=EnvVar("FEPFLOW_OBJECTS_S3_ENDPOINT_URL"),
            s3_region=EnvVar("FEPFLOW_OBJECTS_S3_REGION"),
            s3_access_key_id=EnvVar("FEPFLOW_OBJECTS_S3_ACCESS_KEY_ID"),
            s3_secret_access_key=EnvVar("FEPFLOW_OBJECTS_S3_SECRET_ACCESS_KEY"),
        ),
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
