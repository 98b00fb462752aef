"""``wait-otp``: wait for a lease's next code (or link), headless."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

from tui.api.errors import MailagentsError, classify
from tui.api.models import Lease, iso_z
from tui.core.codepick import CodeFilter, CodePicker, Picked, ReturnedCodes
from tui.core.inbox import InboxItem, build_item
from tui.core.inbox_model import InboxModel
from tui.core.poller import MailboxPoller, PollSettings
from tui.core.services import Services

if TYPE_CHECKING:
    from tui.imap.reader import ImapReader

T = TypeVar("T")


class WaitTimeout(Exception):
    """No code arrived in time."""


WAIT_BACKOFF_MAX = 10.0
"""Longest pause between retries while someone waits (``[poll] backoff_max`` if smaller)."""


async def lease_items(lease: Lease, poller: MailboxPoller) -> list[InboxItem]:
    """Poll once and build the items of the lease (after a transient failure, the items seen
    before: the poller backs off; a permanent one raises)."""
    update = await poller.attempt()
    return [build_item(m, lease.started_at, lease.released_at) for m in update.messages]


def wait_delay(poller: MailboxPoller, waited: float) -> float:
    """Seconds to the next poll while someone waits: the ``waiting`` pace for the first
    ``waiting_window`` seconds of the wait, then the poller's own; a failure backs off."""
    s = poller.settings
    if poller.status.failures or waited >= s.waiting_window:
        return poller.next_delay()
    return s.waiting


async def _within(call: Callable[[], Awaitable[T]], deadline: float, what: str) -> T:
    """``call()`` retried through transient failures (backing off with jitter) until the
    deadline; a permanent failure is raised at once."""
    failures = 0
    while True:
        remaining = deadline - time.monotonic()
        try:
            return await asyncio.wait_for(call(), max(remaining, 0.1))
        except TimeoutError:
            raise WaitTimeout(f"{what}: no answer within the timeout") from None
        except MailagentsError as exc:
            failure = classify(exc)
            remaining = deadline - time.monotonic()
            if not failure.transient or remaining <= 0:
                raise
            failures += 1
            delay = min(WAIT_BACKOFF_MAX, 2.0 ** (failures - 1)) * (0.5 + 0.5 * random.random())
            if failure.retry_after is not None:
                delay = max(failure.retry_after, 0.1)  # the server's word, not a guess
            await asyncio.sleep(min(delay, remaining))


class LeaseNotActive(Exception):
    """Waiting on a lease that no longer receives mail for its holder."""


async def wait_for_code(
    services: Services,
    lease_id: str,
    *,
    timeout: float,
    want_link: bool = False,
    fresh: bool = False,
    filters: CodeFilter | None = None,
    on_ignored: Callable[[InboxItem, str, str], None] | None = None,
    settings: PollSettings | None = None,
) -> Picked:
    """The newest code (or link) of the lease's mail that no earlier call returned, newer than
    the last one returned (see :mod:`tui.core.codepick`).

    Any mail since the lease started counts; with ``fresh``, only mail first seen after this
    call started. ``filters`` choose the mail (and a custom code shape); a doubtful server guess
    is skipped and reported to ``on_ignored``. Raises :class:`WaitTimeout`.
    """
    deadline = time.monotonic() + timeout
    lease = await _within(
        lambda: services.client.get_lease(lease_id), deadline, f"lease {lease_id}"
    )
    if not lease.is_active:
        raise LeaseNotActive(
            f"lease {lease_id} is {lease.lease_status}: new mail to its address is not yours"
        )
    returned = ReturnedCodes(services.settings.state_dir / "returned.json")
    kind = "link" if want_link else "otp"
    picker = CodePicker(
        want_link=want_link,
        filters=filters or CodeFilter(),
        returned=returned.get(lease_id, kind),
        fresh=fresh,
        on_ignored=on_ignored,
    )
    settings = settings or services.settings.poll
    poller = MailboxPoller(
        services.client,
        lease.mailbox_id,
        since=iso_z(lease.started_at),
        lease_started=lease.started_at,
        settings=replace(settings, backoff_max=min(settings.backoff_max, WAIT_BACKOFF_MAX)),
    )
    wait = _Wait(lease_id, lease, poller, picker, timeout, deadline)
    reader = await _imap_reader(services, lease)
    return await wait.run(reader, lambda picked: returned.add(lease_id, kind, picked.identity))


class _Wait:
    """One wait's loop: read the mail (over IMAP, else the API), pick, else pause and retry."""

    def __init__(
        self,
        lease_id: str,
        lease: Lease,
        poller: MailboxPoller,
        picker: CodePicker,
        timeout: float,
        deadline: float,
    ) -> None:
        self.lease_id = lease_id
        self.lease = lease
        self.poller = poller
        self.picker = picker
        self.timeout = timeout
        self.deadline = deadline
        self.model = InboxModel(lease.started_at, lease_ended=lease.released_at)
        """The mail read so far, both sources merged (it says when to ask the API about IMAP
        mail from the lease's first second, once per mail: see _imap_items)."""

    async def run(self, reader: ImapReader | None, keep: Callable[[Picked], None]) -> Picked:
        """The picked mail (``keep(picked)`` first), reading through ``reader`` (None: the
        API) until the deadline; the reader in use at the end is closed."""
        try:
            while True:
                entries = None
                if reader is not None:
                    entries = await _imap_items(reader, self.model, self.poller)
                    if entries is None:  # IMAP broke: the API takes over
                        reader = None
                if entries is None:
                    entries = await self._api_entries()
                uidvalidity = reader.state.uidvalidity if reader is not None else None
                picked = self.picker.pick(entries, uidvalidity)
                if picked is not None and reader is not None:
                    picked = await _with_api_id(
                        picked, self.picker, reader, self.lease, self.poller
                    )
                if picked is not None:
                    keep(picked)
                    return picked
                remaining = self.deadline - time.monotonic()
                if remaining <= 0:
                    what = "verification link" if self.picker.want_link else "code"
                    raise WaitTimeout(
                        f"no new {what} for lease {self.lease_id} within {self.timeout:g}s"
                    )
                if reader is not None:
                    await _imap_wait(reader, min(remaining, 30.0))
                else:
                    delay = wait_delay(self.poller, self.timeout - remaining)
                    await asyncio.sleep(min(delay, remaining))
        finally:
            if reader is not None:
                with contextlib.suppress(Exception):
                    await reader.close()

    async def _api_entries(self) -> list[tuple[InboxItem, str]]:
        """Every mail the API lists, as (item, "api")."""
        try:  # transient failures back off inside; a request never outlives the wait
            items = await asyncio.wait_for(
                lease_items(self.lease, self.poller), max(self.deadline - time.monotonic(), 0.1)
            )
        except TimeoutError:
            items = []
        return [(item, "api") for item in items]


async def _imap_reader(services: Services, lease: Lease) -> ImapReader | None:
    """A connected IMAP reader for the lease, or None (the API is used instead)."""
    from tui.core.imapsource import ImapUnavailable, open_reader

    try:
        return await open_reader(services, lease)
    except ImapUnavailable:
        return None


async def _imap_items(
    reader: ImapReader, model: InboxModel, poller: MailboxPoller
) -> list[tuple[InboxItem, str]] | None:
    """Fetch what is new; every mail as (item, source), newest first (None when IMAP failed).

    A mail IMAP stamps in the very second the lease began may be the last lessee's: the
    API's list, with its milliseconds, settles it. The model says when to ask (once per such
    mail the API has not listed); the poller remembers what it listed.
    """
    from tui.api.errors import MailagentsError
    from tui.imap.errors import ImapError

    try:
        await reader.fetch_new()
    except ImapError:
        return None
    if model.load(poller.messages, reader.messages).asked:
        with contextlib.suppress(MailagentsError):
            await poller.poll_once()
        model.load(poller.messages, reader.messages)
    return model.rows()


async def _with_api_id(
    picked: Picked, picker: CodePicker, reader: ImapReader, lease: Lease, poller: MailboxPoller
) -> Picked:
    """A mail only IMAP has listed so far has no API id (its row key ``imap:<uid>`` changes
    once the API lists it): ask the API once, so the caller gets the id that lasts."""
    from tui.api.errors import MailagentsError
    from tui.core.imapsource import merge

    if picked.item.message.parsed_status != "imap":
        return picked
    try:
        await poller.poll_once()
    except MailagentsError:
        return picked
    again = picker.pick(merge(poller.messages, reader.messages, lease), reader.state.uidvalidity)
    return again if again is not None and again.identity.same(picked.identity) else picked


async def _imap_wait(reader: ImapReader, timeout: float) -> None:
    """Wait for IDLE to signal new mail (or the timeout)."""
    from tui.imap.errors import ImapError

    with contextlib.suppress(ImapError):
        await reader.wait_for_change(timeout)
