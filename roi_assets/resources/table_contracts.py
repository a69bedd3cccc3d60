"""The contract of every BI-facing table the product's Python code writes: columns, types and key.

One place knows each table's DDL. The writers create their table from it (`create_statement`)
before their first row, and the BI publication creates every contract table that a deployment
has not written yet, empty, with these columns (`ensure_tables`): a BI query written against
docs/tables.md works on a deployment where nothing happened yet (no alert raised, no experiment
run). The tables dbt builds (features.*) have their contracts in dbt; the marts' in README.md.

A column line reads `name type` or `name type not null`; docs/tables.md describes the same tables
for people, and a test checks that every table documented there exists in a fresh BI copy.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    not_null: bool

    def ddl(self) -> str:
        quoted = f'"{self.name}"' if self.name in _RESERVED else self.name
        return f"{quoted} {self.sql_type}{' not null' if self.not_null else ''}"


@dataclass(frozen=True)
class TableContract:
    name: str  # schema.table
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()

    @property
    def schema(self) -> str:
        return self.name.split(".")[0]

    def create_statement(self, catalog: str | None = None) -> str:
        """`create table if not exists`, in another attached database when `catalog` is given."""
        lines = [column.ddl() for column in self.columns]
        if self.key:
            lines.append(f"primary key ({', '.join(self.key)})")
        body = ",\n    ".join(lines)
        target = f"{catalog}.{self.name}" if catalog else self.name
        return f"create table if not exists {target} (\n    {body}\n)"


_RESERVED = frozenset({"group", "limit"})


def _contract(name: str, columns: str, key: tuple[str, ...] = ()) -> TableContract:
    parsed = []
    for line in columns.strip().splitlines():
        words = line.split()
        not_null = words[-2:] == ["not", "null"]
        sql_type = " ".join(words[1:-2] if not_null else words[1:])
        parsed.append(Column(words[0], sql_type, not_null))
    contract = TableContract(name, tuple(parsed), key)
    unknown = set(key) - {c.name for c in contract.columns}
    if unknown:
        raise ValueError(f"{name}: key columns {sorted(unknown)} are not columns")
    return contract


CONTRACTS: dict[str, TableContract] = {
    c.name: c
    for c in (
        _contract(
            "monitoring.rollout_state",
            """
            model_name varchar not null
            challenger_version varchar not null
            champion_version varchar not null
            stage varchar not null
            challenger_share double not null
            started_at timestamp not null
            stage_started_at timestamp not null
            updated_at timestamp not null
            """,
            ("model_name",),
        ),
        _contract(
            "monitoring.churn_tier_counts",
            """
            snapshot_date date not null
            window_days integer not null
            tier varchar not null
            clients bigint not null
            true_clients bigint not null
            """,
            ("snapshot_date", "window_days", "tier"),
        ),
        _contract(
            "monitoring.deployment_transitions",
            """
            model_name varchar not null
            challenger_version varchar not null
            champion_version varchar not null
            event varchar not null
            from_stage varchar
            to_stage varchar not null
            challenger_share double not null
            reason varchar not null
            as_of date not null
            recorded_at timestamp not null
            """,
            ("model_name", "challenger_version", "as_of", "event"),
        ),
        _contract(
            "monitoring.ab_test_decisions",
            """
            experiment_key varchar not null
            model_name varchar not null
            challenger_version varchar not null
            champion_version varchar not null
            as_of date not null
            decision varchar not null
            days_elapsed integer not null
            n_champion bigint not null
            n_challenger bigint not null
            engaged_champion bigint not null
            engaged_challenger bigint not null
            rate_champion double
            rate_challenger double
            relative_lift double
            p_value double
            reason varchar not null
            decided_at timestamp not null
            metric varchar
            """,
            ("experiment_key", "as_of"),
        ),
        _contract(
            "monitoring.ab_outcomes",
            """
            experiment_key varchar not null
            day date not null
            client_id varchar not null
            arm varchar not null
            model_version varchar not null
            engaged boolean not null
            """,
            ("experiment_key", "day", "client_id"),
        ),
        _contract(
            "monitoring.feature_drift",
            """
            model_name varchar not null
            model_version varchar
            feature varchar not null
            method varchar not null
            score double
            threshold double not null
            drifted boolean not null
            reference_window varchar not null
            current_window varchar not null
            computed_at timestamp not null
            """,
            ("model_name", "feature", "reference_window", "current_window"),
        ),
        _contract(
            "monitoring.document_held_out_confidence",
            """
            model_name varchar not null
            model_version varchar not null
            input_sha256 varchar not null
            confidence double not null
            """,
            ("model_name", "model_version", "input_sha256"),
        ),
        _contract(
            "monitoring.serving_health",
            """
            model_name varchar not null
            model_version varchar not null
            day date not null
            requests bigint not null
            peak_requests_per_minute bigint not null
            latency_p50_ms double
            latency_p99_ms double
            error_rate double not null
            computed_at timestamp not null
            """,
            ("model_name", "model_version", "day"),
        ),
        _contract(
            "monitoring.business_impact",
            """
            impact_date date not null
            policy varchar not null
            metric varchar not null
            value double
            units bigint
            """,
            ("impact_date", "policy", "metric"),
        ),
        _contract(
            "monitoring.alerts",
            """
            alert_id varchar not null
            raised_at timestamp not null
            model_name varchar not null
            model_version varchar
            alert_type varchar not null
            severity varchar not null
            observed double
            threshold double
            message varchar not null
            rolled_back_from varchar
            rolled_back_to varchar
            """,
            ("alert_id",),
        ),
        _contract(
            "monitoring.feature_importance",
            """
            model_name varchar not null
            model_version varchar not null
            feature varchar not null
            mean_abs_shap double not null
            rank bigint not null
            computed_at timestamp not null
            mean_abs_shap_ci_low double
            mean_abs_shap_ci_high double
            """,
            ("model_name", "model_version", "feature"),
        ),
        _contract(
            "monitoring.client_explanations",
            """
            model_name varchar not null
            model_version varchar not null
            method varchar not null
            client_id varchar not null
            rank bigint not null
            feature varchar not null
            feature_value double
            contribution double not null
            explained_at timestamp not null
            """,
            ("model_name", "model_version", "method", "client_id", "rank"),
        ),
        _contract(
            "monitoring.churn_counterfactuals",
            """
            model_name varchar not null
            model_version varchar not null
            client_id varchar not null
            snapshot_date date not null
            risk_before double not null
            risk_after double not null
            target_name varchar not null
            target_probability double not null
            reached_target boolean not null
            changed_features varchar[] not null
            explanation varchar not null
            computed_at timestamp not null
            """,
            ("model_name", "model_version", "client_id", "snapshot_date"),
        ),
        _contract(
            "monitoring.fairness_metrics",
            """
            model_name varchar not null
            model_version varchar not null
            variant varchar not null
            attribute varchar not null
            metric varchar not null
            group varchar
            value double
            limit double
            within_limit boolean
            computed_at timestamp not null
            ci_low double
            ci_high double
            """,
        ),
        _contract(
            "monitoring.model_evaluations",
            """
            model_name varchar not null
            model_version varchar not null
            metric varchar not null
            value double
            oracle_value double
            baseline_value double
            evaluated_at timestamp not null
            evaluation_window varchar not null
            """,
            ("model_name", "model_version", "metric", "evaluation_window"),
        ),
    )
}


def contract(table: str) -> TableContract:
    """The contract of `table` ("schema.name"); a KeyError names the tables that have one."""
    try:
        return CONTRACTS[table]
    except KeyError:
        raise KeyError(f"{table} has no contract; known: {', '.join(sorted(CONTRACTS))}") from None


def create_statement(table: str) -> str:
    """`create table if not exists` with the contract's columns and key."""
    return contract(table).create_statement()


def ensure_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Create `table` from its contract when missing, and add the contract's nullable columns it
    lacks: a table written before a column joined the contract gains it, NULL in older rows
    (columns are added at the end, where the contract lists new ones)."""
    found = contract(table)
    con.execute(f"create schema if not exists {found.schema}")
    con.execute(found.create_statement())
    for column in found.columns:
        if not column.not_null:
            con.execute(f"alter table {table} add column if not exists {column.ddl()}")


def ensure_tables(con: duckdb.DuckDBPyConnection, catalog: str | None = None) -> list[str]:
    """Create every contract table missing from `catalog` (the connection's database by default);
    returns the tables it created."""
    prefix = f"{catalog}." if catalog else ""
    database = catalog or con.execute("select current_database()").fetchone()[0]
    existing = {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = ?",
            [database],
        ).fetchall()
    }
    created = []
    for name, table in CONTRACTS.items():
        if name in existing:
            continue
        con.execute(f"create schema if not exists {prefix}{table.schema}")
        con.execute(table.create_statement(catalog))
        created.append(name)
    return created
