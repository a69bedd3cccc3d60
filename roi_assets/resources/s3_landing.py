"""Landing files in an S3 bucket, laid out like the local landing folder under a key prefix.

The bucket is only read: objects are listed and downloaded, never rewritten or deleted. A
download goes to a private temporary folder that disappears once the caller is done, so the
product's file readers (polars, the validation path) see an ordinary local file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

S3_SCHEME = "s3://"


def folder_prefix(landing_prefix: str, folder: str) -> str:
    """The key prefix of a landing folder in a bucket whose landing zone starts at
    `landing_prefix` ("" for the bucket's root)."""
    base = landing_prefix.strip("/")
    return f"{base}/{folder}/" if base else f"{folder}/"


def s3_uri(bucket: str, key: str) -> str:
    return f"{S3_SCHEME}{bucket}/{key}"


def object_keys(client: Any, bucket: str, key_prefix: str) -> list[str]:
    """Every object key under `key_prefix`, in key order, leaving out folder markers."""
    keys = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key_prefix):
        keys.extend(
            item["Key"] for item in page.get("Contents", ()) if not item["Key"].endswith("/")
        )
    return sorted(keys)


@contextmanager
def downloaded(client: Any, bucket: str, key: str) -> Iterator[Path]:
    """A temporary local copy of one object. The copy has a fixed name: the key is not trusted to
    make a safe file name, and readers know a source's format from its contract."""
    with tempfile.TemporaryDirectory(prefix="roi_landing_") as folder:
        path = Path(folder) / "landed_object"
        client.download_file(bucket, key, str(path))
        yield path
