"""What a day's send-time states cost: one pass over the history and carried-over send states,
against computing each table from scratch, on the same warehouse in the same run.

The baseline is what the product did before: every client's state and every labelled send's
state, each query walking the whole history. The product now builds the history's running
totals once for both (`StateBuilder`) and carries the logged sends' states over from the previous
materialisation. To stand for a daily run, the previous materialisation is the stored table
without the sends of its last labelled day, which the run then states with the 7 days before
them. The two answers must be equal; the script fails otherwise.

    make live DAYS=35 && .venv/bin/python benchmarks/send_time_states.py [--threads 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import duckdb
import polars as pl
from machine import load_average, machine_description, timed

from roi_assets import settings
from roi_assets.send_time.states import StateBuilder, latest_moment

LOGGED_SENDS = "features.feat_send_time_logged_sends"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", default=str(settings.warehouse_path()))
    parser.add_argument("--threads", type=int, default=0, help="DuckDB threads (0: its default)")
    args = parser.parse_args()
    if not Path(args.warehouse).exists():
        sys.exit(f"no warehouse at {args.warehouse}: run `make run` first")
    print(machine_description())
    print(f"load average before: {load_average()}")
    with duckdb.connect(args.warehouse, read_only=True) as con:
        if args.threads:
            con.execute(f"set threads = {args.threads}")
        try:
            stored = con.execute(f"select * from {LOGGED_SENDS}").pl()
        except duckdb.CatalogException:
            sys.exit(f"{args.warehouse} holds no {LOGGED_SENDS}: run `make run` first")
        last_day = stored["sent_at"].max().date()
        yesterday = stored.filter(pl.col("sent_at") < dt.datetime.combine(last_day, dt.time()))
        moment = latest_moment(con)

        def separately():
            return (
                StateBuilder(con).client_states(moment),
                StateBuilder(con).logged_send_states(),
            )

        def together():
            return StateBuilder(con).client_and_logged_send_states(moment, yesterday)

        (states_before, sends_before), baseline = timed(separately)
        (states_now, sends_now), product = timed(together)
    print(
        f"{stored.height:,} logged sends, {states_now.height:,} clients; "
        f"{stored.height - yesterday.height:,} sends labelled on {last_day}"
    )
    print(f"each table from scratch:         {baseline:6.1f} s (baseline)")
    print(f"one pass, carried-over states:   {product:6.1f} s (ratio {product / baseline:.2f})")
    print(f"load average after: {load_average()}")
    if not (states_now.equals(states_before) and sends_now.equals(sends_before)):
        sys.exit("the carried-over states differ from the states computed from scratch")


if __name__ == "__main__":
    main()
