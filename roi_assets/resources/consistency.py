"""Is a deployment's state what an uninterrupted run would have left? The crash-consistency checks.

- `warehouse_fingerprint`: per base table of a DuckDB file, its row count and an order-free
  checksum of its rows (the sum of a hash of each row's compared columns, so a lost or duplicated
  row changes it, where an XOR would let two copies cancel), and one checksum per column to say
  where two fingerprints differ; floating-point values count to 9 decimals. Columns stamped
  with the wall clock (`*_at` by the product's convention, `*seconds` durations) are left out:
  a re-run honestly writes other times.
- `bi_copy_problem`: the published BI copy opens and every table reads (never half-written).
- `registry_problems`: every alias of every registered model points to a version that finished
  registering and whose model files are there (no half-registered version under an alias).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import mlflow
from mlflow import MlflowClient

from roi_assets.evaluation.truth_tables import TRUTH_SCHEMA

# Columns a re-run fills differently by design: wall-clock stamps and durations.
WALL_CLOCK_COLUMN = re.compile(r"(_at|seconds)$")
# Floating-point columns are compared to this many decimals (see `_compared_value`).
FLOAT_TYPES = frozenset({"DOUBLE", "FLOAT", "REAL"})
FLOAT_DECIMALS = 9
# The world's own schema is written by the simulator, not by a product writer.
NOT_COMPARED_SCHEMAS = frozenset({TRUTH_SCHEMA})


@dataclass(frozen=True)
class TableFingerprint:
    rows: int
    checksum: int
    columns: dict[str, int] = field(default_factory=dict)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _compared_value(column: str, sql_type: str) -> str:
    """The expression hashed for a column: floating-point values rounded to `FLOAT_DECIMALS`,
    because a re-run's incremental build may add a window's terms in another order and move
    the last bits (5e-16 relative, measured after a killed ingestion), which is no lost or
    duplicated row."""
    quoted = _quote(column)
    return f"round({quoted}, {FLOAT_DECIMALS})" if sql_type in FLOAT_TYPES else quoted


def compared_columns(columns: Iterable[str], ignore: frozenset[str] = frozenset()) -> list[str]:
    """The columns a fingerprint covers: all but wall-clock stamps and `ignore`."""
    return [c for c in columns if not WALL_CLOCK_COLUMN.search(c) and c not in ignore]


def warehouse_fingerprint(
    path: Path,
    ignore: dict[str, frozenset[str]] | None = None,
    ignore_pattern: re.Pattern[str] | None = None,
    left_out_versions: frozenset[tuple[str, str]] = frozenset(),
) -> dict[str, TableFingerprint]:
    """Fingerprints of every base table ("schema.table") of the DuckDB file at `path`;
    `ignore` names further columns per table to leave out, `ignore_pattern` matches them in
    every table. In a table keyed by `model_name` and `model_version` (one record set per
    version), the rows of the `left_out_versions` (name, version) pairs are left out (see
    `versions_without_alias`); where the version is only an attribute of a model's row, the row
    stays and the version column is left to `ignore_pattern`."""
    ignore = ignore or {}
    fingerprints = {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() and table_type = 'BASE TABLE' "
            "order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            if schema in NOT_COMPARED_SCHEMAS:
                continue
            name = f"{schema}.{table}"
            described = con.execute(f"describe {name}").fetchall()
            types = {row[0]: row[1] for row in described}
            key = {row[0] for row in described if row[3] == "PRI"}
            columns = [
                c
                for c in compared_columns(types, ignore.get(name, frozenset()))
                if ignore_pattern is None or not ignore_pattern.search(c)
            ]
            quoted = [_compared_value(c, types[c]) for c in columns]
            where = ""
            if left_out_versions and {"model_name", "model_version"} <= key:
                pairs = ", ".join(f"('{n}', '{v}')" for n, v in sorted(left_out_versions))
                where = f" where (model_name, model_version::varchar) not in ({pairs})"
            sums = [f"coalesce(sum(hash({q})::hugeint), 0)" for q in quoted]
            row_hash = f"coalesce(sum(hash({', '.join(quoted)})::hugeint), 0)" if quoted else "0"
            values = con.execute(
                f"select count(*), {row_hash}, {', '.join(sums) or '0'} from {name}{where}"
            )
            rows, checksum, *per_column = values.fetchone()
            fingerprints[name] = TableFingerprint(
                int(rows), int(checksum), dict(zip(columns, map(int, per_column), strict=False))
            )
    return fingerprints


def fingerprint_differences(
    expected: dict[str, TableFingerprint], found: dict[str, TableFingerprint]
) -> list[str]:
    """One sentence per table that is missing, extra, or differs (naming the columns)."""
    problems = []
    for name in sorted(set(expected) | set(found)):
        if name not in found:
            problems.append(f"{name}: missing")
        elif name not in expected:
            problems.append(f"{name}: not in the uninterrupted run")
        elif expected[name] != found[name]:
            want, got = expected[name], found[name]
            columns = sorted(
                c
                for c in set(want.columns) | set(got.columns)
                if want.columns.get(c) != got.columns.get(c)
            )
            problems.append(
                f"{name}: {got.rows} rows, expected {want.rows}; "
                f"differing columns: {', '.join(columns) or '(row combinations only)'}"
            )
    return problems


def bi_copy_problem(path: Path) -> str | None:
    """Why the BI copy at `path` cannot be read whole (None when it can, or when there is none
    yet: nothing published is not a torn copy)."""
    if not path.exists():
        return None
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            tables = con.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_type = 'BASE TABLE'"
            ).fetchall()
            for schema, table in tables:
                con.execute(f"select count(*) from {schema}.{table}").fetchone()
    except duckdb.Error as error:
        return f"{path.name} cannot be read: {error}"
    return None


def versions_without_alias(client: MlflowClient) -> frozenset[tuple[str, str]]:
    """(model, version) of every registered version no alias points to: superseded candidates,
    and the versions a killed run registered before a re-run registered its own. Their records
    (evaluations, explanations) are true of versions the registry keeps, but an uninterrupted
    run has other version numbers, or none, for them: comparisons leave them out."""
    pairs = set()
    for model in client.search_registered_models():
        aliased = set(model.aliases.values())
        for version in client.search_model_versions(f"name = '{model.name}'"):
            if str(version.version) not in aliased:
                pairs.add((model.name, str(version.version)))
    return frozenset(pairs)


def registry_problems(client: MlflowClient) -> list[str]:
    """Aliases that point to a version still registering, failed, or without its model files."""
    problems = []
    for model in client.search_registered_models():
        for alias, version in sorted(model.aliases.items()):
            label = f"{model.name}@{alias} (version {version})"
            details = client.get_model_version(model.name, version)
            if details.status != "READY":
                problems.append(f"{label} is {details.status}")
                continue
            uri = client.get_model_version_download_uri(model.name, version)
            try:
                names = {Path(a.path).name for a in mlflow.artifacts.list_artifacts(uri)}
            except Exception as error:  # a missing artifact folder raises by store type
                problems.append(f"{label}: its files cannot be listed ({error})")
                continue
            if "MLmodel" not in names:
                problems.append(f"{label}: no MLmodel file among {sorted(names)}")
    return problems
