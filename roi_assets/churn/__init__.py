"""Churn risk analyzer: random forest + LSTM stacked by logistic regression, with tiers, reasons
and retention actions. Plain modules, no Dagster; import from the module that owns each concept:

- features: CHURN_FEATURES, DAILY_METRICS, PREDICTION_WINDOWS, label_column, build_sequences
- sequence_model: LSTMParams, SequenceChurnModel (the LSTM member)
- folds: time_ordered_folds (out-of-fold plan, purged by the label window), longest_feasible_purge,
  InsufficientHistory
- splits: split_window, WindowSplit (training and evaluation rows, purged at the boundary)
- training: TrainingBudget, train_window (one window's ensemble within the pipeline's time budget)
- calibration: ProbabilityCalibrator (Platt or isotonic on the latest out-of-fold block)
- ensemble: ChurnEnsemble (fit and calibrate, predict_proba, member_probabilities, save, load),
  registered_model_name
- tiers: risk_tier, tier_index, RISK_TIERS, TIER_THRESHOLDS
- reasons: explain_reasons, REASON_PHRASES (SHAP of the forest → readable reasons)
- actions: recommend_action, recommend_actions, RETENTION_RULES
- pyfunc: ChurnPyfuncModel, pyfunc_input_frame, predict_frame (MLflow packaging)
- scoring: latest_snapshot_rows, risk_rows, tier_distribution (the rows of marts.churn_risk)

- gate: window_gate, window_decision (the validation gate's rule per window)

Dagster lives in assets.py (churn_model, churn_evaluation, marts/churn_risk), checks.py (one gate
per window; the 30-day one blocks the mart) and definitions.py.

The package itself imports nothing, so loading one module does not pull in shap or MLflow.
"""
