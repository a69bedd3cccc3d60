"""MLflow beyond the embedded sqlite store: a tracking server whose artifacts live on S3, reached
through MLFLOW_TRACKING_URI alone, and a local store whose artifacts go to an S3 bucket."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import mlflow
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from roi_assets import settings
from roi_assets.resources.tracking import (
    CHALLENGER,
    CHAMPION,
    configure_tracking,
    load_model_by_alias,
    log_png,
    log_sklearn_model,
    promote_to_challenger,
    registered_version,
    version_behind_alias,
)

SERVER_START_TIMEOUT_S = 90
ARTIFACT_PREFIX = "mlflow-artifacts"
PNG = b"\x89PNG\r\n\x1a\nnot really a picture"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_healthy(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"mlflow server exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(
        f"mlflow server did not answer /health in {SERVER_START_TIMEOUT_S} s:\n{log.read_text()}"
    )


@pytest.fixture
def tracking_server(tmp_path, bucket, s3_environment):
    """`mlflow server` from the virtualenv: sqlite backend, artifacts proxied to the S3 bucket."""
    venv_bin = Path(sys.executable).parent
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    environment = (
        os.environ | s3_environment | {"PATH": f"{venv_bin}{os.pathsep}{os.environ['PATH']}"}
    )
    log = tmp_path / "mlflow_server.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [
                "mlflow",
                "server",
                "--backend-store-uri",
                f"sqlite:///{tmp_path / 'mlflow.db'}",
                "--artifacts-destination",
                f"s3://{bucket}/{ARTIFACT_PREFIX}",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
            ],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so its workers stop with it
        )
    try:
        _wait_until_healthy(url, server, log)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.fixture
def restore_tracking_uri():
    """The product sets MLflow's process-wide tracking URI; later tests expect the session's."""
    previous = mlflow.get_tracking_uri()
    yield
    mlflow.set_tracking_uri(previous)


def _small_model():
    features = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1]] * 5)
    labels = np.array([0, 1, 0, 1] * 5)
    return LogisticRegression().fit(features, labels), features[:4]


def _keys(environment: dict[str, str], bucket: str, prefix: str) -> list[str]:
    """The bucket's keys, read with the server's own S3 settings."""
    client = boto3.client(
        "s3",
        endpoint_url=environment["AWS_ENDPOINT_URL_S3"],
        region_name=environment["AWS_DEFAULT_REGION"],
        aws_access_key_id=environment["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"],
    )
    listing = client.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for item in listing.get("Contents", ())]


def test_models_are_logged_registered_promoted_and_loaded_through_a_tracking_server(
    tracking_server, bucket, s3_environment, monkeypatch, restore_tracking_uri
):
    for name in s3_environment:  # only the server knows where its artifacts live
        monkeypatch.delenv(name)
    monkeypatch.setenv(settings.ENV_MLFLOW_TRACKING_URI, tracking_server)
    model, example = _small_model()

    configure_tracking("roi-assets-server-check")
    with mlflow.start_run():
        info = log_sklearn_model(
            model, name="model", input_example=example, registered_model_name="server_check"
        )
        log_png(PNG, "plots/reliability.png")
    version = registered_version(info)
    aliases = promote_to_challenger("server_check", version)
    loaded = load_model_by_alias("server_check", CHAMPION)

    assert mlflow.get_tracking_uri() == tracking_server
    assert aliases == (CHALLENGER, CHAMPION)
    assert version_behind_alias("server_check", CHALLENGER) == version
    np.testing.assert_allclose(loaded.predict(example), model.predict_proba(example))
    stored = _keys(s3_environment, bucket, f"{ARTIFACT_PREFIX}/")
    assert any(key.endswith("/MLmodel") for key in stored)
    assert any(key.endswith("/plots/reliability.png") for key in stored)


def test_a_local_store_keeps_its_artifacts_in_the_configured_bucket(
    tmp_path, bucket, monkeypatch, restore_tracking_uri
):
    monkeypatch.setenv(settings.ENV_S3_ARTIFACT_BUCKET, bucket)
    monkeypatch.setenv(settings.ENV_S3_ARTIFACT_PREFIX, "team/roi")
    monkeypatch.setenv(settings.ENV_MLFLOW_TRACKING_URI, f"sqlite:///{tmp_path / 'mlflow.db'}")

    configure_tracking("roi-assets-artifacts-on-s3")
    with mlflow.start_run() as run:
        log_png(PNG, "plots/drift.png")

    assert settings.mlflow_artifact_location() == f"s3://{bucket}/team/roi/mlartifacts"
    assert run.info.artifact_uri.startswith(f"s3://{bucket}/team/roi/mlartifacts/")
    key = f"{run.info.artifact_uri.removeprefix(f's3://{bucket}/')}/plots/drift.png"
    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    assert body == PNG


def test_without_a_bucket_artifacts_stay_under_the_data_folder(monkeypatch):
    monkeypatch.delenv(settings.ENV_S3_ARTIFACT_BUCKET, raising=False)
    assert settings.mlflow_artifact_location() == (settings.data_dir() / "mlartifacts").as_uri()
