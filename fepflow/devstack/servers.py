"""Command lines for the embedded servers: a MongoDB wire-protocol server and a SeaweedFS S3 server.

Both come from PyPI and run as separate processes (secantusdb is GPL-2.0: never import it). Production
uses real MongoDB and any S3; nothing in fepflow depends on which of these is behind the URL.
nx-27017 was tried and left out: it rejects upserts that combine ``$setOnInsert`` with ``$addToSet``
(standard MongoDB) and ignores index names.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from fepflow.devstack.processes import ManagedProcess, free_port

MONGO_FLAVOURS: tuple[str, ...] = ("secantusdb",)


def _bin(name: str) -> str:
    """Find an executable installed beside this interpreter (the venv), else on PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(
            f"'{name}' is not installed; run `make install` (it comes with the fepflow package)"
        )
    return found


@dataclass(frozen=True)
class MongoServer:
    """Where a wire-protocol server listens and keeps its data."""

    flavour: str
    host: str
    port: int
    data_dir: Path

    @property
    def url(self) -> str:
        return f"mongodb://{self.host}:{self.port}/"


def mongo_process(
    data_dir: Path,
    *,
    flavour: str = "secantusdb",
    host: str = "127.0.0.1",
    port: int | None = None,
    log_path: Path | None = None,
    pid_path: Path | None = None,
) -> tuple[MongoServer, ManagedProcess]:
    """A MongoDB wire-protocol server keeping its data in ``data_dir`` (not yet started)."""
    if flavour not in MONGO_FLAVOURS:
        raise ValueError(f"unknown MongoDB server {flavour!r}; choose one of {', '.join(MONGO_FLAVOURS)}")
    port = port or free_port(host)
    data_dir.mkdir(parents=True, exist_ok=True)
    if flavour == "secantusdb":
        argv = [
            _bin("secantusd-py"),
            "--host",
            host,
            "--port",
            str(port),
            "--storage-path",
            str(data_dir),
            "--log-level",
            "WARNING",
        ]
    else:
        argv = [_bin("nx-27017"), "--host", host, "-p", str(port), "--data-dir", str(data_dir)]
    server = MongoServer(flavour=flavour, host=host, port=port, data_dir=data_dir)
    proc = ManagedProcess(
        name=f"mongodb ({flavour})",
        argv=argv,
        log_path=log_path or data_dir.parent / f"{data_dir.name}.log",
        host=host,
        port=port,
        cwd=data_dir,
        pid_path=pid_path,
    )
    return server, proc


@dataclass(frozen=True)
class S3Server:
    """Where a SeaweedFS S3 endpoint listens, and the credentials it enforces."""

    host: str
    port: int
    data_dir: Path
    access_key_id: str
    secret_access_key: str

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"


def seaweed_process(
    data_dir: Path,
    *,
    access_key_id: str,
    secret_access_key: str,
    host: str = "127.0.0.1",
    s3_port: int | None = None,
    log_path: Path | None = None,
    pid_path: Path | None = None,
) -> tuple[S3Server, ManagedProcess]:
    """A real S3 server (``weed mini``) with every port chosen free, so several can run at once."""
    s3_port = s3_port or free_port(host)
    data_dir.mkdir(parents=True, exist_ok=True)
    ports = {
        name: free_port(host)
        for name in (
            "master.port",
            "master.port.grpc",
            "volume.port",
            "volume.port.grpc",
            "filer.port",
            "filer.port.grpc",
            "s3.port.grpc",
            "webdav.port",
            "admin.port",
            "admin.port.grpc",
        )
    }
    argv = [
        _bin("weed"),
        "mini",
        f"-dir={data_dir}",
        f"-ip={host}",
        f"-ip.bind={host}",
        "-admin.ui=false",
        "-webdav=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-master.telemetry=false",
        f"-s3.port={s3_port}",
        *(f"-{name}={port}" for name, port in ports.items()),
    ]
    server = S3Server(host, s3_port, data_dir, access_key_id, secret_access_key)
    proc = ManagedProcess(
        name="s3 (seaweedfs)",
        argv=argv,
        log_path=log_path or data_dir.parent / f"{data_dir.name}.log",
        host=host,
        port=s3_port,
        env={"AWS_ACCESS_KEY_ID": access_key_id, "AWS_SECRET_ACCESS_KEY": secret_access_key},
        cwd=data_dir,
        pid_path=pid_path,
    )
    return server, proc


def make_bucket(server: S3Server, name: str, *, attempts: int = 60) -> str:
    """Create bucket ``name`` on ``server``, retrying while a freshly started server finishes starting.

    Names S3 refuses outright (shorter than 3 characters, upper case) fail at once, not after retries.
    """
    import time

    import boto3

    if not 3 <= len(name) <= 63 or name != name.lower():
        raise ValueError(f"invalid S3 bucket name {name!r}: 3-63 lower-case characters")
    client = boto3.client(
        "s3",
        endpoint_url=server.endpoint_url,
        aws_access_key_id=server.access_key_id,
        aws_secret_access_key=server.secret_access_key,
        region_name="us-east-1",
    )
    for attempt in range(attempts):
        try:
            client.create_bucket(Bucket=name)
            return name
        except Exception:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)
    return name
