"""What the BI dashboard shows, as queries on the BI copy: one function per panel.

Each returns a polars frame (empty when its table is not published yet: a fresh product has no
send-time recommendations until the DQN passes its gate) so the page can say so instead of failing.
The connection is read-only: the dashboard never writes the BI copy.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=True)


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def _query(con: duckdb.DuckDBPyConnection, table: str, sql: str) -> pl.DataFrame:
    schema, name = table.split(".")
    if not table_exists(con, schema, name):
        return pl.DataFrame()
    return con.execute(sql).pl()


def table_counts(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every published table with its row count."""
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in ('features', 'marts', 'monitoring') order by 1, 2"
    ).fetchall()
    return pl.DataFrame(
        {
            "table": [f"{s}.{t}" for s, t in tables],
            "rows": [
                con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in tables
            ],
        },
        schema={"table": pl.String, "rows": pl.Int64},
    )


def engagement_distribution(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Clients per tenth of predicted open probability."""
    return _query(
        con,
        "marts.engagement_scores",
        "select least(floor(p_open * 10), 9) / 10 as p_open_from, count(*) as clients "
        "from marts.engagement_scores group by 1 order by 1",
    )


def churn_tiers(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Clients per risk tier and prediction window (latest snapshot)."""
    return _query(
        con,
        "marts.churn_risk",
        "select window_days || ' days' as window, tier, count(*) as clients from marts.churn_risk "
        "where snapshot_date = (select max(snapshot_date) from marts.churn_risk) "
        "group by 1, 2 order by 1, "
        "list_position(['low', 'medium', 'high', 'critical'], tier)",
    )


def watch_list(con: duckdb.DuckDBPyConnection, limit: int = 50) -> pl.DataFrame:
    """The clients on the watch list, riskiest first, with their reasons and action."""
    return _query(
        con,
        "marts.churn_risk",
        "select client_id, window_days, round(probability, 3) as probability, tier, "
        "recommended_action, top_reasons::varchar as top_reasons from marts.churn_risk "
        f"where on_watch_list order by probability desc limit {int(limit)}",
    )


def send_hours(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Clients per recommended local hour of day."""
    return _query(
        con,
        "marts.send_time_recommendations",
        "select (best_hour_of_week_local % 24) as local_hour, count(*) as clients "
        "from marts.send_time_recommendations group by 1 order by 1",
    )


def content_variants(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Clients per assigned variant of each content family."""
    return _query(
        con,
        "marts.content_assignments",
        "select family, variant, count(*) as clients from ("
        " select 'subject_line' as family, subject_line_variant as variant "
        " from marts.content_assignments union all"
        " select 'email_template', email_template from marts.content_assignments union all"
        " select 'cta_style', cta_style from marts.content_assignments"
        ") group by 1, 2 order by 1, 3 desc",
    )


def documents_to_review(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return _query(
        con,
        "marts.document_classifications",
        "select document_id, source_file, predicted_type, round(confidence, 3) as confidence, "
        "ocr_engine, round(quality_score, 3) as quality_score, processed_at "
        "from marts.document_classifications where needs_review order by confidence",
    )


def latest_drift(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Each model's latest drift score per feature, with its threshold."""
    return _query(
        con,
        "monitoring.feature_drift",
        "select model_name, feature, method, score, threshold, drifted, computed_at "
        "from monitoring.feature_drift qualify computed_at = "
        "max(computed_at) over (partition by model_name) order by model_name, score desc",
    )


def latest_fairness(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Each model's latest fairness metrics per protected group."""
    return _query(
        con,
        "monitoring.fairness_metrics",
        'select model_name, attribute, metric, "group", value, "limit", within_limit '
        "from monitoring.fairness_metrics qualify computed_at = "
        "max(computed_at) over (partition by model_name) order by 1, 2, 3, 4",
    )


def business_impact(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return _query(
        con,
        "monitoring.business_impact",
        "select impact_date, policy, metric, value, units from monitoring.business_impact "
        "order by impact_date, metric, policy",
    )
