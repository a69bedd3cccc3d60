{# Whether an email sent at `sent_at` was opened, clicked and acted on within 7 days (its
   `outcomes` row: int_email_outcomes' first times), and whether those 7 days are complete by the
   data's end, as the select list's four label columns. #}
{% macro email_labels(sent_at, outcomes, data_end) -%}
    cast(coalesce({{ outcomes }}.opened_at < {{ sent_at }} + interval 7 day, false) as integer) as opened_within_7d,
    cast(coalesce({{ outcomes }}.clicked_at < {{ sent_at }} + interval 7 day, false) as integer) as clicked_within_7d,
    -- the "action" the email asks for (a viewing booked, a document signed), after a click
    cast(coalesce({{ outcomes }}.acted_at < {{ sent_at }} + interval 7 day, false) as integer) as acted_within_7d,
    {{ sent_at }} + interval 7 day <= cast({{ data_end }} as timestamp) as label_complete
{%- endmacro %}
