-- First open and first click of every send.
select
    sends.send_id,
    sends.client_id,
    sends.sent_at,
    min(events.occurred_at) filter (where events.event_type = 'open') as opened_at,
    min(events.occurred_at) filter (where events.event_type = 'click') as clicked_at
from {{ ref('stg_email_sends') }} as sends
left join {{ ref('stg_email_events') }} as events using (send_id)
group by all
