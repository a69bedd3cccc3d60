{#
  Daily incremental builds.

  A build given the vars min_date and max_date (ISO dates: min_date inclusive, max_date exclusive,
  i.e. a Dagster partition's time window; the day 2025-09-01 is min_date 2025-09-01, max_date
  2025-09-02) rebuilds only what the landing files named for [min_date, max_date) can have changed.
  Without the vars, the environment variables ROI_DBT_MIN_DATE and ROI_DBT_MAX_DATE give the window
  (Dagster's runs use them: a new window in the vars would re-parse the whole project, one in the
  environment only the files that read it while parsing; empty means no window).
  Files may arrive up to lookback_days (var, default 3) after the day they are named for, so the
  files named for the lookback_days before min_date are read again; re-reading is idempotent.

  Without a window, on a model's first build and with --full-refresh, every model is built from all
  of raw. Builds are expected day after day (or as one range): a partition recomputes the rows of
  its days, so correcting an old day means rebuilding from that day to the latest in one range.

  What a window rebuilds:
  - staging: the rows of the landing files read (events not yet staged; the latest version of
    every client, subscription or index row that landed again);
  - downstream: every row dated in [rebuild_from(), max_date), where rebuild_from() is the earliest
    day any re-read row happened on, and every row of a changed client (one whose CRM or billing
    record landed in the window: attributes, time zone, cancellation apply to its whole history).
    Models whose rows also depend on later days (labels) add those rows themselves.
#}

{% macro incremental_window() %}
    {#- The window's bounds as ISO dates, or none when the model is built whole. -#}
    {{ return(window_vars() if is_incremental() else none) }}
{% endmacro %}


{% macro window_vars() %}
    {#- The window the vars (or the environment) give, whether or not the node is an incremental
        model (data tests check the rows a windowed build wrote); none without a window. -#}
    {%- set min_date = var('min_date', env_var('ROI_DBT_MIN_DATE', '') or none) -%}
    {%- set max_date = var('max_date', env_var('ROI_DBT_MAX_DATE', '') or none) -%}
    {%- if (min_date is none) != (max_date is none) -%}
        {{ exceptions.raise_compiler_error("min_date and max_date are given together, or neither") }}
    {%- endif -%}
    {%- if min_date is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set start = modules.datetime.date.fromisoformat(min_date | string) -%}
    {%- set end = modules.datetime.date.fromisoformat(max_date | string) -%}
    {%- if end <= start -%}
        {{ exceptions.raise_compiler_error("max_date (exclusive) must be after min_date") }}
    {%- endif -%}
    {%- set lookback = modules.datetime.timedelta(days=var('lookback_days', 3) | int) -%}
    {{ return({
        'min_date': start.isoformat(),
        'max_date': end.isoformat(),
        'landing_from': (start - lookback).isoformat(),
    }) }}
{% endmacro %}


{% macro rebuild_window() %}
    {#- incremental_window() for models downstream of staging. While parsing, it names the raw
        sources that rebuild_from() and changed_clients() read, so that those models depend on
        them whichever branch they render. -#}
    {%- if not execute -%}
        {%- do rebuild_from() -%}
        {%- do changed_clients() -%}
    {%- endif -%}
    {{ return(incremental_window()) }}
{% endmacro %}


{% macro landing_filter(column='_landing_date') %}
    {#- Raw rows of the landing files the window reads; every row when built whole. -#}
    {%- set window = incremental_window() -%}
    {%- if window -%}
        ({{ column }} >= date '{{ window.landing_from }}' and {{ column }} < date '{{ window.max_date }}')
    {%- else -%}
        true
    {%- endif -%}
{% endmacro %}


{% macro rebuild_from() %}
    {#- The first day downstream rows are rebuilt from: the window's first landing day, or the
        earliest day a row in the files read happened on (a late webhook, a late file). The raw
        sources are named outside the branch so that every model using it depends on them. -#}
    {%- set sources = [
        (source('raw', 'user_events'), 'occurred_at'),
        (source('raw', 'email_sends'), 'sent_at'),
        (source('raw', 'email_events'), 'occurred_at'),
    ] -%}
    {%- set window = incremental_window() -%}
    {%- if not window or not execute -%}
        {{ return("date '1900-01-01'") }}
    {%- endif -%}
    {%- set query -%}
        select cast(least(date '{{ window.landing_from }}',
            {%- for relation, happened_at in sources %}
            (select min(cast({{ happened_at }} as date)) from {{ relation }} where {{ landing_filter() }})
            {{- "," if not loop.last }}
            {%- endfor %}
        ) as varchar)
    {%- endset -%}
    {{ return("date '" ~ run_query(query).columns[0].values()[0] ~ "'") }}
{% endmacro %}


{% macro changed_clients() %}
    {#- The clients whose CRM or billing record landed in the window, as a subquery. -#}
    {%- set clients = source('raw', 'clients') -%}
    {%- set subscriptions = source('raw', 'subscriptions') -%}
    (select client_id from {{ clients }} where {{ landing_filter() }}
     union
     select client_id from {{ subscriptions }} where {{ landing_filter() }})
{%- endmacro %}


{% macro in_rebuilt_days(day, client=none) %}
    {#- Whether a row is rebuilt: its day (a date or timestamp expression) falls in
        [rebuild_from(), max_date), or it belongs to a changed client. Always true when built whole. -#}
    {%- if rebuild_window() -%}
        ({{ in_rebuilt_range(day) }}
        {%- if client %} or {{ client }} in {{ changed_clients() }}{% endif %})
    {%- else -%}
        true
    {%- endif -%}
{% endmacro %}


{% macro in_rebuilt_range(day) %}
    {#- Whether a row's day falls in [rebuild_from(), max_date); only with a window. -#}
    ({{ day }} >= {{ rebuild_from() }} and {{ day }} < date '{{ rebuild_window().max_date }}')
{%- endmacro %}


{% macro rebuilt_rows(relation, day, client='client_id') %}
    {#- The rows of a (large) upstream relation that in_rebuilt_days() selects, as a subquery: the
        rebuilt days and the changed clients' other days apart, so that the days' range reaches
        the scan (a relation kept in day order then reads only those days). The changed clients'
        rows are spread over every row group: they are found on the key columns alone and fetched
        by row id, which DuckDB's scan then reads for those rows only (the whole rows of a wide
        table read for a few hundred clients took ten times longer at 100,000 clients). `day`
        is never null. The relation itself when built whole. -#}
    {%- if rebuild_window() -%}
        {%- set in_days = in_rebuilt_range(day) -%}
        (select * from {{ relation }} where {{ in_days }}
         union all
         select * from {{ relation }} where rowid in {{ changed_client_rowids(relation, day, client) }})
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{% endmacro %}


{% macro changed_client_rowids(relation, day, client='client_id') %}
    {#- The row ids of the changed clients' rows outside the rebuilt days, as a subquery: found on
        the key columns alone (see rebuilt_rows()). Only with a window. -#}
    (select rowid from {{ relation }}
     where {{ client }} in {{ changed_clients() }} and not {{ in_rebuilt_range(day) }})
{%- endmacro %}


{#- Incremental strategy for tables whose rows can disappear (a cancellation ends a client's days, a
    late first open moves an open to another day): the rebuilt rows, by the model's
    `window_column` and client_id, are deleted whether or not they still exist, rows rebuilt outside
    those days (labels, revised context) replace their old version by unique_key, and the new rows
    are inserted. Built whole (no vars), it replaces the whole table. -#}
{% macro get_incremental_replace_window_sql(arg_dict) %}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set keys = arg_dict['unique_key'] -%}
    {%- set keys = [keys] if keys is string else keys -%}
    {%- set dest_cols_csv = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set window_column = config.get('window_column') -%}
    {%- if not window_column or not keys -%}
        {{ exceptions.raise_compiler_error("replace_window needs the window_column and unique_key configs") }}
    {%- endif -%}
    {%- if not rebuild_window() %}
    delete from {{ target }};
    {%- else -%}
    {%- set in_days = in_rebuilt_range(window_column) -%}
    {#- by row id, the days apart from the changed clients' other rows: see rebuilt_rows() #}
    delete from {{ target }} where rowid in (
        select rowid from {{ target }} where {{ in_days }}
        union all
        select * from {{ changed_client_rowids(target, window_column) }}
    );

    {#- only the new rows outside what was just deleted can meet an old version; most windows
        have none, and DuckDB then skips the join's scan of the whole target #}
    delete from {{ target }} as old_rows
    using (
        select * from {{ source }} where not {{ in_rebuilt_days(window_column, 'client_id') }}
    ) as new_rows
    where {% for key in keys %}old_rows.{{ key }} = new_rows.{{ key }}{{ " and " if not loop.last }}{% endfor %};
    {%- endif %}

    insert into {{ target }} ({{ dest_cols_csv }})
    select {{ dest_cols_csv }} from {{ source }}
{% endmacro %}
