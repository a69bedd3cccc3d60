{{ config(materialized='incremental', unique_key='event_id', incremental_strategy='delete+insert') }}
-- Product events, first delivery of each (earliest landing file first). A window adds the events
-- of its landing files that are not staged yet.
select
    event_id,
    client_id,
    event_type,
    occurred_at,
    cast(occurred_at as date) as activity_date,
    feature_name,
    sentiment,
    nps_score,
    size_mb,
    duration_minutes,
    _loaded_at as loaded_at
from {{ source('raw', 'user_events') }} as delivered
where {{ landing_filter() }}
{% if incremental_window() %}
    and not exists (select 1 from {{ this }} as staged where staged.event_id = delivered.event_id)
{% endif %}
qualify row_number() over (partition by event_id order by _landing_date nulls first, _loaded_at, _row_number) = 1
-- kept in time order: a window's scans skip the row groups of other days
order by occurred_at, event_id
