"""The gateway hook: one receiver (service network or a provincial platform) on its Airflow connection."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from airflow.sdk import BaseHook

from catalog import Catalog, default_catalog
from connectors.gateway.payloads import (
    MAX_BYTES,
    MAX_RECORDS,
    ContractSchemas,
    CuratedRecord,
    PayloadError,
    PushRecord,
    push_record,
    receiver_mapping,
)
from connectors.gateway.signing import encode_body
from connectors.gateway.transport import GatewayError, RetryPolicy, Transport, limiter_for
from schemas.canonical import sorted_lines_digest

MAX_REQUEST_ID = 64
# Batches in flight at once: two keep the receiver busy while the next is checked, encoded and signed.
DEFAULT_IN_FLIGHT = 2


@dataclass(frozen=True)
class Rejection:
    """A record the receiver refused, with its code (E1001, E1003, E1004) and reason."""

    record_id: str
    code: str
    reason: str


@dataclass(frozen=True)
class PushOutcome:
    """The receiver's answer to one batch: accepted ids, rejections, and ids it did not mention."""

    batch_id: str
    receipt_id: str
    accepted: tuple[str, ...]
    rejected: tuple[Rejection, ...]
    unanswered: tuple[str, ...]


@dataclass(frozen=True)
class LedgerSummary:
    """What the receiver holds of a resource: live and deleted counts, SM3 over the live `id:digest` lines."""

    live: int
    deleted: int
    digest: str

    def agrees_with(self, live: Iterable[tuple[str, str]]) -> bool:
        """Whether the receiver holds exactly these live `(record id, digest)` pairs (no page need be read)."""
        pairs = list(live)
        return self.live == len(pairs) and self.digest == sorted_lines_digest(pairs)


@dataclass(frozen=True)
class LedgerEntry:
    """One record as the receiver holds it."""

    record_id: str
    seq: int
    op: str
    digest: str
    received_at: str


class GatewayHook(BaseHook):
    """A gateway receiver: base URL = host, app key = login, app secret = password of its connection.

    Connection extra (all optional): `rate_limit` requests/s (default: the contract's rate of the receiver),
    `ca_bundle` path of the CA certificates to trust, `connect_timeout` and `timeout` seconds, `retries`
    (attempts per call), `backoff` (first backoff in seconds), `in_flight` (batches a delivery sends at once).
    """

    conn_name_attr: ClassVar[str] = "conn_id"
    default_conn_name: ClassVar[str] = "service_network"
    conn_type: ClassVar[str] = "http"
    hook_name: ClassVar[str] = "Government API gateway"

    def __init__(self, conn_id: str | None = None, catalog: Catalog | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id or self.default_conn_name
        self.catalog = catalog or default_catalog()
        self._transport: Transport | None = None
        self._transport_lock = threading.Lock()

    def get_conn(self) -> Transport:
        """The receiver's transport, configured from the connection on first use (one, whatever the threads)."""
        with self._transport_lock:
            if self._transport is None:
                self._transport = self._new_transport()
            return self._transport

    def _new_transport(self) -> Transport:
        conn = self.get_connection(self.conn_id)
        extra = conn.extra_dejson
        host = conn.host or ""
        if not host or not conn.login or not conn.password:
            raise GatewayError(f"connection {self.conn_id} needs host (base URL), login (app key), password")
        base_url = host if "://" in host else f"{conn.schema or 'https'}://{host}"
        if conn.port and "://" not in host:
            base_url += f":{conn.port}"
        # The rate the receiver grants (catalog.yaml `gateway_rates`); the connection extra may lower it.
        rate = float(extra.get("rate_limit") or self.catalog.settings["gateway_rates"][self.conn_id])
        defaults = RetryPolicy()
        return Transport(
            self.conn_id,
            base_url,
            conn.login,
            conn.password,
            limiter=limiter_for(self.conn_id, rate),
            retry=RetryPolicy(
                attempts=int(extra.get("retries", defaults.attempts)),
                base=float(extra.get("backoff", defaults.base)),
            ),
            timeout=(float(extra.get("connect_timeout", 5.0)), float(extra.get("timeout", 30.0))),
            verify=extra.get("ca_bundle") or True,
        )

    def batches_in_flight(self) -> int:
        """How many batches a delivery sends at once (extra `in_flight`, default 2): one built while one flies."""
        extra = self.get_connection(self.conn_id).extra_dejson
        return max(1, int(extra.get("in_flight", DEFAULT_IN_FLIGHT)))

    def test_connection(self) -> tuple[bool, str]:
        """Fetch a token; never raises, and the message never holds a credential."""
        try:
            transport = self.get_conn()
            transport.tokens.get()
        except Exception as exc:  # any failure is a failed test, reported as text
            return False, f"{type(exc).__name__}: {exc}"
        return True, f"token granted by {transport.base_url}"

    def gateway_resource(self, resource: str) -> str:
        """The gateway's name for catalogue resource `resource` at this receiver."""
        return receiver_mapping(self.catalog.resource(resource), self.conn_id)[0]

    def build_records(
        self, resource: str, records: Iterable[CuratedRecord], held: Collection[str] = ()
    ) -> list[PushRecord]:
        """Push records of curated `records`; ids in `held` are ones the receiver already has (op U)."""
        res = self.catalog.resource(resource)
        return [push_record(res, self.conn_id, r, held=r.record_id in held) for r in records]

    def push(self, resource: str, records: Sequence[PushRecord], request_id: str) -> PushOutcome:
        """Send one batch under `request_id` (also its batch id): the same id after a crash resends safely."""
        if not 0 < len(request_id) <= MAX_REQUEST_ID:
            raise ValueError(f"a request id has 1 to {MAX_REQUEST_ID} characters")
        target = self.gateway_resource(resource)
        body = {"batchId": request_id, "records": list(records)}
        encoded = encode_body(body)  # once: measured here, sent and signed as is
        if len(body["records"]) > MAX_RECORDS or len(encoded) > MAX_BYTES:
            raise PayloadError(
                f"batch {request_id} of {resource} exceeds {MAX_RECORDS} records or {MAX_BYTES} bytes",
                record_id="",
                schema_path="PushRequest/properties/records",
            )
        ContractSchemas.of(self.catalog).check_batch(target, body)
        data = self.get_conn().call("POST", f"/api/v1/push/{target}", request_id=request_id, body=encoded)
        data = data if isinstance(data, dict) else {}
        accepted = tuple(str(a) for a in data.get("accepted") or [])
        rejected = tuple(
            Rejection(str(r.get("recordId")), str(r.get("errorCode")), str(r.get("reason")))
            for r in data.get("rejected") or []
            if isinstance(r, dict)
        )
        answered = set(accepted) | {r.record_id for r in rejected}
        return PushOutcome(
            batch_id=str(data.get("batchId", request_id)),
            receipt_id=str(data.get("receiptId", "")),
            accepted=accepted,
            rejected=rejected,
            unanswered=tuple(dict.fromkeys(r["recordId"] for r in records if r["recordId"] not in answered)),
        )

    def ledger_summary(self, resource: str) -> LedgerSummary:
        """The receiver's summary of `resource`."""
        target = self.gateway_resource(resource)
        data = self.get_conn().call("GET", f"/api/v1/ledger/{target}/summary", request_id=uuid.uuid4().hex)
        return LedgerSummary(live=int(data["live"]), deleted=int(data["deleted"]), digest=str(data["digest"]))

    def ledger_pages(self, resource: str, page_size: int = 1000) -> Iterator[list[LedgerEntry]]:
        """The receiver's ledger of `resource`, page by page in record-id order, until every record is read."""
        target = self.gateway_resource(resource)
        page, seen = 1, 0
        while True:
            data = self.get_conn().call(
                "GET",
                f"/api/v1/ledger/{target}",
                request_id=uuid.uuid4().hex,
                query={"page": page, "pageSize": page_size},
            )
            rows = data.get("records") or []
            if not rows:
                return
            yield [
                LedgerEntry(
                    str(r["recordId"]), int(r["seq"]), str(r["op"]), str(r["digest"]), str(r["receivedAt"])
                )
                for r in rows
            ]
            seen += len(rows)
            if seen >= int(data.get("total", 0)):
                return
            page += 1

    def close(self) -> None:
        """Close the transport's connections."""
        if self._transport is not None:
            self._transport.close()
            self._transport = None
