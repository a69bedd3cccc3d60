{{ config(meta={'dagster': {'ref': {'name': 'feat_client_churn'}}}) }}
-- Recomputes two trailing-window churn features from raw events dated before each snapshot.
-- A windowed build checks the snapshots of its days (older rows were checked when written).
{% set window = window_vars() %}
with checked as (
    select * from {{ ref('feat_client_churn') }}
    {% if window %}
    where snapshot_date >= date '{{ window.landing_from }}'
    {% endif %}
),

direct as (
    select
        f.client_id,
        f.snapshot_date,
        count(e.event_id) filter (where e.event_type = 'competitor_email_open') as competitor_opens,
        count(e.event_id) filter (where e.event_type = 'price_comparison_search') as price_searches
    from checked as f
    left join {{ ref('stg_user_events') }} as e
        on e.client_id = f.client_id
        and e.activity_date >= f.snapshot_date - 30
        and e.activity_date < f.snapshot_date
    group by f.client_id, f.snapshot_date
)

select f.client_id, f.snapshot_date, f.competitor_email_opens, d.competitor_opens
from checked as f
inner join direct as d using (client_id, snapshot_date)
where f.competitor_email_opens != d.competitor_opens
    or f.price_comparison_searches != d.price_searches
