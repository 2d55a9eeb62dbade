"""The legacy supervision database, read as a stream of Arrow record batches."""
