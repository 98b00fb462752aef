"""Deep nesting never crashes a process (issue 13): JSON replies, JSON requests, MIME mail.

eth-account's dependency py_ecc raises the recursion limit to 100,000 on import; after that,
``json`` and ``email`` overflowed the C stack (SIGSEGV) on deeply nested input. Each check runs
in a fresh interpreter that loads eth-account the way the product does (a wallet), so a
segfault fails the test instead of killing pytest.
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tui import limits

ROOT = Path(__file__).resolve().parents[2]
DEEP_JSON = b"[" * 100_000 + b"]" * 100_000

# Loads eth-account through the project's wallet, as `login` and the TUI do.
PRELUDE = """
import sys
from tui.auth.wallet import Wallet
wallet = Wallet.generate()
wallet.sign_message("hello")
"""


def run_python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``PRELUDE + helpers + code`` in a fresh interpreter (a generous hang guard)."""
    helpers = inspect.getsource(_nested_rfc822) + inspect.getsource(_nested_multipart)
    return subprocess.run(
        [sys.executable, "-c", PRELUDE + helpers + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "tests"), **(env or {})},
    )


def assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, (
        f"rc={result.returncode} (-11 is SIGSEGV)\n{result.stdout}\n{result.stderr[-2000:]}"
    )
    assert result.stdout.strip().endswith("ok"), result.stdout


def test_json_depth_scan_is_exact_on_valid_json_and_ignores_strings():
    assert limits.json_depth(b'{"a": [1, {"b": "[[[{{{"}], "c": "\\"]"}') == 3
    assert limits.json_depth("[]") == 1
    assert limits.json_depth(b"42") == 0
    assert limits.json_depth(DEEP_JSON) == 100_000
    assert limits.loads(b"[" * 64 + b"]" * 64) is not None
    with pytest.raises(limits.JsonTooDeepError):
        limits.loads(b"[" * 65 + b"]" * 65)
    with pytest.raises(ValueError):  # unclosed: refused before the parser can descend
        limits.loads(b"[" * 100_000)


def test_json_depth_scan_matches_the_parsed_depth_on_tricky_strings():
    """Brackets, quotes and backslashes inside strings (escaped or not) never fool the scan."""
    import json
    import random

    def depth(value: object) -> int:
        if isinstance(value, list):
            return 1 + max((depth(v) for v in value), default=0)
        if isinstance(value, dict):
            return 1 + max((depth(v) for v in value.values()), default=0)
        return 0

    pieces = ["[", "]", "{", "}", "\\", '"', "a", "\u00e9", "\n", '\\"']
    rng = random.Random(13)

    def text() -> str:
        return "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))

    def value(level: int) -> object:
        roll = rng.random()
        if level > 6 or roll < 0.3:
            return text()
        if roll < 0.65:
            return [value(level + 1) for _ in range(rng.randint(0, 3))]
        return {text(): value(level + 1) for _ in range(rng.randint(0, 3))}

    for _ in range(3000):
        doc = value(0)
        encoded = json.dumps(doc, ensure_ascii=rng.random() < 0.5)
        assert limits.json_depth(encoded) == depth(doc), encoded


def test_importing_eth_account_keeps_the_recursion_limit():
    result = run_python(
        """
        import json
        from tui.sandbox.http.app import SandboxService  # the sandbox's verify path
        from sandbox_helpers import sign_message
        assert sys.getrecursionlimit() < 10_000, sys.getrecursionlimit()
        try:
            json.loads("[" * 100_000 + "]" * 100_000)
        except RecursionError:
            print("ok")
        """
    )
    assert_ok(result)


class _DeepReply(BaseHTTPRequestHandler):
    """Answers every request 200 with 100,000 nested JSON arrays."""

    def _reply(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(DEEP_JSON)))
        self.end_headers()
        self.wfile.write(DEEP_JSON)

    do_GET = _reply
    do_POST = _reply

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def deep_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _DeepReply)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_deep_json_reply_is_one_clear_client_error(deep_server):
    result = run_python(
        f"""
        import asyncio
        from tui.api.client import MailagentsClient
        from tui.api.errors import InvalidResponseError

        async def main():
            client = MailagentsClient({deep_server!r})
            try:
                await client.runtime()
            except InvalidResponseError as exc:
                assert "nested too deep" in str(exc), exc
                print("ok")
            finally:
                await client.aclose()

        asyncio.run(main())
        """
    )
    assert_ok(result)


@pytest.mark.parametrize("command", [["login"], ["leases"], ["usage"]])
def test_deep_json_reply_does_not_kill_headless_commands(deep_server, tmp_path, command):
    env = {
        **os.environ,
        "MAILAGENTS_HOME": str(tmp_path / "home"),
        "MAILAGENTS_API_BASE": deep_server,
        "MAILAGENTS_PRIVATE_KEY": "0x" + "11" * 32,
    }
    env.pop("MAILAGENTS_KEYSTORE", None)
    result = subprocess.run(
        [sys.executable, "-m", "tui", *command],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode not in (0, -11, 139), (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert "nested too deep" in result.stderr + result.stdout


def test_deep_json_request_is_a_400_and_the_sandbox_lives():
    result = run_python(
        """
        import httpx
        from tui.sandbox.config import SandboxConfig
        from tui.sandbox.runner import SandboxServer

        body = b"[" * 500_000 + b"]" * 500_000  # under the 1 MiB body limit
        with SandboxServer(SandboxConfig(db_path=":memory:", port=0)) as server:
            url = server.base_url + "/v2/auth/siwe/challenge"
            r = httpx.post(url, content=body, headers={"content-type": "application/json"})
            assert r.status_code == 400, r.text
            assert r.json()["error"] == "bad_request"
            assert "nested deeper" in r.json()["message"]
            # an object body nested deep inside a field is refused the same way
            r = httpx.post(url, content=b'{"wallet_address": ' + body + b"}")
            assert r.status_code == 400, r.text
            assert httpx.get(server.base_url + "/healthz").status_code == 200
        print("ok")
        """
    )
    assert_ok(result)


def _nested_rfc822(levels: int) -> bytes:
    return (
        b"From: a@example.com\r\nSubject: deep\r\n"
        + b"Content-Type: message/rfc822\r\n\r\n" * levels
        + b"Content-Type: text/plain\r\n\r\nYour code is 482913\r\n"
    )


def _nested_multipart(levels: int) -> bytes:
    parts = [b"From: a@example.com\r\nSubject: deep\r\n"]
    for i in range(levels):
        parts.append(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i))
    parts.append(b"Content-Type: text/plain\r\n\r\nYour code is 482913\r\n")
    parts.extend(b"--b%d--\r\n" % i for i in reversed(range(levels)))
    return b"".join(parts)


def test_mime_containers_counts_multipart_and_message_fields():
    from tui.extract.decode import mime_containers, mime_too_deep

    assert mime_containers(_nested_multipart(3)) == 3
    assert mime_containers(_nested_rfc822(5)) == 5
    folded = b"content-type :\r\n\tMultipart/Mixed; boundary=x\rContent-Type: text/plain\r\n"
    assert mime_containers(folded) == 1
    assert not mime_too_deep(_nested_multipart(20))
    assert mime_too_deep(_nested_rfc822(101))


def test_deep_mime_is_read_as_plain_text_by_the_client():
    result = run_python(
        """
        from tui.extract import analyze_message
        from tui.extract.decode import attachment_parts
        from tui.imap.message import parse_message

        for raw in (_nested_rfc822(50_000), _nested_multipart(50_000)):
            result = analyze_message(raw)
            assert result.subject == "deep", result.subject
            assert attachment_parts(raw) == []
            message = parse_message(1, raw)
            assert message.subject == "deep"
        # a modest nesting is still parsed as MIME
        assert analyze_message(_nested_multipart(10)).otp == "482913"
        print("ok")
        """
    )
    assert_ok(result)


def test_deep_mime_over_smtp_is_stored_without_recursion():
    result = run_python(
        """
        import smtplib
        import httpx
        from tui.sandbox.config import SandboxConfig
        from tui.sandbox.runner import SandboxServer
        from sandbox_helpers import Session
        from tui.limits import eth_account_class

        config = SandboxConfig(db_path=":memory:", port=0, smtp_port=0)
        with SandboxServer(config) as server:
            session = Session(server.base_url, eth_account_class().create())
            lease = session.allocate().json()
            with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=60) as smtp:
                smtp.sendmail("a@example.com", [lease["address"]], _nested_rfc822(50_000))
                smtp.sendmail("a@example.com", [lease["address"]], _nested_multipart(50_000))
            rows = server.store.list_messages(session.tenant_id, lease["mailbox_id"], None, 10)
            assert [r.subject for r in rows] == ["deep", "deep"], rows
            assert httpx.get(server.base_url + "/healthz").status_code == 200
            session.close()
        print("ok")
        """
    )
    assert_ok(result)


def test_deep_json_reply_is_one_clear_admin_client_error(deep_server):
    result = run_python(
        f"""
        import asyncio
        from tui.api.admin import AdminClient
        from tui.api.errors import InvalidResponseError

        async def main():
            client = AdminClient({deep_server!r}, "token")
            try:
                await client.metrics()
            except InvalidResponseError:
                print("ok")
            finally:
                await client.aclose()

        asyncio.run(main())
        """
    )
    assert_ok(result)


def test_deep_ledger_file_is_reported_damaged_not_a_crash():
    result = run_python(
        """
        from tui.core.ledger import LedgerDamaged, parse_ledger

        sys.setrecursionlimit(100_000)  # as py_ecc sets it when imported directly
        for raw in (
            b'{"leases": [' + b'{"a": ' * 100_000,
            b'{"leases": [{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]}",
        ):
            try:
                parse_ledger(raw)
            except LedgerDamaged as exc:
                assert exc.salvaged == []
        print("ok")
        """
    )
    assert_ok(result)


def test_eth_account_is_imported_only_through_tui_limits():
    """One place imports eth-account (and so py_ecc): the one that puts the limit back."""
    import re

    pattern = re.compile(r"^\s*(from|import)\s+(eth_account|py_ecc|eth_keys)\b", re.M)
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "tui").rglob("*.py")
        if path.name != "limits.py" and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
