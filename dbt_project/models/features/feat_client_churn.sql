-- One row per active client per weekly snapshot (Mondays from the world's 29th day on).
-- Every feature uses days strictly before snapshot_date; labels look forward 30/60/90 days and are
-- NULL until that window has been observed.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_window',
    unique_key=['client_id', 'snapshot_date'],
    window_column='snapshot_date',
) }}
{% set window = rebuild_window() %}
{% set lags = [1, 16, 31, 61, 91] %}  {# the days before a snapshot its features read #}
with calendar as (
    select * from {{ ref('int_world_calendar') }}
),

snapshots as (
    select cast(d.generate_series as date) as snapshot_date
    from calendar
    cross join generate_series(
        cast(calendar.world_start + 28 as timestamp),
        cast(calendar.data_end as timestamp),
        interval 1 day
    ) as d
    where isodow(d.generate_series) = 1
),

churn_rate as (
    -- trailing 4-week churn rate across all clients: the season's churn pressure, known at the cut-off
    select
        snapshots.snapshot_date,
        count(*) filter (
            where subs.cancelled_date > snapshots.snapshot_date - 28
                and subs.cancelled_date < snapshots.snapshot_date
        ) / greatest(count(*), 1) as seasonal_churn_probability
    from snapshots
    cross join {{ ref('stg_subscriptions') }} as subs
    where subs.started_date < snapshots.snapshot_date - 28
        and (subs.cancelled_date is null or subs.cancelled_date > snapshots.snapshot_date - 28)
    group by snapshots.snapshot_date
),

regions as (
    select distinct geographic_region from {{ ref('stg_clients') }}
),

market as (
    -- the latest index of each region before each snapshot
    select regions.geographic_region, snapshots.snapshot_date, m.volatility_index
    from regions
    cross join snapshots
    asof left join {{ ref('stg_market_index') }} as m
        on m.geographic_region = regions.geographic_region
        and m.week_start < snapshots.snapshot_date
),

context as (
    -- what every client of a region shares at a snapshot, as the table stores it
    select
        market.geographic_region,
        market.snapshot_date,
        cast(coalesce(market.volatility_index, 0) as double) as market_volatility_index,
        cast(coalesce(r.seasonal_churn_probability, 0) as double) as seasonal_churn_probability
    from market
    left join churn_rate as r using (snapshot_date)
),

{% if window %}
feature_snapshots as (
    -- a window rebuilds its snapshots (features from the days before them)
    select snapshot_date
    from snapshots
    where {{ in_rebuilt_days('snapshot_date') }}
),

label_snapshots as (
    -- and relabels the older snapshots whose 30/60/90-day labels end in its days (the data's end
    -- reaches them): their features read days the window does not touch
    select snapshot_date
    from snapshots
    where ({% for horizon in [30, 60, 90] %}{{ in_rebuilt_days('snapshot_date + ' ~ horizon) }}{{ " or " if not loop.last }}{% endfor %})
        and snapshot_date not in (select snapshot_date from feature_snapshots)
),

revised_context as (
    -- older snapshots whose shared context moved (a cancellation dated in the past changes the
    -- churn rate, a revised index the market): the context of every snapshot is cheap to
    -- recompute and is compared with the stored rows
    select geographic_region, snapshot_date
    from context
    inner join (
        select distinct geographic_region, snapshot_date, market_volatility_index, seasonal_churn_probability
        from {{ this }}
    ) as stored using (geographic_region, snapshot_date)
    where context.market_volatility_index is distinct from stored.market_volatility_index
        or context.seasonal_churn_probability is distinct from stored.seasonal_churn_probability
),
{% endif %}

active as (
    select
        clients.client_id,
        clients.geographic_region,
        clients.age_group,
        clients.client_value_tier,
        subs.started_date,
        subs.cancelled_date,
        snapshots.snapshot_date
    from {{ ref('stg_clients') }} as clients
    inner join {{ ref('stg_subscriptions') }} as subs using (client_id)
    cross join snapshots
    where clients.signup_date <= snapshots.snapshot_date
        and (subs.cancelled_date is null or subs.cancelled_date > snapshots.snapshot_date)
        {% if window %}
        and (
            snapshots.snapshot_date in (select snapshot_date from feature_snapshots)
            -- a changed client's every snapshot: its attributes, start or cancellation moved
            or clients.client_id in {{ changed_clients() }}
            or (clients.geographic_region, snapshots.snapshot_date) in (
                select geographic_region, snapshot_date from revised_context
            )
        )
        {% endif %}
),

nps as (
    select client_id, occurred_at, nps_score
    from {{ ref('stg_user_events') }}
    where event_type = 'nps_response'
),

-- built whole, each join reads the table itself: materialised, the CTE would be a copy of every
-- row of the largest table (2.4x the model's time at 100,000 clients x 120 days)
cum as {% if not window %}not materialized {% endif %}(
    select * from {{ ref('int_client_daily_cumulative') }}
    {% if window %}
    -- the rows the rebuilt snapshots read: their clients' {{ lags | join(', ') }} days before them
    -- (by client: a changed client's snapshots reach most days of the year)
    where (client_id, activity_date) in (
        select client_id, snapshot_date - lag
        from active
        cross join (values {% for lag in lags %}({{ lag }}){{ ', ' if not loop.last }}{% endfor %}) as lags(lag)
    )
    {% endif %}
),

joined as (
    select
        active.*,
        -- window sums: (s-31, s-1] = last 30 days, (s-61, s-31] = the 30 before, etc.
        {{ trailing('logins', 'c1', 'c31') }} as logins_30,
        {{ trailing('login_days', 'c1', 'c31') }} as login_days_30,
        {{ trailing('login_days', 'c31', 'c61') }} as login_days_prev_30,
        {{ trailing('days', 'c1', 'c31') }} as n_30,
        {{ trailing('x', 'c1', 'c31') }} as sx_30,
        {{ trailing('x2', 'c1', 'c31') }} as sxx_30,
        {{ trailing('xy_logins', 'c1', 'c31') }} as sxy_30,
        {{ trailing('document_views', 'c1', 'c16') }} as views_last_15,
        {{ trailing('document_views', 'c16', 'c31') }} as views_prev_15,
        {{ trailing('emails_received', 'c1', 'c31') }} as received_30,
        {{ trailing('emails_opened', 'c1', 'c31') }} as opened_30,
        {{ trailing('emails_received', 'c31', 'c91') }} as received_31_90,
        {{ trailing('emails_opened', 'c31', 'c91') }} as opened_31_90,
        {{ trailing('distinct_features_used', 'c1', 'c31') }} as feature_days_30,
        {{ trailing('distinct_features_used', 'c31', 'c61') }} as feature_days_prev_30,
        {{ trailing('support_tickets', 'c1', 'c91') }} as tickets_90,
        {{ trailing('support_sentiment_sum', 'c1', 'c91') }} as sentiment_sum_90,
        {{ trailing('feature_requests', 'c1', 'c91') }} as feature_requests_90,
        {{ trailing('feedback_forms', 'c1', 'c91') }} as feedback_forms_90,
        {{ trailing('help_article_views', 'c1', 'c31') }} as help_views_30,
        {{ trailing('competitor_email_opens', 'c1', 'c31') }} as competitor_opens_30,
        {{ trailing('price_comparison_searches', 'c1', 'c31') }} as price_searches_30,
        coalesce(c1.cum_new_features_used, 0) as features_ever_used,
        coalesce(c1.cum_upload_mb, 0) as upload_mb_total,
        coalesce(c1.cum_team_invites, 0) as team_invites_total,
        coalesce(c1.cum_integrations, 0) as integrations_total,
        coalesce(c1.cum_customization_uses, 0) as customization_total
    from active
    -- each join keeps only the days a snapshot reads, the weekday `lag` days before a Monday: its
    -- hash table then holds a seventh of the table, not all of it (half the model's time at
    -- 100,000 clients)
    {% for lag in lags %}
    left join (select * from cum where isodow(activity_date + {{ lag }}) = 1) as c{{ lag }}
        on c{{ lag }}.client_id = active.client_id and c{{ lag }}.activity_date = active.snapshot_date - {{ lag }}
    {% endfor %}
),

last_nps as (
    select joined.client_id, joined.snapshot_date, nps.nps_score
    from joined
    asof left join nps
        on nps.client_id = joined.client_id
        and nps.occurred_at < cast(joined.snapshot_date as timestamp)
)

select
    j.client_id,
    j.snapshot_date,
    -- activity trends
    cast(coalesce(
        (j.n_30 * j.sxy_30 - j.sx_30 * j.logins_30)
        / nullif(j.n_30 * j.sxx_30 - j.sx_30 * j.sx_30, 0), 0) as double) as login_frequency_slope_30d,
    cast((j.views_prev_15 - j.views_last_15) / greatest(j.views_prev_15, 1) as double)
        as document_access_decline_rate,
    cast(coalesce(j.opened_30 / nullif(j.received_30, 0), 0)
        - coalesce(j.opened_31_90 / nullif(j.received_31_90, 0), 0) as double) as email_engagement_momentum,
    cast((j.feature_days_30 - j.feature_days_prev_30) / 30.0 as double) as feature_usage_diversity_change,
    cast(30.0 / greatest(j.login_days_30, 1) - 30.0 / greatest(j.login_days_prev_30, 1) as double)
        as time_between_sessions_increase,
    -- satisfaction signals
    cast(coalesce(j.sentiment_sum_90 / nullif(j.tickets_90, 0), 0) as double) as support_ticket_sentiment_score,
    cast(j.feature_requests_90 as double) as feature_request_count,
    cast(coalesce(n.nps_score, -1) as double) as nps_score_if_available,
    cast(j.feedback_forms_90 as double) as feedback_form_completion,
    cast(j.help_views_30 as double) as help_article_access_frequency,
    -- market context
    cast(j.competitor_opens_30 as double) as competitor_email_opens,
    cast(j.price_searches_30 as double) as price_comparison_searches,
    cast((365 - date_diff('day', j.started_date, j.snapshot_date) % 365) % 365 as double)
        as contract_renewal_proximity,
    ctx.market_volatility_index,
    ctx.seasonal_churn_probability,
    -- engagement depth
    cast(j.features_ever_used as double) as unique_features_used,
    cast(j.upload_mb_total / 1024.0 as double) as data_volume_uploaded_gb,
    cast(j.team_invites_total as double) as team_members_invited,
    cast(j.integrations_total as double) as integration_count,
    cast(j.customization_total as double) as customization_level,
    -- context for fairness reports (never model features)
    j.age_group,
    j.geographic_region,
    j.client_value_tier,
    -- labels
    {{ churn_labels('j.snapshot_date', 'j.cancelled_date', 'cal.data_end') }}
from joined as j
cross join {{ ref('int_world_calendar') }} as cal
left join last_nps as n using (client_id, snapshot_date)
left join context as ctx using (geographic_region, snapshot_date)
{% if window %}
union all by name
-- the relabelled snapshots: their stored rows with new labels (features are recomputed only where
-- they can have changed; a changed client's or region's rows were rebuilt above)
select
    stored.* exclude (churned_within_30d, churned_within_60d, churned_within_90d),
    {{ churn_labels('stored.snapshot_date', 'subs.cancelled_date', 'cal.data_end') }}
from {{ this }} as stored
inner join {{ ref('stg_subscriptions') }} as subs using (client_id)
cross join {{ ref('int_world_calendar') }} as cal
where stored.snapshot_date in (select snapshot_date from label_snapshots)
    and stored.client_id not in {{ changed_clients() }}
    and (stored.geographic_region, stored.snapshot_date) not in (
        select geographic_region, snapshot_date from revised_context
    )
{% endif %}
