"""Training and batch scoring on a Dask cluster, when ROI_DASK_SCHEDULER names one.

Without the variable every function here runs in-process and nothing changes. With it:
- `cluster.fits_on_dask` routes joblib (scikit-learn's grid-search fits) to the cluster's workers;
- `cluster.run_tasks` runs independent fits (the churn ensemble's out-of-fold members) as tasks;
- `partitions` reads the feature tables dbt exported as Parquet, partition by partition, and
  scores them there;
- `boosting` trains XGBoost (`xgboost.dask`) and LightGBM (`lightgbm.DaskLGBMClassifier`) on
  partitioned data and hands back ordinary single-machine estimators for MLflow and serving.
"""
