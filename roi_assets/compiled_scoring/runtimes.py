"""The tree and network runtimes the compiled scorers run on, created with explicit threads.

One request is one row: a runtime's own thread pool would only add hand-offs (and the API serves
requests side by side), so per-row scorers run on one thread; batch scoring gets the cores.
"""

from __future__ import annotations

from pathlib import Path

import onnxruntime as ort
import xgboost as xgb


def onnx_session(path: Path, threads: int = 1) -> ort.InferenceSession:
    """An ONNX Runtime session on the CPU with `threads` intra-op threads and no spinning (busy
    waiting threads would steal the cores from the web server)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def booster_from_file(path: Path, threads: int = 1) -> xgb.Booster:
    booster = xgb.Booster()
    booster.load_model(str(path))
    booster.set_param({"nthread": threads})
    return booster
