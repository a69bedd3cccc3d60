"""The run configuration of a refit with the latest search's parameters: what the daily retrain
and a drift retrain pass to the engagement model (`EngagementTrainingConfig`); the weekly run
searches the full grid.

With one grid point cross-validation chooses nothing (the refit on all the fitting rows is the
same model whatever the folds), so the refit fits once per target and logs no cv_auc; its
evaluation on the later window is what the gate judges.
"""

REFIT_RUN_CONFIG = {"ops": {"engagement_model": {"config": {"full_grid": False, "n_splits": 0}}}}
