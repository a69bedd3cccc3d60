import os

from roi_assets.documents.tesseract import single_threaded


def test_tesseract_is_single_threaded_only_for_the_call(monkeypatch):
    monkeypatch.delenv("OMP_THREAD_LIMIT", raising=False)

    with single_threaded():
        assert os.environ["OMP_THREAD_LIMIT"] == "1"

    assert "OMP_THREAD_LIMIT" not in os.environ  # torch in the same process keeps its threads


def test_an_operators_thread_limit_is_kept(monkeypatch):
    monkeypatch.setenv("OMP_THREAD_LIMIT", "2")

    with single_threaded():
        assert os.environ["OMP_THREAD_LIMIT"] == "2"

    assert os.environ["OMP_THREAD_LIMIT"] == "2"
