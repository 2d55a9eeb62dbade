"""Alerts go out by real SMTP and HTTP, on the connections defined, and carry no secret."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import socket
import threading
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import ClassVar

import pytest
from aiosmtpd.controller import Controller

from exchange.alerts import NIGHTLY_DEADLINE_AFTER, RunAlertNotifier, alert_fields, nightly_deadline

SECRET = "s3cr3t-Pa55"  # noqa: S105 - a test credential, to prove it never leaks


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(monkeypatch):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    extra = json.dumps({"to": "duty@example.org, second@example.org", "disable_tls": True, "disable_ssl": True,
                        "from_email": "sdx@example.org", "retry_limit": 1})  # fmt: skip
    monkeypatch.setenv(
        "AIRFLOW_CONN_ALERT_SMTP",
        json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": controller.port, "extra": extra}),
    )
    yield inbox
    controller.stop()


class Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        Hook.received.append({"path": self.path, "body": json.loads(self.rfile.read(length))})
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def webhook_connection(url: str) -> str:
    return json.dumps({"conn_type": "http", "host": url, "login": "duty", "password": SECRET})


@pytest.fixture
def webhook_server(monkeypatch):
    Hook.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv(
        "AIRFLOW_CONN_ALERT_WEBHOOK", webhook_connection(f"http://127.0.0.1:{server.server_port}/alert")
    )
    yield Hook.received
    server.shutdown()


def task_context() -> dict:
    logical = dt.datetime(2026, 11, 28, 18, 0, tzinfo=dt.UTC)  # 02:00 in Shanghai
    return {
        "dag": SimpleNamespace(dag_id="nightly_sync"),
        "dag_run": SimpleNamespace(run_id="scheduled__2026-11-28T18:00:00+00:00", logical_date=logical),
        "ti": SimpleNamespace(task_id="deliver", try_number=3, log_url="http://airflow.local/log?x=1"),
    }


def test_failure_alert_is_mailed_to_every_recipient(smtp_server):
    RunAlertNotifier().notify(task_context())

    assert len(smtp_server.messages) == 1
    mail = message_from_bytes(smtp_server.messages[0])
    assert "任务失败：nightly_sync / deliver" in str(make_header(decode_header(mail["Subject"])))
    assert {"duty@example.org", "second@example.org"} <= {
        address.strip() for address in mail["To"].split(",")
    }


def test_failure_alert_posts_the_run_to_the_webhook_without_its_credentials(webhook_server):
    RunAlertNotifier().notify(task_context())

    assert len(webhook_server) == 1
    body = webhook_server[0]["body"]
    assert webhook_server[0]["path"] == "/alert"
    assert body["dag_id"] == "nightly_sync"
    assert body["task_id"] == "deliver"
    assert body["logical_date"] == "2026-11-29 02:00:00"
    assert SECRET not in json.dumps(body)


def test_a_channel_that_is_down_does_not_stop_the_other(smtp_server, monkeypatch, caplog):
    monkeypatch.setenv(
        "AIRFLOW_CONN_ALERT_WEBHOOK", webhook_connection("http://127.0.0.1:9/alert")
    )  # nobody listens
    with caplog.at_level(logging.ERROR):
        RunAlertNotifier().notify(task_context())

    assert len(smtp_server.messages) == 1
    assert "alert on alert_webhook failed" in caplog.text
    assert SECRET not in caplog.text


def test_without_alert_connections_the_alert_is_logged(monkeypatch, caplog):
    monkeypatch.delenv("AIRFLOW_CONN_ALERT_SMTP", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_ALERT_WEBHOOK", raising=False)
    with caplog.at_level(logging.WARNING):
        RunAlertNotifier().notify(task_context())
    assert "alert not sent" in caplog.text
    assert "nightly_sync" in caplog.text


def test_deadline_context_from_the_triggerer_is_read():
    """The triggerer passes the DAG run as the REST API's JSON, not as an object."""
    context = {
        "dag_run": {
            "dag_id": "nightly_sync",
            "dag_run_id": "scheduled__x",
            "logical_date": "2026-11-28T18:00:00Z",
        },
        "deadline": {"id": "1", "deadline_time": "2026-11-28T22:00:00Z"},
    }
    fields = alert_fields(context, "deadline_missed")
    assert (fields["dag_id"], fields["run_id"], fields["logical_date"]) == (
        "nightly_sync", "scheduled__x", "2026-11-29 02:00:00",
    )  # fmt: skip


def test_deadline_alert_is_awaitable_as_the_triggerer_runs_it(webhook_server):
    context = {
        "dag_run": {"dag_id": "nightly_sync", "dag_run_id": "r1", "logical_date": "2026-11-28T18:00:00Z"}
    }

    async def triggerer() -> None:
        await RunAlertNotifier(event="deadline_missed", context=context)

    asyncio.run(triggerer())

    assert webhook_server[0]["body"]["subject"] == "【安全数据交换】夜间任务未在 06:00 前完成：nightly_sync"


def test_a_backfill_run_past_its_deadline_alerts_nobody(webhook_server):
    # Airflow gives backfill runs of past nights the same deadline: long gone when they are created.
    night = {"dag_id": "nightly_sync", "logical_date": "2026-10-31T18:00:00Z"}
    backfill = night | {"dag_run_id": "backfill__2026-10-31T18:00:00+00:00", "run_type": "backfill"}
    RunAlertNotifier(event="deadline_missed").notify({"dag_run": backfill})
    assert webhook_server == []
    scheduled = night | {"dag_run_id": "scheduled__2026-10-31T18:00:00+00:00", "run_type": "scheduled"}
    RunAlertNotifier(event="deadline_missed").notify({"dag_run": scheduled})
    assert len(webhook_server) == 1


def test_nightly_deadline_is_four_hours_after_the_0200_logical_date():
    alert = nightly_deadline()
    assert alert.interval == NIGHTLY_DEADLINE_AFTER == dt.timedelta(hours=4)
    assert alert.callback.kwargs == {"event": "deadline_missed"}
    assert alert.callback.path == "exchange.alerts.RunAlertNotifier"


def test_unknown_event_is_refused():
    with pytest.raises(ValueError, match="unknown alert event"):
        RunAlertNotifier(event="on_fire")


def test_deadline_alerts_can_be_turned_off_for_dags_test(monkeypatch):
    monkeypatch.setenv("SDX_DEADLINE_ALERTS", "off")
    assert nightly_deadline() is None
