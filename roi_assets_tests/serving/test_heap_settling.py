import gc
import weakref

import pytest

from roi_assets.serving.app import refresh_and_settle


class _Model:
    def __init__(self) -> None:
        self.itself = self  # a reference cycle: only the cyclic collector frees it


class _Service:
    """Holds one loaded model; a refresh that `replaces` swaps it for a new one."""

    def __init__(self) -> None:
        self.model = _Model()
        self.replaces = False

    def refresh(self) -> dict:
        if self.replaces:
            self.model = _Model()
        return {"changed_models": ["m"] if self.replaces else [], "batch_reloaded": False}


@pytest.fixture
def unfrozen_afterwards():
    yield
    gc.unfreeze()


def test_what_is_loaded_is_frozen_and_what_a_reload_replaces_is_freed(unfrozen_afterwards):
    service = _Service()

    refresh_and_settle(service)
    assert gc.get_freeze_count() > 0
    replaced = weakref.ref(service.model)

    service.replaces = True
    refresh_and_settle(service)

    assert replaced() is None
    assert gc.get_freeze_count() > 0


def test_a_refresh_that_changed_nothing_pays_no_full_collection(unfrozen_afterwards, monkeypatch):
    service = _Service()
    refresh_and_settle(service)
    collections = []
    monkeypatch.setattr(gc, "collect", lambda *args: collections.append(args) or 0)

    refresh_and_settle(service)

    assert collections == []
