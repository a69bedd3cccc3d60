import math

from roi_assets.evaluation.targets import targets_markdown

VALUES = {
    ("precision", None): 0.41,
    ("precision", "oracle"): 0.47,
    ("auc_roc", None): 0.92,
    ("auc_roc", "oracle"): 0.95,
    ("false_positive_rate", None): 0.05,
    ("false_positive_rate", "oracle"): math.nan,
}


def _value(metric, scorer=None):
    return VALUES[(metric, scorer)]


def test_each_target_says_whether_the_model_and_the_oracle_reach_it():
    text = targets_markdown(
        _value,
        {"precision": 0.85, "auc_roc": 0.90, "false_positive_rate": 0.15},
        upper_bounds=frozenset({"false_positive_rate"}),
    )

    rows = text.splitlines()[2:]
    assert rows[0] == "| precision | ≥ 0.85 | 0.410 | 0.470 | no | no |"
    assert rows[1] == "| auc_roc | ≥ 0.90 | 0.920 | 0.950 | yes | yes |"
    assert rows[2] == "| false_positive_rate | < 0.15 | 0.050 | nan | yes | – |"
