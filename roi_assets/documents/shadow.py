"""The document classifier's shadow test: both versions classify the labelled archive's documents
that neither trained on (the held-out split both share); their per-document errors (0/1) are
compared (`deployment.shadow`). Documents filed into the archive after the test started join the
held-out rows as they land."""

import numpy as np
import polars as pl

from roi_assets.catalog import DOCUMENT_HELD_OUT_FRACTION, DOCUMENT_SPLIT_SEED
from roi_assets.deployment.lifecycle import ShadowRequest
from roi_assets.deployment.shadow import LOSS_CHALLENGER, LOSS_CHAMPION, no_losses
from roi_assets.documents.image_features import torch_threads
from roi_assets.documents.labelled_corpus import classifier_inputs, held_out_split
from roi_assets.resources.tracking import load_model_version
from roi_assets.resources.warehouse import table_exists

CORPUS_TABLE = "raw.labelled_documents"


def shadow_losses(request: ShadowRequest) -> pl.DataFrame:
    """Per held-out document: 1 where a version's type is wrong, 0 where it is right."""
    if not table_exists(request.con, *CORPUS_TABLE.split(".")):
        return no_losses()
    corpus = request.con.execute(f"select * from {CORPUS_TABLE}").pl()
    _, held_out = held_out_split(corpus, DOCUMENT_HELD_OUT_FRACTION, DOCUMENT_SPLIT_SEED)
    if held_out.is_empty():
        return no_losses()
    texts, thumbnails, labels = classifier_inputs(held_out)
    frame = {}
    for column, version in (
        (LOSS_CHAMPION, request.champion_version),
        (LOSS_CHALLENGER, request.challenger_version),
    ):
        classifier = load_model_version(request.model_name, version).unwrap_python_model()
        with torch_threads(1):
            predicted, _ = classifier.classifier.predict(texts, thumbnails)
        frame[column] = (np.asarray(predicted) != np.asarray(labels)).astype(float)
    return pl.DataFrame(frame)
