"""What ``make test`` needs from the machine, checked once at the start of a run and said plainly
(pytest's report header), instead of a test failing deep in a fixture with a connection error.

The MongoDB wire server (secantusdb) and the S3 server (SeaweedFS) come with ``make install``; the
rest is the system's: PostgreSQL (Dagster's storage tests), Redis (the celery broker test), a C
compiler (``make install`` builds parmed and pdbfixer from source) and Chromium (the results page
test). ``.ci/run`` installs and starts all of them on Debian.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

INSTALL = "Debian: apt-get install postgresql redis-server gcc g++ chromium (what .ci/run does)"


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _tool(name: str) -> bool:
    return (Path(sys.executable).parent / name).exists() or shutil.which(name) is not None


def pg_address() -> tuple[str, int]:
    return os.environ.get("FEPFLOW_TEST_PG_HOST", "127.0.0.1"), int(
        os.environ.get("FEPFLOW_TEST_PG_PORT", "5432")
    )


def missing() -> list[str]:
    """One line per prerequisite this machine lacks: what it is, which tests need it, how to get it."""
    out = []
    host, port = pg_address()
    if not _listening(host, port):
        out.append(
            f"PostgreSQL is not listening on {host}:{port} (FEPFLOW_TEST_PG_HOST/PORT): the Dagster storage "
            "tests will fail; start it (.ci/services postgresql) or point those variables at one"
        )
    redis = os.environ.get("FEPFLOW_TEST_REDIS_URL", "redis://127.0.0.1:6379").split("//", 1)[-1]
    redis_host, _, redis_port = redis.split("/", 1)[0].partition(":")
    if not _listening(redis_host or "127.0.0.1", int(redis_port or 6379)):
        out.append(
            f"Redis is not listening on {redis}: the celery broker test will fail (.ci/services redis)"
        )
    for tool, need in (
        ("secantusd-py", "the MongoDB wire server (secantusdb) of the integration tests: run `make install`"),
        ("weed", "the S3 server (SeaweedFS) of the integration tests: run `make install`"),
        ("chromium", "the results page test renders the page in it"),
        ("gcc", "`make install` builds parmed and pdbfixer from source"),
    ):
        if not _tool(tool):
            out.append(f"{tool} not found: {need}")
    return out


def report_header() -> list[str]:
    found = missing()
    if not found:
        return ["prerequisites: PostgreSQL, Redis, the test servers, Chromium and a compiler are all here"]
    return [
        "MISSING prerequisites (tests that need them will fail):",
        *[f"  - {m}" for m in found],
        f"  ({INSTALL})",
    ]
