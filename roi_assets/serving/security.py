"""The API key check: `X-API-Key: <key>` (or `Authorization: Bearer <key>`, which Prometheus'
scrape configuration can send) must equal ROI_API_KEY.

The comparison is constant-time (`hmac.compare_digest`), so response timing says nothing about how
much of a guessed key was right.
"""

from __future__ import annotations

import hmac

API_KEY_HEADER = "X-API-Key"
BEARER_PREFIX = "bearer "


def presented_key(api_key_header: str | None, authorization: str | None) -> str | None:
    """The key a request presents, from X-API-Key or a bearer Authorization header."""
    if api_key_header:
        return api_key_header
    if authorization and authorization.lower().startswith(BEARER_PREFIX):
        return authorization[len(BEARER_PREFIX) :].strip()
    return None


def key_matches(presented: str | None, expected: str) -> bool:
    if not presented:
        return False
    return hmac.compare_digest(presented.encode(), expected.encode())
