"""An S3-compatible endpoint on loopback (moto's server mode), reached the way production reaches
S3: through the AWS SDK's environment variables, so that other processes (an MLflow server) can
use it too."""

import logging
import uuid

import boto3
import pytest
from moto.server import ThreadedMotoServer

FAKE_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="module")
def s3_endpoint():
    """The URL of a private S3 server for this module's tests."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_environment(s3_endpoint, monkeypatch):
    """Fake credentials and the endpoint in the environment, as an operator would set them."""
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for name, value in FAKE_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_endpoint)
    return FAKE_AWS_ENVIRONMENT | {"AWS_ENDPOINT_URL_S3": s3_endpoint}


@pytest.fixture
def bucket(s3_environment):
    """A new, empty bucket on the test endpoint."""
    name = f"roi-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name
