"""Model monitoring: feature and prediction drift, champion health, serving health, alerts,
rollback, explanations and fairness."""
