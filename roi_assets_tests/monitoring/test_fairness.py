import datetime as dt

import numpy as np
import polars as pl
import pytest
from dagster_duckdb import DuckDBResource

from roi_assets.monitoring.fairness.assessment import (
    BASE_RATE_RATIO,
    DEMOGRAPHIC_PARITY,
    DISPARATE_IMPACT,
    EQUAL_OPPORTUNITY,
    FAIRNESS_COLUMNS,
    MITIGATED,
    PROTECTED_ATTRIBUTES,
    FairnessLimits,
    fairness_report,
    flagged,
    mitigation_report,
    summary_markdown,
    write_fairness_metrics,
)
from roi_assets.monitoring.fairness.assets import warn_past_limits
from roi_assets.simulator.clients import draw_clients
from roi_assets.simulator.scales import Scale, WorldConfig
from roi_assets_tests.current_registry import current_registry

NOW = dt.datetime(2025, 6, 1)
BASE_LOGIT = -1.1  # about a 25 % open rate, as in the simulated world


def _world(age_group_bias: float, n_clients: int = 6000, seed: int = 3):
    """Clients of the simulator with their open probability (latent propensity on a base rate),
    an outcome drawn from it, and the decision of a model that knows that probability exactly."""
    scale = Scale("fairness", n_clients=n_clients, n_days=30, sends_per_week=1, n_documents=0)
    config = WorldConfig(seed=seed, scale=scale, age_group_bias=age_group_bias)
    rng = np.random.default_rng(seed)
    clients = draw_clients(config, rng)
    probability = 1 / (1 + np.exp(-(BASE_LOGIT + clients.propensity)))
    outcome = (rng.random(n_clients) < probability).astype(int)
    decision = (probability >= 0.25).astype(int)
    protected = {name: clients.table[name].to_numpy() for name in PROTECTED_ATTRIBUTES}
    return outcome, probability, decision, protected


def _summary(report: pl.DataFrame, attribute: str, metric: str) -> dict:
    return report.filter(
        (pl.col("attribute") == attribute)
        & (pl.col("metric") == metric)
        & pl.col("group").is_null()
    ).row(0, named=True)


def _report(outcome, decision, protected, **kwargs) -> pl.DataFrame:
    return fairness_report(
        outcome, decision, protected, model_name="m", model_version="1", computed_at=NOW, **kwargs
    )


def test_a_planted_age_bias_is_caught_by_parity_and_the_four_fifths_rule():
    outcome, _, decision, protected = _world(age_group_bias=1.5)

    report = _report(outcome, decision, protected)

    parity = _summary(report, "age_group", DEMOGRAPHIC_PARITY)
    impact = _summary(report, "age_group", DISPARATE_IMPACT)
    assert parity["value"] > 0.2 and parity["within_limit"] is False
    assert impact["value"] < 0.8 and impact["within_limit"] is False
    assert set(flagged(report)["attribute"]) == {"age_group"}
    rates = report.filter(
        (pl.col("attribute") == "age_group") & (pl.col("metric") == "selection_rate")
    )
    lowest = rates.sort("value").row(0, named=True)
    assert lowest["group"] == "65+"


def test_without_a_planted_bias_nothing_is_flagged():
    outcome, _, decision, protected = _world(age_group_bias=0.0)

    report = _report(outcome, decision, protected)

    assert flagged(report).is_empty()
    assert _summary(report, "age_group", DISPARATE_IMPACT)["value"] > 0.9


def test_every_rate_and_judged_gap_carries_an_interval_around_its_value():
    outcome, _, decision, protected = _world(age_group_bias=1.5)

    report = _report(outcome, decision, protected)

    rates = report.filter(pl.col("metric") != "count")
    assert rates["ci_low"].null_count() == 0
    assert (rates["ci_low"] <= rates["value"]).all() and (rates["value"] <= rates["ci_high"]).all()
    assert report.filter(pl.col("metric") == "count")["ci_low"].null_count() > 0


def test_a_gap_measured_on_fewer_rows_has_a_wider_interval():
    rng = np.random.default_rng(1)

    def parity_width(n: int) -> float:
        groups = np.repeat(["a", "b"], n // 2)
        decisions = (rng.random(n) < np.where(groups == "a", 0.3, 0.2)).astype(int)
        row = _summary(
            _report(decisions, decisions, {"age_group": groups}), "age_group", DEMOGRAPHIC_PARITY
        )
        assert row["ci_low"] < row["value"] < row["ci_high"]
        return row["ci_high"] - row["ci_low"]

    assert parity_width(20_000) < parity_width(1_000) / 3


def test_a_list_that_follows_the_outcome_shows_a_disparate_impact_near_the_base_rate_ratio():
    # one group turns out positive three times as often; the list holds the truly positive rows
    rng = np.random.default_rng(0)
    groups = np.repeat(["a", "b"], 5000)
    outcome = (rng.random(10_000) < np.where(groups == "a", 0.3, 0.1)).astype(int)
    protected = {"age_group": groups}

    report = _report(outcome, outcome, protected)

    base_rates = report.filter(pl.col("metric") == "base_rate").sort("group")["value"].to_list()
    assert base_rates == pytest.approx([0.3, 0.1], abs=0.02)
    base_ratio = _summary(report, "age_group", BASE_RATE_RATIO)
    impact = _summary(report, "age_group", DISPARATE_IMPACT)
    assert base_ratio["within_limit"] is None and base_ratio["limit"] is None
    assert impact["within_limit"] is False
    assert impact["value"] == pytest.approx(base_ratio["value"], abs=1e-12)


class _EveryVersionIsChampion:
    def version(self, model_name: str, alias: str) -> str:
        return "1"


def test_the_warning_shows_each_gap_beside_its_attributes_base_rate_ratio(tmp_path):
    rng = np.random.default_rng(0)
    groups = np.repeat(["a", "b"], 5000)
    outcome = (rng.random(10_000) < np.where(groups == "a", 0.3, 0.1)).astype(int)
    warehouse = DuckDBResource(database=str(tmp_path / "warehouse.duckdb"))
    with warehouse.get_connection() as con:
        write_fairness_metrics(con, _report(outcome, outcome, {"age_group": groups}))

    result = warn_past_limits(warehouse, _EveryVersionIsChampion(), ["m"])

    assert not result.passed
    header, _, *rows = result.metadata["past_limits"].value.splitlines()
    past = [dict(zip(_cells(header), _cells(row), strict=True)) for row in rows]
    impact = next(row for row in past if row["metric"] == DISPARATE_IMPACT)
    assert float(impact["value"]) == pytest.approx(float(impact[BASE_RATE_RATIO]), abs=0.001)


def _cells(markdown_row: str) -> list[str]:
    return [cell.strip() for cell in markdown_row.strip().strip("|").split("|")]


def test_the_report_has_the_table_columns_and_per_group_rows():
    outcome, _, decision, protected = _world(age_group_bias=0.0, n_clients=1000)

    report = _report(outcome, decision, protected)

    assert tuple(report.columns) == FAIRNESS_COLUMNS
    groups = report.filter(
        (pl.col("attribute") == "age_group") & (pl.col("metric") == "true_positive_rate")
    )
    assert sorted(groups["group"]) == ["18-34", "35-49", "50-64", "65+"]
    assert groups["limit"].is_null().all()
    counts = report.filter((pl.col("attribute") == "age_group") & (pl.col("metric") == "count"))
    assert counts["value"].sum() == 1000
    summaries = report.filter(pl.col("group").is_null() & (pl.col("attribute") == "age_group"))
    assert set(summaries["metric"]) == {
        "accuracy",
        DEMOGRAPHIC_PARITY,
        EQUAL_OPPORTUNITY,
        DISPARATE_IMPACT,
        BASE_RATE_RATIO,
    }


def test_groups_too_small_to_judge_are_reported_but_not_judged():
    outcome = np.array([1, 0, 1, 0, 1, 1, 0, 0])
    decision = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    groups = {"age_group": np.array(["a"] * 4 + ["b"] * 4)}

    report = _report(outcome, decision, groups, limits=FairnessLimits(min_group_size=5))

    parity = _summary(report, "age_group", DEMOGRAPHIC_PARITY)
    assert parity["value"] is None and parity["within_limit"] is None
    assert flagged(report).is_empty()
    judged = _report(outcome, decision, groups, limits=FairnessLimits(min_group_size=4))
    assert _summary(judged, "age_group", DEMOGRAPHIC_PARITY)["value"] == pytest.approx(1.0)
    assert _summary(judged, "age_group", DISPARATE_IMPACT)["value"] == pytest.approx(0.0)


def test_a_small_group_with_an_extreme_rate_does_not_move_the_judged_gaps():
    # Groups a (selection 0.5) and b (0.2) are judged; c, all selected, is too small to be.
    decision = np.array([1] * 50 + [0] * 50 + [1] * 20 + [0] * 80 + [1] * 5)
    outcome = np.array(([1, 0] * 50) + ([1, 0] * 50) + [1] * 5)
    groups = {"age_group": np.array(["a"] * 100 + ["b"] * 100 + ["c"] * 5)}

    report = _report(outcome, decision, groups, limits=FairnessLimits(min_group_size=100))

    assert _summary(report, "age_group", DEMOGRAPHIC_PARITY)["value"] == pytest.approx(0.3)
    assert _summary(report, "age_group", DISPARATE_IMPACT)["value"] == pytest.approx(0.4)
    assert _summary(report, "age_group", EQUAL_OPPORTUNITY)["value"] == pytest.approx(0.3)
    selection = report.filter((pl.col("group") == "c") & (pl.col("metric") == "selection_rate"))
    assert selection["value"].to_list() == [1.0]


def test_rows_without_the_attribute_form_an_unknown_group_however_many_come_first():
    groups = {"age_group": np.array([None] * 150 + ["18-34"] * 150, dtype=object)}
    outcome = np.tile([0, 1], 150)
    decision = np.tile([1, 0], 150)

    report = _report(outcome, decision, groups)

    counts = report.filter(pl.col("metric") == "count").sort("group")
    assert counts["group"].to_list() == ["18-34", "unknown"]
    assert counts["value"].to_list() == [150.0, 150.0]


def test_threshold_optimizer_narrows_the_planted_gap_and_reports_its_accuracy_cost():
    outcome, probability, decision, protected = _world(age_group_bias=1.5)

    model = _report(outcome, decision, {"age_group": protected["age_group"]})
    mitigated, skipped = mitigation_report(
        outcome,
        probability,
        {"age_group": protected["age_group"]},
        model_name="m",
        model_version="1",
        computed_at=NOW,
    )

    assert skipped == {}
    assert set(mitigated["variant"]) == {MITIGATED}
    before = _summary(model, "age_group", DEMOGRAPHIC_PARITY)["value"]
    after = _summary(mitigated, "age_group", DEMOGRAPHIC_PARITY)["value"]
    assert after < before / 2
    assert _summary(mitigated, "age_group", "accuracy")["value"] > 0.5


def test_the_markdown_puts_the_model_next_to_its_mitigation():
    outcome, probability, decision, protected = _world(age_group_bias=1.5, n_clients=2000)
    groups = {"age_group": protected["age_group"]}
    model = _report(outcome, decision, groups)
    mitigated, _ = mitigation_report(
        outcome, probability, groups, model_name="m", model_version="1", computed_at=NOW
    )

    markdown = summary_markdown(pl.concat([model, mitigated]))

    assert "| age_group | disparate_impact_ratio |" in markdown
    assert "**no**" in markdown


def test_with_nothing_registered_the_fairness_assets_record_nothing_and_say_why(tmp_path):
    import mlflow
    from dagster_duckdb import DuckDBResource

    from roi_assets.monitoring.fairness.assets import (
        FairnessConfig,
        churn_fairness,
        engagement_fairness,
    )

    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'empty_registry.db'}")
    try:
        warehouse = DuckDBResource(database=str(tmp_path / "warehouse.duckdb"))
        sends = pl.DataFrame(
            {
                "sent_at": [dt.datetime(2025, 1, day) for day in range(1, 11)],
                "send_id": [f"s{day}" for day in range(1, 11)],
                "label_complete": [True] * 10,
                "opened_within_7d": [0, 1] * 5,
            }
        )
        engagement = engagement_fairness(
            FairnessConfig(), features=sends, duckdb=warehouse, registry=current_registry()
        )
        churn = churn_fairness(
            FairnessConfig(),
            churn=pl.DataFrame(),
            duckdb=warehouse,
            registry=current_registry(),
        )
    finally:
        mlflow.set_tracking_uri(previous)

    for result in (engagement, churn):
        assert result.metadata["dagster/row_count"] == 0
    nothing = "nothing registered yet: nothing to assess"
    assert engagement.metadata["roi-engagement-open_skipped"] == nothing
    assert churn.metadata["roi-churn-30d_skipped"] == nothing
