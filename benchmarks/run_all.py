"""Runs every benchmark script in `benchmarks/` in turn: what `make bench` does.

A benchmark script is a `benchmarks/*.py` file with a `if __name__ == "__main__":` guard; modules
that scripts import (such as `pandas_features.py`) have none and are not run. Each script runs
with its own defaults in a fresh interpreter, one at a time (benchmarks must not compete for the
machine); a failing script does not stop the others, and the exit status says whether all passed.

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


def benchmark_scripts(folder: Path = BENCHMARKS_DIR) -> list[Path]:
    """The runnable benchmark scripts of `folder`, by name, this runner excluded."""
    return sorted(
        path
        for path in folder.glob("*.py")
        if path.name != Path(__file__).name and MAIN_GUARD.search(path.read_text())
    )


def main(argv: list[str] | None = None) -> int:
    wanted = set(sys.argv[1:] if argv is None else argv)
    scripts = [p for p in benchmark_scripts() if not wanted or p.stem in wanted]
    unknown = wanted - {p.stem for p in scripts}
    if unknown:
        print(f"no benchmark script named {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    outcomes: list[tuple[str, int, float]] = []
    for script in scripts:
        print(f"=== {script.name}", flush=True)
        start = time.perf_counter()
        status = subprocess.run(
            [sys.executable, str(script)], cwd=BENCHMARKS_DIR.parent, check=False
        ).returncode
        outcomes.append((script.name, status, time.perf_counter() - start))
    print("=== summary")
    for name, status, seconds in outcomes:
        print(f"{name:30s} {'ok' if status == 0 else f'FAILED ({status})':12s} {seconds:8.1f} s")
    return 0 if all(status == 0 for _, status, _ in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
