{{ config(
    materialized='incremental',
    unique_key=['geographic_region', 'week_start'],
    incremental_strategy='delete+insert',
) }}
-- One row per region and week; the feed repeats recent weeks, the latest delivery wins. A window
-- rebuilds the weeks that landed in it, from all their deliveries.
select geographic_region, week_start, volatility_index, _loaded_at as loaded_at
from {{ source('raw', 'market_index') }}
{% if incremental_window() %}
where (geographic_region, week_start) in (
    select geographic_region, week_start from {{ source('raw', 'market_index') }} where {{ landing_filter() }}
)
{% endif %}
qualify row_number() over (
    partition by geographic_region, week_start order by _landing_date desc nulls last, _loaded_at desc, _row_number desc
) = 1
