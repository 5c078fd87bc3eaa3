"""The object store's interface, its errors and the helpers every backend shares.

An object's key is the sha256 hex digest of its bytes; it lives at ``<root>/ab/cd/<key>``. Writes hash
what they store; reads stream through a :class:`VerifyingReader` that raises :class:`ChecksumMismatch`
at the end of the bytes if they are not the ones the key names. Only ``put_bytes`` and ``get_bytes``
hold a whole object in memory (small objects). Nothing reads the environment or connects at import:
build a store with :func:`fepflow.store.objects.open_object_store`.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

CHUNK_SIZE = 1024 * 1024
"""Bytes read or written per step when streaming."""

_KEY_RE = re.compile(r"[0-9a-f]{64}")


class ObjectStoreError(Exception):
    """Base class of every error the object store raises."""


class InvalidObjectKey(ObjectStoreError, ValueError):
    """A key that is not 64 lowercase hex digits (a sha256 digest)."""


class ObjectNotFound(ObjectStoreError):
    """No object is stored under this key."""

    def __init__(self, key: str, where: str) -> None:
        super().__init__(f"object {key} not found in {where}")
        self.key = key


class ChecksumMismatch(ObjectStoreError):
    """The bytes read (or sent) are not the bytes the key names."""

    def __init__(self, key: str, expected: str, actual: str | None, detail: str = "") -> None:
        got = actual if actual is not None else "(unknown)"
        message = f"object {key}: expected sha256 {expected}, got {got}"
        super().__init__(f"{message}; {detail}" if detail else message)
        self.key = key
        self.expected = expected
        self.actual = actual


class ObjectStoreAuthError(ObjectStoreError):
    """The object store refused our credentials or signature."""


class ObjectStoreUnavailable(ObjectStoreError):
    """The object store cannot be reached or answered a server error (5xx): trying later may work."""


def validate_key(key: str) -> str:
    """Return ``key`` when it is a sha256 hex digest (64 lowercase hex digits); raise otherwise."""
    if not isinstance(key, str) or _KEY_RE.fullmatch(key) is None:
        raise InvalidObjectKey(f"object keys are 64 lowercase hex digits (sha256), got {key!r}")
    return key


def key_path(key: str) -> str:
    """The sharded relative path of a key: ``ab/cd/<key>``."""
    validate_key(key)
    return f"{key[:2]}/{key[2:4]}/{key}"


class ObjectRef(BaseModel):
    """Where one stored object lives and what it is. ``key`` is the sha256 hex digest of its bytes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(pattern=r"^[0-9a-f]{64}$", description="sha256 hex digest of the bytes")
    size_bytes: int = Field(ge=0, description="length of the object in bytes")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="sha256 hex digest (equal to key)")
    uri: str = Field(description="the object's own address, e.g. s3://bucket/prefix/ab/cd/<key>")

    @model_validator(mode="after")
    def _content_addressed(self) -> ObjectRef:
        if self.key != self.sha256:
            raise ValueError(f"key {self.key} is not the sha256 {self.sha256} of the object")
        return self


class VerifyingReader(io.RawIOBase):
    """A read-only stream of one object that checks its sha256 (and size) as the bytes go by.

    The read that reaches the end of the object raises :class:`ChecksumMismatch` instead of returning
    its bytes when the digest or the length is wrong, so a consumer that reads to the end never ends
    with wrong bytes unnoticed. Iterating yields chunks of :data:`CHUNK_SIZE` bytes (not lines).
    Use it as a context manager; closing it releases the file or the HTTP connection.
    """

    def __init__(self, raw: IO[bytes] | Any, *, key: str, size_bytes: int | None = None) -> None:
        super().__init__()
        self._raw = raw
        self.key = validate_key(key)
        self.size_bytes = size_bytes
        self._hash = hashlib.sha256()
        self._count = 0
        self._verified = False

    @property
    def verified(self) -> bool:
        """True once every byte has been read and matched the key."""
        return self._verified

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1, /) -> bytes:
        if self.closed:
            raise ValueError("read from a closed VerifyingReader")
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(CHUNK_SIZE), b""))
        if size == 0:
            return b""
        data = self._raw.read(size)
        if not data:
            self._verify()
            return b""
        self._hash.update(data)
        self._count += len(data)
        if self.size_bytes is not None and self._count >= self.size_bytes:
            self._verify()
        return bytes(data)

    def readinto(self, buffer: Any, /) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def iter_chunks(self, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """Yield the remaining bytes in chunks of at most ``chunk_size``; verifies at the end."""
        while chunk := self.read(chunk_size):
            yield chunk

    def __iter__(self) -> Iterator[bytes]:  # type: ignore[override]
        return self.iter_chunks()

    def __enter__(self) -> VerifyingReader:
        return self

    def close(self) -> None:
        if not self.closed:
            with contextlib.suppress(Exception):
                self._raw.close()
        super().close()

    def _verify(self) -> None:
        self._verified = False
        actual = self._hash.hexdigest()
        detail = ""
        if self.size_bytes is not None and self._count != self.size_bytes:
            detail = f"read {self._count} bytes, the store reported {self.size_bytes}"
        if actual != self.key or detail:
            raise ChecksumMismatch(self.key, self.key, actual, detail)
        self._verified = True


class ObjectStore(ABC):
    """A content-addressed store of immutable byte objects. Public methods validate keys and delegate
    to the backend's private ``_`` methods."""

    def put_bytes(self, data: bytes) -> ObjectRef:
        """Store ``data`` (small objects only: it is in memory already). A key that exists is reused."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"put_bytes takes bytes, got {type(data).__name__}")
        data = bytes(data)
        return self._put_bytes(data, hashlib.sha256(data).hexdigest())

    def put_file(self, path: str | os.PathLike[str]) -> ObjectRef:
        """Store the contents of the file at ``path``, streamed. A key that exists is reused."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no file to store at {path}")
        return self._put_file(path)

    def put_stream(self, fileobj: IO[bytes]) -> ObjectRef:
        """Store everything ``fileobj`` yields until EOF, streamed. A key that exists is reused."""
        return self._put_stream(fileobj)

    def open(self, key: str) -> VerifyingReader:
        """A verifying stream of the object ``key``; raises :class:`ObjectNotFound`."""
        return self._open(validate_key(key))

    def get_bytes(self, key: str) -> bytes:
        """The whole object, verified (small objects only)."""
        with self.open(key) as reader:
            return reader.read()

    def download(self, key: str, path: str | os.PathLike[str]) -> Path:
        """Stream the object into ``path``; the file appears (atomically) only once verified."""
        validate_key(key)
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out, self.open(key) as reader:
                for chunk in reader:  # the last read raises ChecksumMismatch when the bytes are wrong
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp_name, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        return target

    def exists(self, key: str) -> bool:
        """True when an object is stored under ``key`` (its bytes are not checked)."""
        try:
            self.stat(key)
        except ObjectNotFound:
            return False
        return True

    def stat(self, key: str) -> ObjectRef:
        """The reference of a stored object without reading it (its size is the store's, its
        checksum is the key: nothing is checked); raises :class:`ObjectNotFound`."""
        return self._stat(validate_key(key))

    def verify(self, key: str) -> ObjectRef:
        """The reference of a stored object once its content is checked: its bytes hash to the key
        (read back and hashed, or a checksum the server computed from the bytes it received);
        raises :class:`ChecksumMismatch` when they do not, :class:`ObjectNotFound` when missing."""
        return self._verify(validate_key(key))

    def delete(self, key: str) -> None:
        """Remove the object; deleting a key that is not stored is not an error."""
        self._delete(validate_key(key))

    def presigned_url(self, key: str, ttl_s: int | None = None) -> str | None:
        """A time-limited GET URL for the object, or None when the backend has none (file://).
        The object's existence is not checked."""
        return self._presigned_url(validate_key(key), ttl_s)

    @property
    @abstractmethod
    def url(self) -> str:
        """The store's own address: ``file:///abs/dir`` or ``s3://bucket/prefix``."""

    def close(self) -> None:  # noqa: B027 - an optional hook: only some backends hold connections
        """Release connections; the store is not usable afterwards."""

    def __enter__(self) -> ObjectStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    @abstractmethod
    def _put_bytes(self, data: bytes, key: str) -> ObjectRef: ...

    @abstractmethod
    def _put_file(self, path: Path) -> ObjectRef: ...

    @abstractmethod
    def _put_stream(self, fileobj: IO[bytes]) -> ObjectRef: ...

    @abstractmethod
    def _open(self, key: str) -> VerifyingReader: ...

    @abstractmethod
    def _stat(self, key: str) -> ObjectRef: ...

    @abstractmethod
    def _delete(self, key: str) -> None: ...

    def _verify(self, key: str) -> ObjectRef:
        """Read the object back through a :class:`VerifyingReader` (the last read raises on wrong bytes)."""
        with self.open(key) as reader:
            for _ in reader.iter_chunks():
                pass
            if not reader.verified:
                raise ChecksumMismatch(key, key, None, "the object could not be read to its end")
        return self._stat(key)

    @abstractmethod
    def _presigned_url(self, key: str, ttl_s: int | None) -> str | None: ...


def read_chunks(fileobj: IO[bytes], chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Yield ``fileobj``'s bytes until EOF; refuses text streams."""
    while True:
        chunk = fileobj.read(chunk_size)
        if not chunk:
            return
        if not isinstance(chunk, bytes | bytearray | memoryview):
            raise TypeError(f"expected a binary stream, read {type(chunk).__name__}")
        yield chunk
