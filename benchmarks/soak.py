"""Serving under change: the API answers concurrent clients while the product changes under it.

On loopback only, for a bounded time (default 4 minutes), against a deployment folder that holds
a registry with champions and a published BI copy (after `make run`, or
`python benchmarks/chaos.py --prepare-only`, which leaves a tiny one). The registry is served by
an MLflow tracking server, as in production, so that it can be made unreachable. While clients
ask for batch answers (engagement, churn, send time, content for clients of the marts), the run:

1. republishes the BI copy (`publish_bi_copy`, atomic replace) and has the API reload it;
2. registers a challenger of the engagement model, promotes it to challenger and then champion
   (`resources.tracking`) and reloads; then rolls it back (`deployment.rollback`) and reloads;
3. stops the registry server for 20 s (the periodic refresh and a reload meet a dead registry),
   then starts it again;
4. reloads ten times more, for the memory check.

It reports errors (anything but a 200), the p99 of answers in the 15 s before, during and the
15 s after each event, and the server's resident memory after warm-up, after each reload and at
the end (a leak across reloads would grow it). Exit status 1 when any request failed.

    .venv/bin/python benchmarks/soak.py --data-dir /tmp/chaos/prepared --seconds 240
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import httpx
import psutil
from machine import load_average, machine_description

REPOSITORY = Path(__file__).resolve().parents[1]
ENGAGEMENT = "roi-engagement-open"
BATCH_ENDPOINTS = {
    "/v1/engagement/score": "marts.engagement_scores",
    "/v1/churn/risk": "marts.churn_risk",
    "/v1/send-time/best": "marts.send_time_recommendations",
    "/v1/content/choose": "marts.content_assignments",
}
WINDOW_S = 15.0


@dataclass
class Sample:
    at: float
    seconds: float
    status: int
    endpoint: str


@dataclass
class Event:
    name: str
    started: float
    ended: float = 0.0
    notes: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, timeout_s: float, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, headers=headers, timeout=2).status_code < 500:
                return
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout_s:.0f} s")


class RegistryServer:
    """`mlflow server` on the deployment's registry store, stoppable and restartable."""

    def __init__(self, data_dir: Path, port: int, log: Path) -> None:
        self.data_dir = data_dir
        self.port = port
        self.log = log
        self.process: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [
            str(Path(sys.executable).parent / "mlflow"), "server",
            "--backend-store-uri", f"sqlite:///{self.data_dir / 'mlflow.db'}",
            "--default-artifact-root", (self.data_dir / "mlartifacts").as_uri(),
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=self.log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_for(f"{self.uri}/health", 180)

    def stop(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, 15)
            self.process.wait(timeout=60)
            self.process = None


def batch_clients(bi_copy: Path) -> dict[str, list[str]]:
    """Client ids each batch endpoint can answer from the marts."""
    found = {}
    with duckdb.connect(str(bi_copy), read_only=True) as con:
        for endpoint, table in BATCH_ENDPOINTS.items():
            try:
                rows = con.execute(f"select distinct client_id from {table} limit 500").fetchall()
            except duckdb.CatalogException:
                continue
            if rows:
                found[endpoint] = [row[0] for row in rows]
    return found


def drive(
    base: str, key: str, clients: dict[str, list[str]], stop: threading.Event, out: list[Sample]
) -> None:
    """One client: batch requests back to back until `stop`."""
    rng = random.Random(threading.get_ident())
    endpoints = sorted(clients)
    with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=30) as http:
        while not stop.is_set():
            endpoint = rng.choice(endpoints)
            body = {"client_id": rng.choice(clients[endpoint])}
            began = time.monotonic()
            try:
                status = http.post(endpoint, json=body).status_code
            except httpx.HTTPError:
                status = 0
            out.append(Sample(began, time.monotonic() - began, status, endpoint))


def p99_ms(samples: list[Sample]) -> str:
    if len(samples) < 20:
        return "n/a"
    return f"{1000 * statistics.quantiles([s.seconds for s in samples], n=100)[98]:.0f} ms"


@contextlib.contextmanager
def event(events: list[Event], name: str) -> Iterator[Event]:
    current = Event(name, time.monotonic())
    print(f"  event: {name}", flush=True)
    try:
        yield current
    finally:
        current.ended = time.monotonic()
        events.append(current)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=240.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    data_dir = args.data_dir.resolve()
    bi_copy, warehouse = data_dir / "bi.duckdb", data_dir / "warehouse.duckdb"
    clients = batch_clients(bi_copy)
    if not clients:
        print(f"{bi_copy} holds no batch scores: prepare a deployment first")
        return 2
    print(machine_description())
    print(f"load average before: {load_average()}")
    print(f"{args.clients} clients for {args.seconds:.0f} s on {', '.join(sorted(clients))}")

    logs = data_dir / "soak_logs"
    logs.mkdir(exist_ok=True)
    registry = RegistryServer(data_dir, free_port(), logs / "registry.log")
    registry.start()
    os.environ["MLFLOW_TRACKING_URI"] = registry.uri
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    key, port = secrets.token_hex(16), free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPOSITORY),
        "ROI_DATA_DIR": str(data_dir),
        "ROI_API_KEY": key,
        "ROI_SERVING_REFRESH_S": "5",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": "5",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "roi_assets.serving", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=(logs / "serving.log").open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    headers = {"X-API-Key": key}
    samples: list[Sample] = []
    events: list[Event] = []
    memory: list[tuple[str, float]] = []
    stop = threading.Event()
    threads = [
        threading.Thread(target=drive, args=(base, key, clients, stop, samples))
        for _ in range(args.clients)
    ]
    try:
        wait_for(f"{base}/healthz", 300)
        rss = psutil.Process(server.pid)

        def record_memory(label: str) -> None:
            memory.append((label, rss.memory_info().rss / 2**20))

        def reload(note: Event) -> None:
            answer = httpx.post(f"{base}/admin/reload", headers=headers, timeout=120)
            note.notes.append(f"reload {answer.status_code}: {answer.json().get('models', '')}")
            record_memory(f"after reload ({note.name})")

        started = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(20)
        record_memory("after warm-up")
        api = Api(base, headers, reload)
        run_events(schedule(args.seconds), started, events, api, registry, warehouse, bi_copy)
        time.sleep(max(0.0, started + args.seconds - time.monotonic()))
        record_memory("end")
    finally:
        stop.set()
        for thread in threads:
            if thread.is_alive():
                thread.join(timeout=60)
        os.killpg(server.pid, 15)
        server.wait(timeout=60)
        registry.stop()
    return report(samples, events, memory)


def schedule(seconds: float) -> list[tuple[float, str]]:
    """When each event starts, as a fraction of the run spread over it."""
    names = ["republish BI copy", "promote challenger to champion", "roll back champion",
             "registry unreachable 20 s", "ten reloads"]  # fmt: skip
    return [(seconds * (i + 1) / (len(names) + 1), name) for i, name in enumerate(names)]


@dataclass(frozen=True)
class Api:
    base: str
    headers: dict[str, str]
    reload: Callable[[Event], None]


def run_events(
    plan: list[tuple[float, str]],
    started: float,
    events: list[Event],
    api: Api,
    registry: RegistryServer,
    warehouse: Path,
    bi_copy: Path,
) -> None:
    """The events of `plan` at their offsets from `started`, each followed by a reload."""
    import mlflow
    from mlflow import MlflowClient

    from roi_assets.deployment.rollback import roll_back_champion
    from roi_assets.resources.bi_publication import publish_bi_copy
    from roi_assets.resources.tracking import (
        CANDIDATE,
        CHAMPION,
        promote_to_challenger,
        promote_to_champion,
        version_behind_alias,
    )

    client = MlflowClient(registry.uri)
    for offset, name in plan:
        time.sleep(max(0.0, started + offset - time.monotonic()))
        with event(events, name) as current:
            if name.startswith("republish"):
                # the warehouse of a deployment at rest: publish from a private copy of it
                private = warehouse.with_name(".soak-warehouse.duckdb")
                shutil.copy2(warehouse, private)
                with duckdb.connect(str(private)) as con:
                    counts = publish_bi_copy(con, bi_copy)
                private.unlink()
                current.notes.append(f"{len(counts)} tables republished")
                api.reload(current)
            elif name.startswith("promote"):
                # two new versions of the served (or, in a world whose gates held every engagement
                # candidate back, the candidate's) model: the first becomes champion, the second
                # challenger and then champion, so the outgoing one is `previous_champion`
                base = version_behind_alias(ENGAGEMENT, CHAMPION, client) or version_behind_alias(
                    ENGAGEMENT, CANDIDATE, client
                )
                for _ in range(2):
                    new = mlflow.register_model(f"models:/{ENGAGEMENT}/{base}", ENGAGEMENT)
                    promote_to_challenger(ENGAGEMENT, new.version, client)
                    outgoing = promote_to_champion(ENGAGEMENT, new.version, client)
                    current.notes.append(f"champion v{outgoing} -> v{new.version}")
                api.reload(current)
            elif name.startswith("roll back"):
                rollback = roll_back_champion(ENGAGEMENT, "soak benchmark", client)
                current.notes.append(rollback.note)
                api.reload(current)
            elif name.startswith("registry"):
                registry.stop()
                answer = httpx.post(f"{api.base}/admin/reload", headers=api.headers, timeout=120)
                current.notes.append(f"reload with the registry down: {answer.status_code}")
                time.sleep(20)
                registry.start()
                api.reload(current)
            else:
                for _ in range(10):
                    api.reload(current)


def report(samples: list[Sample], events: list[Event], memory: list[tuple[str, float]]) -> int:
    errors = [s for s in samples if s.status != 200]
    print(f"\n{len(samples):,} batch answers, {len(errors)} errors")
    for status in sorted({s.status for s in errors}):
        print(f"  status {status}: {sum(s.status == status for s in errors)}")
    print(f"p99 over the whole run: {p99_ms(samples)}")
    print("\n| event | p99 before | p99 during | p99 after | notes |\n|---|---|---|---|---|")
    for e in events:
        before = [s for s in samples if e.started - WINDOW_S <= s.at < e.started]
        during = [s for s in samples if e.started <= s.at <= e.ended]
        after = [s for s in samples if e.ended < s.at <= e.ended + WINDOW_S]
        notes = "; ".join(e.notes)[:160]
        print(f"| {e.name} ({e.ended - e.started:.1f} s) | {p99_ms(before)} | "
              f"{p99_ms(during)} | {p99_ms(after)} | {notes} |")  # fmt: skip
    print("\nserver memory (RSS):")
    for label, mib in memory:
        print(f"  {label:<45} {mib:8.1f} MiB")
    after_warm_up = next(mib for label, mib in memory if label == "after warm-up")
    print(f"growth from warm-up to the end: {memory[-1][1] - after_warm_up:+.1f} MiB")
    print(f"load average after: {load_average()}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
