select geographic_region, week_start, volatility_index, _loaded_at as loaded_at
from {{ source('raw', 'market_index') }}
qualify row_number() over (partition by geographic_region, week_start order by _loaded_at desc) = 1
