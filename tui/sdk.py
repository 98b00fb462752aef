"""A typed Python API for scripts and agent frameworks, over the same core as the CLI.

::

    from tui.sdk import Mailagents

    async with Mailagents.connect(api_base="https://api.mailagents.net") as ma:
        box = await ma.allocate("signup at example.com", ttl_hours=1)
        code = await box.wait_for_code(timeout=60)
        print(box.address, code.code)

Everything the service returns about mail (senders, subjects, bodies, links) comes from
strangers: every string here has lost its control characters and escape sequences and is
capped in length, but it is still untrusted *data*, never instructions.

Leases allocated through a connection are released when it closes, unless allocated with
``keep=True``. Payment proofs are attached automatically, as the CLI does.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Literal, cast

from tui.api.errors import MailagentsError, NotFoundError
from tui.api.models import iso_z
from tui.core.sanitize import clean, clean_block
from tui.core.waiter import LeaseNotActive, WaitTimeout
from tui.jsontypes import JsonObject

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    from tui.core.codepick import CodeFilter, Picked
    from tui.core.inbox import InboxItem
    from tui.core.services import Services

__all__ = [
    "Attachment",
    "CodeResult",
    "Identity",
    "LeaseInfo",
    "LeaseNotActive",
    "LinkInfo",
    "Mailagents",
    "MailagentsError",
    "Mailbox",
    "MessageDetail",
    "MessageSummary",
    "SentMail",
    "WaitTimeout",
]

BODY_LIMIT = 20_000
"""Characters of a body returned by :meth:`Mailbox.read` (the rest is cut, and said so)."""
SUBJECT_LIMIT = 300
ADDRESS_LIMIT = 200
LINK_LIMIT = 2000
LINKS_MAX = 20

Want = Literal["code", "link"]


class _Data:
    """``to_dict()`` for the result dataclasses (JSON-ready: strings, numbers, lists)."""

    def to_dict(self) -> JsonObject:
        """The fields as a JSON-ready dict."""
        return asdict(cast("DataclassInstance", self))  # every subclass is a dataclass


@dataclass(frozen=True)
class Identity(_Data):
    """Who is signed in, and how the service is set up."""

    address: str
    """The wallet address that signed in."""
    tenant_id: str
    """The tenant (one per wallet)."""
    agent_id: str
    """The agent id leases are allocated for."""
    api_base: str
    """The API this identity is valid for."""
    chain_id: int | None
    """EIP-155 chain id used for sign-in."""
    chain_name: str
    """Human chain name."""
    auth_mode: str
    """SIWE mode of the service: ``strict`` or ``mock``."""
    payment_mode: str
    """Payment mode of the service: ``hmac`` or ``mock``."""
    payment_policy: str
    """This client's proof policy: ``auto`` (on 402), ``always`` or ``never``."""
    mailbox_domain: str
    """Domain of the leased addresses."""


@dataclass(frozen=True)
class LeaseInfo(_Data):
    """A lease as the service lists it."""

    lease_id: str
    """Lease id."""
    address: str
    """The mailbox address."""
    status: str
    """``active``, ``released``..."""
    purpose: str
    """What it was allocated for."""
    started_at: str | None
    """ISO-8601 UTC."""
    expires_at: str | None
    """ISO-8601 UTC."""
    kept: bool
    """True unless this connection will release it when it closes."""


@dataclass(frozen=True)
class CodeResult(_Data):
    """What :meth:`Mailbox.wait_for_code` found: the same object as ``wait-otp --json``."""

    code: str | None
    """The one-time code (None when waiting for a link)."""
    link: str | None
    """The verification link of the same mail, if any."""
    message_id: str
    """The message's id (an API id, or ``imap:<uid>``)."""
    sender: str
    """Its sender (untrusted, cleaned)."""
    subject: str
    """Its subject (untrusted, cleaned)."""
    received_at: str | None
    """When it arrived, ISO-8601 UTC."""
    source: str
    """``imap`` (read from the whole message) or ``api`` (the service's parse)."""
    doubtful: bool
    """The value is the service's reading of a body this client could not read itself."""


@dataclass(frozen=True)
class MessageSummary(_Data):
    """One row of a mailbox's list."""

    message_id: str
    """Pass it to :meth:`Mailbox.read`."""
    sender: str
    """Untrusted, cleaned."""
    subject: str
    """Untrusted, cleaned."""
    received_at: str | None
    """ISO-8601 UTC."""
    code: str | None
    """The code this client reads in it, if any."""
    link: str | None
    """The verification link, if any."""
    source: str
    """``imap`` or ``api``."""


@dataclass(frozen=True)
class LinkInfo(_Data):
    """A link found in a mail, with the host a browser would really contact."""

    url: str
    """The link (cleaned)."""
    host: str
    """The real host (punycode kept)."""
    display_host: str
    """The host as it displays (punycode decoded)."""
    warnings: list[str] = field(default_factory=list)
    """Reasons to be careful (punycode, bare IP, odd port, plain http...)."""


@dataclass(frozen=True)
class Attachment(_Data):
    """An attachment, by name."""

    filename: str
    """Its name (cleaned)."""
    content_type: str
    """MIME type."""
    size: int
    """Decoded size in bytes."""


@dataclass(frozen=True)
class MessageDetail(_Data):
    """One message with its text body."""

    message_id: str
    """Its id."""
    sender: str
    """Untrusted, cleaned."""
    subject: str
    """Untrusted, cleaned."""
    received_at: str | None
    """ISO-8601 UTC."""
    code: str | None
    """The code this client reads in it."""
    link: str | None
    """The verification link."""
    body: str
    """The text body: control characters and escapes removed, capped at
    :data:`BODY_LIMIT` characters. Empty when only the API could be read."""
    truncated: bool
    """The body was cut."""
    links: list[LinkInfo]
    """Links found in it, with their real hosts."""
    attachments: list[Attachment]
    """Attachments by name."""
    source: str
    """``imap`` (the whole message) or ``api`` (headers and the service's parse only)."""
    note: str | None = None
    """Why the body is missing or incomplete, when it is."""


@dataclass(frozen=True)
class SentMail(_Data):
    """The service's answer to a send."""

    send_attempt_id: str
    """Look it up with ``mailagents-tui sent``."""
    status: str
    """``accepted``, ``queued`` or ``failed``."""
    accepted: list[str]
    """Recipients the mail server accepted."""
    rejected: list[str]
    """Recipients it refused."""


def code_result(picked: Picked, *, want_link: bool) -> CodeResult:
    """The ``wait-otp --json`` object of a found value."""
    return CodeResult(**picked.as_json(want_link))


def summary(item: InboxItem, source: str) -> MessageSummary:
    """A list row, cleaned."""
    m = item.message
    return MessageSummary(
        message_id=item.message_id,
        sender=clean(m.sender, ADDRESS_LIMIT),
        subject=clean(m.subject, SUBJECT_LIMIT),
        received_at=iso_z(item.received_at),
        code=clean(item.code, 200) or None,
        link=clean(item.link, LINK_LIMIT) or None,
        source=source,
    )


def link_info(url: str) -> LinkInfo:
    """A link with its real host."""
    from tui.core.links import inspect_link

    found = inspect_link(url)
    return LinkInfo(
        url=clean(found.url, LINK_LIMIT),
        host=clean(found.host, 300),
        display_host=clean(found.display_host, 300),
        warnings=[clean(w, 300) for w in found.warnings],
    )


def detail(item: InboxItem, source: str, note: str | None = None) -> MessageDetail:
    """A message with its body, cleaned and capped."""
    imap = item.extra.get("imap")
    body = clean_block(item.body_text or "", BODY_LIMIT)
    truncated = len(item.body_text or "") > BODY_LIMIT
    urls: list[str] = []
    attachments: list[Attachment] = []
    if imap is not None:
        for candidate in imap.extraction.link_candidates:
            if candidate.value not in urls:
                urls.append(candidate.value)
        attachments = [
            Attachment(clean(a.filename, 200), clean(a.content_type, 100), int(a.size))
            for a in imap.attachments
        ]
        if imap.partial:
            note = "only the start of this large message was read"
        if imap.headers_only or getattr(imap, "lazy", False):
            note = "only the headers of this older message were read (its body was not fetched)"
    if item.link and item.link not in urls:
        urls.insert(0, item.link)
    s = summary(item, source)
    return MessageDetail(
        message_id=s.message_id,
        sender=s.sender,
        subject=s.subject,
        received_at=s.received_at,
        code=s.code,
        link=s.link,
        body=body,
        truncated=truncated,
        links=[link_info(u) for u in urls[:LINKS_MAX]],
        attachments=attachments,
        source=source,
        note=note,
    )


def mail_filter(
    sender: str | None,
    subject: str | None,
    match: str | None,
    pattern: str | None = None,
    *,
    want_link: bool = False,
) -> CodeFilter:
    """The waiter's filter: ``sender`` and ``subject`` are case-insensitive substrings;
    ``match`` a regular expression (case-insensitive) searched in the subject and body;
    ``pattern`` the code's shape (``wait-otp --pattern``: case-sensitive, its first match,
    group 1 if any, in the subject, then the body). Raises ``ValueError`` for an expression
    that does not compile or matches an empty string, and for a pattern with a link."""
    from tui.core.codepick import CodeFilter, bad_regex

    if match and (why := bad_regex(match)) is not None:
        raise ValueError(f"match is {why}") from None
    if pattern and (why := bad_regex(pattern)) is not None:
        raise ValueError(f"bad pattern: {why}") from None
    if pattern and want_link:
        raise ValueError('pattern shapes a code; it does not apply to want="link"')
    return CodeFilter(
        sender=sender or None,
        subject=subject or None,
        match=re.compile(match, re.IGNORECASE) if match else None,
        pattern=re.compile(pattern) if pattern else None,
    )


class Mailbox:
    """A leased mailbox: wait for codes, read and send mail, release it."""

    def __init__(self, owner: Mailagents, info: LeaseInfo) -> None:
        self._owner = owner
        self.info = info
        """The lease as allocated (or listed)."""

    def __repr__(self) -> str:
        return f"Mailbox({self.info.address}, lease {self.info.lease_id})"

    @property
    def lease_id(self) -> str:
        """The lease id."""
        return self.info.lease_id

    @property
    def address(self) -> str:
        """The mailbox's address."""
        return self.info.address

    @property
    def expires_at(self) -> str | None:
        """When the lease ends, ISO-8601 UTC."""
        return self.info.expires_at

    async def wait_for_code(
        self,
        timeout: float = 120.0,
        *,
        want: Want = "code",
        sender: str | None = None,
        subject: str | None = None,
        match: str | None = None,
        fresh: bool = False,
        pattern: str | None = None,
    ) -> CodeResult:
        """Wait for the next code (or link, ``want="link"``) of this mailbox's mail.

        The newest code of mail since the lease began that no earlier wait returned; once a
        wait returned one, a later wait returns only newer mail (never a stale code), whatever
        the filters (``wait-otp``'s rules, shared). With ``fresh``, mail already there when the
        call starts is skipped too. A guess of the service's that looks like a year, a date, a
        price or a word is never returned. Raises :class:`WaitTimeout`, or
        :class:`LeaseNotActive` when the lease was released.

        Filters (``wait-otp``'s options): ``sender`` and ``subject`` keep mail whose sender or
        subject contains the text, ignoring case; ``match`` keeps mail whose subject or body
        matches that regular expression, ignoring case (the body is read over IMAP).
        ``pattern`` is the code's shape, a regular expression that does not ignore case: its
        first match (group 1 if it has groups) in the subject, then the body, is the code.
        An expression that does not compile or matches an empty string, or a ``pattern`` with
        ``want="link"``, raises ``ValueError`` before anything is asked of the service.
        """
        return await self._owner.wait_for_code(
            self.lease_id,
            timeout=timeout,
            want=want,
            sender=sender,
            subject=subject,
            match=match,
            fresh=fresh,
            pattern=pattern,
        )

    async def messages(self, limit: int = 20) -> list[MessageSummary]:
        """This lease's mail, newest first (never an earlier lessee's)."""
        return await self._owner.list_messages(self.lease_id, limit)

    async def read(self, message_id: str) -> MessageDetail:
        """One message with its text body."""
        return await self._owner.read_message(self.lease_id, message_id)

    async def follow(self) -> AsyncIterator[MessageSummary]:
        """Every mail of this lease once, the ones already there first, oldest first, then
        each new one as it arrives; forever (``break`` out of the loop to stop)."""
        from tui.core.follow import follow_mail

        async for item, source in follow_mail(self._owner.services, self.lease_id):
            yield summary(item, source)

    async def send(
        self, to: list[str], subject: str, *, text: str | None = None, html: str | None = None
    ) -> SentMail:
        """Send from this mailbox."""
        return await self._owner.send_mail(self.lease_id, to, subject, text=text, html=html)

    async def release(self) -> None:
        """Release the lease now."""
        await self._owner.release(self.lease_id)


class Mailagents:
    """A signed-in connection: ``async with Mailagents.connect(...) as ma: ...``."""

    def __init__(self, services: Services, *, release_timeout: float | None = None) -> None:
        self.services = services
        """The core services (client, session, ledger, leases) behind this connection."""
        self.release_timeout = release_timeout or services.settings.release_timeout
        """Seconds allowed to release this connection's leases when it closes."""

    @classmethod
    def connect(
        cls,
        api_base: str | None = None,
        *,
        private_key: str | None = None,
        keystore: str | Path | None = None,
        password: str | None = None,
        home: str | Path | None = None,
        payment: Literal["auto", "always", "never"] | None = None,
        profile: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Mailagents:
        """A connection (enter it with ``async with``), configured like the CLI.

        Unset arguments come from the environment and ``config.toml`` as for the CLI
        (``MAILAGENTS_API_BASE``, ``MAILAGENTS_PRIVATE_KEY``, ``MAILAGENTS_KEYSTORE`` and
        ``MAILAGENTS_KEYSTORE_PASSWORD``, ``MAILAGENTS_HOME``, ``MAILAGENTS_PROFILE``...);
        ``profile`` picks a ``[profiles.NAME]`` of ``config.toml``. Signing in happens on enter.
        """
        from tui.core.services import Services
        from tui.core.settings import Settings
        from tui.core.wallets import WalletSource, resolve_wallet_source

        environ = dict(os.environ if env is None else env)
        if home is not None:
            environ["MAILAGENTS_HOME"] = str(home)
        settings = Settings.load(environ, profile=profile).with_overrides(
            api_base=api_base,
            keystore=Path(keystore).expanduser() if keystore is not None else None,
            payment=payment,
        )
        if private_key:
            source = WalletSource(kind="env", description="private key", _key=private_key)
        else:
            if password is not None:
                environ["MAILAGENTS_KEYSTORE_PASSWORD"] = password
            source = resolve_wallet_source(settings, environ)
        return cls(Services.create(settings, wallet_source=source, run_id=uuid.uuid4().hex))

    async def __aenter__(self) -> Mailagents:
        try:
            await self.services.session.ensure()
        except BaseException:
            await self.services.aclose()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Release the leases allocated without ``keep``, and close the connection."""
        try:
            await self.services.leases.release_run_leases(self.release_timeout)
        finally:
            await self.services.aclose()

    # -- identity and leases --------------------------------------------------------------

    async def whoami(self) -> Identity:
        """The signed-in identity and the service's runtime."""
        session = await self.services.session.ensure()
        runtime = await self.services.session.get_runtime()
        return Identity(
            address=session.address,
            tenant_id=session.tenant_id,
            agent_id=session.agent_id,
            api_base=session.api_base,
            chain_id=runtime.chain_id,
            chain_name=clean(runtime.chain_name, 100),
            auth_mode=clean(runtime.siwe_mode, 40),
            payment_mode=clean(runtime.payment_mode, 40),
            payment_policy=self.services.settings.payment,
            mailbox_domain=clean(runtime.mailbox_domain, 200),
        )

    async def allocate(self, purpose: str, ttl_hours: int = 1, *, keep: bool = False) -> Mailbox:
        """Allocate a mailbox; released when this connection closes unless ``keep``."""
        allocated = await self.services.leases.allocate(
            purpose, ttl_hours, release_on_exit=not keep
        )
        lease = allocated.lease
        info = LeaseInfo(
            lease_id=lease.lease_id,
            address=lease.address,
            status=lease.lease_status,
            purpose=clean(lease.purpose or purpose, 200),
            started_at=iso_z(lease.started_at),
            expires_at=iso_z(lease.expires_at),
            kept=keep,
        )
        return Mailbox(self, info)

    async def mailboxes(self) -> list[Mailbox]:
        """This tenant's active leases (allocated here or anywhere else)."""
        views = await self.services.leases.list_active()
        run_id = self.services.leases.run_id
        return [
            Mailbox(
                self,
                LeaseInfo(
                    lease_id=v.lease.lease_id,
                    address=v.lease.address,
                    status=v.lease.lease_status,
                    purpose=clean(v.lease.purpose or "", 200),
                    started_at=iso_z(v.lease.started_at),
                    expires_at=iso_z(v.lease.expires_at),
                    kept=not (
                        v.entry is not None and v.entry.run_id == run_id and v.entry.release_on_exit
                    ),
                ),
            )
            for v in views
        ]

    async def mailbox(self, lease_id: str) -> Mailbox:
        """An active lease by id (raises :class:`LeaseNotActive` when it is not)."""
        for box in await self.mailboxes():
            if box.lease_id == lease_id:
                return box
        raise LeaseNotActive(f"lease {lease_id} is not an active lease of this tenant")

    async def release(self, lease_id: str) -> str:
        """Release a lease (only if the service still says it is active); the outcome."""
        result = await self.services.leases.release(lease_id)
        return result.detail

    # -- mail ---------------------------------------------------------------------------------

    async def wait_for_code(
        self,
        lease_id: str,
        *,
        timeout: float = 120.0,
        want: Want = "code",
        sender: str | None = None,
        subject: str | None = None,
        match: str | None = None,
        fresh: bool = False,
        pattern: str | None = None,
    ) -> CodeResult:
        """See :meth:`Mailbox.wait_for_code`."""
        from tui.core.waiter import wait_for_code

        if want not in ("code", "link"):
            raise ValueError('want must be "code" or "link"')
        want_link = want == "link"
        filters = mail_filter(sender, subject, match, pattern, want_link=want_link)
        picked = await wait_for_code(
            self.services,
            lease_id,
            timeout=timeout,
            want_link=want_link,
            fresh=fresh,
            filters=filters,
        )
        return code_result(picked, want_link=want_link)

    async def _rows(
        self, lease_id: str, limit: int
    ) -> tuple[list[tuple[InboxItem, str]], str | None]:
        from tui.core.imapsource import read_lease_mail

        lease, rows, _imap, reason = await read_lease_mail(
            self.services, lease_id, show_all=False, limit=limit, use_imap=True
        )
        if not lease.is_active:
            raise LeaseNotActive(
                f"lease {lease_id} is {lease.lease_status}: its mailbox is no longer yours"
            )
        return rows, reason

    async def list_messages(self, lease_id: str, limit: int = 20) -> list[MessageSummary]:
        """See :meth:`Mailbox.messages`."""
        limit = max(1, min(int(limit), 100))
        rows, _reason = await self._rows(lease_id, limit)
        return [summary(item, source) for item, source in rows[:limit]]

    async def read_message(self, lease_id: str, message_id: str) -> MessageDetail:
        """See :meth:`Mailbox.read`."""
        rows, reason = await self._rows(lease_id, 100)
        for item, source in rows:
            if item.message_id == message_id:
                note = None if source == "imap" else f"no body: IMAP is off ({reason})"
                return detail(item, source, clean(note, 300) if note else None)
        return await self._read_older(lease_id, message_id)

    async def _read_older(self, lease_id: str, message_id: str) -> MessageDetail:
        """A message not among the newest 100: the API's detail, if it is this lease's."""
        from tui.core.imapsource import fetch_message

        lease = await self.services.client.get_lease(lease_id)
        item = await fetch_message(self.services, lease, message_id)
        if item is None or item.foreign:
            raise NotFoundError(404, "not_found", f"no message {message_id} in lease {lease_id}")
        return detail(item, "api", "no body: an older message, only the API's parse")

    async def send_mail(
        self,
        lease_id: str,
        to: list[str],
        subject: str,
        *,
        text: str | None = None,
        html: str | None = None,
    ) -> SentMail:
        """See :meth:`Mailbox.send`."""
        from tui.core.compose import send_text

        result = await send_text(self.services, lease_id, list(to), subject, text=text, html=html)
        return SentMail(
            send_attempt_id=result.send_attempt_id,
            status=result.submission_status,
            accepted=list(result.accepted),
            rejected=list(result.rejected),
        )
