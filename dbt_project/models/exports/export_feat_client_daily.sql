-- features.feat_client_daily as Parquet where Dask workers read it (roi_assets.distributed.partitions): the
-- folder or s3:// prefix of ROI_FEATURE_EXPORT_DIR. Built on demand (tag export), not daily.
{{ config(materialized='external', location=export_location('feat_client_daily')) }}
select * from {{ ref('feat_client_daily') }}
