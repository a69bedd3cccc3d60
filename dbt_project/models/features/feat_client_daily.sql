{{ config(
    materialized='incremental',
    incremental_strategy='replace_window',
    unique_key=['client_id', 'activity_date'],
    window_column='activity_date',
) }}
-- Client × day, zero-filled: the 15 daily activity metrics the churn LSTM reads as sequences.
-- A window rebuilds its days and the changed clients' days.
select
    spine.client_id,
    spine.activity_date,
    cast(coalesce(a.logins, 0) as double) as logins,
    cast(coalesce(a.session_minutes, 0) as double) as session_minutes,
    cast(coalesce(a.document_views, 0) as double) as document_views,
    cast(coalesce(a.document_uploads, 0) as double) as document_uploads,
    cast(coalesce(a.feature_uses, 0) as double) as feature_uses,
    cast(coalesce(a.distinct_features_used, 0) as double) as distinct_features_used,
    cast(coalesce(a.support_tickets, 0) as double) as support_tickets,
    coalesce(a.support_sentiment_sum / nullif(a.support_tickets, 0), 0.0) as support_sentiment,
    cast(coalesce(a.help_article_views, 0) as double) as help_article_views,
    cast(coalesce(a.feature_requests, 0) as double) as feature_requests,
    cast(coalesce(a.emails_received, 0) as double) as emails_received,
    cast(coalesce(a.emails_opened, 0) as double) as emails_opened,
    cast(coalesce(a.emails_clicked, 0) as double) as emails_clicked,
    cast(coalesce(a.competitor_email_opens, 0) as double) as competitor_email_opens,
    cast(coalesce(a.price_comparison_searches, 0) as double) as price_comparison_searches
from {{ rebuilt_rows(ref('int_client_days'), 'activity_date') }} as spine
left join {{ rebuilt_rows(ref('int_client_activity_daily'), 'activity_date') }} as a
    using (client_id, activity_date)
-- kept in day order: a window's scans skip the row groups of other days
order by activity_date, client_id
