"""Run the serving API with uvicorn: `python -m roi_assets.serving [--host H] [--port P]`.

ROI_API_KEY must be set. Torch runs one thread per request: the API serves many requests at once,
and intra-op threads per request would only fight over the cores.
"""

from __future__ import annotations

import argparse
import logging

import torch
import uvicorn

from roi_assets.serving.app import create_app
from roi_assets.serving.config import config_from_environment


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="ROI Assets scoring API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    torch.set_num_threads(1)
    # No access log: every request already goes to the request log and the metrics.
    uvicorn.run(
        create_app(config_from_environment()),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
    )


if __name__ == "__main__":
    main()
