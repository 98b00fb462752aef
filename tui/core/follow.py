"""Follow a lease's mail: every message once, oldest first, as it arrives (``messages --follow``).

Over IMAP when the ledger holds the lease's credentials (IDLE wakes it at once; the API is
asked once per wake-up, so rows keep the API's ids), else by polling the API at the poller's
adaptive pace.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from tui.api.models import iso_z
from tui.core.imapsource import ImapUnavailable, open_reader
from tui.core.inbox import InboxItem
from tui.core.inbox_model import InboxModel
from tui.core.poller import MailboxPoller

if TYPE_CHECKING:
    from tui.core.services import Services
    from tui.imap.message import ImapMessage
    from tui.imap.reader import ImapReader

IDLE_WAIT_S = 30.0
"""Longest IDLE wait before the API is asked again (mail IDLE missed, a broken link)."""


async def follow_mail(
    services: Services, lease_id: str, *, show_all: bool = False, use_imap: bool = True
) -> AsyncIterator[tuple[InboxItem, str]]:
    """Yield ``(item, source)`` for every mail of the lease, the ones already there first,
    oldest first; then wait for more, forever (cancel or break out to stop).

    Without ``show_all``, another lessee's mail (before the lease, after its release) is
    left out. ``use_imap=False`` only polls the API. A transient API failure is retried at
    the poller's back-off pace; a permanent one (see :func:`tui.api.errors.classify`) ends it.
    """
    lease = await services.client.get_lease(lease_id)
    poller = MailboxPoller(
        services.client,
        lease.mailbox_id,
        since=None if show_all else iso_z(lease.started_at),
        lease_started=lease.started_at,
        settings=services.settings.poll,
    )
    reader: ImapReader | None = None
    if use_imap:
        with contextlib.suppress(ImapUnavailable):
            reader = await open_reader(services, lease, cached=True)
    model = InboxModel(lease.started_at, lease_ended=lease.released_at)  # what was yielded
    try:
        while True:
            imap_messages: list[ImapMessage] = []
            if reader is not None:
                from tui.imap.errors import ImapError

                try:
                    await reader.fetch_new()
                    imap_messages = reader.messages
                except ImapError:
                    with contextlib.suppress(Exception):
                        await reader.close()
                    reader = None  # the API takes over
            await poller.attempt()  # transient failures back off; a permanent one ends it
            model.load(poller.messages, imap_messages)
            for item, source in model.unseen(show_all=show_all):  # each mail once, oldest first
                yield item, source
            if reader is not None:
                from tui.imap.errors import ImapError

                with contextlib.suppress(ImapError):
                    await reader.wait_for_change(IDLE_WAIT_S)
            else:
                await asyncio.sleep(poller.next_delay())
    finally:
        if reader is not None:
            with contextlib.suppress(Exception):
                await reader.close()
