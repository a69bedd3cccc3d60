"""Serve the BI dashboard: `python -m roi_assets.bi [--port 8501] [--bi PATH]` (loopback only)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from roi_assets import settings

DASHBOARD = Path(__file__).with_name("dashboard.py")


def streamlit_command(bi_path: Path, port: int, address: str = "127.0.0.1") -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(DASHBOARD),
        "--server.headless=true",
        f"--server.address={address}",
        f"--server.port={port}",
        "--browser.gatherUsageStats=false",
        "--server.fileWatcherType=none",
        "--global.developmentMode=false",
        "--client.toolbarMode=viewer",
        "--",
        str(bi_path),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m roi_assets.bi")
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument("--bi", type=Path, default=None, help="default: the product's BI copy")
    args = parser.parse_args(argv)
    command = streamlit_command(args.bi or settings.bi_warehouse_path(), args.port)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
