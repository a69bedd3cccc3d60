{{ config(materialized='incremental', unique_key='subscription_id', incremental_strategy='delete+insert') }}
-- One row per subscription: its latest billing record (latest landing file, then latest loaded); a
-- cancellation arrives as a new version. A window rebuilds the subscriptions that landed in it,
-- from all their versions.
select
    subscription_id,
    client_id,
    plan,
    monthly_fee,
    cast(started_at as date) as started_date,
    term_months,
    cast(cancelled_at as date) as cancelled_date,
    _loaded_at as loaded_at
from {{ source('raw', 'subscriptions') }}
{% if incremental_window() %}
where subscription_id in (
    select subscription_id from {{ source('raw', 'subscriptions') }} where {{ landing_filter() }}
)
{% endif %}
qualify row_number() over (
    partition by subscription_id order by _landing_date desc nulls last, _loaded_at desc, _row_number desc
) = 1
