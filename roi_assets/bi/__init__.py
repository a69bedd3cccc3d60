"""The BI starter: a read-only Streamlit dashboard over the BI copy (`data/bi.duckdb`)."""
