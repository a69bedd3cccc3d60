"""How every model of the product is judged, on a later time window than it was trained on.

- `windows`: time-ordered splits and the label that identifies an evaluated window;
- `binary_metrics`: precision, recall, F1, ROC/PR AUC, Brier score, calibration error at a
  decision threshold, and the threshold chooser;
- `reliability`: reliability-curve data and its plot as PNG bytes;
- `multiclass_metrics`: accuracy, macro and per-class F1, confusion matrix;
- `oracle_comparison`: the model next to the oracle (true probabilities) and naive baselines;
- `gate`: the validation gate that decides whether a candidate may become `challenger`;
- `model_evaluations`: the idempotent writer of `monitoring.model_evaluations`.

This package and the simulator are the only code allowed to read the warehouse schema `truth`.
"""
