"""Email engagement predictor: will a client open (or click) an email within 7 days of sending?

- `features`: the model's inputs from `features.feat_email_engagement`, and input validation;
- `model`: the specification's XGBoost pipeline, tuned, calibrated and thresholded;
- `baseline`: logistic regression on the same inputs, the yardstick the model must beat.
"""
