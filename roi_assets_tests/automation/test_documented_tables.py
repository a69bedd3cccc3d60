"""Every table the documentation promises is in a fresh tiny deployment's BI copy, empty where
nothing happened yet (no alert raised, no experiment run), with its contract's columns."""

import re

import dagster as dg
import duckdb
import pytest

from roi_assets import settings
from roi_assets.definitions import defs
from roi_assets.resources.table_contracts import CONTRACTS

DOCUMENTED_TABLE = re.compile(r"^### ((?:features|marts|monitoring)\.\w+)", re.MULTILINE)


def documented_tables() -> list[str]:
    """The tables docs/tables.md describes (its `### schema.table` headings)."""
    tables_md = settings.DBT_PROJECT_DIR.parent / "docs" / "tables.md"
    return sorted(set(DOCUMENTED_TABLE.findall(tables_md.read_text())))


@pytest.fixture(scope="module")
def bi_copy(lived_instance: dg.DagsterInstance, materialized_world) -> duckdb.DuckDBPyConnection:
    """The BI copy as the product publishes it after its first runs (the `publish_bi` job)."""
    published = defs.resolve_job_def("publish_bi").execute_in_process(instance=lived_instance)
    assert published.success
    with duckdb.connect(str(settings.bi_warehouse_path()), read_only=True) as con:
        yield con


def test_the_documentation_names_the_tables_bi_reads():
    tables = documented_tables()
    assert "monitoring.alerts" in tables and "features.feat_client_churn" in tables
    assert set(CONTRACTS) - set(tables) == {"monitoring.model_evaluations"}  # README documents it


@pytest.mark.parametrize("table", documented_tables())
def test_a_documented_table_can_be_queried_in_a_fresh_bi_copy(bi_copy, table):
    bi_copy.execute(f"select * from {table} limit 1").fetchall()


@pytest.mark.parametrize("table", sorted(CONTRACTS))
def test_a_contract_table_in_the_bi_copy_has_the_contracts_columns(bi_copy, table):
    described = bi_copy.execute(f"describe {table}").fetchall()
    contract = CONTRACTS[table]
    assert [(row[0], row[1].lower()) for row in described] == [
        (column.name, column.sql_type.lower()) for column in contract.columns
    ]
