import datetime as dt

import duckdb
import polars as pl

from roi_assets.monitoring.drift.feature_drift import (
    CHURN_INPUTS,
    EMAIL_INPUTS,
    compare_distributions,
    drift_rows,
    drift_windows,
    feature_drift,
    write_feature_drift,
)
from roi_assets.monitoring.samples import at_most

SHIFTED_EMAIL_FEATURES = {"subject_length", "personalization_score", "login_frequency_weekly"}


def test_without_the_drift_switch_no_monitored_feature_is_flagged(calm_world):
    for inputs in (EMAIL_INPUTS, CHURN_INPUTS):
        report, _ = feature_drift(calm_world[inputs.table], inputs)
        assert report.drifted_features == [], inputs.table
        assert set(report.verdicts["feature"]) == set(inputs.features)


def test_with_the_drift_switch_the_shifted_features_and_only_they_are_flagged(drifted_world):
    report, windows = feature_drift(drifted_world[EMAIL_INPUTS.table], EMAIL_INPUTS)
    assert set(report.drifted_features) == SHIFTED_EMAIL_FEATURES
    # the current window is the last four weeks, after the switch (day 120 of 150)
    assert windows.current["sent_at"].min() > windows.reference["sent_at"].max()
    churn, _ = feature_drift(drifted_world[CHURN_INPUTS.table], CHURN_INPUTS)
    assert churn.drifted_features == ["login_frequency_slope_30d"]


def test_windows_sampled_to_a_few_thousand_rows_find_the_same_drift(drifted_world):
    windows = drift_windows(drifted_world[EMAIL_INPUTS.table], EMAIL_INPUTS)
    assert windows.reference.height > 3_000

    sampled = compare_distributions(
        at_most(windows.reference, 3_000),
        at_most(windows.current, 3_000),
        EMAIL_INPUTS.numerical,
        EMAIL_INPUTS.categorical,
    )

    assert set(sampled.drifted_features) == SHIFTED_EMAIL_FEATURES


def test_the_report_renders_to_html_and_rows_upsert_without_duplicates(drifted_world, tmp_path):
    report, windows = feature_drift(drifted_world[EMAIL_INPUTS.table], EMAIL_INPUTS)
    path = report.save_html(tmp_path / "reports" / "drift.html")
    assert path.stat().st_size > 10_000 and "subject_length" in path.read_text()
    rows = drift_rows(
        report,
        model_name="roi-engagement-open",
        model_version="3",
        reference_window=windows.reference_window,
        current_window=windows.current_window,
        computed_at=dt.datetime(2025, 6, 1),
    )
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        write_feature_drift(con, rows)
        write_feature_drift(con, rows.with_columns(computed_at=pl.lit(dt.datetime(2025, 6, 2))))
        stored = con.execute("select * from monitoring.feature_drift").pl()
    assert stored.height == len(EMAIL_INPUTS.features)
    assert stored["computed_at"].unique().to_list() == [dt.datetime(2025, 6, 2)]
    assert set(stored.filter(pl.col("drifted"))["feature"]) == SHIFTED_EMAIL_FEATURES
