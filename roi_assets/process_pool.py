"""`map` over a pool of worker processes, for independent CPU-bound items (pages to read,
documents to draw): 2 cores read or draw twice as many documents in the same time.

Workers are spawned, not forked, so no threads, locks or open DuckDB connections of the caller are
inherited; a spawned worker imports the caller's main module, so a script calls this under
`if __name__ == "__main__":`. Starting a worker costs about a second (imports), so a small batch
runs in the calling process (`pool_workers`).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Below this many items per worker, starting the workers costs more than they save.
MIN_ITEMS_PER_WORKER = 4


def pool_workers(items: int, workers: int) -> int:
    """How many processes should take `items` items: 1 (the caller) below a pool's cost."""
    return max(1, min(workers, items // MIN_ITEMS_PER_WORKER))


def map_in_processes(function: Callable[[T], R], items: Sequence[T], workers: int) -> list[R]:
    """`[function(item) for item in items]`, over up to `workers` spawned processes
    (`pool_workers`: in this one for a small batch); results in the order of `items`, the first
    failure raised. `function` must be picklable (a module-level function or a
    `functools.partial` of one)."""
    workers = pool_workers(len(items), workers)
    if workers <= 1:
        return [function(item) for item in items]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        return list(pool.map(function, items))
