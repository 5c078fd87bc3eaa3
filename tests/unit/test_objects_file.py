"""The file:// object store: content addressing, streaming, verification on read, atomic writes."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from fepflow.settings import ObjectStoreSettings
from fepflow.store.objects import (
    ChecksumMismatch,
    InvalidObjectKey,
    ObjectNotFound,
    ObjectRef,
    VerifyingReader,
    open_object_store,
)
from fepflow.store.objects.file import FileObjectStore

MB = 1024 * 1024


@pytest.fixture()
def store(tmp_path: Path) -> FileObjectStore:
    opened = open_object_store(ObjectStoreSettings(url=f"file://{tmp_path / 'objects'}"))
    assert isinstance(opened, FileObjectStore)
    return opened


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def corrupt(path: Path, offset: int = 0) -> None:
    """Flip one byte of a stored (read-only) object in place, keeping its size."""
    path.chmod(0o644)
    with open(path, "r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0xFF]))


def test_round_trip_is_content_addressed(store: FileObjectStore) -> None:
    data = b"energies\n" * 1000
    ref = store.put_bytes(data)
    key = hashlib.sha256(data).hexdigest()
    assert ref == ObjectRef(key=key, size_bytes=len(data), sha256=key, uri=ref.uri)
    path = store.root / key[:2] / key[2:4] / key
    assert ref.uri == path.as_uri()
    assert path.read_bytes() == data
    assert store.get_bytes(key) == data
    assert store.exists(key)
    assert store.stat(key) == ref
    assert store.presigned_url(key) is None
    assert store.url == store.root.as_uri()


def test_put_file_and_stream_give_the_same_reference(store: FileObjectStore, tmp_path: Path) -> None:
    data = os.urandom(3 * MB + 17)
    source = tmp_path / "bundle.tar"
    source.write_bytes(data)
    from_bytes = store.put_bytes(data)
    from_file = store.put_file(source)
    with open(source, "rb") as fh:
        from_stream = store.put_stream(fh)
    assert from_bytes == from_file == from_stream
    assert from_file.key == hashlib.sha256(data).hexdigest()


def test_put_of_an_existing_key_is_a_no_op(store: FileObjectStore) -> None:
    data = b"same bytes"
    first = store.put_bytes(data)
    path = store.root / first.key[:2] / first.key[2:4] / first.key
    inode, mtime = path.stat().st_ino, path.stat().st_mtime_ns
    assert store.put_bytes(data) == first
    assert store.put_stream(io.BytesIO(data)) == first
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (inode, mtime), "the stored file was rewritten"
    assert stored_files(store.root) == [path]


def test_a_stored_object_with_the_wrong_size_is_repaired_by_a_put(store: FileObjectStore) -> None:
    data = b"0123456789" * 10
    ref = store.put_bytes(data)
    path = store.root / ref.key[:2] / ref.key[2:4] / ref.key
    path.chmod(0o644)
    path.write_bytes(data[:10])  # truncated on disk
    assert store.put_bytes(data) == ref
    assert store.get_bytes(ref.key) == data


def test_a_stored_object_with_the_right_size_but_wrong_bytes_is_repaired_and_verified(
    store: FileObjectStore, tmp_path: Path
) -> None:
    """Issue 14 item 11: a put, and publishing, check the stored bytes, not only their size."""
    from fepflow.store.publish import PublishError, upload_verified

    data = os.urandom(100_000)
    source = tmp_path / "energies.npz"
    source.write_bytes(data)
    ref = store.put_file(source)
    path = store.root / ref.key[:2] / ref.key[2:4] / ref.key
    corrupt(path, offset=50_000)  # same size, one byte different
    with pytest.raises(ChecksumMismatch):
        store.verify(ref.key)
    assert upload_verified(store, source) == ref  # the damaged copy is not trusted: it is rewritten
    assert store.verify(ref.key) == ref
    assert path.read_bytes() == data

    put = FileObjectStore._put_file

    def put_then_damage(self: FileObjectStore, source_path: Path) -> object:
        stored = put(self, source_path)
        corrupt(self.root / stored.key[:2] / stored.key[2:4] / stored.key, offset=10)
        return stored

    store.delete(ref.key)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FileObjectStore, "_put_file", put_then_damage)
        with pytest.raises(PublishError, match=r"energies\.npz"):
            upload_verified(store, source)


def test_multi_megabyte_object_reads_in_chunks(store: FileObjectStore) -> None:
    data = os.urandom(5 * MB + 123)
    ref = store.put_stream(io.BytesIO(data))
    chunks = []
    with store.open(ref.key) as reader:
        assert isinstance(reader, VerifyingReader)
        assert reader.size_bytes == len(data)
        for chunk in reader:
            assert len(chunk) <= MB
            chunks.append(chunk)
        assert reader.verified
    assert len(chunks) == 6
    assert b"".join(chunks) == data
    with store.open(ref.key) as reader:
        assert reader.read(10) == data[:10]
        assert not reader.verified
        assert reader.read(64 * 1024) == data[10 : 10 + 64 * 1024]
    assert reader.closed


def test_reader_works_under_a_buffered_text_wrapper(store: FileObjectStore) -> None:
    ref = store.put_bytes(b"line one\nline two\n")
    with store.open(ref.key) as reader, io.TextIOWrapper(io.BufferedReader(reader)) as text:
        assert text.readlines() == ["line one\n", "line two\n"]


def test_corruption_on_disk_is_detected_on_read(store: FileObjectStore) -> None:
    data = os.urandom(2 * MB)
    ref = store.put_bytes(data)
    corrupt(store.root / ref.key[:2] / ref.key[2:4] / ref.key, offset=MB + 5)
    with pytest.raises(ChecksumMismatch) as caught:
        store.get_bytes(ref.key)
    err = caught.value
    assert err.key == ref.key and err.expected == ref.key
    assert err.actual is not None and err.actual != ref.key
    assert ref.key in str(err) and err.actual in str(err)
    with pytest.raises(ChecksumMismatch), store.open(ref.key) as reader:
        for _ in reader:
            pass


def test_truncation_on_disk_is_detected_on_read(store: FileObjectStore) -> None:
    ref = store.put_bytes(b"abcdef" * 100)
    path = store.root / ref.key[:2] / ref.key[2:4] / ref.key
    path.chmod(0o644)
    path.write_bytes(b"abcdef" * 99)
    with pytest.raises(ChecksumMismatch):
        store.get_bytes(ref.key)


def test_download_verifies_and_leaves_no_partial_file(store: FileObjectStore, tmp_path: Path) -> None:
    data = os.urandom(3 * MB)
    ref = store.put_bytes(data)
    out_dir = tmp_path / "out"
    good = store.download(ref.key, out_dir / "good.bin")
    assert good.read_bytes() == data

    corrupt(store.root / ref.key[:2] / ref.key[2:4] / ref.key, offset=len(data) - 1)
    with pytest.raises(ChecksumMismatch):
        store.download(ref.key, out_dir / "bad.bin")
    assert sorted(p.name for p in out_dir.iterdir()) == ["good.bin"], "a partial download was left behind"

    # a failed download never replaces a file that was already there
    with pytest.raises(ChecksumMismatch):
        store.download(ref.key, good)
    assert good.read_bytes() == data


@pytest.mark.parametrize(
    "key",
    [
        "../" * 21 + "x",
        "../../etc/passwd",
        "A" * 64,
        "a" * 63,
        "a" * 65,
        "g" * 64,
        "ab/cd/" + "a" * 58,
        "",
        " " + "a" * 63,
    ],
)
def test_invalid_keys_are_refused(store: FileObjectStore, key: str) -> None:
    for call in (store.open, store.get_bytes, store.exists, store.stat, store.delete, store.presigned_url):
        with pytest.raises(InvalidObjectKey):
            call(key)
    with pytest.raises(InvalidObjectKey):
        store.download(key, store.root.parent / "x")
    with pytest.raises(ValueError):  # InvalidObjectKey is a ValueError too
        store.stat(key)


def test_missing_object_is_not_found(store: FileObjectStore, tmp_path: Path) -> None:
    key = hashlib.sha256(b"never stored").hexdigest()
    assert not store.exists(key)
    for call in (store.open, store.get_bytes, store.stat):
        with pytest.raises(ObjectNotFound) as caught:
            call(key)
        assert caught.value.key == key
    with pytest.raises(ObjectNotFound):
        store.download(key, tmp_path / "missing.bin")
    assert not (tmp_path / "missing.bin").exists()
    assert list(tmp_path.glob(".missing.bin*")) == []
    store.delete(key)  # deleting what is not there is not an error


def test_delete_removes_the_object(store: FileObjectStore) -> None:
    ref = store.put_bytes(b"to be deleted")
    store.delete(ref.key)
    assert not store.exists(ref.key)
    with pytest.raises(ObjectNotFound):
        store.get_bytes(ref.key)


class ExplodingStream(io.RawIOBase):
    """Yields ``good`` bytes in chunks, then raises, as a network stream might."""

    def __init__(self, good: int) -> None:
        self.left = good

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            raise ConnectionResetError("peer went away mid-stream")
        n = min(self.left, MB if size is None or size < 0 else size)
        self.left -= n
        return b"\x01" * n


def test_atomic_write_leaves_nothing_when_the_stream_fails(store: FileObjectStore) -> None:
    kept = store.put_bytes(b"already here")
    before = stored_files(store.root)
    with pytest.raises(ConnectionResetError):
        store.put_stream(ExplodingStream(good=3 * MB))
    assert stored_files(store.root) == before
    assert list((store.root / ".tmp").iterdir()) == []
    assert store.get_bytes(kept.key) == b"already here"


def test_successful_writes_leave_no_temporary_files(store: FileObjectStore, tmp_path: Path) -> None:
    source = tmp_path / "src.bin"
    source.write_bytes(os.urandom(MB))
    refs = {
        store.put_bytes(b"a"),
        store.put_file(source),
        store.put_stream(io.BytesIO(b"b")),
        store.put_bytes(b"a"),
    }
    assert len(refs) == 3
    assert list((store.root / ".tmp").iterdir()) == []
    assert {p.name for p in stored_files(store.root)} == {r.key for r in refs}
    for path in stored_files(store.root):
        assert path.stat().st_mode & 0o222 == 0, "stored objects are read-only"


def test_text_stream_is_refused(store: FileObjectStore) -> None:
    with pytest.raises(TypeError):
        store.put_stream(io.StringIO("not bytes"))  # type: ignore[arg-type]
    assert list((store.root / ".tmp").iterdir()) == []


def test_relative_file_url_is_relative_to_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    opened = open_object_store(ObjectStoreSettings(url="file://rel/objects"))
    assert isinstance(opened, FileObjectStore)
    assert opened.root == tmp_path / "rel" / "objects"
    assert opened.root.is_dir()
    ref = opened.put_bytes(b"x")
    assert (tmp_path / "rel" / "objects" / ref.key[:2] / ref.key[2:4] / ref.key).read_bytes() == b"x"


def test_object_ref_insists_on_content_addressing() -> None:
    key = hashlib.sha256(b"x").hexdigest()
    with pytest.raises(ValueError):
        ObjectRef(key=key, size_bytes=1, sha256="0" * 64, uri="file:///x")
    with pytest.raises(ValueError):
        ObjectRef(key="../x", size_bytes=1, sha256="../x", uri="file:///x")
