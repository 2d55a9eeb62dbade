"""What every SQL connector shares: a SQLAlchemy engine built from an Airflow connection."""
