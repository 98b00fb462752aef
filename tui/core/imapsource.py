"""The IMAP side of a lease for the headless commands: open a reader, read the mail once, merge
it with the API's list."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from typing import TYPE_CHECKING, Any

from tui.api.errors import MailagentsError
from tui.api.models import Lease, Message, iso_z
from tui.core.inbox import (
    InboxItem,
    build_item,
    imap_message_id,
)
from tui.core.services import Services

if TYPE_CHECKING:
    from tui.api.models import Runtime
    from tui.core.ledger import LedgerEntry
    from tui.imap.message import ImapMessage
    from tui.imap.reader import ImapReader
    from tui.imap.state import MailboxState


class ImapUnavailable(Exception):
    """IMAP cannot be used for this lease; the message says why (never a password)."""


RESERVED_SUFFIXES = (".test", ".invalid", ".example", ".localhost")
"""RFC 2606 names never resolve: a server whose mailbox domain is one offers no IMAP there."""


def unreachable_reason(host: str) -> str | None:
    """Why IMAP cannot work at ``host`` without even trying, or None."""
    name = host.lower().rstrip(".")
    if name.endswith(RESERVED_SUFFIXES) and name != "localhost":
        return f"the service offers no IMAP ({name} is a reserved name)"
    return None


def reader_for(
    services: Services,
    entry: LedgerEntry | None,
    runtime: Runtime,
    **options: Any,  # ImapReader's keywords, of several types
) -> ImapReader:
    """An unconnected ImapReader for a ledger entry, or ImapUnavailable with the reason;
    ``options`` go to the reader (``headers_for_older``, ``keep``...)."""
    from tui.imap.errors import ImapError
    from tui.imap.reader import ImapReader
    from tui.imap.settings import resolve_imap_settings

    if entry is None or not entry.webmail_password:
        raise ImapUnavailable("no stored credentials for this lease")
    try:
        settings = resolve_imap_settings(
            webmail_url=entry.webmail_url,
            runtime_raw=runtime.raw,
            mailbox_domain=runtime.mailbox_domain,
        )
    except ImapError as exc:
        raise ImapUnavailable(exc.user_message()) from exc
    reason = unreachable_reason(settings.host)
    if reason is not None:
        raise ImapUnavailable(reason)
    return ImapReader(
        settings,
        entry.webmail_login or entry.address,
        entry.webmail_password,
        **options,
    )


async def restore_cached(services: Services, lease_id: str, reader: ImapReader) -> None:
    """Start ``reader`` from what the mail cache holds for the lease (when it is on)."""
    cache = services.mail_cache
    if cache is not None:
        reader.restore(*await asyncio.to_thread(cache.load, lease_id))


async def open_watcher(
    services: Services, lease: Lease, *, first_bodies: int, keep: int
) -> ImapReader:
    """An unconnected reader for an inbox to run (IDLE push), started from the mail cache: it
    lists the whole mailbox (up to ``keep``), the newest ``first_bodies`` read whole on a first
    sync, the older by their headers, each batch of a thousand then frozen out of the cyclic
    collector's reach (as the inbox freezes its heap after a big load: full collections of the
    growing heap stalled the listing of 10,000 for 100-200 ms). Raises
    :class:`ImapUnavailable` or the API's error."""
    import importlib

    # The reader's modules (aioimaplib, the MIME parser) load in a thread: an inbox opening
    # for the first time does not stall on them (issue 16).
    await asyncio.to_thread(importlib.import_module, "tui.imap.reader")
    runtime = await services.session.get_runtime()
    reader: ImapReader = reader_for(
        services,
        services.ledger.get(lease.lease_id),
        runtime,
        max_initial=first_bodies,
        headers_for_older=True,  # a big mailbox is listed whole
        keep=keep,
        after_batch=gc.freeze,  # each thousand messages listed out of the collector's reach
    )
    await restore_cached(services, lease.lease_id, reader)
    return reader


async def save_cached(
    services: Services, lease_id: str, state: MailboxState, messages: list[ImapMessage]
) -> None:
    """Remember what a reader has read (nothing when the cache is off)."""
    if services.mail_cache is not None:
        await asyncio.to_thread(services.mail_cache.save, lease_id, state, messages)


async def open_reader(services: Services, lease: Lease, *, cached: bool = False) -> ImapReader:
    """A connected :class:`tui.imap.reader.ImapReader` for the lease, or ImapUnavailable.

    ``cached`` starts it from the mail cache (it then fetches only newer mail).
    """
    from tui.imap.errors import ImapError

    try:
        runtime = await services.session.get_runtime()
        reader = reader_for(services, services.ledger.get(lease.lease_id), runtime)
        if cached:
            await restore_cached(services, lease.lease_id, reader)
        await reader.connect()
    except ImapError as exc:
        raise ImapUnavailable(exc.user_message()) from exc
    except MailagentsError as exc:
        raise ImapUnavailable(exc.user_message()) from exc
    return reader


class WholeUnavailable(Exception):
    """A message could not be read whole; the message is the line to show (never a password)."""


async def fetch_whole(
    services: Services, lease: Lease, uid: int, *, limit: int | None = None
) -> bytes:
    """The message ``uid`` (its first ``limit`` bytes) over a new IMAP connection (the
    reader's own is idling), or :class:`WholeUnavailable` saying why."""
    from tui.imap.errors import ImapError

    try:
        reader = await open_reader(services, lease)
    except ImapUnavailable as exc:
        raise WholeUnavailable(f"Cannot fetch the whole message: {exc}") from exc
    try:
        raw: bytes | None = await reader.fetch_raw(uid, limit=limit)
    except ImapError as exc:
        raise WholeUnavailable(f"Cannot fetch the whole message: {exc.user_message()}") from exc
    finally:
        with contextlib.suppress(Exception):
            await reader.close()
    if raw is None:
        raise WholeUnavailable("The message is no longer in the mailbox")
    return raw


async def parse_whole(imap: ImapMessage, raw: bytes) -> ImapMessage:
    """``imap`` read again from ``raw`` (its whole bytes, or as many as were fetched), parsed
    off the event loop's thread."""
    from tui.imap.message import parse_message

    return await asyncio.to_thread(
        parse_message,
        imap.uid,
        raw,
        size=imap.size,
        partial=len(raw) < imap.size,
        internaldate=imap.received,
    )


async def read_imap(services: Services, lease: Lease) -> tuple[list[ImapMessage], str | None]:
    """Every message IMAP can read now (newest first), or ``([], reason)``."""
    from tui.imap.errors import ImapError

    try:
        reader = await open_reader(services, lease, cached=True)
    except ImapUnavailable as exc:
        return [], str(exc)
    try:
        await reader.fetch_new()
        await save_cached(services, lease.lease_id, reader.state, reader.messages)
        return reader.messages, None
    except ImapError as exc:
        return [], exc.user_message()
    finally:
        with contextlib.suppress(Exception):
            await reader.close()


def merge(
    messages: list[Message], imap_messages: list[ImapMessage], lease: Lease
) -> list[tuple[InboxItem, str]]:
    """One (item, source) per mail, newest first; source is ``imap`` or ``api`` (the rows of
    an :class:`tui.core.inbox_model.InboxModel` loaded with both lists)."""
    from tui.core.inbox_model import InboxModel

    model = InboxModel(lease.started_at, lease_ended=lease.released_at)
    model.load(messages, imap_messages)
    return model.rows()


async def read_lease_mail(
    services: Services, lease_id: str, *, show_all: bool, limit: int, use_imap: bool
) -> tuple[Lease, list[tuple[InboxItem, str]], list[ImapMessage], str | None]:
    """The lease, its merged (item, source) rows newest first, the IMAP messages, and why IMAP
    is off (``not asked`` without ``use_imap``).

    Without ``show_all``, another lessee's mail (before the lease, or after its release) is
    left out.
    """
    lease = await services.client.get_lease(lease_id)
    since = None if show_all else iso_z(lease.started_at)
    found = await services.client.list_messages(lease.mailbox_id, since=since, limit=limit)
    imap_messages: list[ImapMessage] = []
    reason: str | None = "not asked"
    if use_imap:
        imap_messages, reason = await read_imap(services, lease)
    rows = merge(found, imap_messages, lease)
    if not show_all:
        rows = [(i, src) for i, src in rows if not (i.before_lease or i.after_lease)]
    return lease, rows, imap_messages, reason


async def fetch_message(services: Services, lease: Lease, message_id: str) -> InboxItem | None:
    """A message by its API id (``GET /v2/messages/{id}``: one older than the newest 100 the
    list returns), or None when the service does not know it or it is another mailbox's."""
    from tui.api.errors import NotFoundError

    if not message_id or message_id.startswith("imap:"):
        return None
    try:
        message = await services.client.get_message(message_id)
    except NotFoundError:
        return None
    if message.mailbox_id != lease.mailbox_id:
        return None
    return build_item(message, lease.started_at, lease.released_at)


def find_raw(
    imap_messages: list[ImapMessage], items: list[tuple[InboxItem, str]], key: str
) -> ImapMessage | None:
    """The IMAP message behind a row key (API id or ``imap:<uid>``), if IMAP has it."""
    for item, _source in items:
        if item.message_id == key and "imap" in item.extra:
            return item.extra["imap"]
    for imap in imap_messages:
        if imap_message_id(imap.uid) == key:
            return imap
    return None
