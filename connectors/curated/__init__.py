"""The curated city safety database: clean records, run state, quarantine and delivery ledgers."""
