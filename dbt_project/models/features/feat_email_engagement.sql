-- One row per email send. Every feature is computed from what had happened strictly before the
-- send: email history from opens/clicks whose webhook time precedes sent_at, platform behaviour
-- from whole days before the send's day (the expressions are macros/email_send_features.sql,
-- shared with feat_email_scoring). Labels (opened/clicked/acted within 7 days) look forward.
{{ config(materialized='incremental', unique_key='send_id', incremental_strategy='delete+insert') }}
{% set window = rebuild_window() %}
{% set lags = [1, 29, 31, 91] %}  {# the days before a send its behaviour features read #}
with
{% if window %}
rebuilt as (
    -- a window rebuilds the sends of its rebuilt days and of changed clients (history, behaviour or
    -- client context moved)
    select send_id from {{ ref('stg_email_sends') }}
    where {{ in_rebuilt_days('sent_at', 'client_id') }}
),

relabelled as (
    -- and relabels older sends: those whose first open, click or action fell in those days, and
    -- those whose 7-day label window was still open (label_complete follows the data's end); their
    -- features read what happened before them, which the window does not touch
    (
        select send_id from {{ ref('int_email_outcomes') }}
        where {{ in_rebuilt_days('opened_at') }} or {{ in_rebuilt_days('clicked_at') }}
            or {{ in_rebuilt_days('acted_at') }}
        union
        select send_id from {{ this }}
        where not label_complete
    )
    except
    select send_id from rebuilt
),
{% endif %}

sends as (
    select
        s.*,
        c.signup_date,
        c.property_value_bracket,
        c.transaction_stage,
        c.client_type,
        c.geographic_region,
        c.preferred_communication,
        c.age_group,
        c.client_value_tier,
        c.segment
    from {{ ref('stg_email_sends') }} as s
    inner join {{ ref('stg_clients') }} as c using (client_id)
    {% if window %}
    where s.send_id in (select send_id from rebuilt)
    {% endif %}
),

outcomes as (
    -- the email history of the sends' clients, from their first send (a window folds the older part)
    select * from {{ ref('int_email_outcomes') }}
    {% if window %}
    where client_id in (select client_id from sends)
    {% endif %}
),

timeline_events as (
    -- each send, open and click as a dated event on the client's email timeline
    select client_id, sent_at as ts, 1 as sends, 0 as opens, 0 as clicks, 0.0 as open_delay_hours,
        null::timestamp as open_at, null::timestamp as click_at
    from outcomes
    union all
    select client_id, opened_at, 0, 1, 0, date_diff('second', sent_at, opened_at) / 3600.0,
        opened_at, null
    from outcomes
    where opened_at is not null
    union all
    select client_id, clicked_at, 0, 0, 1, 0.0, null, clicked_at
    from outcomes
    where clicked_at is not null
),

{% if window %}
history_start as (
    -- the rebuilt sends read a client's timeline from 30 days before the earliest of them on;
    -- what happened before only counts as totals
    select client_id, min(sent_at) - interval 31 day as starts_at
    from sends
    group by client_id
),

folded_events as (
    -- a client's events before that start, folded into one at the last of them
    select
        e.client_id, max(e.ts) as ts, sum(e.sends) as sends, sum(e.opens) as opens,
        sum(e.clicks) as clicks, sum(e.open_delay_hours) as open_delay_hours,
        max(e.open_at) as open_at, max(e.click_at) as click_at
    from timeline_events as e
    inner join history_start as h using (client_id)
    where e.ts < h.starts_at
    group by e.client_id
    union all
    select e.*
    from timeline_events as e
    inner join history_start as h using (client_id)
    where e.ts >= h.starts_at
),
{% endif %}

probed as (
    -- the timeline and, for each send, three probes into it: at sent_at and 7 and 30 days before.
    -- A probe sorts before the events of its own moment, so the running sums at a probe count the
    -- events strictly before it. One window pass over events and probes replaces three ASOF joins
    -- of the sends into a running-sum timeline (each sorting both sides again): 30 % less time at
    -- 100,000 clients, the same rows.
    select client_id, ts, 1 as kind, sends, opens, clicks, open_delay_hours, open_at, click_at,
        null::varchar as send_id, null::integer as lag
    from {{ 'folded_events' if window else 'timeline_events' }}
    union all
    select client_id, sent_at - lags.lag * interval 1 day, 0, 0, 0, 0, 0.0, null, null, send_id, lags.lag
    from sends
    cross join (values (0), (7), (30)) as lags(lag)
),

probes as (
    select
        send_id,
        lag,
        -- the three counts share one running sum (21 bits each: up to 2,097,151 sends, opens or
        -- clicks of one client), as in int_client_daily_cumulative: each sum is a window pass
        sum((cast(sends as bigint) << 42) + (cast(opens as bigint) << 21) + clicks) over running
            as packed_counts,
        sum(open_delay_hours) over running as cum_open_delay_hours,
        max(open_at) over running as last_open_at,
        max(click_at) over running as last_click_at
    from probed
    window running as (partition by client_id order by ts, kind rows between unbounded preceding and current row)
    qualify kind = 0
),

history as (
    -- one row per send, its three probes side by side
    select
        send_id,
        {% for lag, counts in [(0, ['sends', 'opens', 'clicks']), (7, ['sends', 'opens']), (30, ['sends', 'opens'])] %}
        {% for count in counts %}
        any_value({{ unpacked_count('packed_counts', loop.index0) }}) filter (where lag = {{ lag }})
            as {{ 'cum_' ~ count if lag == 0 else count ~ '_' ~ lag }},
        {% endfor %}
        {% endfor %}
        any_value(cum_open_delay_hours) filter (where lag = 0) as cum_open_delay_hours,
        any_value(last_open_at) filter (where lag = 0) as last_open_at,
        any_value(last_click_at) filter (where lag = 0) as last_click_at
    from probes
    group by send_id
),

send_days as (
    select distinct client_id, cast(sent_at as date) as send_day from sends
),

-- built whole, each join reads the table itself (see feat_client_churn)
cum as {% if not window %}not materialized {% endif %}(
    select * from {{ ref('int_client_daily_cumulative') }}
    {% if window %}
    -- the rows the rebuilt sends read: their clients' {{ lags | join(', ') }} days before them
    where (client_id, activity_date) in (
        select client_id, send_day - lag
        from send_days
        cross join (values {% for lag in lags %}({{ lag }}){{ ', ' if not loop.last }}{% endfor %}) as lags(lag)
    )
    {% endif %}
)

select
    sends.send_id,
    sends.client_id,
    sends.sent_at,
    {{ email_send_features() }},
    -- labels
    {{ email_labels('sends.sent_at', 'o', 'cal.data_end') }}
from sends
cross join {{ ref('int_world_calendar') }} as cal
left join history as h using (send_id)
left join outcomes as o using (send_id)
-- each join keeps only the rows some send reads: its hash table then holds those, not the whole
-- table (half the model's time at 100,000 clients)
{% for lag in lags %}
left join (
    select * from cum
    where (client_id, activity_date + {{ lag }}) in (select client_id, send_day from send_days)
) as c{{ lag }}
    on c{{ lag }}.client_id = sends.client_id and c{{ lag }}.activity_date = cast(sends.sent_at as date) - {{ lag }}
{% endfor %}
{% if window %}
union all by name
-- the relabelled sends: their stored rows with new labels
select
    stored.* exclude (opened_within_7d, clicked_within_7d, acted_within_7d, label_complete),
    {{ email_labels('stored.sent_at', 'o', 'cal.data_end') }}
from (select * from {{ this }} where send_id in (select send_id from relabelled)) as stored
cross join {{ ref('int_world_calendar') }} as cal
left join {{ ref('int_email_outcomes') }} as o using (send_id)
{% endif %}
