{{ config(
    materialized='incremental',
    incremental_strategy='replace_window',
    unique_key=['client_id', 'activity_date'],
    window_column='activity_date',
) }}
-- Sparse client × day aggregates of everything the feature tables need (days with activity only).
-- A window rebuilds its days and the changed clients' days; a day can lose its row (a late first
-- open moves the open to an earlier day).
with user_daily as (
    select
        client_id,
        activity_date,
        count(*) filter (where event_type = 'login') as logins,
        coalesce(sum(duration_minutes) filter (where event_type = 'login'), 0) as session_minutes,
        count(*) filter (where event_type = 'document_view') as document_views,
        count(*) filter (where event_type = 'document_upload') as document_uploads,
        coalesce(sum(size_mb) filter (where event_type = 'document_upload'), 0) as upload_mb,
        count(*) filter (where event_type = 'feature_use') as feature_uses,
        count(distinct feature_name) filter (where event_type = 'feature_use') as distinct_features_used,
        count(*) filter (
            where event_type = 'feature_use' and feature_name in ('custom_branding', 'workflow_automation')
        ) as customization_uses,
        count(*) filter (where event_type = 'support_ticket') as support_tickets,
        coalesce(sum(sentiment) filter (where event_type = 'support_ticket'), 0) as support_sentiment_sum,
        count(*) filter (where event_type = 'help_article_view') as help_article_views,
        count(*) filter (where event_type = 'feature_request') as feature_requests,
        count(*) filter (where event_type = 'nps_response') as nps_responses,
        count(*) filter (where event_type = 'feedback_form') as feedback_forms,
        count(*) filter (where event_type = 'referral') as referrals,
        count(*) filter (where event_type = 'team_invite') as team_invites,
        count(*) filter (where event_type = 'integration_connected') as integrations,
        count(*) filter (where event_type = 'competitor_email_open') as competitor_email_opens,
        count(*) filter (where event_type = 'price_comparison_search') as price_comparison_searches
    from {{ rebuilt_rows(ref('stg_user_events'), 'activity_date') }}
    group by all
),

first_feature_use as (
    -- the day each feature was first used: cumulated, it counts distinct features ever used (read
    -- from the whole history, kept for the rebuilt days only)
    select client_id, min(activity_date) as activity_date, feature_name
    from {{ ref('stg_user_events') }}
    where event_type = 'feature_use'
    group by client_id, feature_name
),

new_features as (
    select client_id, activity_date, count(*) as new_features_used
    from first_feature_use
    where {{ in_rebuilt_days('activity_date', 'client_id') }}
    group by all
),

email_daily as (
    select client_id, cast(sent_at as date) as activity_date, count(*) as emails_received,
        0 as emails_opened, 0 as emails_clicked
    from {{ ref('int_email_outcomes') }}
    where {{ in_rebuilt_days('cast(sent_at as date)', 'client_id') }}
    group by all
    union all
    select client_id, cast(opened_at as date), 0, count(*), 0
    from {{ ref('int_email_outcomes') }}
    where opened_at is not null and {{ in_rebuilt_days('cast(opened_at as date)', 'client_id') }}
    group by all
    union all
    select client_id, cast(clicked_at as date), 0, 0, count(*)
    from {{ ref('int_email_outcomes') }}
    where clicked_at is not null and {{ in_rebuilt_days('cast(clicked_at as date)', 'client_id') }}
    group by all
),

email_by_day as (
    select client_id, activity_date,
        sum(emails_received) as emails_received,
        sum(emails_opened) as emails_opened,
        sum(emails_clicked) as emails_clicked
    from email_daily
    group by all
)

select
    coalesce(u.client_id, e.client_id) as client_id,
    coalesce(u.activity_date, e.activity_date) as activity_date,
    coalesce(u.logins, 0) as logins,
    coalesce(u.session_minutes, 0) as session_minutes,
    coalesce(u.document_views, 0) as document_views,
    coalesce(u.document_uploads, 0) as document_uploads,
    coalesce(u.upload_mb, 0) as upload_mb,
    coalesce(u.feature_uses, 0) as feature_uses,
    coalesce(u.distinct_features_used, 0) as distinct_features_used,
    coalesce(n.new_features_used, 0) as new_features_used,
    coalesce(u.customization_uses, 0) as customization_uses,
    coalesce(u.support_tickets, 0) as support_tickets,
    coalesce(u.support_sentiment_sum, 0) as support_sentiment_sum,
    coalesce(u.help_article_views, 0) as help_article_views,
    coalesce(u.feature_requests, 0) as feature_requests,
    coalesce(u.nps_responses, 0) as nps_responses,
    coalesce(u.feedback_forms, 0) as feedback_forms,
    coalesce(u.referrals, 0) as referrals,
    coalesce(u.team_invites, 0) as team_invites,
    coalesce(u.integrations, 0) as integrations,
    coalesce(u.competitor_email_opens, 0) as competitor_email_opens,
    coalesce(u.price_comparison_searches, 0) as price_comparison_searches,
    coalesce(e.emails_received, 0) as emails_received,
    coalesce(e.emails_opened, 0) as emails_opened,
    coalesce(e.emails_clicked, 0) as emails_clicked
from user_daily as u
full outer join email_by_day as e using (client_id, activity_date)
left join new_features as n
    on n.client_id = coalesce(u.client_id, e.client_id)
    and n.activity_date = coalesce(u.activity_date, e.activity_date)
-- kept in day order: a window's scans skip the row groups of other days
order by activity_date, client_id
