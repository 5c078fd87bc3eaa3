"""Shared fixtures: real servers on free loopback ports in temporary folders, stopped by PID.

- ``mongo_url``: a MongoDB wire-protocol server (secantusdb); FEPFLOW_TEST_MONGO_URL points the suite
  at a real mongod instead.
- ``s3_server``: a SeaweedFS S3 server that enforces signatures, expiry and checksums.
- ``postgres_dsn``: a fresh database on the PostgreSQL running at 127.0.0.1:5432 (FEPFLOW_TEST_PG_*).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from prerequisites import pg_address, report_header

from fepflow.devstack.servers import MongoServer, S3Server, mongo_process, seaweed_process
from fepflow.devstack.servers import make_bucket as create_bucket


def pytest_report_header() -> list[str]:
    """What this machine lacks for `make test`, said before any test runs."""
    return report_header()


@pytest.fixture(scope="session")
def mongo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a MongoDB wire-protocol server for this test session."""
    external = os.environ.get("FEPFLOW_TEST_MONGO_URL")
    if external:
        yield external
        return
    server, proc = mongo_process(tmp_path_factory.mktemp("mongo") / "data")
    proc.start()
    try:
        yield server.url
    finally:
        proc.stop()


@pytest.fixture()
def mongo_db_name() -> str:
    """A database name of its own for each test, so tests never see each other's documents."""
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A real S3 server (SeaweedFS) for this test session."""
    server, proc = seaweed_process(
        tmp_path_factory.mktemp("s3") / "data",
        access_key_id="fepflow-test-key",
        secret_access_key="fepflow-test-secret-0123456789",
    )
    proc.start()
    try:
        yield server
    finally:
        proc.stop()


def make_bucket(server: S3Server, name: str | None = None) -> str:
    """Create a bucket on ``server`` (retrying while the server finishes starting) and return its name."""
    return create_bucket(server, name or f"t-{uuid.uuid4().hex[:16]}")


@pytest.fixture()
def s3_bucket(s3_server: S3Server) -> str:
    """A new, empty bucket for one test."""
    return make_bucket(s3_server)


@pytest.fixture()
def postgres_dsn() -> Iterator[dict[str, str]]:
    """Connection parameters of a new database on the local PostgreSQL; dropped afterwards."""
    import psycopg2

    params = {
        "host": os.environ.get("FEPFLOW_TEST_PG_HOST", "127.0.0.1"),
        "port": os.environ.get("FEPFLOW_TEST_PG_PORT", "5432"),
        "user": os.environ.get("FEPFLOW_TEST_PG_USER", "postgres"),
        "password": os.environ.get("FEPFLOW_TEST_PG_PASSWORD", ""),
    }
    name = f"fepflow_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg2.connect(dbname="postgres", connect_timeout=5, **params)
        refused = ""
    except psycopg2.OperationalError as exc:
        refused = " ".join(str(exc).split())
    if refused:
        host, port = pg_address()
        pytest.fail(
            f"PostgreSQL at {host}:{port} as {params['user']!r} refused this test ({refused}): "
            "`make test` needs it for Dagster's storage. Start it (.ci/services postgresql; Debian: "
            "apt-get install postgresql) or set FEPFLOW_TEST_PG_HOST/PORT/USER/PASSWORD.",
            pytrace=False,
        )
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {**params, "dbname": name}
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


__all__ = ["MongoServer", "S3Server", "make_bucket"]
