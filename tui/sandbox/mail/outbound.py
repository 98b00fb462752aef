"""Outbound mail of the sandbox (contract §5.5): recipient syntax and the optional SMTP relay.

A send goes to each recipient one of three ways: a sandbox mailbox under an active lease gets
it through ``mail.deliver`` (the inbound path), an external address goes to the SMTP relay
when one is configured, and everything else stays in the outbox table.
"""

from __future__ import annotations

import asyncio
import re
import smtplib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import make_msgid

from tui.sandbox.config import SandboxConfig
from tui.sandbox.mail import inbound as mail
from tui.sandbox.state.store import Store

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
_QUOTED = r'"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"'
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = rf"{_LABEL}(?:\.{_LABEL})*"
_LITERAL = r"\[[\x21-\x5a\x5e-\x7e]*\]"
_ADDR_SPEC = re.compile(rf"(?:{_DOT_ATOM}|{_QUOTED})@(?:{_DOMAIN}|{_LITERAL})")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f]+")

AUTH_FAILED = "Invalid login: 535 5.7.8 Error: authentication failed"
"""What production's SMTP login answers a wrong mailbox password (the 502 message)."""
ALL_REJECTED = "Can't send mail - all recipients were rejected"
"""Prefix of the 502 message when no recipient was accepted (as nodemailer words it)."""


def is_addr_spec(address: str) -> bool:
    """A simple RFC 5322 ``addr-spec`` check (ASCII, no display name, no comments).

    Local part: a dot-atom or a quoted string, at most 64 octets. Domain: dot-separated
    LDH labels or a ``[literal]``. At most 254 octets in all.
    """
    if len(address) > 254 or not _ADDR_SPEC.fullmatch(address):
        return False
    local = address.rsplit("@", 1)[0]
    return len(local) <= 64


def split_hostport(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` too) as a tuple; ValueError when malformed."""
    host, sep, port = value.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)


@dataclass
class RelayResult:
    """Outcome of one relay transaction."""

    accepted: list[str] = field(default_factory=list)
    """Recipients the relay took."""
    rejected: list[str] = field(default_factory=list)
    """Recipients it refused, or all of them when the transaction failed."""
    response: str | None = None
    """The final reply to DATA (``250 ...``)."""
    error: str | None = None
    """What went wrong, if anything."""


def _reply(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {message}".strip()


def relay(
    hostport: str, sender: str, recipients: list[str], raw: bytes, timeout: float
) -> RelayResult:
    """Forward ``raw`` to an SMTP server (blocking): one transaction, RCPT per recipient.

    A refused RCPT rejects that recipient only; a connection, MAIL or DATA failure rejects
    all of them. Never raises.
    """
    result = RelayResult()
    try:
        host, port = split_hostport(hostport)
        with smtplib.SMTP(host, port, timeout=timeout) as client:
            client.ehlo_or_helo_if_needed()
            code, text = client.mail(sender)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, text, sender)
            errors: list[str] = []
            for rcpt in recipients:
                code, text = client.rcpt(rcpt)
                if code in (250, 251):
                    result.accepted.append(rcpt)
                else:
                    result.rejected.append(rcpt)
                    errors.append(f"{rcpt}: {_reply(code, text)}")
            if not result.accepted:
                client.rset()
                result.error = "; ".join(errors)
                return result
            code, text = client.data(raw)
            if code != 250:
                raise smtplib.SMTPDataError(code, text)
            result.response = _reply(code, text)
            result.error = "; ".join(errors) or None
    except (OSError, ValueError, smtplib.SMTPException) as exc:
        detail: object = exc
        if isinstance(exc, smtplib.SMTPResponseException):
            detail = _reply(exc.smtp_code, exc.smtp_error)
        result.rejected = list(recipients)
        result.accepted = []
        result.response = None
        result.error = f"relay {hostport}: {detail or type(exc).__name__}"
    return result


@dataclass(frozen=True)
class Outgoing:
    """One message a tenant sends (``POST /v2/messages/send``)."""

    attempt_id: str
    tenant_id: str
    sender: str
    to: list[str]
    subject: str
    text: str | None
    html: str | None


@dataclass
class Transmission:
    """Where a message went: per recipient, and the problems met on the way."""

    accepted: list[str]
    rejected: list[str]
    message_id: str | None
    response: str | None
    error: str | None
    """The per-recipient problems joined, or None."""


def _by_syntax(to: list[str]) -> tuple[list[str], list[str], list[str]]:
    """``(valid, rejected, errors)``: recipients that are no addr-spec are rejected."""
    valid: list[str] = []
    rejected: list[str] = []
    errors: list[str] = []
    for rcpt in to:
        if is_addr_spec(rcpt):
            valid.append(rcpt)
        else:
            rejected.append(rcpt)
            errors.append(f"{rcpt}: 553 5.1.3 invalid address syntax")
    return valid, rejected, errors


async def _place(
    config: SandboxConfig, store: Store, out: Outgoing, valid: list[str], raw: bytes
) -> tuple[list[str], list[str]]:
    """Deliver to leased sandbox mailboxes, keep the rest in the outbox, except what goes to
    the relay; return ``(accepted, for the relay)``."""
    accepted: list[str] = []
    external: list[str] = []
    done: set[str] = set()
    parsed: mail.Parsed | None = None
    for rcpt in valid:
        key = rcpt.lower()
        if key in done:  # the same address twice gets one copy
            accepted.append(rcpt)
            continue
        done.add(key)
        target = store.mailbox_by_address(rcpt)
        if target is not None and target.lease_id is not None:
            try:
                if parsed is None:  # once, in a child process (parsing holds the GIL)
                    parsed = await asyncio.to_thread(mail.parse_isolated, store, raw, out.sender)
                await asyncio.to_thread(
                    mail.deliver, store, rcpt, raw, envelope_from=out.sender, parsed=parsed
                )
                accepted.append(rcpt)
                continue
            except mail.NoActiveLeaseError:
                pass  # the lease ended meanwhile: keep it like any other address
        domain = rcpt.rsplit("@", 1)[1].lower()
        if config.smtp_relay and target is None and domain != config.mailbox_domain.lower():
            external.append(rcpt)
            continue
        store.add_outbox(out.attempt_id, out.tenant_id, out.sender, rcpt, raw)
        accepted.append(rcpt)
    return accepted, external


async def transmit(config: SandboxConfig, store: Store, out: Outgoing) -> Transmission:
    """Route each recipient: lease (inbound path), relay, or outbox; never raises."""
    valid, rejected, errors = _by_syntax(out.to)
    message_id = make_msgid(domain=config.mailbox_domain)
    if not valid:
        return Transmission([], rejected, None, None, "; ".join(errors))
    raw = mail.build_mime(
        sender=out.sender,
        to=", ".join(dict.fromkeys(valid)),
        # a header cannot hold CR/LF (no header injection): fold controls to spaces
        subject=_CONTROLS.sub(" ", out.subject),
        text=out.text,
        html=out.html,
        date=datetime.fromtimestamp(store.clock(), UTC),
        message_id=message_id,
    )
    accepted, external = await _place(config, store, out, valid, raw)
    response = f"250 2.0.0 Ok: queued as {out.attempt_id.split('-')[0].upper()}"
    if external:
        assert config.smtp_relay is not None
        result = await asyncio.to_thread(
            relay, config.smtp_relay, out.sender, external, raw, config.relay_timeout_s
        )
        accepted.extend(result.accepted)
        rejected.extend(result.rejected)
        if result.error:
            errors.append(result.error)
        if result.response and len(result.accepted) == len(accepted):
            response = result.response  # everything went through the relay
    return Transmission(
        accepted=accepted,
        rejected=rejected,
        message_id=message_id if accepted else None,
        response=response if accepted else None,
        error="; ".join(errors) or None,
    )
