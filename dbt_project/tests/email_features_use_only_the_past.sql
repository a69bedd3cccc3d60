{{ config(meta={'dagster': {'ref': {'name': 'feat_email_engagement'}}}) }}
-- Recomputes the email-history features of every send directly from the events that happened
-- strictly before it; any difference means a feature saw the future (or missed the past).
-- A windowed build checks the sends of its days (older rows were checked when they were written).
{% set window = window_vars() %}
with sends as (
    select send_id, client_id, sent_at from {{ ref('stg_email_sends') }}
),

checked as (
    select * from sends
    {% if window %}
    where sent_at >= date '{{ window.landing_from }}'
    {% endif %}
),

direct as (
    select
        s.send_id,
        count(distinct p.send_id) as prior_sends,
        count(distinct o.send_id) as prior_opens
    from checked as s
    left join sends as p on p.client_id = s.client_id and p.sent_at < s.sent_at
    left join {{ ref('int_email_outcomes') }} as o
        on o.client_id = s.client_id and o.opened_at < s.sent_at
    group by s.send_id
)

select f.send_id, f.lifetime_open_rate, d.prior_opens, d.prior_sends, f.days_since_last_open
from {{ ref('feat_email_engagement') }} as f
inner join direct as d using (send_id)
where abs(f.lifetime_open_rate - coalesce(d.prior_opens / nullif(d.prior_sends, 0), 0)) > 1e-9
    or f.days_since_last_open <= 0
    or f.days_since_last_click <= 0
