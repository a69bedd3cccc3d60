"""Per-document runs: bad files end in raw.quarantine untouched, good ones in the mart, once each.

The landed documents go through the path `make run` and the running sensor take: the arrival
sensor's requests, executed as `document_intake` runs, against a warehouse, landing zone and
model registry of this module's own.
"""

from __future__ import annotations

import json

import dagster as dg
import mlflow
import mlflow.pyfunc
import pytest
import torch

from roi_assets import settings
from roi_assets.documents import sensors
from roi_assets.documents.assets import (
    MODEL_NAME,
    document_classifications,
    document_ocr,
    documents_partitions,
)
from roi_assets.documents.classifier import DOCUMENT_TYPES, ClassifierConfig, DocumentClassifier
from roi_assets.documents.classifier_pyfunc import (
    ARTIFACT_KEY,
    PIP_REQUIREMENTS,
    DocumentClassifierModel,
    pyfunc_input,
)
from roi_assets.documents.image_features import CnnConfig, thumbnails_of
from roi_assets.documents.intake import content_sha256
from roi_assets.documents.landed import document_key
from roi_assets.documents.process_landed import process_landed
from roi_assets.documents.sensors import document_intake
from roi_assets.resources.storage import LandingZoneResource
from roi_assets.resources.tracking import CHAMPION, registered_version, set_alias
from roi_assets.resources.warehouse import connect, duckdb_resource, polars_io_manager
from roi_assets.simulator.documents import DEFECTS, write_bad_documents
from roi_assets.simulator.documents.writer import encode_document, simulate_document
from roi_assets_tests.current_registry import current_registry

torch.set_num_threads(1)

SEED = 31
TINY = ClassifierConfig(cnn=CnnConfig(epochs=4, min_steps=20), n_estimators=30, cnn_folds=2)


def _snapshot(folder):
    return {
        path.name: (path.read_bytes(), path.stat().st_mtime_ns, path.stat().st_mode)
        for path in sorted(folder.iterdir())
    }


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """A registry of this module's own, the product's store for as long as the module runs."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(settings.ENV_MLFLOW_TRACKING_URI, uri)
        patch.setattr(sensors, "look_started_ns", lambda: 2**62)  # every landed file settled
        mlflow.set_tracking_uri(uri)
        # an experiment chosen by an earlier test lives in the session's store, not in this one
        mlflow.set_experiment("document-intake-tests")
        yield uri
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri())


def _register_champion(folder) -> str:
    """A small classifier trained on clean text of two documents per type, as champion."""
    docs = [
        simulate_document(i, SEED + 1, dpi=72, doc_type=DOCUMENT_TYPES[i % len(DOCUMENT_TYPES)])
        for i in range(2 * len(DOCUMENT_TYPES))
    ]
    texts = [d.clean_text for d in docs]
    thumbnails = thumbnails_of([d.pages[0] for d in docs])
    classifier = DocumentClassifier(TINY).fit(texts, thumbnails, [d.doc_type for d in docs])
    artifact = folder / "classifier.pkl"
    classifier.save(artifact)
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=DocumentClassifierModel(),
        artifacts={ARTIFACT_KEY: str(artifact)},
        input_example=pyfunc_input(texts[:1], thumbnails[:1]),
        registered_model_name=MODEL_NAME,
        pip_requirements=list(PIP_REQUIREMENTS),
    )
    version = registered_version(info)
    set_alias(MODEL_NAME, CHAMPION, version)
    return version


@pytest.fixture(scope="module")
def landed(tmp_path_factory, registry):
    """A landing zone with one good scan and every bad file, processed once through the sensor's
    requests; returns the folder, the job, the instance and the files as they were."""
    root = tmp_path_factory.mktemp("intake")
    landing = root / "landing"
    good = simulate_document(1, SEED, dpi=100, doc_type="purchase_agreement", file_format="png")
    (landing / "documents").mkdir(parents=True)
    (landing / "documents" / good.file_name).write_bytes(encode_document(good))
    defects = write_bad_documents(landing / "documents", SEED)
    before = _snapshot(landing / "documents")
    version = _register_champion(root)
    warehouse = root / "warehouse.duckdb"
    zone = LandingZoneResource(local_dir=str(landing))
    job = dg.Definitions(
        assets=[document_ocr, document_classifications],
        jobs=[document_intake],
        resources={
            "duckdb": duckdb_resource(warehouse),
            "io_manager": polars_io_manager(warehouse),
            "landing_zone": zone,
            "registry": current_registry(),
        },
    ).resolve_job_def(document_intake.name)
    with dg.DagsterInstance.ephemeral() as instance:
        outcomes = process_landed(instance, zone, job, workers=1)
        yield {
            "landing": landing,
            "warehouse": warehouse,
            "job": job,
            "instance": instance,
            "before": before,
            "outcomes": outcomes,
            "good_key": document_key(content_sha256(landing / "documents" / good.file_name)),
            "version": version,
            "expected_reasons": {row["file_name"]: row["expected_reason"] for row in defects},
        }


def test_every_bad_file_is_quarantined_with_its_reason_and_left_as_it_landed(landed):
    with connect(landed["warehouse"], read_only=True) as con:
        rows = con.execute(
            "select source_file, reason from raw.quarantine where source = 'documents'"
        ).fetchall()
    reasons = {location.removeprefix("documents/"): reason for location, reason in rows}
    expected = landed["expected_reasons"]
    assert set(reasons) == set(expected) and len(expected) == len(DEFECTS)
    for name, code in expected.items():
        assert reasons[name].startswith(f"{code}: "), (name, reasons[name])
        assert len(reasons[name]) > len(code) + 10  # a sentence follows the code
    assert _snapshot(landed["landing"] / "documents") == landed["before"]
    assert landed["outcomes"] == {"success": len(DEFECTS) + 1}


def test_the_good_document_is_read_classified_and_its_entities_found(landed):
    with connect(landed["warehouse"], read_only=True) as con:
        row = con.execute(
            "select document_id, predicted_type, confidence, ocr_engine, needs_review, "
            "model_version, entities from marts.document_classifications"
        ).fetchall()
    assert len(row) == 1
    document_id, predicted, confidence, engine, _, version, entities = row[0]
    assert document_id == landed["good_key"]
    assert predicted in DOCUMENT_TYPES and 0 < confidence <= 1
    assert engine == "tesseract"
    assert version == landed["version"]
    assert {entity["type"] for entity in json.loads(entities)} >= {"buyer", "seller"}


def test_re_running_a_partition_keeps_one_row_per_document(landed):
    key = landed["good_key"]
    for _ in range(2):
        result = landed["job"].execute_in_process(
            instance=landed["instance"], partition_key=key, raise_on_error=False
        )
        assert result.success
    with connect(landed["warehouse"], read_only=True) as con:
        counts = [
            con.execute(f"select count(*) from {table} where document_id = ?", [key]).fetchone()[0]
            for table in ("raw.document_ocr", "marts.document_classifications")
        ]
    assert counts == [1, 1]
    assert key in landed["instance"].get_dynamic_partitions(documents_partitions.name)


def test_without_a_champion_a_document_is_still_read_and_left_for_a_person(landed, registry):
    client = mlflow.MlflowClient()
    client.delete_registered_model_alias(MODEL_NAME, CHAMPION)
    try:
        result = landed["job"].execute_in_process(
            instance=landed["instance"], partition_key=landed["good_key"], raise_on_error=False
        )
    finally:
        set_alias(MODEL_NAME, CHAMPION, landed["version"])
    assert result.success
    with connect(landed["warehouse"], read_only=True) as con:
        row = con.execute(
            "select predicted_type, model_version, needs_review, entities "
            "from marts.document_classifications where document_id = ?",
            [landed["good_key"]],
        ).fetchone()
    assert row[:3] == (None, None, True)
    assert json.loads(row[3])
