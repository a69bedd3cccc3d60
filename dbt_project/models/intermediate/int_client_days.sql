-- Dense client × day spine: from the client's first day in the world to churn or the data's end.
select
    clients.client_id,
    cast(day.generate_series as date) as activity_date
from {{ ref('stg_clients') }} as clients
left join {{ ref('stg_subscriptions') }} as subs using (client_id)
cross join {{ ref('int_world_calendar') }} as cal
cross join generate_series(
    cast(greatest(clients.signup_date, cal.world_start) as timestamp),
    cast(least(coalesce(subs.cancelled_date - 1, cal.data_end), cal.data_end) as timestamp),
    interval 1 day
) as day
