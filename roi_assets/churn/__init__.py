"""Churn risk analyzer: random forest + LSTM stacked by logistic regression, with tiers, reasons
and retention actions. Plain modules, no Dagster; import from the module that owns each concept:

- features: CHURN_FEATURES, DAILY_METRICS, PREDICTION_WINDOWS, label_column, build_sequences
- sequence_model: LSTMParams, SequenceChurnModel (the LSTM member)
- folds: time_ordered_folds (out-of-fold plan, purged by the label window)
- ensemble: ChurnEnsemble (fit, predict_proba, member_probabilities, save, load),
  registered_model_name
- tiers: risk_tier, tier_index, RISK_TIERS, TIER_THRESHOLDS
- reasons: explain_reasons, REASON_PHRASES (SHAP of the forest → readable reasons)
- actions: recommend_action, recommend_actions, RETENTION_RULES
- pyfunc: ChurnPyfuncModel, pyfunc_input_frame (MLflow packaging)

The package itself imports nothing, so loading one module does not pull in shap or MLflow.
"""
