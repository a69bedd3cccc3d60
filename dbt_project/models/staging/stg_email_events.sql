-- Webhooks repeat: keep the first delivery of each event.
select event_id, send_id, client_id, event_type, occurred_at, _loaded_at as loaded_at
from {{ source('raw', 'email_events') }}
qualify row_number() over (partition by event_id order by occurred_at, _loaded_at, _row_number) = 1
