-- One row per client: the most recently loaded version of each CRM record.
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
qualify row_number() over (partition by client_id order by _loaded_at desc, _row_number desc) = 1
