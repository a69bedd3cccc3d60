"""Compiled scoring: the served models as array programs, produced at training time.

The logged pipelines score through pandas frames, column transformers, joblib and torch, which
costs milliseconds per row. Their compiled forms compute the same probabilities (to 1e-6) from a
request's values with array operations fitted at training time, the boosted trees through
XGBoost's in-place prediction, forests and networks through ONNX Runtime, and calibration as
parameter lookups. They are logged as an extra artifact (`compiled_scoring/`) of the model they
were compiled from, so a registry version carries both; the API serves the compiled form when its
version has one.

Trees: measured per row and per million rows on the same machine (docs/benchmarks.md): XGBoost's
own `inplace_predict` for the boosted trees (bit-identical to the pipeline and the fastest in
batch), ONNX Runtime for the random forest (per row about 1,000x faster than scikit-learn's
joblib-driven prediction and faster than Treelite's GTIL) and the networks.
"""

from roi_assets.compiled_scoring.artifacts import (
    COMPILED_ARTIFACT_PATH,
    CompiledScorer,
    compile_model,
    load_compiled,
    log_compiled,
    read_compiled,
)

__all__ = [
    "COMPILED_ARTIFACT_PATH",
    "CompiledScorer",
    "compile_model",
    "load_compiled",
    "log_compiled",
    "read_compiled",
]
