import duckdb
import numpy as np
import polars as pl

from roi_assets.monitoring.drift.held_out_confidence import (
    input_digests,
    store_confidences,
    stored_confidences,
)

MODEL = "roi-document-classifier"


def _corpus(texts: list[str], seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    thumbnails = [rng.random(16, dtype=np.float32).tobytes() for _ in texts]
    return pl.DataFrame({"text": texts, "thumbnail": thumbnails})


def test_a_document_read_again_or_redrawn_gets_another_digest():
    corpus = _corpus(["lease agreement", "purchase offer"])
    again = input_digests(corpus)
    assert input_digests(corpus) == again
    assert len(set(again)) == 2
    reread = corpus.with_columns(pl.Series("text", ["lease agreernent", "purchase offer"]))
    assert input_digests(reread)[0] != again[0]
    assert input_digests(reread)[1] == again[1]
    redrawn = _corpus(["lease agreement", "purchase offer"], seed=1)
    assert input_digests(redrawn)[0] != again[0]


def test_stored_confidences_come_back_in_the_order_asked_for():
    con = duckdb.connect()
    store_confidences(con, MODEL, "3", ["a", "b", "c"], [0.9, 0.8, 0.7])
    assert stored_confidences(con, MODEL, "3", ["c", "a", "b", "a"]) == [0.7, 0.9, 0.8, 0.9]


def test_another_version_or_an_unseen_document_is_not_served_from_the_store():
    con = duckdb.connect()
    assert stored_confidences(con, MODEL, "3", ["a"]) is None  # no table yet
    store_confidences(con, MODEL, "3", ["a", "b"], [0.9, 0.8])
    assert stored_confidences(con, MODEL, "4", ["a", "b"]) is None
    assert stored_confidences(con, "another-model", "3", ["a", "b"]) is None
    assert stored_confidences(con, MODEL, "3", ["a", "b", "new"]) is None


def test_storing_again_keeps_one_row_per_version_and_input():
    con = duckdb.connect()
    store_confidences(con, MODEL, "3", ["a", "b", "a"], [0.9, 0.8, 0.9])
    store_confidences(con, MODEL, "3", ["a", "b"], [0.9, 0.8])
    store_confidences(con, MODEL, "4", ["a"], [0.5])
    counts = con.execute(
        "select model_version, count(*) from monitoring.document_held_out_confidence "
        "group by all order by 1"
    ).fetchall()
    assert counts == [("3", 2), ("4", 1)]
    assert stored_confidences(con, MODEL, "4", ["a"]) == [0.5]
