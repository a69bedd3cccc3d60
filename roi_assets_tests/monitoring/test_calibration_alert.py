"""A champion whose probabilities stop matching the observed rates raises a calibration alert."""

import datetime as dt

import duckdb
import pytest

from roi_assets.evaluation.model_evaluations import evaluation_rows, write_model_evaluations
from roi_assets.monitoring.health.alerts import (
    CALIBRATION_ERROR,
    CRITICAL,
    WARNING,
    AlertThresholds,
    calibration_alert,
)

MODEL = "roi-churn-30d"
GATE_WINDOW = "2025-06-02/2025-07-07"
LATER_WINDOW = "2025-07-14/2025-08-04"


@pytest.fixture
def con():
    connection = duckdb.connect()
    connection.execute("create schema monitoring")
    yield connection
    connection.close()


def _evaluated(con, window: str, error: float, version: str = "3") -> None:
    write_model_evaluations(
        con,
        evaluation_rows(
            [("decile_calibration_error", error, None, None), ("auc_roc", 0.8, None, None)],
            model_name=MODEL,
            model_version=version,
            evaluated_at=dt.datetime(2025, 8, 10),
            evaluation_window=window,
        ),
    )


def test_a_calibrated_champion_raises_nothing(con):
    _evaluated(con, GATE_WINDOW, 0.006)

    assert calibration_alert(con, MODEL, "3", AlertThresholds()) is None


def test_the_latest_window_decides_and_severity_grows_with_the_error(con):
    _evaluated(con, GATE_WINDOW, 0.006)
    _evaluated(con, LATER_WINDOW, 0.031)

    alert = calibration_alert(con, MODEL, "3", AlertThresholds())

    assert alert.alert_type == CALIBRATION_ERROR and alert.severity == WARNING
    assert alert.observed == pytest.approx(0.031) and alert.window == LATER_WINDOW
    assert "0.031" in alert.message

    _evaluated(con, LATER_WINDOW, 0.05)
    assert calibration_alert(con, MODEL, "3", AlertThresholds()).severity == CRITICAL


def test_another_versions_error_is_not_this_ones(con):
    _evaluated(con, LATER_WINDOW, 0.05, version="2")

    assert calibration_alert(con, MODEL, "3", AlertThresholds()) is None


def test_nothing_is_judged_before_any_evaluation():
    assert calibration_alert(duckdb.connect(), MODEL, "3", AlertThresholds()) is None


def test_the_same_breach_seen_twice_is_the_same_alert(con):
    _evaluated(con, LATER_WINDOW, 0.03)

    first = calibration_alert(con, MODEL, "3", AlertThresholds())
    again = calibration_alert(con, MODEL, "3", AlertThresholds())

    assert first.alert_id == again.alert_id
