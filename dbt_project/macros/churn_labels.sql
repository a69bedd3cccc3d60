{# Whether a client active at `snapshot` cancelled within 30, 60 and 90 days of it, as the select
   list's three label columns; NULL until the data's end (`data_end`) reaches the horizon. #}
{% macro churn_labels(snapshot, cancelled_date, data_end) -%}
    {% for horizon in [30, 60, 90] %}
    case
        when {{ snapshot }} + {{ horizon }} <= {{ data_end }}
            then cast(coalesce({{ cancelled_date }} <= {{ snapshot }} + {{ horizon }}, false) as integer)
    end as churned_within_{{ horizon }}d{{ "," if not loop.last }}
    {% endfor %}
{%- endmacro %}
