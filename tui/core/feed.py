"""One live feed of the codes and links arriving across every active lease (``A`` on the lease
list), for someone running several agents at once.

Within the call budget of one inbox: the mailboxes are asked in turn, one request at a time,
at the pace a single inbox would poll (so N leases are each checked N times less often).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from tui.api.errors import MailagentsError
from tui.api.models import Lease, iso_z
from tui.core.inbox import InboxItem, build_item
from tui.core.poller import MailboxPoller

if TYPE_CHECKING:
    from tui.api.client import MailagentsClient
    from tui.core.settings import PollSettings

MAX_ENTRIES = 500
"""Entries kept (the newest)."""


@dataclass(frozen=True)
class FeedEntry:
    """A code or link that arrived in one of the leases."""

    lease: Lease
    """The lease it arrived in."""
    item: InboxItem
    """The message as the inbox shows it (code, link, sender, subject)."""

    @property
    def received_at(self) -> datetime | None:
        """When it arrived."""
        return self.item.message.received_at


class LiveFeed:
    """Polls the leases' mailboxes in turn and keeps the messages that carry a code or link
    (not the service's sample message, not mail from before a lease)."""

    def __init__(
        self, client: MailagentsClient, leases: list[Lease], settings: PollSettings
    ) -> None:
        self.leases = list(leases)
        """The active leases followed."""
        self.pollers = [
            MailboxPoller(
                client,
                lease.mailbox_id,
                since=iso_z(lease.started_at),
                lease_started=lease.started_at,
                settings=settings,
            )
            for lease in self.leases
        ]
        """One poller per lease (its ``since`` and what it has seen); only one asks at a time."""
        self.entries: list[FeedEntry] = []
        """Codes and links seen, newest first."""
        self.calls = 0
        """Requests made."""
        self._turn = 0
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Ask the next mailbox now."""
        self._wake.set()

    async def step(self) -> list[FeedEntry]:
        """Ask the next mailbox that is still followed; its new codes and links."""
        live = [i for i, p in enumerate(self.pollers) if not p.stopped]
        if not live:
            return []
        index = live[self._turn % len(live)]
        self._turn += 1
        poller, lease = self.pollers[index], self.leases[index]
        self.calls += 1
        try:
            update = await poller.attempt()
        except MailagentsError:
            return []  # that mailbox stopped (gone, released): the others go on
        new = []
        for message in update.new:
            item = build_item(message, lease.started_at)
            if item.sample or item.before_lease or not (item.code or item.link):
                continue
            new.append(FeedEntry(lease, item))
        if new:
            merged = new + self.entries
            merged.sort(key=lambda e: e.received_at.timestamp() if e.received_at else 0.0)
            self.entries = list(reversed(merged))[:MAX_ENTRIES]
        return new

    def delay(self) -> float:
        """Seconds to the next request: the pace of one inbox (the next mailbox's own)."""
        live = [p for p in self.pollers if not p.stopped]
        if not live:
            return 3600.0
        return live[self._turn % len(live)].next_delay()

    async def run(self, on_update: Callable[[list[FeedEntry], list[FeedEntry]], object]) -> None:
        """Until cancelled: one mailbox, report (all entries, the new ones), wait, next."""
        while True:
            new = await self.step()
            on_update(self.entries, new)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.delay())
