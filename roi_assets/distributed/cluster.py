"""The connection to a Dask scheduler, and the two ways the product hands it work.

The product never starts a cluster: production points ROI_DASK_SCHEDULER at one that
dask-kubernetes, dask-gateway or `dask scheduler` started; tests start a `LocalCluster`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from roi_assets import settings

T = TypeVar("T")
R = TypeVar("R")
CONNECT_TIMEOUT = "30s"


@contextmanager
def dask_client() -> Iterator[Any]:
    """A client of the configured scheduler for the duration of the block; None when
    ROI_DASK_SCHEDULER is unset. The client is closed on exit, the cluster keeps running."""
    address = settings.dask_scheduler()
    if address is None:
        yield None
        return
    from distributed import Client  # imported only when a cluster is configured

    with Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False) as client:
        yield client


@contextmanager
def fits_on_dask(n_jobs: int) -> Iterator[int]:
    """joblib's work (GridSearchCV's fits) on the cluster's workers within the block, when one is
    configured; yields the n_jobs to pass: every worker slot (-1) there, `n_jobs` here."""
    with dask_client() as client:
        if client is None:
            yield n_jobs
            return
        import joblib

        with client.as_current(), joblib.parallel_backend("dask", wait_for_workers_timeout=60):
            yield -1


def run_tasks(
    function: Callable[..., R], items: Sequence[T], *shared: Any, **keywords: Any
) -> list[R]:
    """`[function(item, *shared, **keywords) for item in items]`, as one Dask task per item on
    the configured cluster (the shared arguments sent to the workers once), in order."""
    with dask_client() as client:
        if client is None:
            return [function(item, *shared, **keywords) for item in items]
        scattered = [client.scatter(value, broadcast=True) for value in shared]
        futures = [
            client.submit(function, item, *scattered, pure=False, **keywords) for item in items
        ]
        return client.gather(futures)
