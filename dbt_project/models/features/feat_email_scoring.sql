-- One row per active client: the engagement features of an email sent to them at the scoring
-- moment, with the same definitions as feat_email_engagement's (macros/email_send_features.sql),
-- so the scores are as of now: days since the last open or click, the recent open rates and the
-- platform behaviour as they stand at that moment, the day's own weekday and holiday.
--
-- The scoring moment is 10:00 in the client's local time (the platform's campaign hour) on the
-- var scoring_date, by default the day after the data's end (the morning the product scores).
-- The email is the current campaign's typical one: the median of each content column over the
-- last 7 days of sends, urgency when most of them carried it (the model has only seen 0 or 1),
-- and the variants of the client's latest send (the content personalizer's latest choice), or
-- the campaign's most common ones for a client never emailed.
--
-- A table rebuilt by every build, like int_world_calendar: every row moves with the clock each
-- day, so nothing could be kept from one build to the next; it reads int_email_outcomes once.
{{ config(materialized='table') }}
with calendar as (
    select
        data_end,
        {% if var('scoring_date', none) %}
        date '{{ var("scoring_date") }}' as scoring_date
        {% else %}
        data_end + 1 as scoring_date
        {% endif %}
    from {{ ref('int_world_calendar') }}
),

active as (
    select distinct subscriptions.client_id
    from {{ ref('stg_subscriptions') }} as subscriptions
    cross join calendar
    where subscriptions.started_date < calendar.scoring_date
        and (subscriptions.cancelled_date is null or subscriptions.cancelled_date >= calendar.scoring_date)
),

campaign_sends as (
    -- the last 7 days of sends before the scoring moment
    select *
    from {{ ref('stg_email_sends') }}
    where sent_at < (select cast(scoring_date as timestamp) from calendar)
    qualify sent_at > max(sent_at) over () - interval 7 day
),

campaign as (
    select
        cast(median(subject_length) as bigint) as subject_length,
        median(personalization_score) as personalization_score,
        avg(cast(urgency_indicators as integer)) > 0.5 as urgency_indicators,
        median(value_proposition_strength) as value_proposition_strength,
        cast(median(call_to_action_count) as bigint) as call_to_action_count,
        cast(median(image_count) as bigint) as image_count,
        mode(subject_line_variant) as subject_line_variant,
        mode(email_template) as email_template,
        mode(cta_style) as cta_style
    from campaign_sends
),

latest_variants as (
    -- arg_max rather than row_number() over each client's sends: one pass instead of a sort (a
    -- third of the time at 100,000 clients)
    select
        client_id,
        unnest(arg_max(
            {'subject_line_variant': subject_line_variant, 'email_template': email_template, 'cta_style': cta_style},
            (sent_at, send_id)
        ))
    from {{ ref('stg_email_sends') }}
    where sent_at < (select cast(scoring_date as timestamp) from calendar)
    group by client_id
),

sends as (
    -- the email each active client would get at the scoring moment
    select
        clients.client_id,
        (local_moment.sent_at_local at time zone clients.timezone) at time zone 'UTC' as sent_at,
        local_moment.sent_at_local,
        clients.signup_date,
        clients.property_value_bracket,
        clients.transaction_stage,
        clients.client_type,
        clients.geographic_region,
        clients.preferred_communication,
        clients.age_group,
        clients.client_value_tier,
        clients.segment,
        campaign.subject_length,
        campaign.personalization_score,
        campaign.urgency_indicators,
        campaign.value_proposition_strength,
        campaign.call_to_action_count,
        campaign.image_count,
        coalesce(latest.subject_line_variant, campaign.subject_line_variant) as subject_line_variant,
        coalesce(latest.email_template, campaign.email_template) as email_template,
        coalesce(latest.cta_style, campaign.cta_style) as cta_style
    from active
    inner join {{ ref('stg_clients') }} as clients using (client_id)
    cross join campaign
    cross join (select cast(scoring_date as timestamp) + interval 10 hour as sent_at_local from calendar)
        as local_moment
    left join latest_variants as latest using (client_id)
),

history as (
    -- each client's email history strictly before the scoring moment, the same counts as
    -- feat_email_engagement's timeline reads before a send
    select
        sends.client_id,
        count(*) filter (where o.sent_at < sends.sent_at) as cum_sends,
        count(*) filter (where o.opened_at < sends.sent_at) as cum_opens,
        count(*) filter (where o.clicked_at < sends.sent_at) as cum_clicks,
        sum(date_diff('second', o.sent_at, o.opened_at) / 3600.0)
            filter (where o.opened_at < sends.sent_at) as cum_open_delay_hours,
        max(o.opened_at) filter (where o.opened_at < sends.sent_at) as last_open_at,
        max(o.clicked_at) filter (where o.clicked_at < sends.sent_at) as last_click_at,
        count(*) filter (where o.sent_at < sends.sent_at - interval 7 day) as sends_7,
        count(*) filter (where o.opened_at < sends.sent_at - interval 7 day) as opens_7,
        count(*) filter (where o.sent_at < sends.sent_at - interval 30 day) as sends_30,
        count(*) filter (where o.opened_at < sends.sent_at - interval 30 day) as opens_30
    from sends
    inner join {{ ref('int_email_outcomes') }} as o using (client_id)
    group by sends.client_id
),

cum as (
    -- the days the features read: 1, 29, 31 and 91 days before the moment's (UTC) day
    select * from {{ ref('int_client_daily_cumulative') }}
    where activity_date in (
        select distinct cast(sent_at as date) - lag
        from sends
        cross join (values (1), (29), (31), (91)) as lags(lag)
    )
)

select
    sends.client_id,
    sends.sent_at as scoring_at,
    calendar.data_end as as_of_date,
    {{ email_send_features() }}
from sends
cross join calendar
left join history as h using (client_id)
left join cum as c1
    on c1.client_id = sends.client_id and c1.activity_date = cast(sends.sent_at as date) - 1
left join cum as c29
    on c29.client_id = sends.client_id and c29.activity_date = cast(sends.sent_at as date) - 29
left join cum as c31
    on c31.client_id = sends.client_id and c31.activity_date = cast(sends.sent_at as date) - 31
left join cum as c91
    on c91.client_id = sends.client_id and c91.activity_date = cast(sends.sent_at as date) - 91
