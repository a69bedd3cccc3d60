import os
from functools import partial

import pytest

from roi_assets.process_pool import MIN_ITEMS_PER_WORKER, map_in_processes, pool_workers


def test_a_small_batch_stays_in_this_process_and_a_large_one_goes_to_the_pool():
    assert pool_workers(0, workers=2) == 1
    assert pool_workers(2, workers=2) == 1
    assert pool_workers(MIN_ITEMS_PER_WORKER * 2 - 1, workers=2) == 1
    assert pool_workers(MIN_ITEMS_PER_WORKER * 2, workers=2) == 2
    assert pool_workers(1000, workers=2) == 2
    assert pool_workers(1000, workers=1) == 1


def _tagged(offset: int, item: int) -> tuple[int, int]:
    return item + offset, os.getpid()


def _failing(item: int) -> int:
    if item == 3:
        raise ValueError("item 3 is broken")
    return item


def test_results_come_back_in_order_from_other_processes():
    results = map_in_processes(partial(_tagged, 10), list(range(8)), workers=2)

    assert [value for value, _ in results] == list(range(10, 18))
    assert os.getpid() not in {pid for _, pid in results}


def test_one_worker_maps_in_this_process():
    results = map_in_processes(partial(_tagged, 0), [1, 2], workers=1)

    assert results == [(1, os.getpid()), (2, os.getpid())]


def test_a_failing_item_raises_its_error():
    with pytest.raises(ValueError, match="item 3"):
        map_in_processes(_failing, list(range(6)), workers=2)
