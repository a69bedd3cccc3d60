-- The observed span of the world: first and last day with any activity. A table rebuilt by every
-- build (two aggregates over staging): the data's end moves every day.
select
    min(activity_date) as world_start,
    max(activity_date) as data_end
from (
    select activity_date from {{ ref('stg_user_events') }}
    union all
    select cast(sent_at as date) from {{ ref('stg_email_sends') }}
)
