"""``wait-otp``: wait for a lease's next code (or link), headless."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from tui.api.models import Lease, iso_z
from tui.core.files import locked, read_json, write_json
from tui.core.inbox import InboxItem, build_item
from tui.core.poller import MailboxPoller, PollSettings
from tui.core.services import Services


class WaitTimeout(Exception):
    """No code arrived in time."""


@dataclass
class ReturnedCodes:
    """Message ids whose code or link an earlier ``wait-otp`` already printed (per lease)."""

    path: Path
    """``returned.json`` in the state dir (0600)."""

    def get(self, lease_id: str, kind: str) -> set[str]:
        """Ids already returned for this lease and kind (``otp`` or ``link``)."""
        data = read_json(self.path, {})
        value = data.get(f"{lease_id}:{kind}") if isinstance(data, dict) else None
        return set(value) if isinstance(value, list) else set()

    def add(self, lease_id: str, kind: str, message_id: str) -> None:
        """Remember that this message's value was returned."""
        with locked(self.path):
            data = read_json(self.path, {})
            if not isinstance(data, dict):
                data = {}
            key = f"{lease_id}:{kind}"
            ids = data.get(key) if isinstance(data.get(key), list) else []
            data[key] = [*ids, message_id][-500:]
            write_json(self.path, data)


def usable(item: InboxItem, want_link: bool) -> str | None:
    """The value ``wait-otp`` may print for an item (never samples, older mail or guesses)."""
    if item.sample or item.foreign:
        return None
    return item.link if want_link else item.code


async def lease_items(lease: Lease, poller: MailboxPoller) -> list[InboxItem]:
    """Poll once and build the items of the lease."""
    update = await poller.poll_once()
    return [build_item(m, lease.started_at, lease.released_at) for m in update.messages]


class LeaseNotActive(Exception):
    """Waiting on a lease that no longer receives mail for its holder."""


async def wait_for_code(
    services: Services,
    lease_id: str,
    *,
    timeout: float,
    want_link: bool = False,
    fresh: bool = False,
    settings: PollSettings | None = None,
) -> tuple[str, InboxItem]:
    """Return (value, item) of the newest unreturned code (or link) of the lease's mail.

    By default any mail since the lease started counts, except what an earlier call returned;
    with ``fresh``, only mail first seen after this call started. Raises :class:`WaitTimeout`.
    """
    lease = await services.client.get_lease(lease_id)
    if not lease.is_active:
        raise LeaseNotActive(
            f"lease {lease_id} is {lease.lease_status}: new mail to its address is not yours"
        )
    returned = ReturnedCodes(services.settings.state_dir / "returned.json")
    kind = "link" if want_link else "otp"
    done = returned.get(lease_id, kind)
    poller = MailboxPoller(
        services.client,
        lease.mailbox_id,
        since=iso_z(lease.started_at),
        lease_started=lease.started_at,
        settings=settings or services.settings.poll,
    )
    deadline = time.monotonic() + timeout
    old: set[str] | None = None
    while True:
        poller.touch()  # someone is waiting: poll fast
        items = await lease_items(lease, poller)
        if fresh and old is None:
            old = {item.message_id for item in items}
        for item in items:  # newest first
            value = usable(item, want_link)
            if not value or item.message_id in done or (old and item.message_id in old):
                continue
            returned.add(lease_id, kind, item.message_id)
            return value, item
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            what = "verification link" if want_link else "code"
            raise WaitTimeout(f"no new {what} for lease {lease_id} within {timeout:g}s")
        await asyncio.sleep(min(poller.next_delay(), remaining))
