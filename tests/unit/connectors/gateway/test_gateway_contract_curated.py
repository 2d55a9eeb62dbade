"""Contract: every curated record the pipeline builds from a generated legacy database makes a valid payload."""

import datetime as dt

import sqlalchemy as sa

from catalog import default_catalog
from connectors.gateway.payloads import ContractSchemas, CuratedRecord, batches, push_record, receiver_mapping
from exchange import state
from exchange.context import RunContext
from exchange.pipeline import run_pipeline
from sandbox.legacy import generate_legacy

# The gateway resources the pipeline builds from legacy tables (licences and hazchem_enterprises are built
# from other curated resources, by their own step).
BUILT = ["cases", "industry_enterprises", "integrity_declarations"]
CATALOG = default_catalog()


def test_every_curated_record_makes_a_valid_payload(use_connections, tmp_path):
    urls = {name: f"sqlite:///{tmp_path / name}.db" for name in ("legacy", "curated", "exchange")}
    generate_legacy(urls["legacy"], scale=0.01, seed=11)
    use_connections(
        legacy_supervision=urls["legacy"], curated=urls["curated"], bigdata_centre=urls["exchange"]
    )
    run_pipeline(RunContext(run_id="run-1", logical_date=dt.date(2026, 11, 28)), BUILT)
    engine = sa.create_engine(urls["curated"])
    for name in BUILT:
        resource = CATALOG.resource(name)
        (receiver,) = resource.receivers.keys() - {"bigdata_centre"}
        target, _ = receiver_mapping(resource, receiver)
        with engine.connect() as conn:
            rows = list(conn.execute(sa.select(state.curated(resource))))
        assert rows, f"the pipeline curated no {name}"
        records = [push_record(resource, receiver, CuratedRecord.from_row(resource, r)) for r in rows]
        sent = 0
        for number, batch in enumerate(batches(records)):
            ContractSchemas.of(CATALOG).check_batch(target, {"batchId": f"b-{number}", "records": batch})
            sent += len(batch)
        assert sent == len(rows)
    engine.dispose()
