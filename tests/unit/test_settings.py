"""Settings: read from the environment when asked, validated, and every variable documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from fepflow.settings import (
    ApiSettings,
    AuthSettings,
    MongoSettings,
    ObjectStoreSettings,
    auth_settings,
    mongo_settings,
    object_store_settings,
)

CLASSES = [MongoSettings, ObjectStoreSettings, ApiSettings, AuthSettings]


def test_settings_are_read_when_asked_not_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEPFLOW_MONGO_URL", "mongodb://db.example:27017/")
    monkeypatch.setenv("FEPFLOW_MONGO_DATABASE", "campaign")
    assert mongo_settings().url == "mongodb://db.example:27017/"
    assert mongo_settings().database == "campaign"
    monkeypatch.setenv("FEPFLOW_MONGO_DATABASE", "other")
    assert mongo_settings().database == "other"


def test_empty_variables_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEPFLOW_OBJECTS_S3_ENDPOINT_URL", "")
    monkeypatch.setenv("FEPFLOW_OBJECTS_S3_SECRET_ACCESS_KEY", "")
    settings = object_store_settings()
    assert settings.s3_endpoint_url is None and settings.s3_secret_access_key is None


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("FEPFLOW_MONGO_URL", "postgres://x", "must start with mongodb://"),
        ("FEPFLOW_OBJECTS_URL", "ftp://x", "file://DIR or s3://bucket"),
    ],
)
def test_bad_urls_are_refused_with_the_variable_named(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str, message: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ValidationError, match=message):
        (mongo_settings if "MONGO" in var else object_store_settings)()


def test_production_refuses_a_placeholder_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEPFLOW_AUTH_ENVIRONMENT", "production")
    monkeypatch.setenv("FEPFLOW_AUTH_SECRET_KEY", "changeme")
    with pytest.raises(ValidationError, match="placeholder"):
        auth_settings()
    monkeypatch.setenv("FEPFLOW_AUTH_SECRET_KEY", "x" * 48)
    assert auth_settings().secret_key.get_secret_value() == "x" * 48
    monkeypatch.setenv("FEPFLOW_AUTH_ENVIRONMENT", "development")
    monkeypatch.setenv("FEPFLOW_AUTH_SECRET_KEY", "changeme")
    assert auth_settings().environment == "development"


def test_every_setting_is_documented_in_env_dev(repo_root: Path) -> None:
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (repo_root / ".env.dev").read_text(), re.M))
    wanted = {
        f"{cls.model_config['env_prefix']}{name}".upper() for cls in CLASSES for name in cls.model_fields
    }
    assert wanted - documented == set()
    for var in ("FEPFLOW_HOME", "FEPFLOW_DEV_MONGO_PORT", "DAGSTER_HOME", "DAGSTER_PG_HOST"):
        assert var in documented


def test_every_compose_variable_is_documented_in_env_dev(repo_root: Path) -> None:
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (repo_root / ".env.dev").read_text(), re.M))
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)", (repo_root / "docker-compose.yml").read_text()))
    assert used, "docker-compose.yml should take its settings from variables"
    assert used - documented == set()
