"""The document domain's slice of the graph: the classifier refreshed with the rest, and the
per-document intake job its arrival sensor launches."""

import dagster as dg

from roi_assets.documents.assets import (
    document_classifications,
    document_classifier,
    document_classifier_evaluation,
    document_classifier_promotion,
    document_entity_evaluation,
    document_ocr,
    labelled_documents,
)
from roi_assets.documents.checks import document_classifier_validation_gate
from roi_assets.documents.sensors import document_arrival_sensor, document_intake

defs = dg.Definitions(
    assets=[
        labelled_documents,
        document_classifier,
        document_classifier_evaluation,
        document_classifier_promotion,
        document_entity_evaluation,
        document_ocr,
        document_classifications,
    ],
    asset_checks=[document_classifier_validation_gate],
    sensors=[document_arrival_sensor],
    jobs=[document_intake],
)
