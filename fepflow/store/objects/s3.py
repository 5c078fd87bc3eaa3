"""The ``s3://bucket/prefix`` backend (AWS, MinIO, SeaweedFS) on boto3.

Objects live at ``prefix/ab/cd/<sha256>`` with their digest in the ``sha256`` user metadata. The server
checks what it receives: a single-part put carries ``ChecksumSHA256`` (a mismatch is refused); a
multipart upload (objects from ``multipart_threshold_mb`` up) sends a SHA256 checksum with every part,
and afterwards the composite checksum the server reports is compared with the one computed from the
bytes that were hashed, so a file that changed while it was uploaded is caught and removed (that
composite is kept in the ``sha256-parts`` metadata). An object already stored is trusted only when the
checksum the server reports (``ChecksumMode=ENABLED``) is the key's, or the composite of the bytes
being put; ``verify`` compares those checksums and, where the server reports none, reads the object
back and hashes it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import boto3
import botocore.exceptions as bx
from botocore.config import Config
from s3transfer.manager import TransferConfig, TransferManager
from s3transfer.utils import ChunksizeAdjuster

from fepflow.store.objects.base import (
    ChecksumMismatch,
    ObjectNotFound,
    ObjectRef,
    ObjectStore,
    ObjectStoreAuthError,
    ObjectStoreError,
    ObjectStoreUnavailable,
    VerifyingReader,
    key_path,
    read_chunks,
)

if TYPE_CHECKING:
    from fepflow.settings import ObjectStoreSettings

MIB = 1024 * 1024
MAX_PRESIGN_TTL_S = 7 * 24 * 3600
_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
_AUTH = {"403", "AccessDenied", "Forbidden", "SignatureDoesNotMatch", "InvalidAccessKeyId", "ExpiredToken"}
_BAD_DIGEST = {"BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch", "InvalidChecksum"}


class _Digests:
    """The sha256 of a stream, and the per-part digests S3 combines into a multipart upload's
    composite checksum (sha256 of the concatenated part digests, then ``-<parts>``)."""

    def __init__(self, part_size: int) -> None:
        self.part_size, self.size, self._fill = part_size, 0, 0
        self._whole, self._part = hashlib.sha256(), hashlib.sha256()
        self._parts: list[bytes] = []

    def update(self, data: bytes) -> None:
        self._whole.update(data)
        self.size += len(data)
        view = memoryview(data)
        while view:
            take = min(len(view), self.part_size - self._fill)
            self._part.update(view[:take])
            self._fill, view = self._fill + take, view[take:]
            if self._fill == self.part_size:
                self._parts.append(self._part.digest())
                self._part, self._fill = hashlib.sha256(), 0

    @property
    def key(self) -> str:
        return self._whole.hexdigest()

    def composite(self) -> str:
        parts = self._parts + ([self._part.digest()] if self._fill else [])
        return f"{base64.b64encode(hashlib.sha256(b''.join(parts)).digest()).decode()}-{len(parts)}"


class _Body(io.RawIOBase):
    """An S3 response body whose read errors become object store errors."""

    def __init__(self, body: Any, store: S3ObjectStore, key: str) -> None:
        super().__init__()
        self._body, self._store, self._key = body, store, key

    def read(self, size: int | None = -1, /) -> bytes:
        with self._store._errors("read", self._key):
            return bytes(self._body.read(None if size is None or size < 0 else size))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._body.close()
        super().close()


class S3ObjectStore(ObjectStore):
    """Objects in ``bucket`` under ``prefix``, through one boto3 client owned by this store."""

    def __init__(
        self,
        client: Any,
        *,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        multipart_threshold_bytes: int = 64 * MIB,
        presign_ttl_s: int = 3600,
        spool_dir: str | None = None,
        presign_client: Any | None = None,
    ) -> None:
        if not bucket:
            raise ObjectStoreError("s3:// object store URL names no bucket")
        self._client, self._bucket, self._prefix = client, bucket, prefix.strip("/")
        self._endpoint, self._region = endpoint_url or f"AWS S3 ({region})", region
        self._threshold = max(multipart_threshold_bytes, 5 * MIB)  # S3's smallest part is 5 MiB
        self._part_size = min(self._threshold, 16 * MIB)  # bounds memory: 8 parts in flight at most
        self._presign_ttl_s = presign_ttl_s
        self._presigner = presign_client or client  # signs URLs for the endpoint clients reach
        self._spool_dir = spool_dir  # where put_stream spools (None: TMPDIR); must be disk, not tmpfs
        self._transfer = TransferConfig(self._threshold, self._part_size, max_request_concurrency=8)

    @classmethod
    def from_settings(cls, settings: ObjectStoreSettings, *, bucket: str, prefix: str = "") -> S3ObjectStore:
        """A store with its own boto3 session and client (SigV4; path addressing unless set otherwise)."""
        secret = settings.s3_secret_access_key
        session = boto3.session.Session(
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
            region_name=settings.s3_region,
        )
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": settings.s3_addressing_style},
            retries={"mode": "standard", "max_attempts": 5},
            connect_timeout=10,
            read_timeout=120,
            max_pool_connections=16,
            # We send and check sha256 ourselves; botocore's own CRC32 / second sha256 would be waste.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        client = session.client("s3", endpoint_url=settings.s3_endpoint_url, config=config)
        public = settings.s3_public_endpoint_url
        presigner = session.client("s3", endpoint_url=public, config=config) if public else None
        threshold = settings.multipart_threshold_mb * MIB
        return cls(client, bucket=bucket, prefix=prefix, endpoint_url=settings.s3_endpoint_url,
                   region=settings.s3_region, multipart_threshold_bytes=threshold,
                   presign_ttl_s=settings.presign_ttl_s, presign_client=presigner)  # fmt: skip

    @property
    def url(self) -> str:
        return f"s3://{self._bucket}/{self._prefix}" if self._prefix else f"s3://{self._bucket}"

    def object_name(self, key: str) -> str:
        """The S3 object key of a content key: ``prefix/ab/cd/<key>``."""
        return f"{self._prefix}/{key_path(key)}" if self._prefix else key_path(key)

    def _ref(self, key: str, size: int) -> ObjectRef:
        uri = f"s3://{self._bucket}/{self.object_name(key)}"
        return ObjectRef(key=key, size_bytes=size, sha256=key, uri=uri)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._client.close()

    def ensure_bucket(self, wait_s: float = 15.0) -> None:
        """Create the bucket when it is missing, retrying server errors for up to ``wait_s`` seconds
        (a server that just opened its port may not serve buckets yet)."""
        deadline = time.monotonic() + wait_s
        while True:
            try:
                with self._errors("create bucket"):
                    return self._create_bucket()
            except ObjectStoreAuthError:
                raise
            except ObjectStoreError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.5)

    def _create_bucket(self) -> None:
        try:
            self._client.head_bucket(Bucket=self._bucket)
            return
        except bx.ClientError as exc:
            if _code(exc) not in _NOT_FOUND:
                raise
        where = {"LocationConstraint": self._region}
        extra = {} if self._region == "us-east-1" else {"CreateBucketConfiguration": where}
        try:
            self._client.create_bucket(Bucket=self._bucket, **extra)
        except bx.ClientError as exc:
            if _code(exc) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise

    def _put_bytes(self, data: bytes, key: str) -> ObjectRef:
        digests = _Digests(ChunksizeAdjuster().adjust_chunksize(self._part_size, len(data)))
        digests.update(data)
        return self._upload(io.BytesIO(data), digests)

    def _put_file(self, path: Path) -> ObjectRef:
        digests = _Digests(ChunksizeAdjuster().adjust_chunksize(self._part_size, path.stat().st_size))
        with open(path, "rb") as source:
            for chunk in read_chunks(source):
                digests.update(chunk)
            source.seek(0)
            return self._upload(source, digests)

    def _put_stream(self, fileobj: IO[bytes]) -> ObjectRef:
        # The key must be known before anything is sent: spool to a private temporary file first.
        digests = _Digests(self._part_size)
        with tempfile.TemporaryFile(prefix="fepflow-put-", dir=self._spool_dir) as spool:
            for chunk in read_chunks(fileobj):
                digests.update(chunk)
                spool.write(chunk)
            spool.flush()
            spool.seek(0)
            return self._upload(spool, digests)

    def _upload(self, source: IO[bytes], digests: _Digests) -> ObjectRef:
        key, size, name = digests.key, digests.size, self.object_name(digests.key)
        existing = self._existing(key, size, digests)
        if existing is not None:
            return existing
        extra: dict[str, Any] = {"ContentType": "application/octet-stream", "Metadata": {"sha256": key}}
        if size >= self._threshold and self._same_parts(digests):
            extra["Metadata"]["sha256-parts"] = digests.composite()
        with self._errors("upload", key):
            if size < self._threshold:
                checksum = _b64(key)
                self._client.put_object(Bucket=self._bucket, Key=name, Body=source, ContentLength=size,
                                        ChecksumSHA256=checksum, **extra)  # fmt: skip
                return self._ref(key, size)
            with TransferManager(self._client, self._transfer) as manager:
                extra["ChecksumAlgorithm"] = "SHA256"
                manager.upload(source, self._bucket, name, extra_args=extra).result()
            head = self._client.head_object(Bucket=self._bucket, Key=name, ChecksumMode="ENABLED")
        reported, composite = head.get("ChecksumSHA256"), digests.composite()
        same_parts = self._same_parts(digests)
        problem = ""
        if head["ContentLength"] != size:
            problem = f"the server stored {head['ContentLength']} bytes of {size}"
        elif reported and "-" in reported and same_parts and reported != composite:
            problem = f"the server's composite sha256 {reported} is not {composite}"
        if problem:
            with contextlib.suppress(Exception):
                self._client.delete_object(Bucket=self._bucket, Key=name)
            raise ChecksumMismatch(key, key, None, f"{problem} (did the source change while uploading?)")
        return self._ref(key, size)

    def _same_parts(self, digests: _Digests) -> bool:
        """True when the upload splits the object into the parts ``digests`` hashed."""
        return ChunksizeAdjuster().adjust_chunksize(self._part_size, digests.size) == digests.part_size

    def _existing(self, key: str, size: int, digests: _Digests) -> ObjectRef | None:
        """The reference of ``key`` when the stored object has its size, our ``sha256`` metadata and
        a server checksum of these bytes (whole, or the composite of these parts); else None, and
        the caller rewrites it (a size and metadata alone say nothing of the bytes)."""
        try:
            head = self._head(key, checksum=True)
        except ObjectNotFound:
            return None
        if head["ContentLength"] != size or head.get("Metadata", {}).get("sha256") != key:
            return None
        reported = head.get("ChecksumSHA256")
        if reported == _b64(key) or (self._same_parts(digests) and reported == digests.composite()):
            return self._ref(key, size)
        return None

    def _head(self, key: str, *, checksum: bool = False) -> dict[str, Any]:
        extra = {"ChecksumMode": "ENABLED"} if checksum else {}
        with self._errors("stat", key):
            return dict(self._client.head_object(Bucket=self._bucket, Key=self.object_name(key), **extra))

    def _verify(self, key: str) -> ObjectRef:
        """Compare the checksum the server computed from the bytes it received with the key (for a
        multipart object, its composite with the one recorded from our bytes); read back otherwise."""
        head = self._head(key, checksum=True)
        reported, size = head.get("ChecksumSHA256"), int(head["ContentLength"])
        if reported and "-" not in reported:
            if reported != _b64(key):
                raise ChecksumMismatch(
                    key, key, base64.b64decode(reported).hex(), "the server's ChecksumSHA256"
                )
            return self._ref(key, size)
        if reported and reported == head.get("Metadata", {}).get("sha256-parts"):
            return self._ref(key, size)
        return super()._verify(key)

    def _open(self, key: str) -> VerifyingReader:
        with self._errors("get", key):
            response = self._client.get_object(Bucket=self._bucket, Key=self.object_name(key))
        body = _Body(response["Body"], self, key)
        return VerifyingReader(body, key=key, size_bytes=response["ContentLength"])

    def _stat(self, key: str) -> ObjectRef:
        return self._ref(key, int(self._head(key)["ContentLength"]))

    def _delete(self, key: str) -> None:
        with self._errors("delete", key):
            self._client.delete_object(Bucket=self._bucket, Key=self.object_name(key))

    def _presigned_url(self, key: str, ttl_s: int | None) -> str | None:
        ttl = self._presign_ttl_s if ttl_s is None else ttl_s
        if not 0 < ttl <= MAX_PRESIGN_TTL_S:
            raise ValueError(f"presigned URL lifetime must be 1..{MAX_PRESIGN_TTL_S} s, got {ttl}")
        params = {"Bucket": self._bucket, "Key": self.object_name(key)}
        with self._errors("presign", key):
            return str(self._presigner.generate_presigned_url("get_object", Params=params, ExpiresIn=ttl))

    @contextlib.contextmanager
    def _errors(self, action: str, key: str | None = None) -> Iterator[None]:
        """Turn botocore errors into store errors naming the endpoint and bucket (never a secret)."""
        try:
            yield
        except (bx.BotoCoreError, bx.ClientError) as exc:
            raise self._translate(exc, action, key) from exc

    def _translate(self, exc: Exception, action: str, key: str | None) -> ObjectStoreError:
        where = f"bucket {self._bucket!r} at {self._endpoint}"
        if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
            return ObjectStoreAuthError(f"no usable S3 credentials for {where}: set FEPFLOW_OBJECTS_S3_*")
        if isinstance(exc, bx.FlexibleChecksumError) and key:
            return ChecksumMismatch(key, key, None, f"the response failed its S3 checksum ({exc})")
        if isinstance(exc, bx.ConnectionError | bx.HTTPClientError):  # refused, timed out, cut off
            return ObjectStoreUnavailable(f"cannot reach the S3 endpoint for {where}: {exc}")
        if not isinstance(exc, bx.ClientError):
            return ObjectStoreError(f"S3 {action} failed for {where}: {exc}")
        code, message = _code(exc), exc.response.get("Error", {}).get("Message", "")
        if code in _NOT_FOUND and key:
            return ObjectNotFound(key, self.url)
        if code == "NoSuchBucket":
            return ObjectStoreError(f"{where} does not exist (create it, or pass create_bucket_if_missing)")
        if code in _AUTH or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 403:
            return ObjectStoreAuthError(
                f"S3 refused {action} in {where} ({code}: {message or 'forbidden'}); check the access key "
                "and secret (FEPFLOW_OBJECTS_S3_ACCESS_KEY_ID, _SECRET_ACCESS_KEY) and the bucket policy"
            )
        if code in _BAD_DIGEST and key:
            return ChecksumMismatch(key, key, None, f"{where} refused the upload: the bytes it got differ")
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
            return ObjectStoreUnavailable(f"S3 {action} failed for {where}: {code} {message}".rstrip())
        return ObjectStoreError(f"S3 {action} failed for {where}: {code} {message}".rstrip())


def _b64(key: str) -> str:
    """The ``ChecksumSHA256`` header of bytes whose sha256 hex digest is ``key``."""
    return base64.b64encode(bytes.fromhex(key)).decode()


def _code(exc: bx.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
