"""Only a bandit snapshot that passed its gate serves: the assignments admit the candidate on its
recorded evaluation, not on the run's shape.

The registry holds v1, admitted after its gate (champion and challenger), and v2, registered as
`candidate` by a run killed before its gate judged it. The mart is then materialised in a run
without the gate (materialised alone, or its step re-executed).
"""

from __future__ import annotations

import datetime as dt
import shutil

import dagster as dg
import mlflow
import mlflow.tracking.fluent
import polars as pl
import pytest
from dagster_duckdb import DuckDBResource
from mlflow import MlflowClient

from roi_assets.catalog import CLIENTS, SUBSCRIPTIONS
from roi_assets.deployment.families import FAMILIES
from roi_assets.deployment.lifecycle import CONFIGURATION_TAG, NOTHING_TO_DEPLOY, advance
from roi_assets.deployment.rollback import ROLLED_BACK
from roi_assets.evaluation.model_evaluations import evaluation_rows, write_model_evaluations
from roi_assets.personalization.assets import MODEL_NAME, content_assignments
from roi_assets.personalization.bandit import ContentPersonalizer
from roi_assets.personalization.gate import GATED_METRIC
from roi_assets.personalization.snapshot import log_snapshot
from roi_assets.resources.registry import ModelRegistry
from roi_assets.resources.tracking import (
    CANDIDATE,
    CHALLENGER,
    CHAMPION,
    PREVIOUS_CHAMPION,
    configure_tracking,
    promote_to_challenger,
    registered_version,
    set_alias,
    version_behind_alias,
)
from roi_assets.resources.warehouse import connect
from roi_assets.simulator.catalog import CONTENT_VARIANTS, SEGMENTS, VARIANT_COLUMNS
from roi_assets_tests.current_registry import point_mlflow_at

ADMITTED, ORPHAN = "1", "2"
CLIENT_IDS = [f"C{i:03d}" for i in range(40)]
# (value, oracle, uniform random) of the gated CTR: a clear win over random, and no win at all
PASSING = (0.05, 0.06, 0.04)
FAILING = (0.04, 0.06, 0.04)
BANDIT = next(family for family in FAMILIES if family.model_name == MODEL_NAME)


@pytest.fixture(scope="module")
def registry_template(tmp_path_factory):
    """v1 admitted, v2 registered as candidate; no gate has judged v2."""
    folder = tmp_path_factory.mktemp("bandit_registry")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    with pytest.MonkeyPatch.context() as patch:
        point_mlflow_at(patch, uri)
        configure_tracking("bandit-tests", artifact_location=(folder / "artifacts").as_uri())
        client = MlflowClient(uri)
        personalizer = ContentPersonalizer(CONTENT_VARIANTS, SEGMENTS, VARIANT_COLUMNS)
        with mlflow.start_run():
            admitted = registered_version(log_snapshot(personalizer, MODEL_NAME))
        promote_to_challenger(MODEL_NAME, admitted, client)  # its gate passed
        with mlflow.start_run():
            orphan = registered_version(log_snapshot(personalizer, MODEL_NAME))
        set_alias(MODEL_NAME, CANDIDATE, orphan, client)  # then its run was killed
    mlflow.set_tracking_uri(previous)
    assert (admitted, orphan) == (ADMITTED, ORPHAN)
    return folder / "mlflow.db"


@pytest.fixture
def registry(registry_template, tmp_path):
    database = tmp_path / "mlflow.db"
    shutil.copy(registry_template, database)
    uri = f"sqlite:///{database}"
    previous = mlflow.get_tracking_uri()
    with pytest.MonkeyPatch.context() as patch:
        point_mlflow_at(patch, uri)
        yield MlflowClient(uri)
    mlflow.set_tracking_uri(previous)


@pytest.fixture
def warehouse(tmp_path):
    """A warehouse holding v1's passing evaluation."""
    path = tmp_path / "warehouse.duckdb"
    _evaluate(path, ADMITTED, PASSING)
    return path


def _evaluate(warehouse, version: str, gated: tuple[float, float, float]) -> None:
    rows = evaluation_rows(
        [(GATED_METRIC, *gated)],
        model_name=MODEL_NAME,
        model_version=version,
        evaluated_at=dt.datetime(2025, 3, 3),
        evaluation_window="2025-02-01/2025-03-01",
    )
    with connect(warehouse) as con:
        write_model_evaluations(con, rows)


@dg.asset(key=CLIENTS)
def clients() -> pl.DataFrame:
    segments = [SEGMENTS[i % len(SEGMENTS)] for i in range(len(CLIENT_IDS))]
    return pl.DataFrame({"client_id": CLIENT_IDS, "segment": segments})


@dg.asset(key=SUBSCRIPTIONS)
def subscriptions() -> pl.DataFrame:
    return pl.DataFrame(
        {"client_id": CLIENT_IDS, "cancelled_date": [None] * len(CLIENT_IDS)},
        schema_overrides={"cancelled_date": pl.Date},
    )


def _assign(warehouse, registry: MlflowClient) -> dg.ExecuteInProcessResult:
    """The mart materialised in a run without the evaluation and its gate."""
    return dg.materialize_to_memory(
        [clients, subscriptions, content_assignments],
        resources={
            "duckdb": DuckDBResource(database=str(warehouse)),
            "registry": ModelRegistry(tracking_uri=registry.tracking_uri),
        },
        raise_on_error=False,
    )


def test_a_snapshot_no_gate_judged_is_not_admitted_and_never_serves(warehouse, registry):
    result = _assign(warehouse, registry)

    assert result.success
    served = result.asset_value(content_assignments.key)["model_version"].unique().to_list()
    assert served == [ADMITTED]
    assert version_behind_alias(MODEL_NAME, CHALLENGER, registry) == ADMITTED
    with connect(warehouse) as con:
        day = advance(con, registry, BANDIT, dt.date(2025, 3, 4))
    # so the next deployment step starts no A/B test that would give it clients
    assert day.state is None and day.note.startswith(NOTHING_TO_DEPLOY)


def test_a_snapshot_whose_evaluation_fails_the_gate_is_not_admitted(warehouse, registry):
    _evaluate(warehouse, ORPHAN, FAILING)

    assert _assign(warehouse, registry).success
    assert version_behind_alias(MODEL_NAME, CHALLENGER, registry) == ADMITTED


def test_a_snapshot_evaluated_before_the_kill_is_judged_on_its_evaluation_and_admitted(
    warehouse, registry
):
    _evaluate(warehouse, ORPHAN, PASSING)

    assert _assign(warehouse, registry).success
    assert version_behind_alias(MODEL_NAME, CHALLENGER, registry) == ORPHAN
    assert version_behind_alias(MODEL_NAME, CHAMPION, registry) == ADMITTED


def test_without_an_admitted_snapshot_an_unjudged_candidate_assigns_nothing(warehouse, registry):
    for alias in (CHAMPION, CHALLENGER):
        registry.delete_registered_model_alias(MODEL_NAME, alias)

    assert not _assign(warehouse, registry).success
    assert version_behind_alias(MODEL_NAME, CHAMPION, registry) is None
    assert version_behind_alias(MODEL_NAME, CHALLENGER, registry) is None


def _configure(registry: MlflowClient, **configurations: str) -> None:
    for version, configuration in configurations.items():
        registry.set_model_version_tag(MODEL_NAME, version, CONFIGURATION_TAG, configuration)


def test_a_passing_snapshot_of_the_champion_s_policy_serves_at_once_as_its_online_update(
    warehouse, registry
):
    _configure(registry, **{ADMITTED: "thompson", ORPHAN: "thompson"})
    _evaluate(warehouse, ORPHAN, PASSING)

    result = _assign(warehouse, registry)

    assert result.asset_value(content_assignments.key)["model_version"].unique().to_list() == [
        ORPHAN
    ]
    assert version_behind_alias(MODEL_NAME, CHAMPION, registry) == ORPHAN
    assert version_behind_alias(MODEL_NAME, PREVIOUS_CHAMPION, registry) == ADMITTED
    assert version_behind_alias(MODEL_NAME, CHALLENGER, registry) is None
    with connect(warehouse) as con:
        days = [advance(con, registry, BANDIT, dt.date(2025, 3, d)) for d in (4, 5)]
    assert [[t.event for t in day.transitions] for day in days] == [["updated_online"], []]
    assert days[0].transitions[0].champion_version == ADMITTED
    assert all(day.state is None for day in days)  # no A/B test of the policy against itself


def test_a_passing_snapshot_that_changes_the_policy_goes_through_the_ab_test(warehouse, registry):
    _configure(registry, **{ADMITTED: "thompson on clicks", ORPHAN: "thompson on opens"})
    _evaluate(warehouse, ORPHAN, PASSING)

    assert _assign(warehouse, registry).success
    assert version_behind_alias(MODEL_NAME, CHAMPION, registry) == ADMITTED
    assert version_behind_alias(MODEL_NAME, CHALLENGER, registry) == ORPHAN
    with connect(warehouse) as con:
        day = advance(con, registry, BANDIT, dt.date(2025, 3, 4))
    assert [t.event for t in day.transitions] == ["started"]
    assert (day.state.stage, day.state.challenger_version) == ("ab_test", ORPHAN)


def test_after_a_rollback_of_the_policy_its_next_snapshot_goes_through_the_ab_test(
    warehouse, registry
):
    pulled = ORPHAN  # updated online, then rolled back to v1 by a critical alert
    set_alias(MODEL_NAME, ROLLED_BACK, pulled, registry)
    source = registry.get_model_version(MODEL_NAME, pulled).source
    later = str(registry.create_model_version(MODEL_NAME, source).version)
    set_alias(MODEL_NAME, CANDIDATE, later, registry)
    _configure(registry, **{ADMITTED: "thompson", pulled: "thompson", later: "thompson"})
    _evaluate(warehouse, later, PASSING)

    assert _assign(warehouse, registry).success
    assert version_behind_alias(MODEL_NAME, CHAMPION, registry) == ADMITTED
    assert version_behind_alias(MODEL_NAME, CHALLENGER, registry) == later
    with connect(warehouse) as con:
        day = advance(con, registry, BANDIT, dt.date(2025, 3, 4))
    assert [t.event for t in day.transitions] == ["started"]
    assert (day.state.stage, day.state.challenger_version) == ("ab_test", later)
