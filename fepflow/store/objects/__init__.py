"""The content-addressed object store: one interface (``base``), a ``file://`` backend (``file``) and
an ``s3://`` backend (``s3``, imported only when an S3 store is opened); ``open_object_store`` picks
the one a URL names."""

from fepflow.store.objects.backends import open_object_store
from fepflow.store.objects.base import (
    CHUNK_SIZE,
    ChecksumMismatch,
    InvalidObjectKey,
    ObjectNotFound,
    ObjectRef,
    ObjectStore,
    ObjectStoreAuthError,
    ObjectStoreError,
    ObjectStoreUnavailable,
    VerifyingReader,
    key_path,
    read_chunks,
    validate_key,
)
from fepflow.store.objects.file import FileObjectStore

__all__ = [
    "CHUNK_SIZE",
    "ChecksumMismatch",
    "FileObjectStore",
    "InvalidObjectKey",
    "ObjectNotFound",
    "ObjectRef",
    "ObjectStore",
    "ObjectStoreAuthError",
    "ObjectStoreError",
    "ObjectStoreUnavailable",
    "VerifyingReader",
    "key_path",
    "open_object_store",
    "read_chunks",
    "validate_key",
]
