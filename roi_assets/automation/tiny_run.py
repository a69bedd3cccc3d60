"""Small training budgets for the tiny world (ROI_SCALE=tiny): the test suite's whole-graph run,
and the chaos and soak benchmarks that drive tiny deployments. `make run` and the schedules use
the full budgets."""

# A one-point grid keeps the run short; `make run` and the schedule use the full grid.
TINY_TRAINING = {"full_grid": False, "n_splits": 3, "n_jobs": 1}

# Per op; every domain adds its own entry here.
TINY_RUN_CONFIG = {
    "ops": {
        "engagement_model": {"config": TINY_TRAINING},
        "send_time_model": {
            "config": {"iterations": 200, "checkpoint_every": 20, "open_model_iterations": 50}
        },
        "personalization_evaluation": {
            "config": {"simulation_rounds": 5_000, "replay_sends": 5_000}
        },
        # The tiny world (150 days) is shorter than a 90-day label plus a 90-day purge, so its
        # churn models train up to the evaluation window (labels reaching into it) to keep the
        # graph whole; its churn gate verdict means nothing either way.
        "churn_model": {
            "config": {
                "forest_n_estimators": 30,
                "lstm_max_epochs": 1,
                "lstm_batch_size": 128,
                "lstm_max_train_rows": 600,
                "boundary_purge_days": 0,
            }
        },
        # The tiny world scans its documents at 100 dpi; its classifier is a wiring check.
        "raw__labelled_documents": {"config": {"render_dpi": 100}},
        "document_classifier": {
            "config": {"n_estimators": 60, "cnn_epochs": 8, "cnn_min_steps": 60, "cnn_folds": 2}
        },
    }
}
