"""Which backend an object store URL names: ``file://DIR`` or ``s3://bucket/prefix``.

The S3 backend (and boto3 with it) is imported only when an ``s3://`` store is opened.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from fepflow.store.objects.base import ObjectStore, ObjectStoreError
from fepflow.store.objects.file import FileObjectStore

if TYPE_CHECKING:
    from fepflow.settings import ObjectStoreSettings


def open_object_store(
    settings: ObjectStoreSettings, *, create_bucket_if_missing: bool = False
) -> ObjectStore:
    """The store that ``settings.url`` names: ``file://DIR`` (relative to the current directory when
    not absolute; created when missing) or ``s3://bucket[/prefix]``.

    ``create_bucket_if_missing`` (S3 only) creates the bucket when it does not exist, retrying for a
    few seconds while a freshly started server finishes starting.
    """
    url = settings.url
    if url.startswith("file://"):
        raw = unquote(url.removeprefix("file://"))
        if not raw:
            raise ObjectStoreError(f"file:// object store URL names no folder: {url!r}")
        return FileObjectStore(Path(raw).expanduser())
    if url.startswith("s3://"):
        from fepflow.store.objects.s3 import S3ObjectStore

        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        store = S3ObjectStore.from_settings(settings, bucket=bucket, prefix=prefix)
        if create_bucket_if_missing:
            store.ensure_bucket()
        return store
    raise ObjectStoreError(f"object store URL must be file://DIR or s3://bucket/prefix, got {url!r}")
