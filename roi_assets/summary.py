"""Prints what a run produced: tables and row counts, and where everything lives."""

from __future__ import annotations

from roi_assets import settings
from roi_assets.resources.warehouse import connect

SCHEMAS = ("raw", "staging", "intermediate", "features", "marts", "monitoring", "truth")


def main() -> None:
    path = settings.warehouse_path()
    print(f"\nWarehouse: {path}")
    with connect(path, read_only=True) as con:
        rows = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() order by 1, 2"
        ).fetchall()
        for schema in SCHEMAS:
            tables = [t for s, t in rows if s == schema]
            if not tables:
                continue
            print(f"  {schema}")
            for table in tables:
                count = con.execute(f"select count(*) from {schema}.{table}").fetchone()[0]
                print(f"    {table:<40} {count:>12,}")
    print(f"BI copy (read-only for BI tools): {settings.bi_warehouse_path()}")
    print(f"Landing zone: {settings.landing_dir()}")
    print(f"MLflow store: {settings.mlflow_tracking_uri()}")
    print(f"  mlflow ui --backend-store-uri {settings.mlflow_tracking_uri()}")
    print("Dagster UI: make ui  (then http://127.0.0.1:3000)")


if __name__ == "__main__":
    main()
