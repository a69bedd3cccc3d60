"""Kill a writer with SIGKILL at a random point, re-run it, and compare with an uninterrupted run.

A writer is a command that prints `WRITING` on its own line when its imports are done and it
starts to write, then writes into a deployment folder (the warehouse, the registry, the BI
copy). A kill point is a delay after that line, drawn uniformly within the uninterrupted run's
writing time, so kills land anywhere in the writing, not in the imports. Used by the crash tests
of the suite (a handful of kill points on light writers) and by `benchmarks/chaos.py` (many, on
the product's jobs).
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from roi_assets.resources.consistency import (
    TableFingerprint,
    bi_copy_problem,
    fingerprint_differences,
    warehouse_fingerprint,
)

WRITING = "WRITING"


@dataclass
class Outcome:
    """One kill point: when it struck, and what was wrong afterwards (nothing, we hope)."""

    stage: str
    delay_s: float
    killed: bool  # False when the writer finished before the kill
    problems: list[str] = field(default_factory=list)


def start(command: Sequence[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """The writer in its own process group (so a kill reaches its children: dbt, workers)."""
    handle = log.open("ab")
    return subprocess.Popen(
        list(command),
        env=env,
        stdout=subprocess.PIPE,
        stderr=handle,
        start_new_session=True,
    )


def wait_until_writing(process: subprocess.Popen, timeout_s: float) -> float:
    """Block until the writer prints WRITING; the monotonic time it did."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    for raw in process.stdout:
        if raw.decode(errors="replace").strip() == WRITING:
            return time.monotonic()
        if time.monotonic() > deadline:
            break
    raise RuntimeError(f"the writer never started writing (exit code {process.poll()})")


def run_to_completion(
    command: Sequence[str], env: dict[str, str], log: Path, timeout_s: float
) -> tuple[int, float]:
    """Exit code and writing seconds of an uninterrupted run."""
    process = start(command, env, log)
    began = wait_until_writing(process, timeout_s)
    assert process.stdout is not None
    process.stdout.read()
    code = process.wait(timeout=timeout_s)
    return code, time.monotonic() - began


def kill_at(
    command: Sequence[str], env: dict[str, str], log: Path, delay_s: float, timeout_s: float
) -> bool:
    """Start the writer and SIGKILL its process group `delay_s` after it began writing; False
    when it had finished by then."""
    process = start(command, env, log)
    wait_until_writing(process, timeout_s)
    try:
        process.wait(timeout=delay_s)
        return False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return True
    finally:
        if process.stdout is not None:
            process.stdout.close()


def copy_deployment(source: Path, target: Path) -> Path:
    """A private copy of a deployment folder (symlinks kept as links)."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, symlinks=True)
    return target


def crash_and_rerun(
    stage: str,
    command_for: Callable[[Path], Sequence[str]],
    env_for: Callable[[Path], dict[str, str]],
    before: Path,
    expected: dict[str, TableFingerprint],
    workdir: Path,
    delay_s: float,
    *,
    warehouse: str = "warehouse.duckdb",
    bi_copy: str = "bi.duckdb",
    ignore: dict[str, frozenset[str]] | None = None,
    ignore_pattern: re.Pattern[str] | None = None,
    extra_checks: Callable[[Path], list[str]] = lambda folder: [],
    left_out_versions: Callable[[Path], frozenset[tuple[str, str]]] = lambda folder: frozenset(),
    timeout_s: float = 1800.0,
) -> Outcome:
    """Copy `before`, kill the writer at `delay_s` into its writing, check the BI copy, re-run it
    to completion and compare the warehouse with `expected` (the uninterrupted run's). The
    writer's command and environment are made for the copy's folder."""
    folder = copy_deployment(before, workdir / f"{stage}-{delay_s:.2f}")
    env = env_for(folder)
    command = command_for(folder)
    log = workdir / f"{stage}.log"
    outcome = Outcome(stage, delay_s, kill_at(command, env, log, delay_s, timeout_s))
    torn = bi_copy_problem(folder / bi_copy)
    if torn:
        outcome.problems.append(f"after the kill: {torn}")
    code, _ = run_to_completion(command, env, log, timeout_s)
    if code != 0:
        outcome.problems.append(f"the re-run exited with {code} (log: {log})")
    found = warehouse_fingerprint(
        folder / warehouse, ignore, ignore_pattern, left_out_versions(folder)
    )
    outcome.problems += fingerprint_differences(expected, found)
    torn = bi_copy_problem(folder / bi_copy)
    if torn:
        outcome.problems.append(f"after the re-run: {torn}")
    outcome.problems += extra_checks(folder)
    if not outcome.problems:
        shutil.rmtree(folder, ignore_errors=True)
    return outcome


def kill_delays(seconds: float, count: int, seed: int) -> list[float]:
    """`count` delays spread over the writing time: one uniform draw in each of `count` equal
    slices, so the early, middle and late parts of a write all get kills."""
    rng = random.Random(seed)
    width = seconds / count
    return [round(width * (i + rng.random()), 3) for i in range(count)]


def python_command(*args: str) -> list[str]:
    return [sys.executable, *args]
