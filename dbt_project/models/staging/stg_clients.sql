{{ config(materialized='incremental', unique_key='client_id', incremental_strategy='delete+insert') }}
-- One row per client: its latest CRM record (latest landing file, then latest loaded). A window
-- rebuilds the clients whose records landed in it, from all their versions: a re-run of an old day
-- never brings back a version a later file replaced.
select
    client_id,
    signup_date,
    client_type,
    property_value_bracket,
    transaction_stage,
    geographic_region,
    timezone,
    preferred_communication,
    age_group,
    client_value_tier,
    client_type || '_' || property_value_bracket as segment,
    _loaded_at as loaded_at
from {{ source('raw', 'clients') }}
{% if incremental_window() %}
where client_id in (select client_id from {{ source('raw', 'clients') }} where {{ landing_filter() }})
{% endif %}
qualify row_number() over (
    partition by client_id order by _landing_date desc nulls last, _loaded_at desc, _row_number desc
) = 1
