"""The steps of a run, each a plain function that Airflow tasks and the command line call alike."""
