"""The ``file://DIR`` backend: one file per object at ``DIR/ab/cd/<sha256>``.

Every write goes to a temporary file under ``DIR/.tmp`` (same file system), is hashed on the way,
flushed to disk, made read-only and then renamed into place with :func:`os.replace`, so a reader never
sees a partial object and a crash leaves at most a stray file in ``DIR/.tmp``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from fepflow.store.objects.base import (
    ChecksumMismatch,
    ObjectNotFound,
    ObjectRef,
    ObjectStore,
    VerifyingReader,
    key_path,
    read_chunks,
)

TMP_DIR_NAME = ".tmp"


class FileObjectStore(ObjectStore):
    """Objects as files under ``root`` (made when missing). ``fsync=False`` trades durability on power
    loss for speed (tests, scratch stores)."""

    def __init__(self, root: str | os.PathLike[str], *, fsync: bool = True) -> None:
        self._root = Path(root).expanduser().absolute()
        self._tmp = self._root / TMP_DIR_NAME
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._fsync = fsync
        # Objects are read-only, readable by whoever may read the root folder (the umask decided that).
        self._file_mode = 0o444 & stat.S_IMODE(self._root.stat().st_mode)

    @property
    def root(self) -> Path:
        return self._root

    @property
    def url(self) -> str:
        return self._root.as_uri()

    def _path(self, key: str) -> Path:
        return self._root / key_path(key)

    def _ref(self, key: str, size: int) -> ObjectRef:
        return ObjectRef(key=key, size_bytes=size, sha256=key, uri=self._path(key).as_uri())

    def _existing(self, key: str, size: int) -> ObjectRef | None:
        """The reference of ``key`` when it is stored with the expected size and its bytes hash to
        the key (anything else is damage, and the caller rewrites it)."""
        try:
            stored = os.stat(self._path(key)).st_size
        except FileNotFoundError:
            return None
        if stored != size:
            return None
        try:
            return self._verify(key)
        except (ChecksumMismatch, ObjectNotFound):
            return None

    # -- writing ----------------------------------------------------------------------------------

    def _put_bytes(self, data: bytes, key: str) -> ObjectRef:
        existing = self._existing(key, len(data))
        if existing is not None:
            return existing
        tmp, digest, size = self._spool([data])
        return self._commit(tmp, digest, size)

    def _put_file(self, path: Path) -> ObjectRef:
        with open(path, "rb") as source:
            return self._put_stream(source)

    def _put_stream(self, fileobj: IO[bytes]) -> ObjectRef:
        tmp, key, size = self._spool(read_chunks(fileobj))
        return self._commit(tmp, key, size)

    def _spool(self, chunks: Iterable[bytes]) -> tuple[Path, str, int]:
        """Write ``chunks`` to a new temporary file, hashing them; removed again on any error."""
        fd, name = tempfile.mkstemp(dir=self._tmp, prefix="put-", suffix=".part")
        digest = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                if self._fsync:
                    os.fsync(out.fileno())
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)
            raise
        return Path(name), digest.hexdigest(), size

    def _commit(self, tmp: Path, key: str, size: int) -> ObjectRef:
        """Rename ``tmp`` into place as ``key``, unless that object is stored already."""
        try:
            existing = self._existing(key, size)
            if existing is not None:
                return existing
            target = self._path(key)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(tmp, self._file_mode)
            os.replace(tmp, target)
            if self._fsync:
                _fsync_dir(target.parent)
            return self._ref(key, size)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    # -- reading and the rest ---------------------------------------------------------------------

    def _open(self, key: str) -> VerifyingReader:
        try:
            handle = open(self._path(key), "rb")  # noqa: SIM115 - the reader owns and closes it
        except FileNotFoundError:
            raise ObjectNotFound(key, self.url) from None
        return VerifyingReader(handle, key=key, size_bytes=os.fstat(handle.fileno()).st_size)

    def _stat(self, key: str) -> ObjectRef:
        try:
            size = os.stat(self._path(key)).st_size
        except FileNotFoundError:
            raise ObjectNotFound(key, self.url) from None
        return self._ref(key, size)

    def _delete(self, key: str) -> None:
        # Shard folders stay: removing them could race with a concurrent put into the same shard.
        self._path(key).unlink(missing_ok=True)

    def _presigned_url(self, key: str, ttl_s: int | None) -> str | None:
        return None  # the hub streams file-backed objects itself


def _fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


__all__ = ["FileObjectStore"]
