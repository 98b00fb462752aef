"""The typed Python API (``tui.sdk``): the README's example runs as written, and the API's
own behaviour (filters, keep, reading, errors) against the sandbox."""

from __future__ import annotations

import os
import re
import smtplib
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest
from sandbox_helpers import Session

from tui.sdk import LeaseNotActive, Mailagents, WaitTimeout

ROOT = Path(__file__).resolve().parents[2]


def send(port: int, to: str, subject: str, body: str, sender: str = "no-reply@acme.test") -> None:
    msg = EmailMessage()
    msg["From"] = f"Acme <{sender}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(msg)


def readme_python_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### Python API") :]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def active_leases(sandbox, wallet) -> list[str]:
    session = Session(sandbox.base_url, wallet)
    try:
        items = session.get("/v2/mailboxes/leases").json()["items"]
        return [i["lease_id"] for i in items if i["lease_status"] == "active"]
    finally:
        session.close()


def test_the_readme_example_runs_as_written(imap_sandbox, wallet, tmp_path):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "MAILAGENTS_HOME": str(tmp_path / "home"),
        "MAILAGENTS_API_BASE": imap_sandbox.base_url,
        "MAILAGENTS_PRIVATE_KEY": wallet.key.hex(),
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", readme_python_example()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        address = proc.stdout.readline().strip()
        assert "@" in address, proc.stderr.read() if proc.poll() is not None else address
        send(imap_sandbox.smtp_port, address, "Welcome to Example", "Your code: 739104\n")
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert out.splitlines() == ["739104", "Welcome to Example"]
    assert active_leases(imap_sandbox, wallet) == []  # released on the way out


async def test_filters_keep_and_reading(imap_sandbox, wallet, tmp_path):
    async with Mailagents.connect(
        imap_sandbox.base_url, private_key=wallet.key.hex(), home=tmp_path
    ) as ma:
        me = await ma.whoami()
        assert me.address.lower() == wallet.address.lower() and me.auth_mode
        box = await ma.allocate("filters", keep=True)
        other = await ma.allocate("released at close")
        port = imap_sandbox.smtp_port
        send(port, box.address, "Newsletter 2026", "Read our news. Promo 2026.\n")
        send(port, box.address, "Your login code", "Code 551234\n", sender="a@shop.test")
        send(port, box.address, "Your Acme code", "Code 882211\n", sender="id@acme.test")
        # In arrival order: once a wait returned a code, a later one returns only newer mail.
        found = await box.wait_for_code(timeout=20, match=r"code\s+55\d+")
        assert found.code == "551234"
        found = await box.wait_for_code(timeout=20, sender="acme.test", subject="code")
        assert found.code == "882211" and found.sender == "id@acme.test"
        with pytest.raises(WaitTimeout):
            await box.wait_for_code(timeout=0.5)
        rows = await box.messages()
        assert len(rows) == 3 and all(r.source == "imap" for r in rows)
        mail = await box.read(found.message_id)
        assert "Code 882211" in mail.body and mail.code == "882211"
        boxes = {b.lease_id: b.info.kept for b in await ma.mailboxes()}
        assert boxes == {box.lease_id: True, other.lease_id: False}
        with pytest.raises(ValueError):
            await box.wait_for_code(timeout=1, match="(")
        followed = []
        async for row in box.follow():
            followed.append(row.subject)
            if len(followed) == 3:
                send(port, box.address, "Latest news", "Nothing to see\n")
            if len(followed) == 4:
                break
        assert followed == [
            "Newsletter 2026",
            "Your login code",
            "Your Acme code",
            "Latest news",
        ]
    assert active_leases(imap_sandbox, wallet) == [box.lease_id]

    async with Mailagents.connect(
        imap_sandbox.base_url, private_key=wallet.key.hex(), home=tmp_path
    ) as ma:
        kept = await ma.mailbox(box.lease_id)
        await kept.release()
        with pytest.raises(LeaseNotActive):
            await kept.wait_for_code(timeout=1)
        with pytest.raises(LeaseNotActive):
            await ma.mailbox(box.lease_id)


def test_results_are_cleaned_whatever_the_server_sends():
    """A live server may hand back a subject with escapes and bidi controls: the API (and so
    the MCP server) returns it inert."""
    from datetime import UTC, datetime

    from tui.api.models import Message
    from tui.core.codepick import MailIdentity, Picked
    from tui.core.inbox import build_item
    from tui.sdk import code_result, summary

    hostile = "\x1b]0;pwned\x07Your \u202ecode\u202c \x1b[31m[b]now[/b]\x9b2J"
    message = Message(
        "m1",
        "evil\x07@x.test",
        hostile,
        datetime.now(UTC),
        "123456",
        "https://x.test/\x1b[0m",
        "parsed",
    )
    item = build_item(message)
    picked = Picked("123456\x1b[2J", item, "api", MailIdentity(api_id="m1"))
    for data in (code_result(picked, want_link=False).to_dict(), summary(item, "api").to_dict()):
        text = repr(data)
        for bad in ("\\x1b", "\\x07", "\\u202e", "\\x9b", "pwned"):
            assert bad not in text, (bad, data)
        assert "[b]now[/b]" in data["subject"]


async def test_pattern_is_the_code_shape_and_a_bad_one_is_refused(imap_sandbox, wallet, tmp_path):
    async with Mailagents.connect(
        imap_sandbox.base_url, private_key=wallet.key.hex(), home=tmp_path
    ) as ma:
        box = await ma.allocate("pattern")
        # Refused before anything is asked: wait-otp's usage errors, as ValueError.
        with pytest.raises(ValueError, match="bad pattern: not a valid regular expression"):
            await box.wait_for_code(timeout=1, pattern="([a-z")
        with pytest.raises(ValueError, match="bad pattern: the pattern matches an empty string"):
            await box.wait_for_code(timeout=1, pattern="x*")
        with pytest.raises(ValueError, match="does not apply"):
            await box.wait_for_code(timeout=1, want="link", pattern=r"\d{6}")
        send(
            imap_sandbox.smtp_port,
            box.address,
            "Ticket TK-48213 for you",
            "Your order 99812345 shipped. Verification: ab7-k2q\n",
        )
        # Without a pattern this mail has no code; the pattern does not ignore case.
        with pytest.raises(WaitTimeout):
            await box.wait_for_code(timeout=3)
        with pytest.raises(WaitTimeout):
            await box.wait_for_code(timeout=1, pattern=r"tk-\d+")
        found = await box.wait_for_code(timeout=20, pattern=r"TK-\d+")
        assert found.code == "TK-48213" and found.subject == "Ticket TK-48213 for you"
        # A group picks the code out of the body (read over IMAP).
        send(imap_sandbox.smtp_port, box.address, "Again", "Verification: xy4-m8r\n")
        found = await ma.wait_for_code(
            box.lease_id, timeout=20, pattern=r"Verification: ([a-z0-9]{3}-[a-z0-9]{3})"
        )
        assert found.code == "xy4-m8r"
