"""Runs every benchmark script in `benchmarks/` in turn: what `make bench` does.

A benchmark script is a `benchmarks/*.py` file with a `if __name__ == "__main__":` guard; modules
that scripts import (such as `pandas_features.py`) have none and are not run. Each script runs
with its own defaults in a fresh interpreter, one at a time (benchmarks must not compete for the
machine); a failing script does not stop the others, and the exit status says whether all passed.
Every script prints its figures with their ratio against a baseline measured in the same run; the
summary at the end repeats those ratio lines under each script's name, so one screen shows every
figure against its baseline.

    .venv/bin/python benchmarks/run_all.py            # every script
    .venv/bin/python benchmarks/run_all.py ocr        # only benchmarks/ocr.py
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

BENCHMARKS_DIR = Path(__file__).resolve().parent
MAIN_GUARD = re.compile(r"""^if __name__ == ["']__main__["']:""", re.MULTILINE)
# a line that states a figure against its same-run baseline
RATIO_LINE = re.compile(r"\bratio\b|\blast / first\b", re.IGNORECASE)


def benchmark_scripts(folder: Path = BENCHMARKS_DIR) -> list[Path]:
    """The runnable benchmark scripts of `folder`, by name, this runner excluded."""
    return sorted(
        path
        for path in folder.glob("*.py")
        if path.name != Path(__file__).name and MAIN_GUARD.search(path.read_text())
    )


def ratio_lines(output: str) -> list[str]:
    """The lines of a script's output that give a figure's ratio against its baseline."""
    return [line.strip() for line in output.splitlines() if RATIO_LINE.search(line)]


def run_script(script: Path) -> tuple[int, str]:
    """Runs one script, echoing its output as it comes; returns its exit status and output."""
    process = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=BENCHMARKS_DIR.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    for line in process.stdout:
        print(line, end="", flush=True)
        lines.append(line)
    return process.wait(), "".join(lines)


def main(argv: list[str] | None = None) -> int:
    wanted = set(sys.argv[1:] if argv is None else argv)
    scripts = [p for p in benchmark_scripts() if not wanted or p.stem in wanted]
    unknown = wanted - {p.stem for p in scripts}
    if unknown:
        print(f"no benchmark script named {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    outcomes: list[tuple[str, int, float, list[str]]] = []
    for script in scripts:
        print(f"=== {script.name}", flush=True)
        start = time.perf_counter()
        status, output = run_script(script)
        outcomes.append((script.name, status, time.perf_counter() - start, ratio_lines(output)))
    print("=== summary: each figure against its baseline, measured in the same run")
    for name, status, seconds, ratios in outcomes:
        print(f"{name:30s} {'ok' if status == 0 else f'FAILED ({status})':12s} {seconds:8.1f} s")
        for line in ratios or ["(no ratio printed)"]:
            print(f"    {line}")
    return 0 if all(status == 0 for _, status, _, _ in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
