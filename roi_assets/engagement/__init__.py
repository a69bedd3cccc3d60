"""Email engagement predictor: will a client open, click, or take the email's action within 7 days
of sending?

- `features`: the model's inputs from `features.feat_email_engagement`, and input validation;
- `model`: the specification's XGBoost pipeline, tuned, calibrated and thresholded;
- `baseline`: logistic regression on the same inputs, the yardstick the model must beat;
- `scoring`: the rows scored, each active client's features rolled forward to the scoring moment;
- `gate`: the validation gate's rule per registered model.
"""
