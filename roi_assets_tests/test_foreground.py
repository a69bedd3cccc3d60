"""`make ui` and `make bi` stop on Ctrl-C with nothing left running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

# A server that starts a child which ignores SIGINT and SIGTERM (the worst case), and reports.
STUBBORN_SERVER = """
import signal, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "signal.signal(signal.SIGTERM, signal.SIG_IGN); open(sys.argv[1], 'w').write('up'); "
    "time.sleep(600)", sys.argv[1]])
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split()[2] == "Z")


def test_sigint_stops_the_server_and_every_child_it_started(tmp_path):
    ready = tmp_path / "ready"
    launcher = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from roi_assets.foreground import run_in_foreground; "
            "sys.exit(run_in_foreground(sys.argv[1:], grace=1.0))",
            sys.executable,
            "-c",
            STUBBORN_SERVER.replace("sys.argv[1]", repr(str(ready))),
        ],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    deadline = time.monotonic() + 60
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ready.exists()
    group = int(Path(f"/proc/{launcher.pid}/task/{launcher.pid}/children").read_text().split()[0])
    members = [
        int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _group_of(p) == group
    ]
    assert len(members) == 2  # the server and its stubborn child
    launcher.send_signal(signal.SIGINT)
    assert launcher.wait(timeout=30) == 130
    assert not [pid for pid in members if _alive(pid)]


def _group_of(proc: Path) -> int | None:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[2])
    except (OSError, ValueError, IndexError):
        return None
