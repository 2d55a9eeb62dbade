"""The city big-data centre's exchange database (前置库), written per contracts/README.md section 1."""
