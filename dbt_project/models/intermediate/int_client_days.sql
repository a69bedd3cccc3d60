{{ config(
    materialized='incremental',
    incremental_strategy='replace_window',
    unique_key=['client_id', 'activity_date'],
    window_column='activity_date',
) }}
-- Dense client × day spine: from the client's first day in the world to churn or the data's end.
-- A window rebuilds its days for every client, and the whole span of a changed client (a
-- cancellation shortens it).
{% set window = rebuild_window() %}
{% set rebuilt_from = rebuild_from() %}
{% set changed = changed_clients() %}
with spans as (
    select
        clients.client_id,
        greatest(clients.signup_date, cal.world_start) as first_day,
        least(coalesce(subs.cancelled_date - 1, cal.data_end), cal.data_end) as last_day
    from {{ ref('stg_clients') }} as clients
    left join {{ ref('stg_subscriptions') }} as subs using (client_id)
    cross join {{ ref('int_world_calendar') }} as cal
),

rebuilt as (
    {% if window %}
    select
        client_id,
        case when client_id in {{ changed }} then first_day
            else greatest(first_day, {{ rebuilt_from }}) end as first_day,
        case when client_id in {{ changed }} then last_day
            else least(last_day, date '{{ window.max_date }}' - 1) end as last_day
    from spans
    {% else %}
    select * from spans
    {% endif %}
)

select
    rebuilt.client_id,
    cast(day.generate_series as date) as activity_date
from rebuilt
cross join generate_series(
    cast(rebuilt.first_day as timestamp),
    cast(rebuilt.last_day as timestamp),
    interval 1 day
) as day
-- kept in day order: a window's scans skip the row groups of other days
order by activity_date, client_id
