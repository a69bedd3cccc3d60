"""The entity extractor's precision and recall per type reach monitoring.model_evaluations
through the graph, judged against the simulator's truth."""

from __future__ import annotations

import hashlib

import dagster as dg
import numpy as np
import pandas as pd

from roi_assets.documents.assets import document_entity_evaluation
from roi_assets.documents.document_reading import DocumentReading
from roi_assets.documents.entity_evaluation import ENTITY_MODEL_NAME, EXTRACTOR_VERSION
from roi_assets.documents.labelled_corpus import corpus_frame
from roi_assets.documents.ocr import Engine, OcrResult
from roi_assets.resources.warehouse import connect, duckdb_resource, polars_io_manager
from roi_assets.simulator.documents.world import DocumentLanding, write_document_truth
from roi_assets.simulator.documents.writer import encode_document, simulate_document, truth_row


def test_entity_precision_and_recall_per_type_are_written_for_the_labelled_archive(tmp_path):
    docs = [simulate_document(i, 13, dpi=72) for i in range(12)]
    contents = [encode_document(d) for d in docs]
    rows = [
        {**truth_row(d, c), "corpus": "labelled", "landing_path": f"labelled/{d.file_name}"}
        for d, c in zip(docs, contents, strict=True)
    ]
    warehouse = tmp_path / "warehouse.duckdb"
    with connect(warehouse) as con:
        write_document_truth(con, DocumentLanding(pd.DataFrame(rows), pd.DataFrame()))
    # the "OCR text" of each document: its true text with one recognition error per document
    readings = [
        DocumentReading(
            OcrResult(
                d.clean_text.replace("Seller", "SeIler", 1),
                Engine.TESSERACT,
                0.9,
                0.9,
                1,
                1.0,
                False,
            ),
            np.zeros((128, 128), np.float32),
        )
        for d in docs
    ]
    corpus = corpus_frame(
        [
            (r["landing_path"], d.doc_type, hashlib.sha256(c).hexdigest())
            for r, d, c in zip(rows, docs, contents, strict=True)
        ],
        readings,
    )

    @dg.asset(key=["raw", "labelled_documents"])
    def labelled_documents():
        return corpus

    result = dg.materialize(
        [labelled_documents, document_entity_evaluation],
        resources={
            "duckdb": duckdb_resource(warehouse),
            "io_manager": polars_io_manager(warehouse),
        },
    )
    assert result.success
    with connect(warehouse) as con:
        stored = dict(
            con.execute(
                "select metric, value from monitoring.model_evaluations "
                "where model_name = ? and model_version = ?",
                [ENTITY_MODEL_NAME, EXTRACTOR_VERSION],
            ).fetchall()
        )
        oracle = con.execute(
            "select distinct oracle_value from monitoring.model_evaluations "
            "where metric like 'recall_%'"
        ).fetchall()
    for name in ("buyer", "seller", "property_address", "purchase_price", "key_date", "all"):
        assert 0.0 <= stored[f"precision_{name}"] <= 1.0
        assert 0.0 <= stored[f"recall_{name}"] <= 1.0
    assert stored["recall_all"] > 0.8
    assert stored["support_all"] > 12
    assert oracle == [(1.0,)]
    materialization = result.asset_materializations_for_node("document_entity_evaluation")[0]
    assert materialization.metadata["documents"].value == 12
