"""Run a server (Dagster's `dagster dev`, the BI dashboard) until Ctrl-C, then leave nothing behind.

`dagster dev` starts the webserver, the daemon and code servers as its children. Pressed in a
terminal, Ctrl-C reaches them all, but `make` gives up on the recipe at once and a signal sent to
`make` alone (an IDE's stop button, `kill -INT`) reaches none of them. So the server runs in its own
process group: on SIGINT or SIGTERM the whole group gets SIGINT (the servers' own graceful
shutdown), then SIGTERM after `grace` seconds and SIGKILL after twice that, until none is left.

    python -m roi_assets.foreground -- dagster dev -w workspace.yaml
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

GRACE_SECONDS = 10.0


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(group: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signum)


def stop_group(process: subprocess.Popen, grace: float = GRACE_SECONDS) -> None:
    """SIGINT, then SIGTERM, then SIGKILL to the process's group until it is empty."""
    group = process.pid
    for signum, wait in (
        (signal.SIGINT, grace),
        (signal.SIGTERM, grace),
        (signal.SIGKILL, grace),
    ):
        _signal_group(group, signum)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            process.poll()
            if not _group_alive(group):
                return
            time.sleep(0.1)


def run_in_foreground(command: Sequence[str], grace: float = GRACE_SECONDS) -> int:
    """Run `command` in a new process group until it exits or this process is interrupted."""
    process = subprocess.Popen(list(command), start_new_session=True)
    stopping = False

    def interrupted(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupted)
    while process.poll() is None and not stopping:
        time.sleep(0.2)
    if stopping:
        stop_group(process, grace)
        return 130
    stop_group(process, grace)  # children the server left behind
    return process.returncode


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        print("usage: python -m roi_assets.foreground -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    return run_in_foreground(args)


if __name__ == "__main__":
    sys.exit(main())
