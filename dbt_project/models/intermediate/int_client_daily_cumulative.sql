-- Running totals per client up to and including each day. A window sum over (a, b] is then the
-- difference of two rows, which keeps point-in-time features cheap at any scale.
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
    from {{ ref('int_client_days') }} as spine
    cross join {{ ref('int_world_calendar') }} as cal
    left join {{ ref('int_client_activity_daily') }} as a using (client_id, activity_date)
)

select
    client_id,
    activity_date,
    {% set summed = ['logins', 'document_views', 'emails_received', 'emails_opened',
        'distinct_features_used', 'new_features_used', 'support_tickets', 'support_sentiment_sum',
        'feature_requests', 'feedback_forms', 'help_article_views', 'competitor_email_opens',
        'price_comparison_searches', 'upload_mb', 'team_invites', 'integrations',
        'customization_uses', 'referrals'] %}
    {% for column in summed %}
    sum({{ column }}) over running as cum_{{ column }},
    {% endfor %}
    sum(case when logins > 0 then 1 else 0 end) over running as cum_login_days,
    sum(case when document_views > 0 then 1 else 0 end) over running as cum_document_view_days,
    count(*) over running as cum_days,
    sum(day_index) over running as cum_x,
    sum(day_index * day_index) over running as cum_x2,
    sum(day_index * logins) over running as cum_xy_logins
from days
window running as (partition by client_id order by activity_date rows between unbounded preceding and current row)
