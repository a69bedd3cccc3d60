{# Where an exported feature table is written: ROI_FEATURE_EXPORT_DIR (a shared folder or an
   s3:// prefix; roi_assets.settings.feature_export_dir passes it), <table>.parquet inside. #}
{% macro export_location(table) -%}
    {{ env_var('ROI_FEATURE_EXPORT_DIR', '../data/feature_export').rstrip('/') }}/{{ table }}.parquet
{%- endmacro %}
