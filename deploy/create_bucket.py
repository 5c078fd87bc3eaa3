"""One-shot job of the compose stack: create the bucket of FEPFLOW_OBJECTS_URL if it is missing.

Reads the same FEPFLOW_OBJECTS_* variables as the hub and the workers, so it proves their credentials
work before they start. Idempotent; retries while the S3 server finishes starting. Works against any
S3 (SeaweedFS, MinIO, AWS). Exit 0 when the bucket exists and can be listed, 1 otherwise.
"""

from __future__ import annotations

import sys
import time
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from fepflow.settings import object_store_settings

ALREADY_THERE = {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}


def log(message: str) -> None:
    sys.stderr.write(f"create_bucket: {message}\n")


def main(deadline_s: float = 120.0) -> int:
    settings = object_store_settings()
    parsed = urlparse(settings.url)
    if parsed.scheme != "s3" or not parsed.netloc:
        log(f"FEPFLOW_OBJECTS_URL is {settings.url!r}: not an s3:// URL, nothing to create")
        return 0
    bucket = parsed.netloc
    secret = settings.s3_secret_access_key.get_secret_value() if settings.s3_secret_access_key else None
    client = boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=secret,
        config=Config(s3={"addressing_style": settings.s3_addressing_style}, retries={"max_attempts": 2}),
    )
    stop = time.monotonic() + deadline_s
    while True:
        try:
            try:
                kwargs = {}
                if settings.s3_region != "us-east-1":
                    kwargs["CreateBucketConfiguration"] = {"LocationConstraint": settings.s3_region}
                client.create_bucket(Bucket=bucket, **kwargs)
                log(f"created bucket {bucket!r}")
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in ALREADY_THERE:
                    raise
                log(f"bucket {bucket!r} already exists")
            client.list_objects_v2(Bucket=bucket, MaxKeys=1)
            return 0
        except (BotoCoreError, ClientError) as exc:
            if time.monotonic() > stop:
                log(f"giving up on bucket {bucket!r} at {settings.s3_endpoint_url}: {exc}")
                return 1
            log(f"waiting for S3 at {settings.s3_endpoint_url}: {exc}")
            time.sleep(1.0)


if __name__ == "__main__":
    sys.exit(main())
