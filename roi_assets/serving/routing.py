"""Which model version answers a client: the champion, or the challenger of a running experiment.

The experiment per model is what the deployment side records in monitoring.rollout_state (read
from the BI copy). A client's arm comes from `deployment.split.arm_for` with the experiment's salt,
the same function the A/B analysis uses, so the API serves each client the arm the analysis
counts it in. No row (or no table) means no experiment: everyone gets the champion.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from roi_assets.deployment.split import Arm, arm_for, experiment_salt

ROLLOUT_TABLE = "monitoring.rollout_state"


@dataclass(frozen=True)
class Experiment:
    """A challenger version receiving `challenger_share` of the clients of one model."""

    model_name: str
    challenger_version: str
    challenger_share: float

    @property
    def salt(self) -> str:
        return experiment_salt(self.model_name, self.challenger_version)

    def arm(self, client_id: str) -> Arm:
        return arm_for(client_id, self.challenger_share, self.salt)


def read_experiments(con: duckdb.DuckDBPyConnection) -> dict[str, Experiment]:
    """The running experiment per model name; models without a challenger share are left out.

    When the table holds several rows for a model (a history), the latest `updated_at` wins.
    """
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'monitoring' and table_name = 'rollout_state'"
    ).fetchone()
    if not exists or not exists[0]:
        return {}
    columns = {row[0] for row in con.execute(f"describe {ROLLOUT_TABLE}").fetchall()}
    order = "order by updated_at nulls first" if "updated_at" in columns else ""
    rows = con.execute(
        f"select model_name, challenger_version, challenger_share from {ROLLOUT_TABLE} {order}"
    ).fetchall()
    experiments: dict[str, Experiment] = {}
    for model_name, challenger_version, share in rows:
        if challenger_version is None or share is None or not 0.0 < float(share) <= 1.0:
            experiments.pop(str(model_name), None)
            continue
        experiments[str(model_name)] = Experiment(
            str(model_name), str(challenger_version), float(share)
        )
    return experiments
