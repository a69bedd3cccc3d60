"""Distribution drift of model inputs and scores, measured with Evidently.

Reference = the model's training window, current = the latest window. Only features whose
distribution should be stationary are monitored: a feature that trends with time by construction
drifts between any two windows and would raise an alarm every day, so it tells nothing. Left out:

- calendar fields (day_of_month, day_of_week, hour_of_week, is_holiday, seasonal and market
  indices): they move with the calendar, not with the population;
- ages and cumulative counts (account_age_days, lifetime rates, days since the last open or click,
  unique_features_used, data volume, team members, integrations, customisation, NPS...): they grow
  as the world ages;
- short-history features (recent open rates, email frequency, time to open, support tickets,
  feature adoption): their values depend on how much history a client has, which grows;
- the churn "change" features (diversity change, time between sessions, document decline): they
  compare two trailing windows whose early values are truncated.

Behaviour features over a trailing window (logins in the last 28 days) are stationary once every
row has a full window behind it, so the reference skips the first `WARM_UP_DAYS` of the data.

Methods: the normed Wasserstein distance for numbers and the Jensen-Shannon distance for categories,
both with Evidently's default threshold of 0.1. Both measure how far apart the distributions are,
not how sure a test is that they differ, so a larger sample does not turn a negligible difference
into an alarm (a p-value test on thousands of rows flags everything).

Measured by `benchmarks/drift_false_alarms.py` (10 seeds, tiny worlds, drift on the last 30 days):
the 16 email features: false-alarm rate 0 %, detection of the three shifted ones 100 %; the churn
login slope: false alarms in 1 of 10 worlds without drift, detected in 10 of 10 with it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
from evidently import DataDefinition, Dataset, Report
from evidently.core.report import Snapshot
from evidently.presets import DataDriftPreset

from roi_assets.monitoring.samples import at_most
from roi_assets.resources.table_contracts import create_statement
from roi_assets.resources.warehouse import upsert_rows

TABLE = "monitoring.feature_drift"
KEY_COLUMNS: tuple[str, ...] = ("model_name", "feature", "reference_window", "current_window")
NUMERICAL_METHOD = "wasserstein"
CATEGORICAL_METHOD = "jensenshannon"
DRIFT_THRESHOLD = 0.1
WARM_UP_DAYS = 31  # the longest trailing window of a monitored feature (28 days of logins) + slack
CURRENT_DAYS = 28  # four whole weeks, so weekday mix does not differ between windows
TRAINING_FRACTION = 0.8  # the models train on the earlier 80 % of labelled rows
# Rows of each window compared: both measures are distances whose sampling error on this many rows
# is a small fraction of the 0.1 threshold, and Evidently holds both windows in pandas (at `large`
# the email reference is 2,974,530 rows). The default world's windows are smaller.
MAX_WINDOW_ROWS = 200_000
WINDOW_SAMPLE_SEED = 0
PREDICTION_PREFIX = "prediction:"  # `feature` of a score's drift row, e.g. prediction:p_open

_SCHEMA: dict[str, pl.DataType] = {
    "model_name": pl.String(),
    "model_version": pl.String(),
    "feature": pl.String(),
    "method": pl.String(),
    "score": pl.Float64(),
    "threshold": pl.Float64(),
    "drifted": pl.Boolean(),
    "reference_window": pl.String(),
    "current_window": pl.String(),
    "computed_at": pl.Datetime("us"),
}
_CREATE_TABLE = create_statement(TABLE)


@dataclass(frozen=True)
class MonitoredInputs:
    """The stationary features of one feature table and how its windows are cut."""

    table: str
    time_column: str
    label_column: str  # a row is labelled (usable for training) when this is not NULL
    numerical: tuple[str, ...]
    categorical: tuple[str, ...]

    @property
    def features(self) -> tuple[str, ...]:
        return (*self.numerical, *self.categorical)


EMAIL_INPUTS = MonitoredInputs(
    table="features.feat_email_engagement",
    time_column="sent_at",
    label_column="opened_within_7d",
    numerical=(
        "hour_of_day",
        "subject_length",
        "personalization_score",
        "value_proposition_strength",
        "call_to_action_count",
        "image_count",
        "login_frequency_weekly",
    ),
    categorical=(
        "urgency_indicators",
        "property_value_bracket",
        "transaction_stage",
        "client_type",
        "geographic_region",
        "preferred_communication",
        "subject_line_variant",
        "email_template",
        "cta_style",
    ),
)
CHURN_INPUTS = MonitoredInputs(
    table="features.feat_client_churn",
    time_column="snapshot_date",
    label_column="churned_within_30d",
    # The other snapshot features age with the world (see above) or, like competitor email opens,
    # price comparison searches and help-article visits, rise among the clients who stay: they were
    # flagged in most worlds without drift (benchmarks/drift_false_alarms.py).
    numerical=("login_frequency_slope_30d",),
    categorical=(),
)
# Every model reading one of these tables: the send-time and content models learn from the same
# sends as the engagement model. The document classifier reads page images, not a feature table.
MODEL_INPUTS: dict[str, MonitoredInputs] = {
    "roi-engagement-open": EMAIL_INPUTS,
    "roi-engagement-click": EMAIL_INPUTS,
    "roi-engagement-action": EMAIL_INPUTS,
    "roi-send-time-dqn": EMAIL_INPUTS,
    "roi-content-bandit": EMAIL_INPUTS,
    "roi-churn-30d": CHURN_INPUTS,
    "roi-churn-60d": CHURN_INPUTS,
    "roi-churn-90d": CHURN_INPUTS,
}


@dataclass(frozen=True)
class DriftWindows:
    """The rows compared and the ISO 8601 intervals that name them."""

    reference: pl.DataFrame
    current: pl.DataFrame
    reference_window: str
    current_window: str


def _interval(times: pl.Series) -> str:
    return f"{times.min().isoformat()}/{times.max().isoformat()}"


def drift_windows(
    frame: pl.DataFrame, inputs: MonitoredInputs, current_days: int = CURRENT_DAYS
) -> DriftWindows:
    """Reference: labelled rows of the training part (the earlier 80 %), after the warm-up.
    Current: every row of the last `current_days` days, labelled or not (features are known when
    a row is written; labels come later)."""
    time = pl.col(inputs.time_column)
    first, last = frame[inputs.time_column].min(), frame[inputs.time_column].max()
    labelled = frame.filter(pl.col(inputs.label_column).is_not_null()).sort(inputs.time_column)
    if labelled.height == 0:
        raise ValueError(f"{inputs.table} has no labelled rows to take a reference from")
    training_end = labelled[inputs.time_column][int(labelled.height * TRAINING_FRACTION) - 1]
    reference = labelled.filter(
        (time >= first + dt.timedelta(days=WARM_UP_DAYS)) & (time <= training_end)
    )
    current = frame.filter(time > last - dt.timedelta(days=current_days))
    if reference.height == 0 or current.height == 0:
        raise ValueError(f"{inputs.table} is too short for a reference and a current window")
    return DriftWindows(
        reference=reference,
        current=current,
        reference_window=_interval(reference[inputs.time_column]),
        current_window=_interval(current[inputs.time_column]),
    )


@dataclass(frozen=True)
class DriftReport:
    """Per-feature verdicts (feature, method, score, threshold, drifted) and Evidently's snapshot
    behind them, which renders the HTML report."""

    verdicts: pl.DataFrame
    snapshot: Snapshot

    @property
    def drifted_features(self) -> list[str]:
        return self.verdicts.filter(pl.col("drifted"))["feature"].to_list()

    def save_html(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.snapshot.save_html(str(path))
        return path


def _as_evidently_frame(frame: pl.DataFrame, columns: list[str]):
    # Evidently reads pandas; booleans become 0/1 so they count as two categories.
    return frame.select(columns).with_columns(pl.col(pl.Boolean).cast(pl.Int8)).to_pandas()


def compare_distributions(
    reference: pl.DataFrame,
    current: pl.DataFrame,
    numerical: tuple[str, ...] | list[str],
    categorical: tuple[str, ...] | list[str] = (),
    threshold: float = DRIFT_THRESHOLD,
) -> DriftReport:
    """Evidently's data-drift preset over the given columns of two frames; `threshold` is for
    windows too small for the default (see `document_drift`)."""
    columns = [*numerical, *categorical]
    definition = DataDefinition(
        numerical_columns=list(numerical), categorical_columns=list(categorical)
    )
    preset = DataDriftPreset(
        columns=columns,
        num_method=NUMERICAL_METHOD,
        cat_method=CATEGORICAL_METHOD,
        num_threshold=threshold,
        cat_threshold=threshold,
    )
    snapshot = Report([preset]).run(
        Dataset.from_pandas(_as_evidently_frame(current, columns), data_definition=definition),
        Dataset.from_pandas(_as_evidently_frame(reference, columns), data_definition=definition),
    )
    rows = [
        {
            "feature": metric["config"]["column"],
            "method": metric["config"]["method"],
            "score": float(metric["value"]),
            "threshold": float(metric["config"]["threshold"]),
        }
        for metric in snapshot.dict()["metrics"]
        if metric["config"]["type"] == "evidently:metric_v2:ValueDrift"
    ]
    # Both methods are distances: drift is a score at or above the threshold.
    verdicts = pl.DataFrame(rows).with_columns(drifted=pl.col("score") >= pl.col("threshold"))
    return DriftReport(verdicts=verdicts, snapshot=snapshot)


def feature_drift(frame: pl.DataFrame, inputs: MonitoredInputs) -> tuple[DriftReport, DriftWindows]:
    """Drift of every monitored feature of a feature table, training window against the latest
    (each window sampled to at most `MAX_WINDOW_ROWS` rows)."""
    windows = drift_windows(frame, inputs)
    report = compare_distributions(
        at_most(windows.reference, MAX_WINDOW_ROWS, WINDOW_SAMPLE_SEED),
        at_most(windows.current, MAX_WINDOW_ROWS, WINDOW_SAMPLE_SEED),
        inputs.numerical,
        inputs.categorical,
    )
    return report, windows


def drift_rows(
    report: DriftReport,
    *,
    model_name: str,
    model_version: str | None,
    reference_window: str,
    current_window: str,
    computed_at: dt.datetime,
) -> pl.DataFrame:
    """The report's verdicts as rows of monitoring.feature_drift."""
    return report.verdicts.with_columns(
        model_name=pl.lit(model_name),
        model_version=pl.lit(model_version, dtype=pl.String),
        reference_window=pl.lit(reference_window),
        current_window=pl.lit(current_window),
        computed_at=pl.lit(computed_at),
    ).select([pl.col(name).cast(dtype) for name, dtype in _SCHEMA.items()])


def write_feature_drift(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> int:
    """Upsert drift rows keyed by (model_name, feature, reference_window, current_window): a re-run
    over the same windows replaces its rows. Creates the schema and table when missing."""
    rows = frame.select([pl.col(name).cast(dtype) for name, dtype in _SCHEMA.items()])
    upsert_rows(con, TABLE, _CREATE_TABLE, rows)
    return rows.height


def latest_drift_rows(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Each model's rows of its latest current window (features and scores apart); an empty frame
    with the table's columns when nothing was written yet."""
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'monitoring' and table_name = 'feature_drift'"
    ).fetchone()[0]
    if not exists:
        return pl.DataFrame(schema=_SCHEMA)
    return con.execute(
        f"select * from {TABLE} qualify current_window = max(current_window) over "
        f"(partition by model_name, starts_with(feature, '{PREDICTION_PREFIX}'))"
    ).pl()


def markdown_table(verdicts: pl.DataFrame) -> str:
    """Feature, method, score, threshold and verdict, drifted features first."""
    lines = [
        "| feature | method | score | threshold | drifted |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in verdicts.sort(["drifted", "score"], descending=True).iter_rows(named=True):
        flag = "**yes**" if row["drifted"] else "no"
        lines.append(
            f"| {row['feature']} | {row['method']} | {row['score']:.3f} | "
            f"{row['threshold']:.2f} | {flag} |"
        )
    return "\n".join(lines)
