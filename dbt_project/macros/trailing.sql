{# Sum of a cumulated daily column over the `days` days before a cut-off, from two joined rows of
   int_client_daily_cumulative: `recent` (the day before the cut-off) and `older` (days earlier). #}
{% macro trailing(column, recent, older) -%}
    (coalesce({{ recent }}.cum_{{ column }}, 0) - coalesce({{ older }}.cum_{{ column }}, 0))
{%- endmacro %}

{# The `index`-th (0, 1, 2 from the left) of three 21-bit counts packed into one bigint. #}
{% macro unpacked_count(packed, index) -%}
    cast(({{ packed }} >> {{ 42 - 21 * index }}) & 2097151 as bigint)
{%- endmacro %}
