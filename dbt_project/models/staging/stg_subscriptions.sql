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
qualify row_number() over (partition by subscription_id order by _loaded_at desc, _row_number desc) = 1
