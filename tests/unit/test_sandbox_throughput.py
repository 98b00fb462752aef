"""Sandbox under load (issue 16): usage counted in memory and written in batches stays exact,
remembered token checks and routes change no answer, the per-tenant cap is set from the CLI."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from click.testing import CliRunner
from sandbox_helpers import FakeClock, Session

from tui.sandbox.cli import sandbox as sandbox_cli
from tui.sandbox.config import SandboxConfig
from tui.sandbox.runner import SandboxServer
from tui.sandbox.state.store import Store

MESSAGES = "/v2/messages"


def db_usage_rows(path: Path, tenant_id: str) -> int:
    with sqlite3.connect(path) as db:
        row = db.execute(
            "SELECT COUNT(*) FROM usage_records WHERE tenant_id=? AND endpoint=?",
            (tenant_id, "GET /v2/messages"),
        ).fetchone()
    return int(row[0])


def test_a_burst_of_metered_reads_is_counted_exactly(tmp_path, wallet):
    """16 threads read at once: every 200 is one usage record, in the summary while the server
    runs and in the database file after it stops; nothing lost, nothing counted twice."""
    config = SandboxConfig.for_data_dir(
        tmp_path / "d", port=0, smtp_port=None, imap_port=None, tenant_qps=0
    )
    server = SandboxServer(config).start()
    session = Session(server.base_url, wallet)
    try:
        lease = session.allocate().json()
        for n in range(5):
            server.deliver(lease["address"], f"Subject: code {n}\r\n\r\nCode {n}.\r\n".encode())
        period = datetime.now(UTC).strftime("%Y-%m")
        before = session.get("/v2/usage/summary", params={"period": period}).json()["usage"]
        statuses: list[int] = []
        lock = threading.Lock()
        params = {"mailbox_id": lease["mailbox_id"], "limit": "10"}
        headers = {"authorization": f"Bearer {session.token}"}

        def reader() -> None:
            with httpx.Client(base_url=server.base_url, timeout=30) as http:
                for _ in range(25):
                    code = http.get(MESSAGES, params=params, headers=headers).status_code
                    with lock:
                        statuses.append(code)

        threads = [threading.Thread(target=reader) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert statuses.count(200) == len(statuses) == 400
        after = session.get("/v2/usage/summary", params={"period": period}).json()["usage"]
        assert after["message_parses"] - before["message_parses"] == 400
        assert after["api_calls"] - before["api_calls"] == 400
        tenant_id = session.login["tenant_id"]
    finally:
        session.close()
        server.stop()
    assert db_usage_rows(tmp_path / "d" / "sandbox.sqlite3", tenant_id) == 400


def test_pending_usage_is_read_written_and_kept_through_a_rollback(tmp_path):
    path = tmp_path / "s.sqlite3"
    store = Store(str(path))
    store.record_usage("t1", "a1", "GET /v2/messages", False)
    store.record_usage("t1", "a1", "GET /v2/messages", True)
    # a reader of usage_records sees the records counted in memory
    assert store.usage_count_since("t1", 0) == 2
    assert store.recent_usage_count("t1", store.now_ms() - 999, 100) == 2
    store.record_usage("t1", "a1", "POST /v2/mailboxes/leases", False)
    # flushed inside a transaction that rolls back: pending again, not lost
    with pytest.raises(RuntimeError), store._tx():
        assert store._one("SELECT COUNT(*) AS n FROM usage_records")["n"] == 3
        raise RuntimeError("rolled back")
    assert store.allocations_since("a1", 0) == 1
    assert store.usage_summary("t1", datetime.now(UTC).strftime("%Y-%m")).api_calls == 3
    store.record_usage("t1", "a1", "GET /v2/messages", False)
    store.close()  # the last record is written at close
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM usage_records").fetchone()[0] == 4


def test_pending_usage_is_written_without_any_reader(tmp_path):
    """Nothing waits for a reader: the batch is written on its own shortly after."""
    path = tmp_path / "s.sqlite3"
    store = Store(str(path))
    try:
        store.record_usage("t1", None, "GET /v2/messages", False)
        deadline = time.monotonic() + 30
        with sqlite3.connect(path) as db:
            while db.execute("SELECT COUNT(*) FROM usage_records").fetchone()[0] != 1:
                assert time.monotonic() < deadline, "the usage record was never written"
                time.sleep(0.05)
    finally:
        store.close()


def test_the_per_second_cap_counts_what_is_in_memory(sandbox_factory, session_factory):
    clock = FakeClock()
    server = sandbox_factory(store=Store(":memory:", clock=clock), tenant_qps=3)
    s = session_factory(server)
    lease = s.allocate().json()  # 1
    params = {"mailbox_id": lease["mailbox_id"]}
    assert s.get(MESSAGES, params=params).status_code == 200  # 2
    assert s.get(MESSAGES, params=params).status_code == 200  # 3
    assert s.get(MESSAGES, params=params).status_code == 402
    clock.advance(1)
    assert s.get(MESSAGES, params=params).status_code == 200
    # the cap read from the operator's quota follows a change at once
    server.service.admin.state.patch_tenant(s.login["tenant_id"], None, 1, None)
    assert s.get(MESSAGES, params=params).status_code == 402
    server.service.admin.state.patch_tenant(s.login["tenant_id"], None, 0, None)
    assert s.get(MESSAGES, params=params).status_code == 200


def forged(server: SandboxServer, payload: dict[str, Any], secret: str | None = None) -> str:
    return jwt.encode(payload, secret or server.config.jwt_secret, algorithm="HS256")


def test_remembered_tokens_still_expire_and_forgeries_still_fail(sandbox_factory, session_factory):
    clock = FakeClock()
    server = sandbox_factory(store=Store(":memory:", clock=clock), tenant_qps=0)
    s = session_factory(server)
    lease = s.allocate().json()
    params = {"mailbox_id": lease["mailbox_id"]}
    assert s.get(MESSAGES, params=params).status_code == 200
    claims = jwt.decode(s.token, options={"verify_signature": False})
    other = forged(server, claims, secret="x" * 32)
    r = httpx.get(
        f"{server.base_url}{MESSAGES}", params=params, headers={"authorization": f"Bearer {other}"}
    )
    assert r.status_code == 401 and r.json()["message"] == "Invalid signature"
    clock.advance(server.config.token_ttl_s + 1)
    r = s.get(MESSAGES, params=params)
    assert r.status_code == 401 and r.json()["message"] == "Token expired"


def test_routes_are_the_same_on_the_second_visit(sandbox):
    for _ in range(2):
        assert httpx.get(f"{sandbox.base_url}/v2/nowhere").status_code == 404
        assert httpx.get(f"{sandbox.base_url}/v1/x").status_code == 410
        r = httpx.get(f"{sandbox.base_url}/v2/messages/send")  # GET: the message route
        assert r.status_code == 401


@pytest.mark.parametrize(
    ("args", "qps"), [([], 120), (["--tenant-qps", "0"], 0), (["--tenant-qps", "7"], 7)]
)
def test_tenant_qps_option(monkeypatch, tmp_path, args, qps):
    seen: list[SandboxConfig] = []
    monkeypatch.setattr(
        "tui.sandbox.runner.serve_forever", lambda config, **kw: seen.append(config)
    )
    result = CliRunner().invoke(
        sandbox_cli, ["--data-dir", str(tmp_path / "d"), "--no-smtp", "--no-imap", *args]
    )
    assert result.exit_code == 0, result.output
    assert seen[0].tenant_qps == qps


def test_tenant_qps_option_refuses_a_negative_cap(tmp_path):
    result = CliRunner().invoke(
        sandbox_cli, ["--data-dir", str(tmp_path / "d"), "--tenant-qps", "-1"]
    )
    assert result.exit_code == 2
    assert "--tenant-qps" in result.output
