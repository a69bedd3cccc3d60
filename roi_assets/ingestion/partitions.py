"""The landing zone's daily partitions: one per date a source's daily export is named by."""

import dagster as dg

FIRST_LANDING_DATE = "2025-01-06"
daily_partitions = dg.DailyPartitionsDefinition(start_date=FIRST_LANDING_DATE, timezone="UTC")
