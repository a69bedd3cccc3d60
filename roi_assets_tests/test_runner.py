"""`make run`'s runner: one line per stage, the whole output in the stage's log, a failed stage
named with its error, and the verdict."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from roi_assets import runner
from roi_assets.automation.resumable import FOREGROUND_LAUNCHERS, LAUNCHED_BY_TAG
from roi_assets.runner import Stage

DAGSTER_LINES = "\n".join(
    [
        "2026-01-01 10:00:00 - dagster - DEBUG - refresh_all - abc - engagement_model - "
        "STEP_START - Started execution of step",
        "2026-01-01 10:00:09 - dagster - DEBUG - refresh_all - abc - engagement_model - "
        "STEP_SUCCESS - Finished execution of step",
        "2026-01-01 10:00:10 - dagster - ERROR - refresh_all - abc - churn_gate - "
        "STEP_FAILURE - Execution of step failed.",
    ]
)


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ROI_DATA_DIR", str(tmp_path))
    return tmp_path


def test_each_stage_prints_one_line_and_its_output_goes_to_its_log(data_dir, capfd):
    stages = [
        Stage("first", python("print('noise ' * 5); import warnings; warnings.warn('beta')")),
        Stage("second", python(f"print({DAGSTER_LINES!r})"), verdict=False),
    ]
    status = runner.run("run", stages, summary=None)
    printed = capfd.readouterr().out.splitlines()
    assert status == 0
    assert printed[0].startswith("Logs (Dagster events, warnings, errors): ")
    assert printed[1].startswith("[1/2] first") and printed[1].rstrip().endswith("ok")
    assert "1 steps, 1 failed" in printed[2]
    assert "noise" not in "\n".join(printed[:3])
    logs = sorted((data_dir / "logs").glob("run-*/*.log"))
    assert [log.name for log in logs] == ["01-first.log", "02-second.log"]
    assert "UserWarning: beta" in logs[0].read_text()
    assert "second (steps: churn_gate): " in "\n".join(printed)


def test_a_failed_stage_is_named_with_its_error_and_fails_the_run(data_dir, capfd):
    stages = [
        Stage("ok", python("print('fine')")),
        Stage("broken", python("raise ValueError('the landing file is malformed')")),
        Stage("after", python("print('still runs')")),
    ]
    status = runner.run("run", stages, summary=python("import sys; print('SUMMARY'); sys.exit(0)"))
    out = capfd.readouterr().out
    assert status == 1
    assert "[2/3] broken" in out and "FAILED (exit 1)" in out
    assert "[3/3] after" in out
    assert out.index("SUMMARY") < out.index("broken: ValueError: the landing file is malformed")
    assert "02-broken.log" in out


def test_the_summarys_verdict_decides_when_every_stage_ran(data_dir, capfd):
    status = runner.run(
        "run", [Stage("ok", python("pass"))], summary=python("import sys; sys.exit(1)")
    )
    assert status == 1


def test_a_failed_first_stage_stops_the_run(data_dir, capfd):
    stages = [Stage("world", python("import sys; sys.exit(2)")), Stage("next", python("pass"))]
    assert runner.run("run", stages, summary=None) == 1
    assert "[2/2]" not in capfd.readouterr().out


def test_a_stages_background_command_runs_beside_the_later_stages_and_stops_with_the_run(
    data_dir, tmp_path, capfd
):
    started = tmp_path / "helper-pid"
    helper = python(
        f"import os, time; open({str(started)!r}, 'w').write(str(os.getpid())); time.sleep(600)"
    )
    # the second stage ends only once the helper has started: they overlap
    waits = python(
        f"import os, sys, time\nfor _ in range(600):\n    if os.path.exists({str(started)!r}): "
        "sys.exit(0)\n    time.sleep(0.1)\nsys.exit('no helper within a minute')"
    )
    stages = [Stage("first", python("pass"), then_in_background=helper), Stage("second", waits)]

    assert runner.run("run", stages, summary=None) == 0

    assert "[2/2] second" in capfd.readouterr().out
    assert not process_alive(int(started.read_text()))
    logs = sorted(log.name for log in (data_dir / "logs").glob("run-*/*.log"))
    assert logs == ["01-first-background.log", "01-first.log", "02-second.log"]


def test_a_failed_stage_starts_no_background_command(data_dir, tmp_path, capfd):
    started = tmp_path / "helper-started"
    stages = [
        Stage("ok", python("pass")),
        Stage(
            "broken",
            python("import sys; sys.exit(3)"),
            then_in_background=python(f"open({str(started)!r}, 'w')"),
        ),
        Stage("after", python("import time; time.sleep(1)")),
    ]

    assert runner.run("run", stages, summary=None) == 1
    assert not started.exists()


def process_alive(pid: int) -> bool:
    """The process runs (a zombie, finished but not yet reaped, counts as stopped)."""
    state = Path(f"/proc/{pid}/stat")
    return state.exists() and state.read_text().split()[2] != "Z"


def test_a_terminated_runner_stops_its_running_stage(data_dir, tmp_path):
    import os
    import signal
    import subprocess
    import time
    from pathlib import Path

    marker = tmp_path / "stage-pid"
    stage = f"import os, time; open({str(marker)!r}, 'w').write(str(os.getpid())); time.sleep(600)"
    code = (
        "import sys; from roi_assets import runner; from roi_assets.runner import Stage; "
        "import signal; signal.signal(signal.SIGTERM, lambda s, f: sys.exit(143)); "
        f"runner.run('run', [Stage('sleeper', [sys.executable, '-c', {stage!r}])], None)"
    )
    launched = subprocess.Popen(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    deadline = time.monotonic() + 120
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    stage_pid = int(marker.read_text())
    launched.send_signal(signal.SIGTERM)
    assert launched.wait(timeout=60) == 143
    time.sleep(0.5)
    state = Path(f"/proc/{stage_pid}/stat")
    assert not state.exists() or state.read_text().split()[2] == "Z"


def test_a_stage_whose_only_failures_are_gates_holding_candidates_back_reads_ok(data_dir, capfd):
    gate_failed = DAGSTER_LINES.replace("churn_gate", "churn_evaluation_churn_validation_gate")
    code = f"import sys; print({gate_failed!r}); sys.exit(1)"
    stages = [Stage("refresh_all", python(code), verdict=False)]

    status = runner.run("run", stages, summary=python("print('SUMMARY: a gate held back churn')"))

    out = capfd.readouterr().out
    assert status == 0
    assert "[1/1] refresh_all" in out and "ok, 1 steps, 1 gates held back their candidates" in out
    assert "FAILED" not in out and "(steps: " not in out  # the summary names the gates


def test_make_live_shows_the_day_lines_their_lifecycle_and_the_whole_impact_table():
    echo = runner.LiveEcho()
    lines = [
        "/venv/dagster/warnings.py:33: BetaWarning: Function is currently in beta",
        "Runs' logs: /data/logs/live.log",
        "2025-10-03  rows landed  2,732 loaded  2,730 quarantined   2  models retrained 5",
        "            lifecycle: churn-30d v4 rejected by its gate; content-bandit v9 started (20%)",
        "1 runs left unfinished by a killed process: failed",
        "",
        "Realised business impact over 35 live days (same sends, expected rates):",
        "│ send_time ┆ engagement_hour ┆ 0.2431 │",
        "landed open rate: 24.31%",
    ]
    shown = [line for line in lines if echo(line)]
    assert shown == lines[2:5] + lines[6:]


def test_every_dagster_run_of_make_run_is_tagged_as_a_foreground_drivers():
    commands = [stage.command for stage in runner.run_stages() if "dagster" in stage.command[0]]
    tags = [json.loads(command[command.index("--tags") + 1]) for command in commands]

    assert len(commands) == 3
    assert all(tag[LAUNCHED_BY_TAG] in FOREGROUND_LAUNCHERS for tag in tags)
