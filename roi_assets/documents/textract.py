"""Amazon Textract, the OCR engine for scans too poor for Tesseract, when AWS is configured.

Pages go to the synchronous DetectDocumentText API one at a time (a page image, not the file, so
every input format works the same way) through amazon-textract-textractor, whose parser turns the
response into lines and words with confidences. The client is passed in, so tests hand over a
client wrapped in botocore's Stubber and nothing ever reaches the internet.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from typing import Any

import boto3
import numpy as np
from PIL import Image
from textractcaller.t_call import Textract_Call_Mode, call_textract
from textractor.parsers import response_parser

from roi_assets.documents.page_text import PageText

REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")


def textract_configured(environ: Mapping[str, str] | None = None) -> bool:
    """True when the environment names an AWS region and a source of credentials.

    Only the environment is read: probing instance metadata would stall a laptop for seconds.
    """
    env = os.environ if environ is None else environ
    region = any(env.get(name) for name in REGION_VARIABLES)
    credentials = (
        (env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"))
        or env.get("AWS_PROFILE")
        or (env.get("AWS_WEB_IDENTITY_TOKEN_FILE") and env.get("AWS_ROLE_ARN"))
        or env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        or env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    )
    return bool(region and credentials)


def textract_client(environ: Mapping[str, str] | None = None) -> Any:
    """A boto3 Textract client for the configured region."""
    env = os.environ if environ is None else environ
    region = next(env[name] for name in REGION_VARIABLES if env.get(name))
    return boto3.session.Session(region_name=region).client("textract")


def _png_bytes(page: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(page).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def textract_page(page: np.ndarray, client: Any) -> PageText:
    """Text of one grayscale page image, with Textract's word confidences rolled up."""
    response = call_textract(
        input_document=_png_bytes(page),
        call_mode=Textract_Call_Mode.FORCE_SYNC,
        boto3_textract_client=client,
    )
    document = response_parser.parse(response)
    text = "\n".join(line.text for line in document.lines)
    words = [(word.text, float(word.confidence)) for word in document.words]
    return PageText.from_words(text, words, confidence_scale=1.0)
