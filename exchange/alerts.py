"""Alerts to the people on duty: a task that failed for good, a nightly run not done by 06:00.

Both go out through Airflow's own notifiers (the SMTP and HTTP providers), on whichever of the connections
`alert_smtp` and `alert_webhook` is defined; with neither, the alert is only logged. The message names the
DAG, the run, the task and where its log is: never a record, so never personal data, and never a secret.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Mapping
from html import escape
from typing import Any

from airflow.sdk import BaseNotifier

from exchange import settings
from exchange.orchestration import TIMEZONE

SMTP_CONNECTION = "alert_smtp"
WEBHOOK_CONNECTION = "alert_webhook"
# The nightly run starts at 02:00 and must be done by 06:00 Shanghai time, when the offices read the report.
NIGHTLY_DEADLINE_AFTER = dt.timedelta(hours=4)

log = logging.getLogger(__name__)


def alert_fields(context: Any, event: str) -> dict[str, str]:
    """What an alert says, from the Airflow context: identifiers and times only.

    A task callback's context holds objects; a deadline callback's, run in the triggerer, holds the DAG run
    as the REST API's JSON (`dag_run_id`, `logical_date` as text): both are read.
    """
    dag_run = context.get("dag_run")
    ti = context.get("ti") or context.get("task_instance")
    return {
        "event": event,
        "dag_id": _text(_first(context.get("dag"), "dag_id") or _first(dag_run, "dag_id")),
        "run_id": _text(_first(dag_run, "run_id", "dag_run_id") or context.get("run_id")),
        "task_id": _text(_first(ti, "task_id")),
        "try_number": _text(_first(ti, "try_number")),
        "logical_date": _shanghai(_first(dag_run, "logical_date") or context.get("logical_date")),
        "log_url": _text(_first(ti, "log_url")),
    }


def _first(holder: Any, *names: str) -> Any:
    """The first non-empty of the named attributes (or keys, for a mapping) of holder."""
    for name in names:
        value = holder.get(name) if isinstance(holder, Mapping) else getattr(holder, name, None)
        if value not in (None, ""):
            return value
    return None


def _is_backfill(dag_run: Any) -> bool:
    run_type = _first(dag_run, "run_type")
    run_id = _text(_first(dag_run, "run_id", "dag_run_id"))
    return getattr(run_type, "value", run_type) == "backfill" or run_id.startswith("backfill__")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _shanghai(moment: Any) -> str:
    import pendulum

    if isinstance(moment, str):
        moment = pendulum.parse(moment)
    if not isinstance(moment, dt.datetime):
        return ""
    return pendulum.instance(moment).in_timezone(TIMEZONE).strftime("%Y-%m-%d %H:%M:%S")


SUBJECTS = {
    "task_failed": "【安全数据交换】任务失败：{dag_id} / {task_id}",
    "deadline_missed": "【安全数据交换】夜间任务未在 06:00 前完成：{dag_id}",
}


def alert_text(fields: dict[str, str]) -> tuple[str, str]:
    """The subject and the plain-text body of an alert."""
    subject = SUBJECTS[fields["event"]].format(**fields)
    labels = {
        "dag_id": "DAG", "run_id": "运行", "task_id": "任务", "try_number": "尝试次数",
        "logical_date": "逻辑日期（北京时间）", "log_url": "日志",
    }  # fmt: skip
    body = "\n".join(f"{label}: {fields[key]}" for key, label in labels.items() if fields.get(key))
    return subject, body


def _connection_defined(conn_id: str) -> bool:
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return False
    return True


class RunAlertNotifier(BaseNotifier):
    """Send one alert by e-mail (connection `alert_smtp`) and webhook (`alert_webhook`), where defined.

    The e-mail's recipients are the SMTP connection's extra field `to` (a list or a comma-separated string).
    The webhook receives a JSON object with the fields of `alert_fields` plus `subject` and `text`.
    """

    def __init__(self, event: str = "task_failed", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if event not in SUBJECTS:
            raise ValueError(f"unknown alert event {event!r}; known: {', '.join(SUBJECTS)}")
        self.event = event

    def notify(self, context: Any) -> None:
        """Send the alert on every configured channel; a channel that fails does not stop the others."""
        if self.event == "deadline_missed" and _is_backfill(context.get("dag_run")):
            # Airflow gives a backfill's runs the nightly deadline too, though their 06:00 passed before they
            # were created: the night that is late is the scheduled one.
            log.info(
                "deadline of a backfill run not alerted: %s", alert_fields(context, self.event)["run_id"]
            )
            return
        fields = alert_fields(context, self.event)
        subject, text = alert_text(fields)
        sent = []
        for channel, send in ((SMTP_CONNECTION, self._send_email), (WEBHOOK_CONNECTION, self._send_webhook)):
            if not _connection_defined(channel):
                continue
            try:
                send(context, subject, text, fields)
                sent.append(channel)
            except Exception as error:  # an alert channel down must not hide the other one
                log.error("alert on %s failed: %s", channel, type(error).__name__)
        if not sent:
            log.warning(
                "alert not sent (define connection %s or %s): %s",
                SMTP_CONNECTION,
                WEBHOOK_CONNECTION,
                subject,
            )

    async def async_notify(self, context: Any) -> None:
        """Deadline alerts run in the triggerer, which awaits notifiers: send from a worker thread there."""
        await asyncio.to_thread(self.notify, context)

    @staticmethod
    def _send_email(context: Any, subject: str, text: str, fields: dict[str, str]) -> None:
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier
        from airflow.sdk import BaseHook

        to = BaseHook.get_connection(SMTP_CONNECTION).extra_dejson.get("to") or []
        recipients = [address.strip() for address in to.split(",")] if isinstance(to, str) else list(to)
        if not recipients:
            raise ValueError(f"connection {SMTP_CONNECTION} names no recipient (extra field 'to')")
        html = "<pre>" + escape(text) + "</pre>"
        # The text is final: an empty context keeps the notifier's Jinja rendering from reading anything into it.
        SmtpNotifier(to=recipients, subject=subject, html_content=html, smtp_conn_id=SMTP_CONNECTION).notify(
            {}
        )

    @staticmethod
    def _send_webhook(context: Any, subject: str, text: str, fields: dict[str, str]) -> None:
        from airflow.providers.http.notifications.http import HttpNotifier

        payload = {**fields, "subject": subject, "text": text}
        HttpNotifier(http_conn_id=WEBHOOK_CONNECTION, json=payload).notify({})


def nightly_deadline() -> Any:
    """The nightly run's deadline alert: not done four hours after its 02:00 logical date (None when off)."""
    from airflow.sdk.definitions.callback import AsyncCallback
    from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference

    if not settings.deadline_alerts():
        return None
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_LOGICAL_DATE,
        interval=NIGHTLY_DEADLINE_AFTER,
        callback=AsyncCallback(RunAlertNotifier, kwargs={"event": "deadline_missed"}),
        name="nightly_done_by_0600",
    )
