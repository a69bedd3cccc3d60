"""A landed document by its location: its bytes as a local file, its content hash and its key.

A location is a path relative to the landing zone's root ("documents/scan_1.png") or an S3 URI
("s3://bucket/landing/documents/scan_1.png"). The document's key, which names its partition and
its rows, is the start of the SHA-256 of its bytes: the same content landing twice, under any
name, is one document. Locations are only read; a relative one must stay inside the landing zone.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from roi_assets.documents.arrivals import S3_SCHEME
from roi_assets.documents.intake import content_sha256

DOCUMENT_KEY_LENGTH = 16  # 64 bits of SHA-256: collisions are out of reach for any archive


def document_key(sha256: str) -> str:
    """The partition key and `document_id` of a document with this content hash."""
    return sha256[:DOCUMENT_KEY_LENGTH]


def landed_name(location: str) -> str:
    """The name a document arrived under: the last component of its location."""
    return location.rsplit("/", 1)[-1]


def split_s3_uri(location: str) -> tuple[str, str]:
    bucket, _, key = location.removeprefix(S3_SCHEME).partition("/")
    return bucket, key


def local_path(location: str, landing_root: Path) -> Path:
    """The file behind a relative location; refuses one that leads out of the landing zone."""
    root = Path(landing_root).resolve()
    path = (root / location).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"{location!r} lies outside the landing zone {root}")
    return path


def _safe_suffix(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return suffix if suffix[1:].isalnum() else ""


@contextmanager
def local_copy(location: str, landing_root: Path, s3_client: Any | None = None) -> Iterator[Path]:
    """A local file with the landed bytes: the landed file itself, or a temporary download of
    an S3 object (named by its extension only, since the object's name is not yet trusted)."""
    if not location.startswith(S3_SCHEME):
        yield local_path(location, landing_root)
        return
    if s3_client is None:
        raise ValueError(f"{location} is on S3 but no S3 client was given")
    bucket, key = split_s3_uri(location)
    with tempfile.TemporaryDirectory(prefix="roi_document_") as folder:
        path = Path(folder) / f"document{_safe_suffix(landed_name(key))}"
        s3_client.download_file(bucket, key, str(path))
        yield path


def landed_sha256(location: str, landing_root: Path, s3_client: Any | None = None) -> str:
    """Hex SHA-256 of a landed document's bytes (S3 objects are streamed, not stored)."""
    if not location.startswith(S3_SCHEME):
        return content_sha256(local_path(location, landing_root))
    bucket, key = split_s3_uri(location)
    digest = hashlib.sha256()
    body = s3_client.get_object(Bucket=bucket, Key=key)["Body"]
    for chunk in iter(lambda: body.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


def find_landed(key: str, landing_root: Path, folder: str) -> str | None:
    """The relative location of a local document with this key, or None; for re-running a
    partition whose location was not passed on (S3 documents need their location)."""
    root = Path(landing_root)
    for path in sorted((root / folder).rglob("*")):
        if path.is_file() and not path.is_symlink() and document_key(content_sha256(path)) == key:
            return path.relative_to(root).as_posix()
    return None
