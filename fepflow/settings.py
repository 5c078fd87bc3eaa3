"""Settings for each backing service, read from the environment when asked for, never at import.

Every variable is documented in `.env.dev`. Call the getters at run time (app start-up, resource
set-up); tests construct the classes directly or set variables with ``monkeypatch``.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "changethis", "secret", "dev-secret"})
MIN_SECRET_LENGTH = 32


class MongoSettings(BaseSettings):
    """Where the MongoDB index lives."""

    model_config = SettingsConfigDict(
        env_prefix="FEPFLOW_MONGO_", frozen=True, extra="ignore", env_ignore_empty=True
    )

    url: str = Field("mongodb://127.0.0.1:27017/", description="MongoDB connection string")
    database: str = Field("fepflow", description="database that holds fepflow's collections")
    timeout_ms: int = Field(5000, gt=0, description="server selection and connect timeout, milliseconds")

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if not value.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError(f"FEPFLOW_MONGO_URL must start with mongodb:// or mongodb+srv://, got {value!r}")
        return value


class ObjectStoreSettings(BaseSettings):
    """Where result bundles are written: ``file://DIR`` or ``s3://bucket/prefix``."""

    model_config = SettingsConfigDict(
        env_prefix="FEPFLOW_OBJECTS_", frozen=True, extra="ignore", env_ignore_empty=True
    )

    url: str = Field("file://.fepflow/objects", description="file://DIR or s3://bucket[/prefix]")
    s3_endpoint_url: str | None = Field(None, description="S3 endpoint (MinIO, SeaweedFS); unset for AWS")
    s3_public_endpoint_url: str | None = Field(
        None,
        description="S3 endpoint that clients reach, which presigned download URLs are signed for, where it "
        "differs from s3_endpoint_url (a compose or cluster network); unset: s3_endpoint_url",
    )
    s3_region: str = Field("us-east-1", description="S3 region used for request signing")
    s3_access_key_id: str | None = Field(None, description="S3 access key; unset to use boto3's chain")
    s3_secret_access_key: SecretStr | None = Field(None, description="S3 secret key")
    s3_addressing_style: Literal["path", "virtual", "auto"] = Field("path", description="bucket addressing")
    multipart_threshold_mb: int = Field(64, gt=4, description="objects above this size upload in parts, MB")
    presign_ttl_s: int = Field(3600, gt=0, le=7 * 24 * 3600, description="lifetime of presigned URLs, s")

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if not value.startswith(("file://", "s3://")):
            raise ValueError(f"FEPFLOW_OBJECTS_URL must be file://DIR or s3://bucket/prefix, got {value!r}")
        return value


class ApiSettings(BaseSettings):
    """How the hub listens and what it accepts."""

    model_config = SettingsConfigDict(
        env_prefix="FEPFLOW_API_", frozen=True, extra="ignore", env_ignore_empty=True
    )

    host: str = Field(
        "127.0.0.1", description="interface the hub binds to (a weak signing secret: loopback only)"
    )
    port: int = Field(8000, gt=0, lt=65536, description="port the hub binds to")
    public_url: str = Field("http://127.0.0.1:8000", description="URL clients use to reach the hub")
    max_body_mb: float = Field(50.0, gt=0, description="largest accepted request body, MB")
    max_molecules: int = Field(5000, gt=0, description="most molecules in one submission")
    max_edges: int = Field(20000, gt=0, description="most transformations in one submission")
    max_atoms: int = Field(
        500_000, gt=0, description="most atoms of one built system (estimated before building)"
    )
    max_smiles_chars: int = Field(2000, gt=0, description="longest SMILES accepted (checked before parsing)")
    max_ns_per_state: float = Field(
        1000.0,
        gt=0,
        description="most production sampling per alchemical state, ns (iterations x steps x fs)",
    )
    status_cache_s: float = Field(
        1.0, ge=0, le=60, description="task counts are served from a per-process cache this long, s (0: off)"
    )


class AuthSettings(BaseSettings):
    """Token signing, sessions and logins for the hub. A placeholder secret is refused outside
    development, and by the hub unless it serves loopback only (:func:`signing_secret_problem`)."""

    model_config = SettingsConfigDict(
        env_prefix="FEPFLOW_AUTH_", frozen=True, extra="ignore", env_ignore_empty=True
    )

    environment: Literal["development", "production"] = Field(
        "development", description="'production' refuses placeholder secrets"
    )
    secret_key: SecretStr = Field(SecretStr("changeme"), description="HMAC key that signs access tokens")
    algorithm: Literal["HS256", "HS384", "HS512"] = Field("HS256", description="JWT signing algorithm")
    token_ttl_min: int = Field(60, gt=0, description="access token lifetime, minutes")
    session_max_h: float = Field(
        24.0, gt=0, description="a token refreshes until its login is this old, hours; then log in again"
    )
    page_link_ttl_min: int = Field(
        30, gt=0, le=24 * 60, description="lifetime of a results page link, minutes"
    )
    identity_cache_s: float = Field(
        5.0, ge=0, le=300, description="a token's identity is looked up again after this long, s (0: always)"
    )
    login_per_client_per_min: int = Field(30, ge=1, description="login attempts per client address a minute")
    login_per_identity_per_min: int = Field(10, ge=1, description="login attempts per identifier a minute")
    login_concurrency: int = Field(
        4, ge=1, le=64, description="secret verifications at once (each holds argon2's 19 MiB)"
    )
    login_wait_s: float = Field(
        5.0, gt=0, le=60, description="a login waits this long for a verification slot, then gets 503"
    )

    @property
    def weak_secret(self) -> bool:
        """A known placeholder or shorter than 32 characters: anyone could guess it."""
        secret = self.secret_key.get_secret_value()
        return secret.lower() in PLACEHOLDER_SECRETS or len(secret) < MIN_SECRET_LENGTH

    @model_validator(mode="after")
    def _no_placeholder_in_production(self) -> AuthSettings:
        if self.environment == "production" and self.weak_secret:
            raise ValueError(
                "FEPFLOW_AUTH_SECRET_KEY is a placeholder or shorter than 32 characters; "
                "set a random one, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        return self


def is_loopback(host: str) -> bool:
    """True for an interface only this machine reaches: 127.0.0.0/8, ::1, localhost."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def signing_secret_problem(auth: AuthSettings, host: str) -> str | None:
    """Why the hub must not serve on ``host`` with ``auth``'s secret, or None when it may.

    A placeholder or short secret lets anyone mint tokens; it is tolerated only in development on
    a loopback interface (the embedded stack), where nobody else can reach the hub."""
    if not auth.weak_secret or (auth.environment == "development" and is_loopback(host)):
        return None
    where = "in production" if auth.environment == "production" else f"on {host} (not loopback)"
    return (
        f"refusing to serve {where}: FEPFLOW_AUTH_SECRET_KEY is a placeholder or shorter than "
        f"{MIN_SECRET_LENGTH} characters, so anyone could sign tokens this hub accepts. Set a random "
        "one, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`; a placeholder "
        "is allowed only with FEPFLOW_AUTH_ENVIRONMENT=development and FEPFLOW_API_HOST=127.0.0.1 "
        "(the interface the hub is bound to)."
    )


def mongo_settings() -> MongoSettings:
    """MongoDB settings from the environment, read now."""
    return MongoSettings()


def object_store_settings() -> ObjectStoreSettings:
    """Object store settings from the environment, read now."""
    return ObjectStoreSettings()


def api_settings() -> ApiSettings:
    """Hub settings from the environment, read now."""
    return ApiSettings()


def auth_settings() -> AuthSettings:
    """Auth settings from the environment, read now."""
    return AuthSettings()


class EngineSettings(BaseSettings):
    """How this host runs simulations: platform, device slots and working folders."""

    model_config = SettingsConfigDict(
        env_prefix="FEPFLOW_ENGINE_", frozen=True, extra="ignore", env_ignore_empty=True
    )

    platform: str | None = Field(
        None, description="OpenMM platform (CUDA, OpenCL, CPU, Reference); the fastest working one when unset"
    )
    gpu_devices: str = Field(
        "auto",
        description="GPU device indices to hand out, e.g. '0,1'; 'auto' reads CUDA_VISIBLE_DEVICES or "
        "nvidia-smi; 'none' for CPU slots only",
    )
    slots_per_gpu: int = Field(
        1, ge=1, le=16, description="simulations sharing one GPU (>1 only with NVIDIA MPS)"
    )
    cpu_slots: int = Field(1, ge=1, description="concurrent simulations on a host without GPUs")
    cpu_threads: int | None = Field(
        None, ge=1, description="CPU threads per simulation; the host's cores divided by cpu_slots when unset"
    )
    work_dir: str = Field(
        ".fepflow/work", description="checkpoints and scratch, one folder per task (keep it across restarts)"
    )
    cache_dir: str = Field(".fepflow/cache", description="ligand parameter cache")
    slot_dir: str = Field(".fepflow/slots", description="lock files of the device slots of this host")
    heartbeat_s: float = Field(30.0, gt=0, description="how often a running task reports that it is alive")
    stale_after_s: float = Field(
        600.0, gt=0, description="a running task silent this long is taken back to waiting"
    )
    worker_name: str | None = Field(
        None,
        description="how this worker names itself on the tasks it runs (e.g. gpu-node3-gpu1); host:pid when unset",
    )
    max_attempts: int = Field(
        3, ge=1, description="automatic runs of a task whose worker died, before it stays in error"
    )
    checkpoints_in_store: bool = Field(
        False,
        description="also keep each checkpoint in the object store, for workers whose work folder dies with "
        "them (Kubernetes pods): a task's next run restores it (fepflow.store.checkpoints)",
    )


class OrchestratorSettings(BaseSettings):
    """How the Dagster code location schedules tasks."""

    model_config = SettingsConfigDict(
        env_prefix="FEPFLOW_ORCHESTRATOR_", frozen=True, extra="ignore", env_ignore_empty=True
    )

    sensor_interval_s: int = Field(5, ge=1, description="seconds between task sensor ticks")
    batch_size: int = Field(50, ge=1, le=1000, description="tasks scheduled per sensor tick at most")
    executor: Literal["in_process", "celery", "k8s"] = Field(
        "in_process",
        description="how simulation runs execute: in the run worker, on celery GPU workers, or as k8s jobs",
    )
    hub_url: str | None = Field(None, description="public URL of the hub, for result links in Dagit")
