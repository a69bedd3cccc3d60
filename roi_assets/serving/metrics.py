"""Prometheus metrics of the API: requests, errors and latency per endpoint, answers per source.

Each app owns its registry (not the process-wide default), so several apps in one process (tests,
the benchmark) never register the same metric twice. Endpoints are labelled by their route
template, never by the raw path, so a scanner probing random URLs cannot grow the label set.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# Seconds; dense below 25 ms where the scoring endpoints should answer, sparse up to OCR's seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 1, 5, 20)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class ServingMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "roi_serving_requests",
            "Requests answered, by endpoint and HTTP status.",
            ["endpoint", "status_code"],
            registry=self.registry,
        )
        self.errors = Counter(
            "roi_serving_errors",
            "Requests that failed on the server's side (HTTP 5xx), by endpoint.",
            ["endpoint"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "roi_serving_request_latency_seconds",
            "Time from request to response inside the app, by endpoint.",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.answers = Counter(
            "roi_serving_answers",
            "Answers by model and source (batch mart, TTL cache or model run).",
            ["model_name", "source"],
            registry=self.registry,
        )

    def observe(self, endpoint: str, status_code: int, seconds: float) -> None:
        self.requests.labels(endpoint, str(status_code)).inc()
        if status_code >= 500:
            self.errors.labels(endpoint).inc()
        self.latency.labels(endpoint).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
