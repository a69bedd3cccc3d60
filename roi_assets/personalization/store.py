"""The content posteriors in the warehouse, updated incrementally and idempotently from feedback.

Two tables in schema `personalization`:
- content_posteriors: family, segment, variant, alpha, beta, n_updates, updated_at;
- content_feedback_absorbed: feedback_id (the send id), absorbed_at; one row per absorbed send.

Feedback is every labelled send of features.feat_email_engagement (`label_complete`, so a send is
absorbed once, with its final open and click; each family takes the reward it is judged on, see
`personalization.rewards`). An update reads only the sends whose id is not absorbed yet,
adds them to every family's posterior and writes both tables in one transaction, so a re-run on the
same feedback finds nothing new and changes nothing, and a failed run leaves no half-update. Every
send carries one variant of every family, hence one absorbed-id table for all families.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import duckdb
import polars as pl

from roi_assets.personalization.bandit import CLICK_REWARD, POSTERIOR_COLUMNS, ContentPersonalizer

SCHEMA = "personalization"
POSTERIOR_TABLE = f"{SCHEMA}.content_posteriors"
ABSORBED_TABLE = f"{SCHEMA}.content_feedback_absorbed"
FEEDBACK_TABLE = "features.feat_email_engagement"

_CREATE_TABLES = (
    f"create schema if not exists {SCHEMA}",
    f"""create table if not exists {POSTERIOR_TABLE} (
        family varchar not null,
        segment varchar not null,
        variant varchar not null,
        alpha double not null,
        beta double not null,
        n_updates bigint not null,
        updated_at timestamp not null,
        primary key (family, segment, variant)
    )""",
    # the feedback column each family learns from; tables created before it held clicks only
    f"alter table {POSTERIOR_TABLE} add column if not exists reward varchar",
    f"""create table if not exists {ABSORBED_TABLE} (
        feedback_id varchar primary key,
        absorbed_at timestamp not null
    )""",
)


@dataclass(frozen=True)
class PosteriorUpdate:
    """What one update did: the personalizer after it, and how much feedback it holds."""

    personalizer: ContentPersonalizer
    new_feedback: int
    total_feedback: int

    @property
    def version(self) -> str:
        return version_of(self.total_feedback)


def version_of(total_feedback: int) -> str:
    """A posterior's version: how many feedback rows it has absorbed. It changes exactly when the
    posterior does, so evaluations of the same posterior share a version."""
    return str(total_feedback)


def _ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for statement in _CREATE_TABLES:
        con.execute(statement)


def load_personalizer(
    con: duckdb.DuckDBPyConnection,
    families: Mapping[str, Sequence[str]],
    segments: Sequence[str],
    variant_columns: Mapping[str, str],
    reward_columns: Mapping[str, str] | None = None,
) -> ContentPersonalizer:
    """A Beta(1, 1) prior over the given families and segments, overwritten by the stored
    posteriors. The given order of segments and variants holds whatever order the table returns,
    so seeded draws repeat; absorbed ids stay in the warehouse (see `update_posteriors`).
    `reward_columns`: each family's reward (clicks when not named)."""
    _ensure_tables(con)
    personalizer = ContentPersonalizer(
        families, segments, variant_columns, reward_columns=reward_columns
    )
    personalizer.load_posteriors(
        con.execute(f"select {', '.join(POSTERIOR_COLUMNS)} from {POSTERIOR_TABLE}").df()
    )
    return personalizer


def absorbed_feedback_count(con: duckdb.DuckDBPyConnection) -> int:
    _ensure_tables(con)
    found = con.execute(f"select count(*) from {ABSORBED_TABLE}").fetchone()
    return int(found[0]) if found else 0


def new_feedback(
    con: duckdb.DuckDBPyConnection,
    variant_columns: Mapping[str, str],
    reward_columns: Iterable[str] = (CLICK_REWARD,),
    *,
    include_absorbed: bool = False,
) -> pl.DataFrame:
    """Labelled sends not absorbed yet (every labelled send with `include_absorbed`): send_id,
    sent_at, segment, the variant columns and the reward columns, in send order."""
    _ensure_tables(con)
    columns = ", ".join(
        f"f.{column}" for column in dict.fromkeys([*variant_columns.values(), *reward_columns])
    )
    not_absorbed = f"and f.send_id not in (select feedback_id from {ABSORBED_TABLE}) "
    return con.execute(
        f"select f.send_id, f.sent_at, f.segment, {columns} from {FEEDBACK_TABLE} as f "
        f"where f.label_complete {'' if include_absorbed else not_absorbed}"
        "order by f.sent_at, f.send_id"
    ).pl()


def _rewards_changed(con: duckdb.DuckDBPyConnection, rewards: Mapping[str, str]) -> bool:
    """Whether a stored family learned from another reward than `rewards` names for it."""
    stored = con.execute(
        f"select distinct family, coalesce(reward, ?) from {POSTERIOR_TABLE}", [CLICK_REWARD]
    ).fetchall()
    return any(family in rewards and rewards[family] != reward for family, reward in stored)


def update_posteriors(
    con: duckdb.DuckDBPyConnection,
    families: Mapping[str, Sequence[str]],
    segments: Sequence[str],
    variant_columns: Mapping[str, str],
    now: dt.datetime,
    reward_columns: Mapping[str, str] | None = None,
) -> PosteriorUpdate:
    """Absorb the feedback not absorbed yet into the stored posteriors (created on first use),
    each family rewarded by its `reward_columns` entry (clicks when not named). Posteriors that
    learned from another reward cannot take this one's feedback, so when a family's reward
    changes every posterior is learned again from every labelled send, in the same transaction."""
    personalizer = load_personalizer(con, families, segments, variant_columns, reward_columns)
    relearn = _rewards_changed(con, personalizer.reward_columns)
    if relearn:
        personalizer = ContentPersonalizer(
            families, segments, variant_columns, reward_columns=reward_columns
        )
    feedback = new_feedback(
        con,
        personalizer.variant_columns,
        personalizer.reward_columns.values(),
        include_absorbed=relearn,
    )
    if feedback.is_empty():
        return PosteriorUpdate(personalizer, 0, absorbed_feedback_count(con))
    personalizer.update(feedback)
    posteriors, _ = personalizer.to_tables()
    posteriors = posteriors.assign(
        reward=posteriors["family"].map(personalizer.reward_columns), updated_at=now
    )
    absorbed = feedback.select(
        pl.col("send_id").alias("feedback_id"), pl.lit(now).alias("absorbed_at")
    ).to_arrow()
    con.execute("begin transaction")
    try:
        con.register("updated_posteriors", posteriors)
        con.register("newly_absorbed", absorbed)
        con.execute(f"delete from {POSTERIOR_TABLE}")
        if relearn:
            con.execute(f"delete from {ABSORBED_TABLE}")
        con.execute(f"insert into {POSTERIOR_TABLE} by name select * from updated_posteriors")
        con.execute(f"insert into {ABSORBED_TABLE} by name select * from newly_absorbed")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("updated_posteriors")
        con.unregister("newly_absorbed")
    return PosteriorUpdate(personalizer, feedback.height, absorbed_feedback_count(con))


def logged_feedback(
    con: duckdb.DuckDBPyConnection, variant_columns: Mapping[str, str], most_recent: int
) -> pl.DataFrame:
    """The `most_recent` labelled sends in send order (send_id, sent_at, segment, the variant
    columns, clicked_within_7d), absorbed or not: the log a replay evaluation walks through."""
    columns = ", ".join(dict.fromkeys(variant_columns.values()))
    return con.execute(
        f"select * from (select send_id, sent_at, segment, {columns}, clicked_within_7d "
        f"from {FEEDBACK_TABLE} where label_complete order by sent_at desc, send_id desc limit ?) "
        "order by sent_at, send_id",
        [most_recent],
    ).pl()
