import math

from roi_assets.churn.checks import STACK_AUC_TOLERANCE, window_gate

ORACLE_AUC = 0.80


def test_a_stack_tied_with_its_best_member_and_near_the_oracle_passes():
    decision = window_gate(0.7795, ORACLE_AUC, {"forest": 0.7800, "lstm": 0.70})

    assert decision.passed, decision.summary


def test_a_stack_measurably_below_its_best_member_fails_even_near_the_oracle():
    best = 0.79
    decision = window_gate(best - 2 * STACK_AUC_TOLERANCE, ORACLE_AUC, {"forest": best})

    assert not decision.passed
    assert "forest" in decision.summary


def test_a_stack_below_97_percent_of_the_oracle_fails_even_above_its_members():
    decision = window_gate(0.97 * ORACLE_AUC - 0.001, ORACLE_AUC, {"forest": 0.70, "lstm": 0.71})

    assert not decision.passed
    assert "of the oracle" in decision.summary


def test_an_undefined_member_auc_never_passes():
    assert not window_gate(0.79, ORACLE_AUC, {"forest": math.nan, "lstm": 0.70}).passed
