{#
  Every listed column is non-null: one row per column that holds NULLs, with how many.

  dbt's `not_null` is one node per column, each with its own query, its own per-node overhead
  (about 40 ms in dbt) and its own asset check in Dagster (three events in its event log). The
  feature tables' 74 feature columns made the daily build's tests cost as much as its models; one
  test per table reads the same columns in one query and still names the column that failed.
#}
{% test not_null_columns(model, columns) %}
{% for column in columns %}
select '{{ column }}' as column_name, count(*) as null_rows
from {{ model }}
where {{ column }} is null
having count(*) > 0
{% if not loop.last %}union all{% endif %}
{% endfor %}
{% endtest %}
