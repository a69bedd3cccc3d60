"""The BI starter dashboard (Streamlit): `make bi`, or `python -m roi_assets.bi`.

Reads the BI copy read-only, afresh on each page load (the publication swaps the file whole), and
shows what BI users would otherwise discover table by table. The path comes as the script's
argument (`streamlit run dashboard.py -- <bi.duckdb>`).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import polars as pl
import streamlit as st

from roi_assets.bi import queries


def _section(title: str, frame: pl.DataFrame, empty: str) -> bool:
    st.subheader(title)
    if frame.is_empty():
        st.info(empty)
        return False
    return True


def main(path: Path) -> None:
    st.set_page_config(page_title="ROI Assets BI", layout="wide")
    st.title("ROI Assets: marts and monitoring")
    if not path.exists():
        st.error(f"No BI copy at {path}: run `make run` first.")
        return
    published = dt.datetime.fromtimestamp(path.stat().st_mtime).isoformat(timespec="seconds")
    st.caption(f"BI copy {path} (read-only), published {published}")
    with queries.connect(path) as con:
        left, right = st.columns(2)
        with left:
            frame = queries.engagement_distribution(con)
            if _section("Engagement scores", frame, "marts.engagement_scores is not published"):
                st.bar_chart(frame.to_pandas(), x="p_open_from", y="clients")
        with right:
            frame = queries.churn_tiers(con)
            if _section("Churn risk tiers", frame, "marts.churn_risk is not published"):
                st.bar_chart(frame.to_pandas(), x="tier", y="clients", color="window", stack=False)
        frame = queries.watch_list(con)
        if _section("Churn watch list", frame, "no client is on the watch list"):
            st.dataframe(frame.to_pandas(), hide_index=True)
        left, right = st.columns(2)
        with left:
            frame = queries.send_hours(con)
            if _section(
                "Send times",
                frame,
                "no send-time recommendations: the DQN has not passed its gate, "
                "sends keep the legacy hours",
            ):
                st.bar_chart(frame.to_pandas(), x="local_hour", y="clients")
        with right:
            frame = queries.content_variants(con)
            if _section("Content variants", frame, "marts.content_assignments is not published"):
                st.bar_chart(frame.to_pandas(), x="variant", y="clients", color="family")
        frame = queries.documents_to_review(con)
        if _section("Documents needing review", frame, "no document needs review"):
            st.dataframe(frame.to_pandas(), hide_index=True)
        frame = queries.latest_drift(con)
        if _section("Feature drift (latest per model)", frame, "no drift computed yet"):
            st.bar_chart(frame.to_pandas(), x="feature", y="score", color="model_name")
            st.dataframe(frame.to_pandas(), hide_index=True)
        frame = queries.latest_fairness(con)
        if _section("Fairness per group (latest per model)", frame, "no fairness metrics yet"):
            st.dataframe(frame.to_pandas(), hide_index=True)
        frame = queries.business_impact(con)
        if _section("Business impact per day", frame, "no live day yet (make live)"):
            for metric in frame["metric"].unique().sort().to_list():
                st.caption(metric)
                st.line_chart(
                    frame.filter(pl.col("metric") == metric).to_pandas(),
                    x="impact_date",
                    y="value",
                    color="policy",
                )
        with st.expander("Every published table"):
            st.dataframe(queries.table_counts(con).to_pandas(), hide_index=True)


main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("data/bi.duckdb"))
