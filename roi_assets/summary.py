"""Prints what a run produced: tables and row counts, and where everything lives; its exit status
is `make run`'s verdict (0 unless a step broke: a gate that blocked a candidate is a decision)."""

from __future__ import annotations

import sys

import dagster as dg

from roi_assets import settings
from roi_assets.automation.run_outcome import latest_run_outcome
from roi_assets.evaluation.gate import CHANCE_LEVEL, skill_fraction
from roi_assets.resources.warehouse import connect, table_exists

JOB = "refresh_all"

# Pipeline order first; any other schema (the simulator's, reference data) follows by name.
PIPELINE_ORDER = ("raw", "staging", "intermediate", "features", "marts", "monitoring")


def main(argv: list[str] | None = None) -> int:
    """Print the summary; `--since <unix time>` names when `make run` launched the job;
    `--tables` lists every table with its row count (one line per schema otherwise)."""
    args = sys.argv[1:] if argv is None else argv
    since = float(args[args.index("--since") + 1]) if "--since" in args else 0.0
    every_table = "--tables" in args
    path = settings.warehouse_path()
    print(f"\nWarehouse: {path}  (every table: python -m roi_assets.summary --tables)")
    with connect(path, read_only=True) as con:
        rows = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() order by 1, 2"
        ).fetchall()
        present = sorted({s for s, _ in rows if s != "information_schema"})
        ordered = [s for s in PIPELINE_ORDER if s in present]
        for schema in ordered + [s for s in present if s not in PIPELINE_ORDER]:
            tables = [t for s, t in rows if s == schema]
            counts = [
                con.execute(f"select count(*) from {schema}.{table}").fetchone()[0]
                for table in tables
            ]
            print(f"  {schema:<14} {len(tables):>3} tables {sum(counts):>14,} rows")
            if every_table:
                for table, count in zip(tables, counts, strict=True):
                    print(f"    {table:<40} {count:>12,}")
        if table_exists(con, "monitoring", "model_evaluations"):
            print("Latest model evaluations (ROC AUC: model / oracle / best baseline):")
            for name, version, value, oracle, baseline in con.execute(
                "select model_name, model_version, value, oracle_value, baseline_value "
                "from monitoring.model_evaluations where metric = 'auc_roc' "
                # the candidates' evaluations (champion health rows on later windows have no oracle)
                "and oracle_value is not null "
                "qualify row_number() over "
                "(partition by model_name order by evaluated_at desc) = 1 "
                "order by 1"
            ).fetchall():
                best = "—" if baseline is None else f"{baseline:.3f}"
                print(
                    f"  {name} v{version}: {value:.3f} / {oracle:.3f} / {best} "
                    f"({skill_fraction(value, oracle, CHANCE_LEVEL['auc_roc']):.1%} of the "
                    "oracle's lift over chance)"
                )
    print(f"BI copy (read-only for BI tools): {settings.bi_warehouse_path()}")
    print(f"Landing zone: {settings.landing_dir()}")
    print(f"MLflow store: {settings.mlflow_tracking_uri()}")
    print(f"  mlflow ui --backend-store-uri {settings.mlflow_tracking_uri()}")
    print("Dagster UI: make ui  (then http://127.0.0.1:3000)")
    return _verdict(since)


def _verdict(since: float) -> int:
    outcome = latest_run_outcome(dg.DagsterInstance.get(), JOB, started_after=since)
    if outcome is None:
        print(f"No run of {JOB} started in this Dagster instance: see the error above.")
        return 1
    print(f"Run {outcome.run_id}: {outcome.status}")
    for step in outcome.blocking_checks_failed:
        print(f"  validation gate blocked a candidate: {step} (see the check's metadata in the UI)")
    for check in outcome.gates_held_back:
        print(f"  validation gate held back its own candidate: {check}")
    for step in outcome.broken_steps:
        print(f"  step failed: {step}")
    return 0 if outcome.healthy else 1


if __name__ == "__main__":
    sys.exit(main())
