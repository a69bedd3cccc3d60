"""Automatic rollback: a critical alert moves the registry's `champion` back to the version that
was champion before it (`previous_champion`).

The bad version keeps a trace in the registry: the `rolled_back` alias points at it and its
version tags say when and why, so a promotion can see it was pulled and need not re-promote it
blindly. `previous_champion` is removed after use: the restored champion has no known predecessor,
and a second critical alert cannot bounce the alias back to the bad version.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mlflow import MlflowClient

from roi_assets.resources.tracking import (
    CHAMPION,
    PREVIOUS_CHAMPION,
    previous_champion,
    set_alias,
    version_behind_alias,
)

ROLLED_BACK = "rolled_back"  # alias of the latest version pulled from champion
ROLLED_BACK_AT_TAG = "monitoring.rolled_back_at"
ROLLBACK_REASON_TAG = "monitoring.rollback_reason"


@dataclass(frozen=True)
class Rollback:
    """What a rollback did: `rolled_back_to` is None when there was nothing to roll back to."""

    model_name: str
    rolled_back_from: str | None
    rolled_back_to: str | None

    @property
    def note(self) -> str:
        if self.rolled_back_to is None:
            return f"no previous champion of {self.model_name} to roll back to: alert only"
        return f"champion rolled back from v{self.rolled_back_from} to v{self.rolled_back_to}"


def roll_back_champion(model_name: str, reason: str, client: MlflowClient) -> Rollback:
    """Give `champion` back to `previous_champion` and mark the outgoing version."""
    current = version_behind_alias(model_name, CHAMPION, client)
    target = previous_champion(model_name, client)
    if current is None or target is None or target == current:
        return Rollback(model_name, rolled_back_from=current, rolled_back_to=None)
    set_alias(model_name, CHAMPION, target, client)
    client.delete_registered_model_alias(model_name, PREVIOUS_CHAMPION)
    set_alias(model_name, ROLLED_BACK, current, client)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    client.set_model_version_tag(model_name, current, ROLLED_BACK_AT_TAG, now)
    client.set_model_version_tag(model_name, current, ROLLBACK_REASON_TAG, reason[:5000])
    return Rollback(model_name, rolled_back_from=current, rolled_back_to=target)


def was_rolled_back(model_name: str, model_version: str, client: MlflowClient) -> bool:
    """Whether this version was once pulled from champion by a rollback."""
    found = client.get_model_version(model_name, str(model_version))
    return ROLLED_BACK_AT_TAG in (found.tags or {})
