{{ config(materialized='incremental', unique_key='event_id', incremental_strategy='delete+insert') }}
-- Webhooks repeat: keep the first delivery of each event (earliest landing file first). A window
-- adds the events of its landing files that are not staged yet; a staged event is never replaced.
select event_id, send_id, client_id, event_type, occurred_at, _loaded_at as loaded_at
from {{ source('raw', 'email_events') }} as delivered
where {{ landing_filter() }}
{% if incremental_window() %}
    and not exists (select 1 from {{ this }} as staged where staged.event_id = delivered.event_id)
{% endif %}
qualify row_number() over (
    partition by event_id order by _landing_date nulls first, occurred_at, _loaded_at, _row_number
) = 1
