{{ config(
    materialized='incremental',
    incremental_strategy='replace_window',
    unique_key=['client_id', 'activity_date'],
    window_column='activity_date',
) }}
-- Running totals per client up to and including each day. A window sum over (a, b] is then the
-- difference of two rows, which keeps point-in-time features cheap at any scale.
-- A window rebuilds its days: each client's totals continue from its stored row of the day before
-- them; a changed client's whole history is summed again.
{% set window = rebuild_window() %}
{% set rebuilt_from = rebuild_from() %}
{% set changed = changed_clients() %}
{% set summed = ['logins', 'document_views', 'emails_received', 'emails_opened',
    'distinct_features_used', 'new_features_used', 'support_tickets', 'support_sentiment_sum',
    'feature_requests', 'feedback_forms', 'help_article_views', 'competitor_email_opens',
    'price_comparison_searches', 'upload_mb', 'team_invites', 'integrations',
    'customization_uses', 'referrals'] %}
{% set doubles = ['support_sentiment_sum', 'upload_mb'] %}
{% set counts = [] %}
{% for column in summed if column not in doubles %}{% do counts.append(column) %}{% endfor %}
{% do counts.extend(['login_days', 'document_view_days']) %}
{% set packs = [] %}
{% for i in range(0, counts | length, 3) %}{% do packs.append(counts[i:i + 3]) %}{% endfor %}
{% set totals = [] %}
{% for column in summed %}{% do totals.append('cum_' ~ column) %}{% endfor %}
{% do totals.extend(['cum_login_days', 'cum_document_view_days', 'cum_days', 'cum_x', 'cum_x2', 'cum_xy_logins']) %}
with days as (
    select
        spine.client_id,
        spine.activity_date,
        date_diff('day', cal.world_start, spine.activity_date) as day_index,
        coalesce(a.logins, 0) as logins,
        coalesce(a.document_views, 0) as document_views,
        coalesce(a.emails_received, 0) as emails_received,
        coalesce(a.emails_opened, 0) as emails_opened,
        coalesce(a.distinct_features_used, 0) as distinct_features_used,
        coalesce(a.new_features_used, 0) as new_features_used,
        coalesce(a.support_tickets, 0) as support_tickets,
        coalesce(a.support_sentiment_sum, 0) as support_sentiment_sum,
        coalesce(a.feature_requests, 0) as feature_requests,
        coalesce(a.feedback_forms, 0) as feedback_forms,
        coalesce(a.help_article_views, 0) as help_article_views,
        coalesce(a.competitor_email_opens, 0) as competitor_email_opens,
        coalesce(a.price_comparison_searches, 0) as price_comparison_searches,
        coalesce(a.upload_mb, 0) as upload_mb,
        coalesce(a.team_invites, 0) as team_invites,
        coalesce(a.integrations, 0) as integrations,
        coalesce(a.customization_uses, 0) as customization_uses,
        coalesce(a.referrals, 0) as referrals
    from {{ rebuilt_rows(ref('int_client_days'), 'activity_date') }} as spine
    cross join {{ ref('int_world_calendar') }} as cal
    left join {{ rebuilt_rows(ref('int_client_activity_daily'), 'activity_date') }} as a
        using (client_id, activity_date)
),

packed as (
    -- DuckDB computes each running sum with a segment tree of its own, so the cost of this model
    -- is about one window pass per summed column. Three daily counts share one bigint (21 bits
    -- each, macros/trailing.sql's unpacked_count): one running sum then carries all three, as
    -- long as no total reaches 2^21 (2,097,152 events of one kind for one client; 10 % less time
    -- than pairs at 100,000 clients). Days, x and x^2 need no window at all: the spine is dense,
    -- so they are arithmetic series from the client's first row.
    select
        client_id,
        activity_date,
        day_index,
        {% for pack in packs %}
        {% set pack_index = loop.index %}
        {% for count in pack %}(cast({{ count }} as bigint) << {{ 42 - 21 * loop.index0 }}){{ " + " if not loop.last }}{% endfor %} as pack_{{ pack_index }},
        {% endfor %}
        {% for column in doubles %}
        {{ column }},
        {% endfor %}
        day_index * logins as xy_logins
    from (
        select
            *,
            case when logins > 0 then 1 else 0 end as login_days,
            case when document_views > 0 then 1 else 0 end as document_view_days
        from days
    )
),

sums as (
    select
        client_id,
        activity_date,
        day_index,
        -- the spine is dense: the row's number is its count of days, which gives the first day
        row_number() over running as n_days,
        day_index + 1 - row_number() over running as first_index,
        -- DuckDB sums bigints into hugeints: back to bigint at once (unpacking hugeints took 11 s
        -- of CPU at 100,000 clients x 365 days, bigints 2.3 s)
        {% for pack in packs %}
        cast(sum(pack_{{ loop.index }}) over running as bigint) as pack_{{ loop.index }},
        {% endfor %}
        {% for column in doubles %}
        sum({{ column }}) over running as cum_{{ column }},
        {% endfor %}
        sum(xy_logins) over running as xy_logins
    from packed
    window running as (partition by client_id order by activity_date rows between unbounded preceding and current row)
),

running_totals as (
    select
        client_id,
        activity_date,
        -- counts are kept as bigint: DuckDB sums integers into hugeint, which is far slower to
        -- read back, and every feature reads these rows
        {% for pack in packs %}
        {% set pack_index = loop.index %}
        {% for count in pack %}
        {{ unpacked_count('pack_' ~ pack_index, loop.index0) }} as cum_{{ count }},
        {% endfor %}
        {% endfor %}
        {% for column in doubles %}
        cum_{{ column }},
        {% endfor %}
        cast(n_days as bigint) as cum_days,
        -- sums of k and k^2 for k from the first day's index to this day's
        cast((first_index + day_index) * n_days // 2 as bigint) as cum_x,
        cast(
            (day_index * (day_index + 1) * (2 * day_index + 1)
             - (first_index - 1) * first_index * (2 * first_index - 1)) // 6 as bigint
        ) as cum_x2,
        cast(xy_logins as bigint) as cum_xy_logins
    from sums
)

{% if window %}
, carried as (
    -- the stored totals of the day before the rebuilt days (the spine is dense, so that day is the
    -- last one before them); changed clients start from nothing
    select stored.*
    from {{ this }} as stored
    anti join {{ changed }} as changed using (client_id)
    where stored.activity_date = {{ rebuilt_from }} - 1
)

select
    t.client_id,
    t.activity_date,
    {% for total in totals %}
    coalesce(carried.{{ total }}, 0) + t.{{ total }} as {{ total }}{{ "," if not loop.last }}
    {% endfor %}
from running_totals as t
left join carried using (client_id)
{% else %}
select * from running_totals
{% endif %}
-- Left in the window's order, each client's days together, unlike the other daily tables: sorting
-- its 29 million rows by day took 17 s of its 63 s at 100,000 clients x 365 days.
-- Its readers look rows up by client and day (the features' joins), which a sort by day does not
-- help; a window reads by day only the day before it (its carried totals), a full scan of that
-- column at worst, and days appended by windows stay in day order.
