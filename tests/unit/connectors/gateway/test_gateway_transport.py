"""The gateway client against a real local HTTP server: retries, request ids, token renewal, rate limit, errors."""

import logging
import threading

import pytest
from scripted_gateway import APP_KEY, SECRET, Answer, envelope

from connectors.gateway.auth import Token, TokenCache, parse_token
from connectors.gateway.payloads import PayloadError
from connectors.gateway.transport import (
    ARRIVAL_ALLOWANCE,
    GatewayRefused,
    GatewayUnavailable,
    RateLimiter,
    TokenExpired,
    limiter_for,
)
from schemas.canonical import record_digest, sorted_lines_digest

DATA = {
    "caseNo": "SL-1", "itemCode": "11320400014110243T0101000", "itemName": "危险化学品生产企业安全生产许可",
    "applicantName": "常州示例化工有限公司", "applicantCode": "11320412MB0000043U", "divisionCode": "320412",
    "applyDate": "2026-11-02", "acceptDate": None, "status": "01", "finishDate": None, "result": None,
    "authorityName": "常州市应急管理局", "authorityCode": "11320400014110243T",
}  # fmt: skip


def records(n=2):
    return [
        {"recordId": f"case-{i}", "seq": 1, "op": "I", "digest": record_digest(DATA), "data": DATA}
        for i in range(n)
    ]


def no_credentials(gateway, caplog, *texts):
    """Neither the secret nor any token the server issued appears in a log record or the given texts."""
    secrets = [SECRET, *gateway.tokens]
    logged = [r.getMessage() for r in caplog.records] + [str(t) for t in texts]
    leaks = [s for s in secrets for line in logged if s in line]
    assert not leaks


@pytest.fixture(autouse=True)
def all_logs(caplog):
    caplog.set_level(logging.DEBUG)


def test_connection_fetches_a_signed_token(connect, gateway, caplog):
    ok, message = connect().test_connection()
    assert ok, message
    assert len(gateway.of("token")) == 1 and gateway.tokens
    no_credentials(gateway, caplog, message)


def test_connection_with_a_wrong_secret_says_so(connect, gateway, caplog):
    hook = connect(secret="not-the-secret")  # noqa: S106 - a wrong test credential
    ok, message = hook.test_connection()
    assert not ok
    assert "40102" in message and "app secret" in message
    assert "not-the-secret" not in message
    no_credentials(gateway, caplog, message)


def test_push_signed_and_token_cached(connect, gateway, caplog):
    hook = connect()
    outcome = hook.push("cases", records(3), "req-ok-1")
    assert (
        outcome.accepted == ("case-0", "case-1", "case-2") and not outcome.rejected and not outcome.unanswered
    )
    hook.push("cases", records(1), "req-ok-2")
    pushes = gateway.of("push")
    assert [p.headers["X-Request-Id"] for p in pushes] == ["req-ok-1", "req-ok-2"]
    assert pushes[0].json()["batchId"] == "req-ok-1"
    assert pushes[0].headers["Content-Type"] == "application/json"
    assert len(gateway.of("token")) == 1 and gateway.bad_signatures == 0
    no_credentials(gateway, caplog)


def assert_retried_with_same_request_id(gateway, count):
    pushes = gateway.of("push")
    assert len(pushes) == count
    assert {p.headers["X-Request-Id"] for p in pushes} == {"req-retry"}
    assert len({p.headers["X-Nonce"] for p in pushes}) == count
    assert len({p.body for p in pushes}) == 1
    assert gateway.bad_signatures == 0


@pytest.mark.parametrize(
    "failures",
    [
        [Answer(500, {"oops": 1})],
        [Answer(502, None), Answer(503, None), Answer(504, None)],
        [Answer(drop=True)],
        [Answer(200, envelope("50001", message="busy"))],
        [Answer(drop=True), Answer(200, envelope("50001")), Answer(500)],
    ],
    ids=["500", "502-503-504", "dropped", "busy-50001", "mixed"],
)
def test_transient_failures_are_retried_under_the_same_request_id(connect, gateway, caplog, failures):
    gateway.script["push"].extend(failures)
    outcome = connect().push("cases", records(2), "req-retry")
    assert outcome.accepted == ("case-0", "case-1")
    assert_retried_with_same_request_id(gateway, len(failures) + 1)
    no_credentials(gateway, caplog)


def test_retry_after_is_honoured(connect, gateway, caplog):
    gateway.script["push"].append(Answer(429, envelope("42900", message="slow down"), {"Retry-After": "1"}))
    connect().push("cases", records(1), "req-retry")
    first, second = gateway.of("push")
    assert second.at - first.at >= 0.95
    assert_retried_with_same_request_id(gateway, 2)


def test_slow_answer_beyond_the_timeout_is_retried(connect, gateway, caplog):
    gateway.script["push"].append(Answer(200, envelope(data={"accepted": []}), delay=1.5))
    outcome = connect(timeout=0.5).push("cases", records(1), "req-retry")
    assert outcome.accepted == ("case-0",)
    assert_retried_with_same_request_id(gateway, 2)


def test_gives_up_after_the_configured_attempts(connect, gateway, caplog):
    gateway.script["push"].extend([Answer(503)] * 3)
    with pytest.raises(GatewayUnavailable) as caught:
        connect(retries=3).push("cases", records(1), "req-retry")
    assert "req-retry" in str(caught.value) and "3 attempts" in str(caught.value)
    assert_retried_with_same_request_id(gateway, 3)
    no_credentials(gateway, caplog, caught.value)


def test_token_request_retried_with_a_fresh_nonce(connect, gateway, caplog):
    gateway.script["token"].extend([Answer(503), Answer(drop=True)])
    ok, message = connect().test_connection()
    assert ok, message
    tokens = gateway.of("token")
    assert len(tokens) == 3 and len({t.json()["nonce"] for t in tokens}) == 3
    no_credentials(gateway, caplog, message)


def test_expired_token_is_renewed_and_the_call_resent(connect, gateway, caplog):
    hook = connect()
    hook.push("cases", records(1), "req-a")
    gateway.script["push"].append(Answer(401, envelope("40101", message="token expired")))
    hook.push("cases", records(1), "req-retry")
    assert len(gateway.tokens) == 2
    tokens_used = [p.headers["Authorization"] for p in gateway.of("push")]
    assert tokens_used == [f"Bearer {gateway.tokens[0]}"] * 2 + [f"Bearer {gateway.tokens[1]}"]
    assert [p.headers["X-Request-Id"] for p in gateway.of("push")] == ["req-a", "req-retry", "req-retry"]
    no_credentials(gateway, caplog)


def test_a_token_refused_again_after_every_renewal_fails_after_the_retries(connect, gateway, caplog):
    # Tokens ending early now and then are renewed each time; one refused on every renewal is a real fault.
    gateway.script["push"].extend(Answer(401, envelope("40101", message="token expired")) for _ in range(3))
    with pytest.raises(TokenExpired):
        connect(retries=3).push("cases", records(1), "req-expiring")
    assert len(gateway.of("push")) == 3 and len(gateway.tokens) == 3
    gateway.script["push"].extend(Answer(401, envelope("40101", message="token expired")) for _ in range(3))
    connect(retries=4).push("cases", records(1), "req-renewed")
    no_credentials(gateway, caplog)


@pytest.mark.parametrize(
    ("status", "code", "words"),
    [
        (401, "40102", "bad signature"),
        (401, "40103", "clock"),
        (401, "40104", "nonce"),
        (400, "40000", "malformed"),
        (409, "40901", "request id reused"),
        (413, "41300", "too large"),
    ],
)
def test_client_errors_are_not_retried_and_say_what_is_wrong(connect, gateway, caplog, status, code, words):
    # The receiver's message quoting a credential must not carry it into the error.
    gateway.script["push"].append(Answer(status, envelope(code, message=f"refused {SECRET}")))
    with pytest.raises(GatewayRefused) as caught:
        connect().push("cases", records(1), "req-bad")
    text = str(caught.value)
    assert caught.value.code == code and caught.value.status == status
    assert words in text and "req-bad" in text and "cases" in text
    assert len(gateway.of("push")) == 1
    no_credentials(gateway, caplog, caught.value)


def test_per_record_rejections_are_returned(connect, gateway):
    answer = {
        "batchId": "req-rej", "receiptId": "rc-9", "accepted": ["case-0"],
        "rejected": [{"recordId": "case-1", "errorCode": "E1004", "reason": "同一序号摘要不同"}],
    }  # fmt: skip
    gateway.script["push"].append(Answer(body=envelope(data=answer)))
    outcome = connect().push("cases", records(3), "req-rej")
    assert outcome.receipt_id == "rc-9" and outcome.accepted == ("case-0",)
    assert [(r.record_id, r.code, r.reason) for r in outcome.rejected] == [
        ("case-1", "E1004", "同一序号摘要不同")
    ]
    assert outcome.unanswered == ("case-2",)


def test_invalid_payload_is_never_sent(connect, gateway):
    bad = records(1)[0] | {"data": DATA | {"divisionCode": "110101"}}
    bad["digest"] = record_digest(bad["data"])
    with pytest.raises(PayloadError) as caught:
        connect().push("cases", [*records(1), bad], "req-x")
    assert caught.value.record_id == "case-0" and "divisionCode" in caught.value.schema_path
    too_many = [r | {"recordId": f"c{i}"} for i, r in enumerate(records(1) * 501)]
    with pytest.raises(PayloadError, match="500"):
        connect().push("cases", too_many, "req-y")
    assert gateway.of("push") == []


def test_ledger_summary_and_pages(connect, gateway):
    entries = [
        {
            "recordId": f"case-{i}",
            "seq": 1,
            "op": "I",
            "digest": "a" * 64,
            "receivedAt": "2026-11-29T02:00:00+08:00",
        }
        for i in range(5)
    ]
    digest = sorted_lines_digest((e["recordId"], e["digest"]) for e in entries)
    gateway.script["ledger"].extend(
        [
            Answer(body=envelope(data={"live": 5, "deleted": 0, "digest": digest})),
            Answer(body=envelope(data={"total": 5, "records": entries[:2]})),
            Answer(500),
            Answer(body=envelope(data={"total": 5, "records": entries[2:4]})),
            Answer(body=envelope(data={"total": 5, "records": entries[4:]})),
        ]
    )
    hook = connect()
    summary = hook.ledger_summary("cases")
    assert (summary.live, summary.deleted, summary.digest) == (5, 0, digest)
    held = [(e["recordId"], e["digest"]) for e in entries]
    assert summary.agrees_with(reversed(held))
    assert not summary.agrees_with(held[:4])
    assert not summary.agrees_with([*held[:4], ("case-4", "b" * 64)])
    pages = list(hook.ledger_pages("cases", page_size=2))
    assert [[e.record_id for e in page] for page in pages] == [
        ["case-0", "case-1"],
        ["case-2", "case-3"],
        ["case-4"],
    ]
    paths = [s.path for s in gateway.of("ledger")]
    assert paths[0] == "/api/v1/ledger/cases/summary"
    assert paths[1:] == [f"/api/v1/ledger/cases?page={n}&pageSize=2" for n in (1, 2, 2, 3)]
    assert gateway.bad_signatures == 0


def test_other_receivers_use_their_gateway_resource(connect, gateway):
    hook = connect("province_hazchem")
    assert hook.gateway_resource("integrity_declarations") == "integrity_declarations"
    hook.ledger_summary("hazchem_enterprises")
    assert gateway.of("ledger")[0].path == "/api/v1/ledger/hazchem_enterprises/summary"
    with pytest.raises(ValueError, match="not shared with province_hazchem"):
        hook.gateway_resource("cases")


def test_rate_limit_per_receiver(connect, gateway):
    hook = connect(rate_limit=10)
    threads = [threading.Thread(target=hook.push, args=("cases", records(1), f"req-{i}")) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    times = sorted(s.at for s in gateway.seen)
    assert len(times) == 13  # one token and twelve pushes
    # Slot k is 0.1 s × k after the first; a request never arrives before its slot, though the first may
    # arrive late (a busy machine), hence the allowance.
    late = [k for k, t in enumerate(times) if t - times[0] < 0.1 * k - 0.1]
    assert not late, times
    assert all(sum(1 for t in times if start <= t < start + 1) <= 12 for start in times)


def test_rate_limiter_spacing_with_a_fake_clock():
    now = [100.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(20, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        limiter.acquire()
    assert slept == pytest.approx([0.05] * 4)


def test_receiver_limiter_leaves_room_for_late_arrivals():
    # The receiver counts any one-second window as it reads requests: 21 requests at 20/s must span more
    # than a second by the allowance, or one arriving a little late after its predecessor 20 back is refused.
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    limiter = limiter_for("bench_receiver", 20.0)
    assert limiter is limiter_for("bench_receiver", 20.0)
    fake = RateLimiter(20, clock=lambda: now[0], sleep=sleep, allowance=ARRIVAL_ALLOWANCE)
    assert fake.interval == limiter.interval
    sent = []
    for _ in range(21):
        fake.acquire()
        sent.append(now[0])
    assert sent[20] - sent[0] == pytest.approx(1.0 + ARRIVAL_ALLOWANCE)
    assert ARRIVAL_ALLOWANCE > 0


def test_token_cache_renews_before_expiry():
    now = [0.0]
    fetched = []

    def fetch():
        fetched.append(1)
        return parse_token({"accessToken": f"t{len(fetched)}", "expiresIn": 7200}, now[0])

    cache = TokenCache(fetch, clock=lambda: now[0])
    assert cache.get() == "t1" and cache.get() == "t1"
    now[0] = 7200 - 61
    assert cache.get() == "t1"
    now[0] = 7200 - 59
    assert cache.get() == "t2"
    cache.invalidate("t1")  # an older token refused: the current one is kept
    assert cache.get() == "t2"
    cache.invalidate("t2")
    assert cache.get() == "t3"
    assert "t3" not in repr(Token("t3", 1.0))


def test_a_receiver_prefix_in_the_base_url_is_signed_with_the_path(connect, tmp_path):
    # The stand-in serves each receiver under its prefix and checks the signature over the path as sent.
    from sandbox.gateway import GatewayServer, build_state

    with GatewayServer(build_state(tmp_path / "gateway.db", {APP_KEY: SECRET})) as server:
        hook = connect(url=f"{server.url}/service_network")
        outcome = hook.push("cases", records(2), "req-prefixed")
        assert outcome.accepted == ("case-0", "case-1") and not outcome.rejected
        assert hook.ledger_summary("cases").live == 2
        hook.close()
