"""The IMAP reader against the sandbox's real Dovecot (skips without ``dovecot-imapd``)."""

from __future__ import annotations

import asyncio
import imaplib
import smtplib
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sandbox_helpers import Session

from tui.imap import (
    ImapAuthError,
    ImapReader,
    ImapSettings,
    ImapTLSError,
    ImapUnreachableError,
    ImapUpdate,
    MailboxState,
    resolve_imap_settings,
)
from tui.sandbox.mail.inbound import build_mime

FOOLS_THE_SERVER = (
    b"From: Acme <no-reply@acme.example>\r\n"
    b"Subject: Your verification code\r\n"
    b"Message-ID: <fool-1@acme.example>\r\n"
    b"Date: Tue, 25 Nov 2026 15:50:28 +0000\r\n"
    b"\r\n"
    b"Your verification code is 482913.\r\n"
)


class Lease:
    """A lease on the IMAP sandbox with its credentials and the client settings."""

    def __init__(self, server: Any, wallet: Any) -> None:
        self.server = server
        self.session = Session(server.base_url, wallet)
        response = self.session.allocate()
        assert response.status_code == 201, response.text
        self.raw = response.json()
        self.address: str = self.raw["address"]
        self.password: str = self.raw["webmail_password"]
        runtime = httpx.get(f"{server.base_url}/v2/meta/runtime").json()
        self.settings = resolve_imap_settings(
            webmail_url=self.raw["webmail_url"], runtime_raw=runtime, env={}, timeout=5.0
        )

    def reader(self, password: str | None = None, **kwargs: Any) -> ImapReader:
        return ImapReader(self.settings, self.address, password or self.password, **kwargs)

    def deliver(self, raw: bytes = FOOLS_THE_SERVER) -> None:
        with smtplib.SMTP("127.0.0.1", self.server.smtp_port, timeout=10) as client:
            client.sendmail("no-reply@acme.example", [self.address], raw)

    async def adeliver(self, raw: bytes = FOOLS_THE_SERVER) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.deliver, raw)

    def reset(self) -> str:
        url = f"/v2/mailboxes/accounts/{self.raw['account_id']}/credentials/reset"
        response = self.session.post(url)
        assert response.status_code == 200, response.text
        self.password = response.json()["webmail_password"]
        return self.password

    def release(self) -> None:
        response = self.session.post(f"/v2/mailboxes/leases/{self.raw['lease_id']}/release")
        assert response.status_code == 202

    def mail(self, subject: str, text: str | None = None, html: str | None = None) -> bytes:
        return build_mime(
            sender="Robot <robot@x.example>", to=self.address, subject=subject, text=text, html=html
        )


@pytest.fixture
def lease(imap_sandbox, wallet):
    lease = Lease(imap_sandbox, wallet)
    yield lease
    lease.session.close()


class Updates:
    """Collects ImapUpdate reports; ``wait(predicate)`` polls them."""

    def __init__(self) -> None:
        self.items: list[ImapUpdate] = []

    def __call__(self, update: ImapUpdate) -> None:
        self.items.append(update)

    @property
    def texts(self) -> list[str]:
        return [u.status.text for u in self.items]

    async def wait(self, predicate: Any, timeout: float = 5.0) -> ImapUpdate:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for update in self.items:
                if predicate(update):
                    return update
            await asyncio.sleep(0.02)
        raise AssertionError(f"no matching update in {self.texts}")


async def test_fetch_after_smtp_delivery(lease):
    lease.deliver()
    async with lease.reader() as reader:
        assert reader.connected and reader.idle_supported
        [m] = await reader.fetch_new()
    assert not reader.connected
    assert m.uid == 1 and m.raw == FOOLS_THE_SERVER and m.size == len(FOOLS_THE_SERVER)
    assert m.otp == "482913"  # not "YOUR", as a server-style parser reads this mail
    assert m.text.strip() == "Your verification code is 482913."
    assert (m.subject, m.sender, m.sender_name) == (
        "Your verification code",
        "no-reply@acme.example",
        "Acme",
    )
    assert m.message_id == "<fool-1@acme.example>" and not m.partial and m.notice is None
    assert m.date is not None and m.date.tzinfo is not None
    assert m.received is not None and abs(time.time() - m.received.timestamp()) < 60
    assert reader.state.last_uid == 1 and reader.state.uidvalidity


async def test_incremental_fetch_and_persisted_state(lease):
    lease.deliver()
    async with lease.reader() as reader:
        assert [m.uid for m in await reader.fetch_new()] == [1]
        assert await reader.fetch_new() == []
        lease.deliver(lease.mail("second", "code 111222"))
        lease.deliver(lease.mail("third", "code 333444"))
        new = await reader.fetch_new()
        assert [(m.uid, m.subject) for m in new] == [(2, "second"), (3, "third")]
        assert [m.uid for m in reader.messages] == [3, 2, 1]
        saved = reader.state.to_dict()
    # a new reader with the saved state only gets what came after
    lease.deliver(lease.mail("fourth", "code 555666"))
    async with lease.reader(state=MailboxState.from_dict(saved)) as reader:
        assert [m.subject for m in await reader.fetch_new()] == ["fourth"]


async def test_uidvalidity_change_refetches(lease):
    lease.deliver()
    stale = MailboxState(uidvalidity=1, last_uid=50)
    updates = Updates()
    reader = lease.reader(state=stale)
    task = asyncio.create_task(reader.run(updates))
    try:
        update = await updates.wait(lambda u: u.status.live)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert update.reset and [m.uid for m in update.new] == [1]
    assert update.state.uidvalidity != 1 and update.state.last_uid == 1


async def test_nothing_is_marked_seen(lease):
    lease.deliver()
    async with lease.reader() as reader:
        await reader.fetch_new()
        assert await reader.fetch_raw(1) == FOOLS_THE_SERVER
    client = imaplib.IMAP4("127.0.0.1", lease.server.imap_port)
    try:
        client.login(lease.address, lease.password)
        client.select("INBOX", readonly=True)
        _typ, data = client.uid("FETCH", "1:*", "(FLAGS)")
        assert b"\\Seen" not in data[0] and b"\\Deleted" not in data[0]
    finally:
        client.logout()


async def test_idle_wakes_promptly_on_delivery(lease):
    async with lease.reader() as reader:
        assert await reader.fetch_new() == []
        loop = asyncio.get_running_loop()
        sent: list[float] = []

        def deliver_later() -> None:
            time.sleep(0.3)
            sent.append(time.monotonic())
            lease.deliver()

        future = loop.run_in_executor(None, deliver_later)
        assert await reader.wait_for_change(timeout=10)
        woke = time.monotonic()
        await future
        assert woke - sent[0] < 2.0
        [m] = await reader.fetch_new()
        assert m.otp == "482913"
        # without news, IDLE returns False at its timeout (renewal)
        assert await reader.wait_for_change(timeout=0.3) is False
        # wake() interrupts a wait at once
        loop.call_later(0.1, reader.wake)
        started = time.monotonic()
        assert await reader.wait_for_change(timeout=10)
        assert time.monotonic() - started < 2


async def test_run_reports_live_idle_and_new_mail(lease):
    updates = Updates()
    task = asyncio.create_task(lease.reader().run(updates))
    try:
        await updates.wait(lambda u: u.status.text == "live (IDLE)")
        sent = time.monotonic()
        await lease.adeliver()
        update = await updates.wait(lambda u: bool(u.new))
        assert time.monotonic() - sent < 2.5
        assert [m.otp for m in update.new] == ["482913"]
        assert [m.uid for m in update.messages] == [1]
        assert updates.texts[0] == "connecting"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_polling_when_idle_is_not_used(lease):
    updates = Updates()
    task = asyncio.create_task(lease.reader(use_idle=False, poll_interval=0.2).run(updates))
    try:
        await updates.wait(lambda u: u.status.text == "live (polling)")
        await lease.adeliver()
        update = await updates.wait(lambda u: bool(u.new))
        assert update.status.mode == "polling"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_wrong_password_is_an_auth_error_without_the_password(lease):
    wrong = lease.password + "-Wr0ng"
    with pytest.raises(ImapAuthError) as info:
        await lease.reader(password=wrong).connect()
    assert wrong not in str(info.value) and lease.password not in str(info.value)
    assert "refused" in str(info.value)
    updates = Updates()
    await asyncio.wait_for(lease.reader(password=wrong).run(updates), 5)  # returns by itself
    assert updates.texts[-1].startswith("auth failed: ")
    assert all(wrong not in text for text in updates.texts)
    assert updates.items[-1].status.kind == "auth"


async def test_credentials_reset_then_login_with_the_new_password(lease):
    old = lease.password
    async with lease.reader() as reader:
        await reader.fetch_new()
    new = lease.reset()
    async with lease.reader(password=new) as reader:
        assert reader.connected
    with pytest.raises(ImapAuthError):
        await lease.reader(password=old).connect()


async def test_release_closes_the_reader_with_auth_failure(lease):
    updates = Updates()
    task = asyncio.create_task(lease.reader(backoff_base=0.2).run(updates))
    try:
        await updates.wait(lambda u: u.status.live)
        await asyncio.get_running_loop().run_in_executor(None, lease.release)
        await asyncio.wait_for(task, 6)  # kicked, reconnects, login refused: run returns
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert updates.items[-1].status.state == "auth_failed"
    assert any(u.status.state == "offline" for u in updates.items)


async def test_big_message_is_fetched_partially(lease):
    big = lease.mail("big one", "code 909090\n" + "x" * 60 + "\n" * 0 + ("y" * 70 + "\n") * 300)
    lease.deliver(lease.mail("small", "code 121212"))
    lease.deliver(big)
    async with lease.reader(size_limit=4096) as reader:
        small, partial = await reader.fetch_new()
        assert not small.partial and small.otp == "121212"
        assert partial.partial and partial.size == len(big) > 4096
        assert len(partial.raw) == 4096 and big.startswith(partial.raw)
        assert partial.notice is not None and "first 4 KB" in partial.notice
        assert partial.subject == "big one"
        assert await reader.fetch_raw(partial.uid) == big  # the full message on demand


async def test_a_big_message_is_read_lazily_and_parsed_off_the_event_loop(lease, monkeypatch):
    """Issue 16: over ``lazy_size`` only the start is read while syncing (the code near the top
    still found), the rest on demand; every message is parsed in a worker thread."""
    import threading

    import tui.imap.sync as reader_module

    threads: list[threading.Thread] = []
    real_parse = reader_module.parse_message

    def spy(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread())
        return real_parse(*args, **kwargs)

    monkeypatch.setattr(reader_module, "parse_message", spy)
    newsletter = lease.mail(
        "Weekly news", html="<p>Your code is <b>707070</b></p>" + "<p>news</p>" * 150_000 + "END"
    )
    assert len(newsletter) > reader_module.LAZY_BODY_BYTES
    lease.deliver(lease.mail("small", "code 121212"))
    lease.deliver(newsletter)
    async with lease.reader() as reader:
        small, big = await reader.fetch_new()
        assert threads and threading.main_thread() not in threads
        assert not small.lazy and not small.partial and small.otp == "121212"
        assert big.lazy and big.partial and big.size == len(newsletter)
        assert len(big.raw) == reader_module.LAZY_PREFIX_BYTES
        assert newsletter.startswith(big.raw)
        assert big.otp == "707070" and big.subject == "Weekly news"
        assert big.notice is not None and "fetched when it is shown" in big.notice
        assert await reader.fetch_raw(big.uid) == newsletter


async def test_html_only_broken_charset_and_hostile_mail_over_imap(lease):
    lease.deliver(lease.mail("html", html="<p>Your code is <b>246810</b></p><script>x</script>"))
    lease.deliver(
        b"From: r@x.example\r\nSubject: caf\xe9\r\nContent-Type: text/plain; charset=nope\r\n\r\n"
        b"code 135790 caf\xe9\r\n"
    )
    lease.deliver(
        b"From: r@x.example\r\nSubject: \x1b]0;pwned\x07[@click=app.quit]hi\r\n\r\n"
        b"\x1b[2J[b]x[/b] code 864200\r\n"
    )
    async with lease.reader() as reader:
        html, broken, hostile = await reader.fetch_new()
    assert html.otp == "246810" and "<b>" not in html.text
    assert broken.otp == "135790"
    assert "\x1b" not in hostile.subject and "\x07" not in hostile.subject
    assert "\x1b" not in hostile.text and hostile.otp == "864200"


async def test_unreachable_and_tls_failures_are_clear(lease):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    with pytest.raises(ImapUnreachableError) as info:
        await ImapReader(ImapSettings("127.0.0.1", closed_port, "plain", 2.0), "a", "pw").connect()
    assert "connection refused" in str(info.value)
    # TLS to the plaintext port: the handshake fails
    tls = ImapSettings("127.0.0.1", lease.server.imap_port, "tls", 3.0)
    with pytest.raises(ImapTLSError):
        await ImapReader(tls, lease.address, lease.password).connect()
    # STARTTLS is not offered by the sandbox's plaintext server
    starttls = ImapSettings("127.0.0.1", lease.server.imap_port, "starttls", 3.0)
    with pytest.raises(ImapTLSError) as info:
        await ImapReader(starttls, lease.address, lease.password).connect()
    assert "STARTTLS" in str(info.value)


async def test_run_backs_off_while_offline(lease):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    reader = ImapReader(
        ImapSettings("127.0.0.1", closed_port, "plain", 1.0),
        "a",
        "pw",
        backoff_base=0.05,
        backoff_max=0.2,
        rng=lambda: 1.0,
    )
    updates = Updates()
    task = asyncio.create_task(reader.run(updates))
    try:
        await updates.wait(lambda u: u.status.failures >= 3, timeout=5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    offline = [u.status for u in updates.items if u.status.state == "offline"]
    assert [s.retry_in for s in offline[:3]] == [0.05, 0.1, 0.2]
    assert offline[0].text.startswith("offline: 127.0.0.1:") and "retrying in 0s" in offline[0].text
    assert reader.status.state == "closed"


async def test_cancel_logs_out(lease):
    reader = lease.reader()
    updates = Updates()
    task = asyncio.create_task(reader.run(updates))
    await updates.wait(lambda u: u.status.live)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert not reader.connected and reader.status.state == "closed"
    await reader.close()  # idempotent


@pytest.fixture(scope="module")
def tls_dovecot(tmp_path_factory):
    """A Dovecot with a self-signed certificate: STARTTLS on one port, TLS on another."""
    import shutil
    import subprocess

    from tui.sandbox.mail.dovecot import DovecotServer, find_dovecot
    from tui.sandbox.mail.maildir import Maildirs

    if find_dovecot() is None or shutil.which("openssl") is None:
        pytest.skip("needs Dovecot (dovecot-imapd) and openssl")
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem"),
         "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        tls_port = sock.getsockname()[1]
    extra = (
        f"ssl = yes\nssl_cert = <{folder / 'cert.pem'}\nssl_key = <{folder / 'key.pem'}\n"
        f"service imap-login {{\n  inet_listener imaps {{\n    port = {tls_port}\n  }}\n}}\n"
    )
    import tempfile

    mail = Path(tempfile.mkdtemp(prefix="mailagents-test-tls-")) / "maildir"
    server = DovecotServer(
        maildir_root=mail, users=lambda: [("tls@x.test", "pw-tls")], extra_config=extra
    )
    try:
        starttls_port = server.start()
    except Exception as exc:  # a Dovecot built without TLS, an odd openssl...
        pytest.skip(f"no TLS Dovecot: {exc}")
    Maildirs.open(mail).deliver("tls@x.test", FOOLS_THE_SERVER)
    yield folder / "cert.pem", tls_port, starttls_port
    server.stop()
    shutil.rmtree(mail.parent, ignore_errors=True)


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_tls_and_starttls_with_a_trusted_certificate(tls_dovecot, security):
    import ssl

    cert, tls_port, starttls_port = tls_dovecot
    port = tls_port if security == "tls" else starttls_port
    settings = ImapSettings("127.0.0.1", port, security, 5.0)
    context = ssl.create_default_context(cafile=str(cert))
    async with ImapReader(settings, "tls@x.test", "pw-tls", ssl_context=context) as reader:
        [m] = await reader.fetch_new()
    assert m.otp == "482913"
    # the system trust store does not know this certificate: a clear TLS error
    with pytest.raises(ImapTLSError) as info:
        await ImapReader(settings, "tls@x.test", "pw-tls").connect()
    assert "certificate" in str(info.value) and "pw-tls" not in str(info.value)


async def test_the_default_tls_context_is_made_off_the_event_loop(tls_dovecot, monkeypatch):
    """Loading the system's certificates takes ~45 ms of CPU: never on the UI's loop."""
    import ssl
    import threading

    real, made_in = ssl.create_default_context, []

    def recording(*args, **kwargs):
        made_in.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", recording)
    _cert, tls_port, starttls_port = tls_dovecot
    for security, port in (("tls", tls_port), ("starttls", starttls_port)):
        settings = ImapSettings("127.0.0.1", port, security, 5.0)
        with pytest.raises(ImapTLSError):
            await ImapReader(settings, "tls@x.test", "pw-tls").connect()
    assert len(made_in) == 2
    assert threading.main_thread() not in made_in  # (the loop runs on the main thread)


async def test_a_cached_mailbox_fetches_only_newer_mail(lease, tmp_path):
    """What one reader read, saved in the mail cache, lets the next fetch only what is new."""
    from tui.core.mailcache import MailCache

    cache = MailCache(tmp_path / "mail")
    lease.deliver()
    lease.deliver(lease.mail("second", text="Your login code is 551234."))
    async with lease.reader() as reader:
        assert len(await reader.fetch_new()) == 2
        cache.save("lease-1", reader.state, reader.messages)
    lease.deliver(lease.mail("third", text="Your code is 771045."))
    state, known = cache.load("lease-1")
    assert [m.subject for m in known] == ["second", "Your verification code"]
    async with lease.reader(state=state, known=known) as reader:
        new = await reader.fetch_new()
        assert [m.subject for m in new] == ["third"]  # not the two already read
        assert [m.otp for m in reader.messages] == ["771045", "551234", "482913"]
        cache.save("lease-1", reader.state, reader.messages)
    assert len(cache.load("lease-1")[1]) == 3


async def test_first_sync_of_a_big_mailbox_lists_older_mail_by_its_headers(lease):
    for n in range(6):
        lease.deliver(lease.mail(f"mail {n}", text=f"Your code is 10000{n}."))
    async with lease.reader(max_initial=2) as reader:
        assert [m.subject for m in await reader.fetch_new()] == ["mail 4", "mail 5"]
    async with lease.reader(max_initial=2, headers_for_older=True) as reader:
        fetched = await reader.fetch_new()
        assert [m.subject for m in fetched] == [f"mail {n}" for n in range(6)]
        older, newest = fetched[:4], fetched[4:]
        assert all(m.headers_only and m.partial and m.notice for m in older)
        assert all(m.received is not None and m.sender == "robot@x.example" for m in older)
        assert not any(m.headers_only for m in newest) and newest[1].otp == "100005"
        assert b"Your code" not in older[0].raw  # no body yet
        whole = await reader.fetch_raw(older[0].uid)
        assert whole is not None and b"Your code is 100000." in whole
        assert reader.state.last_uid == fetched[-1].uid


async def test_older_messages_are_listed_by_batches_of_header_fields(lease, monkeypatch):
    """Issue 16: the older messages of a first sync come by their header fields, a batch per
    UID FETCH (the next on the wire while one is parsed), each batch reported to
    ``after_batch`` (the inbox freezes its heap there); their subject, sender and subject code
    as parse_message reads them."""
    import tui.imap.sync as sync_module

    monkeypatch.setattr(sync_module, "HEADER_BATCH", 3)
    for n in range(9):
        lease.deliver(lease.mail(f"Your code is 20000{n}", text=f"body {n}"))
    batches: list[int] = []
    async with lease.reader(
        max_initial=1, headers_for_older=True, after_batch=lambda: batches.append(1)
    ) as reader:
        fetched = await reader.fetch_new()
    assert len(batches) == 4  # before the 8 older messages, then after 3 + 3 + 2
    assert [m.subject for m in fetched] == [f"Your code is 20000{n}" for n in range(9)]
    older = fetched[:-1]
    assert all(m.headers_only and m.sender == "robot@x.example" for m in older)
    assert [m.otp for m in older] == [f"20000{n}" for n in range(8)]
    assert all(b"body" not in m.raw and b"Subject:" in m.raw for m in older)


async def test_a_reader_keeps_the_newest_messages_up_to_keep(lease):
    for n in range(5):
        lease.deliver(lease.mail(f"mail {n}", text=f"Your code is 30000{n}."))
    async with lease.reader(keep=3) as reader:
        assert len(await reader.fetch_new()) == 5  # every new one reported
        assert [m.subject for m in reader.messages] == ["mail 4", "mail 3", "mail 2"]
