"""Which clients the send-time optimizer is judged on: a fixed share it never trains on.

The split hashes the client id, so a client stays on the same side across runs, scales and new
clients, and training and evaluation (separate assets) agree without passing a list around.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

HELD_OUT_FRACTION = 0.2
_BUCKETS = 10_000


def _bucket(client_id: str) -> int:
    digest = hashlib.blake2b(client_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % _BUCKETS


def is_held_out(client_ids: Iterable[str], fraction: float = HELD_OUT_FRACTION) -> np.ndarray:
    """Boolean mask: True for the clients held out of training (about `fraction` of them)."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"the held-out fraction must lie strictly between 0 and 1, got {fraction}")
    threshold = round(fraction * _BUCKETS)
    return np.fromiter((_bucket(str(c)) < threshold for c in client_ids), dtype=bool)
