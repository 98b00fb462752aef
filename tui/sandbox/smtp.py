"""SMTP inbound for the sandbox (aiosmtpd): mail for leased addresses only."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from tui.sandbox import mail
from tui.sandbox.admin_state import admin_state
from tui.sandbox.store import Store

log = logging.getLogger("tui.sandbox.smtp")

MAX_MESSAGE = 10 * 1024 * 1024


class InboundHandler:
    """aiosmtpd handler: RCPT only for addresses under an active lease; DATA stores the mail."""

    def __init__(self, store: Store) -> None:
        self.store = store
        """Where messages go."""

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        """Accept a recipient only when its mailbox has an active, unexpired lease."""
        mailbox = self.store.mailbox_by_address(address)
        if mailbox is None or mailbox["lease_id"] is None:
            return "550 5.1.1 Mailbox unavailable: no active lease for this address"
        sender = envelope.mail_from or ""
        if refusal := self._denied(sender.rpartition("@")[2], mailbox["tenant_id"], address):
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Store one message row per accepted recipient."""
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        sender = mail.parse_headers(raw, envelope.mail_from or None).sender_domain
        first = self.store.mailbox_by_address(envelope.rcpt_tos[0]) if envelope.rcpt_tos else None
        tenant_id = first["tenant_id"] if first else None
        if refusal := self._denied(sender, tenant_id, ", ".join(envelope.rcpt_tos)):
            return refusal
        stored = 0
        for rcpt in envelope.rcpt_tos:
            try:
                mail.deliver(self.store, rcpt, raw, envelope_from=envelope.mail_from or None)
                stored += 1
            except mail.NoActiveLeaseError:
                log.info("sandbox smtp: lease of %s ended before DATA", rcpt)
        if not stored:
            return "550 5.1.1 No recipient has an active lease any more"
        return "250 Message accepted for delivery"

    def _denied(self, domain: str, tenant_id: str | None, rcpt: str) -> str | None:
        """The SMTP refusal when a ``domain_denylist`` policy names the sender's domain.

        Each refusal is recorded as a risk event of the recipient's tenant.
        """
        state = admin_state(self.store)
        hit = state.denied_domain(domain)
        if hit is None:
            return None
        detail = f"sender domain {domain.lower()} (denylist {hit}) refused for {rcpt}"
        state.risk(tenant_id, "medium", "domain_denylist.hit", detail)
        return "550 5.7.1 Sender domain is denied by policy"


async def start_smtp(store: Store, sock: socket.socket) -> asyncio.AbstractServer:
    """Serve SMTP on an already bound socket, in the running event loop."""
    handler = InboundHandler(store)
    loop = asyncio.get_running_loop()

    def factory() -> Any:
        return SMTP(
            handler,
            hostname="sandbox.mailagents.test",
            ident="mailagents-sandbox ESMTP",
            data_size_limit=MAX_MESSAGE,
            enable_SMTPUTF8=True,
            decode_data=False,
        )

    return await loop.create_server(factory, sock=sock)
