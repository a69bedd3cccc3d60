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
from {{ source('raw', 'user_events') }}
qualify row_number() over (partition by event_id order by _loaded_at, _row_number) = 1
