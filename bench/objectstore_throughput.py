"""Object store throughput: write and read MB/s of the file:// and s3:// backends, and their ratio.

Starts its own SeaweedFS S3 server (``weed mini``) on free ports in a temporary folder and stops it at
the end. Both backends run with their production settings (file:// fsyncs every object; S3 hashes on
write, sends ChecksumSHA256 or per-part SHA256 checksums, verifies sha256 on read). Every object is
new (distinct random bytes), so no put is a no-op. Reads stream through the verifying reader.

    .venv/bin/python bench/objectstore_throughput.py [--small-count 50] [--small-mb 1] [--large-mb 256]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from fepflow.devstack.servers import S3Server, seaweed_process
from fepflow.devstack.servers import make_bucket as create_bucket
from fepflow.settings import ObjectStoreSettings
from fepflow.store.objects import ObjectStore, open_object_store

MB = 1024 * 1024


def make_bucket(server: S3Server) -> str:
    """A new bucket on the freshly started server."""
    return create_bucket(server, f"bench-{uuid.uuid4().hex[:12]}")


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def run_case(
    store: ObjectStore, small: list[bytes], large: Path, work: Path
) -> dict[str, tuple[float, float]]:
    """{case: (write MB/s, read MB/s)} for many small objects and one large file."""
    results: dict[str, tuple[float, float]] = {}
    small_mb = sum(len(b) for b in small) / MB
    refs = []
    write_s = timed(lambda: refs.extend(store.put_bytes(b) for b in small))
    read_s = timed(lambda: [store.get_bytes(r.key) for r in refs])
    results[f"{len(small)} x {len(small[0]) / MB:g} MB put_bytes/get_bytes"] = (
        small_mb / write_s,
        small_mb / read_s,
    )

    large_mb = large.stat().st_size / MB
    holder = []
    write_s = timed(lambda: holder.append(store.put_file(large)))
    key = holder[0].key

    def stream() -> None:
        with store.open(key) as reader:
            for _ in reader:
                pass
            assert reader.verified

    read_s = timed(stream)
    results[f"1 x {large_mb:g} MB put_file/open (stream)"] = (large_mb / write_s, large_mb / read_s)
    target = work / "download.bin"
    download_s = timed(lambda: store.download(key, target))
    target.unlink()
    results[f"1 x {large_mb:g} MB download (to file)"] = (float("nan"), large_mb / download_s)
    return results


def _mbs(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small-count", type=int, default=50)
    parser.add_argument("--small-mb", type=float, default=1.0)
    parser.add_argument("--large-mb", type=int, default=256)
    parser.add_argument("--multipart-threshold-mb", type=int, default=64)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="fepflow-bench-") as tmp:
        work = Path(tmp)
        small = [os.urandom(int(args.small_mb * MB)) for _ in range(args.small_count)]
        large = work / "large.bin"
        with open(large, "wb") as fh:
            for _ in range(args.large_mb):
                fh.write(os.urandom(MB))

        server, proc = seaweed_process(
            work / "s3", access_key_id="bench-key", secret_access_key="bench-secret-0123456789"
        )
        started = time.perf_counter()
        proc.start()
        try:
            bucket = make_bucket(server)
            ready_s = time.perf_counter() - started
            file_store = open_object_store(ObjectStoreSettings(url=f"file://{work / 'objects'}"))
            s3_store = open_object_store(
                ObjectStoreSettings(
                    url=f"s3://{bucket}/bench",
                    s3_endpoint_url=server.endpoint_url,
                    s3_access_key_id=server.access_key_id,
                    s3_secret_access_key=server.secret_access_key,  # type: ignore[arg-type]
                    multipart_threshold_mb=args.multipart_threshold_mb,
                )
            )
            file_results = run_case(file_store, small, large, work)
            s3_results = run_case(s3_store, small, large, work)
            s3_store.close()
        finally:
            proc.stop()

    print(
        f"object store throughput ({platform.node()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f};"
    )
    print(f"SeaweedFS ready in {ready_s:.1f} s; S3 multipart threshold {args.multipart_threshold_mb} MB)")
    header = f"{'case':<44} {'file w MB/s':>11} {'file r MB/s':>11} {'s3 w MB/s':>10} {'s3 r MB/s':>10}"
    print(header)
    print("-" * len(header))
    for case, (fw, fr) in file_results.items():
        sw, sr = s3_results[case]
        print(f"{case:<44} {_mbs(fw):>11} {fr:>11.0f} {_mbs(sw):>10} {sr:>10.0f}")
    print()
    print(f"{'ratio S3/file (same run)':<44} {'write':>11} {'read':>11}")
    for case, (fw, fr) in file_results.items():
        sw, sr = s3_results[case]
        write_ratio = "-" if math.isnan(fw) else f"{sw / fw:.2f}"
        print(f"{case:<44} {write_ratio:>11} {sr / fr:>11.2f}")


if __name__ == "__main__":
    main()
