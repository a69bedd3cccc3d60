"""`make run` and `make live` as a reader wants them: one line per stage, the summary at the end.

Each stage runs as a subprocess whose whole output (Dagster's event log, warnings, tracebacks)
goes to its own file under `data/logs/<command>-<time>/`; the terminal gets one line per stage with
its elapsed time and, while it runs, a progress indicator (rich) that counts the Dagster steps
done and names the latest. A failed stage is named with its error line and its log's path in the
closing verdict. A stage may leave a command running in the background for the stages after it
(`Stage.then_in_background`, its output in a log of its own), stopped when the last stage ends.
The summary (`roi_assets.summary`) is printed last, whatever happened.

    python -m roi_assets.runner run
    python -m roi_assets.runner live --days 35
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from roi_assets import settings

PYTHON = sys.executable
DAGSTER = str(Path(sys.executable).parent / "dagster")
# A Dagster event line: "... - <step key> - STEP_SUCCESS - ..." (the CLI's console logger).
STEP_EVENT = re.compile(r" - ([\w./-]+) - (STEP_START|STEP_SUCCESS|STEP_FAILURE) - ")
# What `make live` writes for its terminal (the rest is in the logs): a day's line, the lifecycle
# line under it, a note about runs a killed process left, and the closing impact table.
LIVE_LINE = re.compile(
    r"^(\d{4}-\d{2}-\d{2}\b|\s+lifecycle: |\d+ runs left unfinished|The world has no history)"
)
IMPACT_TITLE = "Realised business impact"
ERROR_LINE = re.compile(r"(Error|Exception|FAILURE|failed|Traceback)\b")
# A validation gate's step (the blocking check on an evaluation: `<asset>_<name>_validation_gate`).
GATE_STEP = re.compile(r"_validation_gate$")
# resumable.LAUNCHED_BY_TAG (not imported: this driver starts without loading Dagster)
MAKE_RUN_TAGS = {"roi/launched_by": "make run"}


@dataclass(frozen=True)
class Stage:
    """One command of a run; `verdict` False when its failure is judged elsewhere (refresh_all's
    failed steps may be gates doing their job: the summary decides)."""

    name: str
    command: Sequence[str]
    verdict: bool = True
    echo: Callable[[str], bool] = lambda line: False  # lines worth showing as they come
    # Started once the stage has succeeded and left running beside the stages after it, stopped
    # when the last one ends: work that only saves later stages time (reading documents ahead).
    then_in_background: Sequence[str] = ()


@dataclass
class StageResult:
    stage: Stage
    returncode: int
    seconds: float
    log: Path
    steps_done: int = 0
    failed_steps: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def gates_only(self) -> bool:
        """Every failed step is a validation gate holding its candidate back, in a stage whose
        verdict the summary gives: the gates did their job, nothing broke."""
        return not self.stage.verdict and only_gates(self.failed_steps)


def run_stages() -> list[Stage]:
    """The stages of `make run` (README: The three commands). Its runs are tagged as `make run`'s,
    so that the next foreground command fails them if this one is killed (their warehouse-pool
    slot is freed); `dagster asset materialize` takes no tags, so the document drift report runs
    as a one-op selection of its job."""
    definitions = ["-m", "roi_assets.definitions", "--tags", json.dumps(MAKE_RUN_TAGS)]
    drift = ["-j", "monitoring_daily", "--op-selection", "monitoring__document_drift"]
    return [
        Stage(
            "world history",
            [PYTHON, "-m", "roi_assets.simulator", "bootstrap"],
            then_in_background=[PYTHON, "-m", "roi_assets.documents.background_reading"],
        ),
        Stage("ingest landed days", [PYTHON, "-m", "roi_assets.automation.catch_up"]),
        Stage(
            "refresh_all (train, score, monitor)",
            [DAGSTER, "job", "execute", *definitions, "-j", "refresh_all"],
            verdict=False,
        ),
        Stage("landed documents", [PYTHON, "-m", "roi_assets.documents.process_landed"]),
        Stage(
            "document drift",
            [DAGSTER, "job", "execute", *definitions, *drift],
        ),
        Stage("BI copy", [DAGSTER, "job", "execute", *definitions, "-j", "publish_bi"]),
    ]


class LiveEcho:
    """Which of the live stage's lines to show as they come: its `LIVE_LINE`s, and from the
    impact table's title on, every line (the table and the landed rates under it)."""

    def __init__(self) -> None:
        self.in_impact_table = False

    def __call__(self, line: str) -> bool:
        self.in_impact_table = self.in_impact_table or line.startswith(IMPACT_TITLE)
        return self.in_impact_table or bool(LIVE_LINE.match(line))


def live_stages(days: int) -> list[Stage]:
    return [
        Stage(
            f"live days (until {days})",
            [PYTHON, "-m", "roi_assets.simulator.live", "--days", str(days)],
            echo=LiveEcho(),
        )
    ]


def log_folder(command: str) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = settings.data_dir() / "logs" / f"{command}-{stamp}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def execute(stage: Stage, log: Path, console: Console, number: int, total: int) -> StageResult:
    """Run one stage, its output to `log`, a spinner with the steps done meanwhile."""
    result = StageResult(stage, returncode=-1, seconds=0.0, log=log)
    label = f"[{number}/{total}] {stage.name}"
    started = time.perf_counter()
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    with progress, log.open("w") as sink:
        task = progress.add_task(label)
        process = subprocess.Popen(
            list(stage.command),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        assert process.stdout is not None
        try:
            for line in process.stdout:
                sink.write(line)
                _follow(line, result)
                if stage.echo(line):
                    progress.console.print(f"    {line.rstrip()}", highlight=False, soft_wrap=True)
                detail = f" · {result.steps_done} steps done" if result.steps_done else ""
                progress.update(task, description=f"{label}{detail}")
        except BaseException:
            # Interrupted (Ctrl-C, or SIGTERM turned into SystemExit): the stage stops with us.
            process.terminate()
            process.wait()
            raise
        result.returncode = process.wait()
    result.seconds = time.perf_counter() - started
    if not result.ok or result.failed_steps:
        result.error = _last_error(log)
    return result


def start_helper(command: Sequence[str], log: Path) -> subprocess.Popen:
    """A stage's background command, its output to `log`."""
    with log.open("w") as sink:
        return subprocess.Popen(
            list(command), stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )


def stop_helper(helper: subprocess.Popen, grace_seconds: float = 10.0) -> None:
    """Stop a background command that has not finished (its work is only ever ahead of the
    stages, so stopping it loses nothing they need)."""
    if helper.poll() is None:
        helper.terminate()
        try:
            helper.wait(grace_seconds)
        except subprocess.TimeoutExpired:
            helper.kill()
            helper.wait()


def only_gates(failed_steps: Sequence[str]) -> bool:
    """Some steps failed, and every one is a validation gate holding its candidate back."""
    return bool(failed_steps) and all(GATE_STEP.search(step) for step in failed_steps)


def _follow(line: str, result: StageResult) -> None:
    match = STEP_EVENT.search(line)
    if match is None:
        return
    step, event = match.groups()
    if event == "STEP_SUCCESS":
        result.steps_done += 1
    elif event == "STEP_FAILURE":
        result.failed_steps.append(step)


def _last_error(log: Path) -> str:
    """The last line of the log that names an error, shortened for one terminal line."""
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines()]
    errors = [line for line in lines if ERROR_LINE.search(line) and "Traceback" not in line]
    text = (errors or [line for line in lines if line] or ["(no output)"])[-1]
    return text if len(text) <= 160 else text[:157] + "..."


def stage_line(number: int, total: int, result: StageResult) -> str:
    minutes, seconds = divmod(round(result.seconds), 60)
    mark = "ok" if result.ok or result.gates_only else f"FAILED (exit {result.returncode})"
    steps = f", {result.steps_done} steps" if result.steps_done else ""
    if result.gates_only:
        steps += f", {len(result.failed_steps)} gates held back their candidates"
    elif result.failed_steps:
        steps += f", {len(result.failed_steps)} failed"
    return f"[{number}/{total}] {result.stage.name:<38} {minutes:2d}:{seconds:02d}  {mark}{steps}"


def run(command: str, stages: list[Stage], summary: Sequence[str] | None) -> int:
    console = Console(stderr=True)
    folder = log_folder(command)
    print(f"Logs (Dagster events, warnings, errors): {folder}", flush=True)
    since = time.time()
    results: list[StageResult] = []
    helpers: list[subprocess.Popen] = []
    try:
        for number, stage in enumerate(stages, start=1):
            slug = re.sub(r"[^a-z0-9]+", "-", stage.name.lower()).strip("-")
            log = folder / f"{number:02d}-{slug}.log"
            result = execute(stage, log, console, number, len(stages))
            results.append(result)
            print(stage_line(number, len(stages), result), flush=True)
            if not result.ok and number == 1:
                break  # nothing after the first stage can run without it
            if result.ok and stage.then_in_background:
                helpers.append(
                    start_helper(
                        stage.then_in_background, log.with_name(f"{log.stem}-background.log")
                    )
                )
    finally:
        for helper in helpers:
            stop_helper(helper)
    status = 0
    if summary is not None:
        status = subprocess.run([*summary, "--since", str(since)], check=False).returncode
    broken = [r for r in results if not r.ok and r.stage.verdict]
    for result in results:
        if (not result.ok or result.failed_steps) and not result.gates_only:  # summary names gates
            steps = f" (steps: {', '.join(result.failed_steps)})" if result.failed_steps else ""
            print(f"{result.stage.name}{steps}: {result.error}\n  log: {result.log}")
    return 1 if broken or status else 0


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    parser = argparse.ArgumentParser(prog="python -m roi_assets.runner")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="the world's history, the whole graph, the summary")
    live = commands.add_parser("live", help="live day by day")
    live.add_argument("--days", type=int, default=35)
    args = parser.parse_args(argv)
    if args.command == "run":
        return run("run", run_stages(), [PYTHON, "-m", "roi_assets.summary"])
    return run("live", live_stages(args.days), None)


if __name__ == "__main__":
    sys.exit(main())
