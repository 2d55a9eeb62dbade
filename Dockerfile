# The project's Airflow image: the official Airflow 3.3 image with this package installed into it.
FROM apache/airflow:3.3.2-python3.11

COPY --chown=airflow:root setup.cfg pyproject.toml README.md /opt/sdx/
COPY --chown=airflow:root catalog /opt/sdx/catalog
COPY --chown=airflow:root schemas /opt/sdx/schemas
COPY --chown=airflow:root quality /opt/sdx/quality
COPY --chown=airflow:root connectors /opt/sdx/connectors
COPY --chown=airflow:root exchange /opt/sdx/exchange
COPY --chown=airflow:root sandbox /opt/sdx/sandbox
RUN pip install --no-cache-dir "/opt/sdx"
COPY --chown=airflow:root dags /opt/airflow/dags
# Mount points of the named volumes (docker-compose.yml): a new volume takes the owner of its mount point.
USER root
RUN install -d -o airflow -g root /opt/sdx-data /opt/sandbox
USER airflow
