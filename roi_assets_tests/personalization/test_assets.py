"""The personalization assets in the tiny run of the whole graph (`materialized_world`)."""

import dagster as dg
import pytest

from roi_assets.personalization.assets import MODEL_NAME
from roi_assets.personalization.store import ABSORBED_TABLE, POSTERIOR_TABLE
from roi_assets.resources.tracking import CANDIDATE, version_behind_alias
from roi_assets.resources.warehouse import connect
from roi_assets.simulator.catalog import CONTENT_VARIANTS, SEGMENTS

POSTERIORS = dg.AssetKey(["personalization", "content_posteriors"])
ASSIGNMENTS = dg.AssetKey(["marts", "content_assignments"])


def check_results(result) -> dict[str, bool]:
    return {
        e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data.passed
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def test_the_posteriors_hold_every_segment_and_variant_and_absorbed_every_labelled_send(
    materialized_world,
):
    with connect(read_only=True) as con:
        pairs = con.execute(f"select count(*), sum(n_updates) from {POSTERIOR_TABLE}").fetchone()
        labelled = con.execute(
            "select count(*) from features.feat_email_engagement where label_complete"
        ).fetchone()[0]
        absorbed = con.execute(f"select count(*) from {ABSORBED_TABLE}").fetchone()[0]
    n_variants = sum(len(variants) for variants in CONTENT_VARIANTS.values())
    assert pairs[0] == len(SEGMENTS) * n_variants
    assert absorbed == labelled > 0
    assert pairs[1] == labelled * len(CONTENT_VARIANTS)


def test_the_evaluation_rows_put_thompson_sampling_next_to_the_oracle_and_uniform_random(
    materialized_world,
):
    # the evaluation judges the snapshot the day's posteriors were registered as
    version = version_behind_alias(MODEL_NAME, CANDIDATE)
    with connect(read_only=True) as con:
        rows = {
            metric: (value, oracle, baseline)
            for metric, value, oracle, baseline in con.execute(
                "select metric, value, oracle_value, baseline_value "
                "from monitoring.model_evaluations where model_name = ? and model_version = ?",
                [MODEL_NAME, str(version)],
            ).fetchall()
        }
    value, oracle, uniform = rows["simulated_ctr_all"]
    assert uniform < oracle and value <= oracle
    assert {"cumulative_regret_all", "ctr_uplift_vs_epsilon_greedy_pct_all", "replay_ctr_all"} <= (
        set(rows)
    )
    served, _, served_uniform = rows["posterior_choice_ctr_all"]
    # the gate judges the served posteriors' choices, not a fresh simulation
    assert check_results(materialized_world)["personalization_validation_gate"] is (
        served - served_uniform > 0.001
    )


def test_every_active_client_is_assigned_content_once_the_gate_passed(materialized_world):
    assert check_results(materialized_world)["personalization_validation_gate"] is True
    with connect(read_only=True) as con:
        assigned = con.execute(
            "select count(*), count(distinct client_id) from marts.content_assignments"
        ).fetchone()
        active = con.execute(
            "select count(distinct client_id) from staging.stg_subscriptions "
            "where cancelled_date is null"
        ).fetchone()[0]
        outside_interval = con.execute(
            "select count(*) from marts.content_assignments where not "
            "(email_template_ci_lower <= email_template_posterior_mean "
            "and email_template_posterior_mean <= email_template_ci_upper)"
        ).fetchone()[0]
    assert assigned == (active, active)
    assert outside_interval == 0


@pytest.fixture(scope="module")
def stored_before_and_after_a_rerun(materialized_world):
    from roi_assets.definitions import defs

    def stored():
        with connect(read_only=True) as con:
            return (
                con.execute(f"select * from {POSTERIOR_TABLE} order by all").fetchall(),
                con.execute(f"select * from {ABSORBED_TABLE} order by all").fetchall(),
                version_behind_alias(MODEL_NAME, CANDIDATE),
            )

    before = stored()
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        asset_selection=[POSTERIORS], instance=dg.DagsterInstance.ephemeral()
    )
    return before, stored(), result


def test_rerunning_the_posteriors_on_the_same_feedback_changes_nothing_nor_registers_again(
    stored_before_and_after_a_rerun,
):
    before, after, result = stored_before_and_after_a_rerun
    assert result.success
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["new_feedback"].value == 0
    assert after == before
