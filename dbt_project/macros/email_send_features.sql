{#
  The engagement features of an email send, as the select list of a query that names:
  - `sends`: the send (client_id, sent_at in UTC, sent_at_local, the client's attributes and
    signup_date, the email's content columns and variants, segment, age_group, client_value_tier);
  - `h`: the client's email history strictly before sent_at (cum_sends, cum_opens, cum_clicks,
    cum_open_delay_hours, last_open_at, last_click_at; sends_7/opens_7 and sends_30/opens_30, the
    same counts before sent_at - 7 and - 30 days), NULL when there is none;
  - `c1`, `c29`, `c31`, `c91`: int_client_daily_cumulative on 1, 29, 31 and 91 days before the
    send's (UTC) day.
  One definition for the features a model learns from (feat_email_engagement, one row per send)
  and those it scores with (feat_email_scoring, a send at the scoring moment), so the two cannot
  drift apart.
#}
{% macro email_send_features() -%}
    -- temporal (client's local time)
    hour(sends.sent_at_local) as hour_of_day,
    isodow(sends.sent_at_local) - 1 as day_of_week,
    dayofmonth(sends.sent_at_local) as day_of_month,
    isodow(sends.sent_at_local) >= 6 as is_weekend,
    cast(sends.sent_at_local as date) in (select holiday_date from {{ ref('us_holidays') }}) as is_holiday,
    least(coalesce(date_diff('second', h.last_open_at, sends.sent_at) / 86400.0, 365), 365)
        as days_since_last_open,
    least(coalesce(date_diff('second', h.last_click_at, sends.sent_at) / 86400.0, 365), 365)
        as days_since_last_click,
    -- engagement history
    coalesce(h.cum_opens / nullif(h.cum_sends, 0), 0.0) as lifetime_open_rate,
    coalesce((h.cum_opens - coalesce(h.opens_7, 0)) / nullif(h.cum_sends - coalesce(h.sends_7, 0), 0), 0.0)
        as recent_open_rate_7d,
    coalesce((h.cum_opens - coalesce(h.opens_30, 0)) / nullif(h.cum_sends - coalesce(h.sends_30, 0), 0), 0.0)
        as recent_open_rate_30d,
    coalesce(h.cum_clicks / nullif(h.cum_sends, 0), 0.0) as click_through_rate,
    coalesce(h.cum_open_delay_hours / nullif(h.cum_opens, 0), 0.0) as avg_time_to_open_hours,
    -- sends in the last 30 days relative to two a week
    least(coalesce(h.cum_sends - coalesce(h.sends_30, 0), 0) / 8.0, 1.0) as email_frequency_score,
    -- client context
    cast(date_diff('day', sends.signup_date, cast(sends.sent_at as date)) as double) as account_age_days,
    sends.property_value_bracket,
    sends.transaction_stage,
    sends.client_type,
    sends.geographic_region,
    sends.preferred_communication,
    -- content
    sends.subject_length,
    sends.personalization_score,
    sends.urgency_indicators,
    sends.value_proposition_strength,
    sends.call_to_action_count,
    sends.image_count,
    -- behaviour (whole days before the send's day)
    {{ trailing('logins', 'c1', 'c29') }} / 4.0 as login_frequency_weekly,
    {{ trailing('document_view_days', 'c1', 'c31') }} / 30.0 as document_access_rate,
    coalesce(c1.cum_new_features_used, 0) / 12.0 as feature_adoption_score,
    cast({{ trailing('support_tickets', 'c1', 'c91') }} as integer) as support_ticket_count,
    coalesce(c1.cum_referrals, 0) > 0 as referral_generated,
    -- extras
    (isodow(sends.sent_at_local) - 1) * 24 + hour(sends.sent_at_local) as hour_of_week,
    sends.segment,
    sends.subject_line_variant,
    sends.email_template,
    sends.cta_style,
    sends.age_group,
    sends.client_value_tier
{%- endmacro %}
