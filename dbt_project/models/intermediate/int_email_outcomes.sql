{{ config(materialized='incremental', unique_key='send_id', incremental_strategy='delete+insert') }}
-- First open, first click and first action of every send. A window recomputes the sends of its rebuilt days,
-- the sends with an event in them (a late open of an older send) and the changed clients' sends.
with sends as (
    select send_id, client_id, sent_at
    from {{ ref('stg_email_sends') }}
    {% if rebuild_window() %}
    where {{ in_rebuilt_days('sent_at', 'client_id') }}
        or send_id in (
            select send_id from {{ ref('stg_email_events') }} where {{ in_rebuilt_days('occurred_at') }}
        )
    {% endif %}
)

select
    sends.send_id,
    sends.client_id,
    sends.sent_at,
    min(events.occurred_at) filter (where events.event_type = 'open') as opened_at,
    min(events.occurred_at) filter (where events.event_type = 'click') as clicked_at,
    min(events.occurred_at) filter (where events.event_type = 'action') as acted_at
from sends
left join {{ ref('stg_email_events') }} as events using (send_id)
group by all
