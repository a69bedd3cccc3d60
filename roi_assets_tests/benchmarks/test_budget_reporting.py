"""How `make bench` and the scaling table report figures against their baselines."""

import importlib.util
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str):
    sys.path.insert(0, str(BENCHMARKS))  # the scripts import their neighbours by name
    try:
        spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up while it executes
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_the_summary_keeps_only_the_lines_that_state_a_ratio():
    run_all = _load("run_all")
    output = "scale=large\nratio dbt run / polars = 10.0 s / 8.0 s = 1.250\nrows 12\n"
    output += "last / first: ingest_daily time 1.31x\n  throughput Ratio cached / mlflow: 3.1\n"

    assert run_all.ratio_lines(output) == [
        "ratio dbt run / polars = 10.0 s / 8.0 s = 1.250",
        "last / first: ingest_daily time 1.31x",
        "throughput Ratio cached / mlflow: 3.1",
    ]


def test_the_scaling_table_states_each_stage_growth_as_an_exponent_of_the_world_size():
    scaling = _load("scaling")
    tiny = scaling.client_days("tiny")
    default = scaling.client_days("default")
    linear = default / tiny
    costs = [
        scaling.StageCost("tiny", "world", 1.0, 2.0, 0.1),
        scaling.StageCost("default", "world", 1.0, 2.0 * linear, 0.2),
        scaling.StageCost("tiny", "ingest+features", 1.0, 1.0, 0.1),
        scaling.StageCost("default", "ingest+features", 1.0, linear**2, 0.2),
    ]

    lines = scaling.growth_lines(costs, ["tiny", "default"])

    assert len(lines) == 2
    assert lines[0].startswith("ratio world CPU default/tiny") and "size^1.00" in lines[0]
    assert "size^2.00" in lines[1]


def test_the_xlarge_world_has_a_million_clients_and_ten_times_the_large_client_days():
    scaling = _load("scaling")
    assert scaling.SCALES["xlarge"].n_clients == 1_000_000
    assert scaling.client_days("xlarge") == 10 * scaling.client_days("large")


def test_a_stage_whose_only_failures_are_validation_gates_is_measured():
    scaling = _load("scaling")
    line = "2026-12-03 23:25:10 +0000 - dagster - ERROR - refresh_all - 95f9 - 283 - {} - {} - x"
    gates = "\n".join(
        line.format(step, event)
        for step, event in [
            ("churn_model", "STEP_SUCCESS"),
            ("churn_evaluation_churn_validation_gate", "STEP_FAILURE"),
        ]
    )
    broken = gates + "\n" + line.format("churn_model", "STEP_FAILURE")

    assert scaling.only_gates_failed(gates)
    assert not scaling.only_gates_failed(broken)
    assert not scaling.only_gates_failed("Error: could not start the run")
