"""What every benchmark prints first: the machine it ran on and how busy it was; and a timer."""

from __future__ import annotations

import datetime as dt
import os
import platform
import time
from pathlib import Path


def machine_description() -> str:
    """Date, host, CPU model and count, memory and Python: enough to compare two runs."""
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        models = [ln.split(":", 1)[1].strip() for ln in cpuinfo.read_text().splitlines()
                  if ln.startswith("model name")]  # fmt: skip
        cpu = models[0] if models else cpu
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; {platform.node()}: "
        f"{os.cpu_count()} CPUs ({cpu}), {memory:.1f} GiB RAM; Python {platform.python_version()}"
    )


def load_average() -> str:
    """The 1/5/15-minute load averages: a benchmark on a busy machine says so."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def timed(work):
    """`work()`'s result and the wall-clock seconds it took."""
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started
