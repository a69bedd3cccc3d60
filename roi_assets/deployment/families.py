"""Every registered model and the live evaluation it goes through (see `deployment.lifecycle`).

Models that decide what the world receives (send hours, content variants) are A/B tested on the
opens or clicks that land for each arm; the others are judged in shadow on matured labels.
"""

import duckdb

from roi_assets.catalog import (
    CHURN_WINDOWS_DAYS,
    CONTENT_BANDIT_MODEL,
    DOCUMENT_CLASSIFIER_MODEL,
    ENGAGEMENT_MODELS,
    SEND_TIME_MODEL,
    churn_model_name,
)
from roi_assets.churn.gate import MEMBERS, window_decision
from roi_assets.churn.shadow import shadow_losses as churn_losses
from roi_assets.deployment.gate_record import RecordedGate
from roi_assets.deployment.lifecycle import ModelFamily
from roi_assets.deployment.shadow import ShadowConfig
from roi_assets.documents.gate import recorded_verdict as document_verdict
from roi_assets.documents.shadow import shadow_losses as document_losses
from roi_assets.engagement.gate import candidate_decision as engagement_decision
from roi_assets.engagement.shadow import shadow_losses as engagement_losses
from roi_assets.evaluation.gate import GateDecision
from roi_assets.personalization.gate import candidate_decision as bandit_decision
from roi_assets.send_time.gate import gate_verdict as send_time_gate_verdict


def _decided(decision: GateDecision | None) -> tuple[bool, str] | None:
    return None if decision is None else (decision.passed, "; ".join(decision.reasons))


def _send_time_gate(con: duckdb.DuckDBPyConnection, version: str) -> tuple[bool, str] | None:
    verdict = send_time_gate_verdict(con, SEND_TIME_MODEL, version)
    if verdict.decisions is None:
        return None
    failed = [f"{name}: {d.summary}" for name, d in verdict.decisions.items() if not d.passed]
    return verdict.passed, " | ".join(failed)


def _churn_gate(model_name: str) -> RecordedGate:
    return lambda con, version: _decided(window_decision(con, model_name, version, MEMBERS))


def _engagement_gate(model_name: str) -> RecordedGate:
    return lambda con, version: _decided(engagement_decision(con, model_name, version))


# A churn label matures `window` days after its snapshot: the shadow test waits for two weeks of
# matured snapshots before it gives up.
_CHURN_PATIENCE_DAYS = 14

FAMILIES: tuple[ModelFamily, ...] = (
    ModelFamily(SEND_TIME_MODEL, "ab_test", engagement="opened_at", gate=_send_time_gate),
    ModelFamily(
        CONTENT_BANDIT_MODEL,
        "ab_test",
        engagement="clicked_at",
        gate=lambda con, version: _decided(bandit_decision(con, version)),
    ),
    *(
        ModelFamily(
            name,
            "shadow",
            shadow_losses=engagement_losses(target),
            metric="log_loss",
            gate=_engagement_gate(name),
        )
        for target, name in ENGAGEMENT_MODELS.items()
    ),
    *(
        ModelFamily(
            churn_model_name(window),
            "shadow",
            shadow_losses=churn_losses(window),
            metric="log_loss",
            shadow=ShadowConfig(min_days=window, max_days=window + _CHURN_PATIENCE_DAYS),
            gate=_churn_gate(churn_model_name(window)),
        )
        for window in CHURN_WINDOWS_DAYS
    ),
    ModelFamily(
        DOCUMENT_CLASSIFIER_MODEL,
        "shadow",
        shadow_losses=document_losses,
        metric="error_rate",
        shadow=ShadowConfig(min_rows=50),
        gate=lambda con, version: _decided(
            document_verdict(con, DOCUMENT_CLASSIFIER_MODEL, version)
        ),
    ),
)
