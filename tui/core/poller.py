"""The inbox poll loop shared by the TUI worker and the headless CLI.

Incremental (``since`` = the newest ``received_at`` seen; the server's ``since`` is inclusive,
so results are de-duplicated by ``message_id``), adaptive (fast while a fresh lease waits for
its first mail or right after the user acted, slower when idle). Failures go through the one
table, :func:`tui.api.errors.classify`: a transient one (network, 5xx, 429 with
``Retry-After``, a truncated or non-JSON answer...) backs off with jitter and keeps polling; a
permanent one (mailbox gone, 403, a sign-in that did not help) stops the poller in a lasting
``stopped`` state that names the reason, until :meth:`MailboxPoller.run` is called again.
One request in flight per mailbox at most, and a clean stop.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from tui.api.errors import Failure, MailagentsError, classify
from tui.api.models import Message, iso_z
from tui.core.settings import PollSettings  # lives with the settings (light to import)

if TYPE_CHECKING:
    from tui.api.client import MailagentsClient


@dataclass(frozen=True)
class PollStatus:
    """What the status bar shows."""

    state: str = "starting"
    """``starting``, ``ok``, ``backing_off``, ``payment``, ``limited`` or ``stopped``."""
    reason: str | None = None
    """A few words on the last failure (``offline``, ``mailbox not found``...)."""
    last_checked: float | None = None
    """Wall-clock time of the last successful poll."""
    next_check: float | None = None
    """Wall-clock time of the next poll."""
    error: str | None = None
    """The last failure, as a user message."""
    calls: int = 0
    """Requests made."""
    failures: int = 0
    """Consecutive failures."""
    permanent: bool = False
    """Stopped by a failure that retrying does not cure (until the user asks again)."""
    truncated: bool = False
    """A poll returned a full page: older new mail may be missing (the API cannot page)."""


@dataclass(frozen=True)
class PollUpdate:
    """A snapshot after a poll (safe to coalesce: it holds the whole state)."""

    messages: list[Message]
    """Every message seen, newest first."""
    new: list[Message]
    """Messages first seen in this poll."""
    status: PollStatus
    """The poll state."""


@dataclass
class MailboxPoller:
    """Polls ``GET /v2/messages`` for one mailbox."""

    client: MailagentsClient
    """The API client."""
    mailbox_id: str
    """The mailbox."""
    since: str | None = None
    """Lower bound for the next request (inclusive), as an ISO string."""
    lease_started: datetime | None = None
    """When the lease started (a fresh lease waiting for mail is polled fast)."""
    settings: PollSettings = field(default_factory=PollSettings)
    """Intervals."""
    clock: Callable[[], float] = time.time
    """Wall clock (tests inject one)."""
    rng: Callable[[], float] = random.random
    """Jitter source."""
    pause: Callable[[float], Awaitable[None]] | None = None
    """How :meth:`run` waits between polls; None waits for real (cut short by :meth:`wake`).
    Tests inject one that advances a simulated :attr:`clock`."""
    status: PollStatus = field(default_factory=PollStatus)
    """Current state."""

    def __post_init__(self) -> None:
        self._messages: dict[str, Message] = {}
        self._newest: datetime | None = None
        self._last_new: float | None = None
        self._acted: float | None = None
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._resched = asyncio.Event()
        self._retry_after: float | None = None
        self._slow = False
        self._call_times: deque[float] = deque(maxlen=512)

    # -- state ------------------------------------------------------------------------------

    @property
    def messages(self) -> list[Message]:
        """Every message seen, newest first."""
        return sorted_newest(list(self._messages.values()))

    def calls_last_minute(self) -> int:
        """Requests made in the last 60 seconds (what the status bar shows)."""
        since = self.clock() - 60.0
        return sum(1 for t in self._call_times if t > since)

    def touch(self) -> None:
        """The user acted (pressed u, copied a code...): poll fast for a while."""
        self._acted = self.clock()

    def use_settings(self, settings: PollSettings) -> None:
        """Change the intervals (e.g. far slower while IMAP is live); the pending wait is
        shortened or lengthened at once, without an extra request."""
        self.settings = settings
        self._resched.set()

    def wake(self) -> None:
        """Poll now (from the UI); never starts a second request."""
        self.touch()
        self._wake.set()

    def next_delay(self) -> float:
        """Seconds until the next poll, from the state and the settings."""
        s = self.settings
        now = self.clock()
        if self.status.failures:
            if self._retry_after is not None:
                return max(self._retry_after, s.fast)
            if self._slow:
                return s.backoff_max
            raw = min(s.backoff_max, s.backoff_base * 2 ** (self.status.failures - 1))
            return raw * (0.5 + 0.5 * self.rng())  # jitter: spread retries of many clients
        if self._acted is not None and now - self._acted < s.acted_window:
            return s.fast
        if not self._messages and self.lease_started is not None:
            age = now - self.lease_started.timestamp()
            if age < s.waiting_window:
                return s.waiting
        quiet_since = self._last_new or (
            self.lease_started.timestamp() if self.lease_started else None
        )
        if quiet_since is None or now - quiet_since >= s.idle_after:
            return s.idle
        return s.normal

    # -- polling ----------------------------------------------------------------------------

    async def poll_once(self) -> PollUpdate:
        """One request (never two at once for this mailbox); raises on failure."""
        async with self._lock:
            self.status = replace(self.status, calls=self.status.calls + 1)
            self._call_times.append(self.clock())
            items = await self.client.list_messages(
                self.mailbox_id, since=self.since, limit=self.settings.page_limit
            )
            new = [m for m in items if m.message_id not in self._messages]
            for message in items:
                self._messages[message.message_id] = message
                if message.received_at and (
                    self._newest is None or message.received_at > self._newest
                ):
                    self._newest = message.received_at
            if self._newest is not None:
                self.since = message_since(self._newest)
            now = self.clock()
            if new:
                self._last_new = now
            self._retry_after = None
            self.status = replace(
                self.status,
                state="ok",
                last_checked=now,
                error=None,
                failures=0,
                truncated=self.status.truncated or len(new) >= self.settings.page_limit,
            )
            return PollUpdate(self.messages, sorted_newest(new), self.status)

    @property
    def stopped(self) -> bool:
        """Not polling (a permanent failure, or the loop ended): :meth:`run` resumes."""
        return self.status.state == "stopped"

    async def attempt(self) -> PollUpdate:
        """One poll that survives transient failures: they are recorded (the next delay backs
        off) and the update carries what was seen before. A permanent failure stops the
        poller (state ``stopped``, with the reason) and is raised."""
        try:
            return await self.poll_once()
        except MailagentsError as exc:
            failure = classify(exc)
            if not failure.transient:
                self._stop(failure)
                raise
            self._failed(failure)
            return PollUpdate(self.messages, [], self.status)

    def _failed(self, failure: Failure | MailagentsError) -> None:
        if not isinstance(failure, Failure):
            failure = classify(failure)
        state = "backing_off"
        if failure.slow:
            state = "payment"
        elif failure.label == "rate limited":
            state = "limited"
        self._retry_after = failure.retry_after
        self._slow = failure.slow
        self.status = replace(
            self.status,
            state=state,
            reason=failure.label,
            error=failure.message,
            failures=self.status.failures + 1,
        )

    def _stop(self, failure: Failure) -> None:
        self.status = replace(
            self.status,
            state="stopped",
            reason=failure.label,
            error=failure.message,
            permanent=True,
            next_check=None,
        )

    async def run(self, on_update: Callable[[PollUpdate], object]) -> None:
        """Poll until cancelled or stopped, calling ``on_update`` after every attempt.

        Transient failures back off and retry (see :func:`tui.api.errors.classify`). A
        permanent failure ends the loop normally after one last update whose status is
        ``stopped`` with the reason; calling ``run`` again resumes from where it stopped.
        Anything else (a bug) also leaves the state ``stopped`` and propagates.
        """
        self._retry_after = None
        self._slow = False
        self.status = replace(
            self.status,
            state="starting",
            reason=None,
            error=None,
            failures=0,
            permanent=False,
        )
        try:
            while True:
                try:
                    update = await self.attempt()
                except MailagentsError:
                    on_update(PollUpdate(self.messages, [], self.status))
                    return
                polled_at = self.clock()
                first = True
                while True:  # wait; a change of settings only moves the next poll
                    due = polled_at + self.next_delay()
                    self.status = replace(self.status, next_check=due)
                    if first:
                        on_update(replace(update, status=self.status))
                        first = False
                    self._wake.clear()
                    self._resched.clear()
                    remaining = due - self.clock()
                    if remaining <= 0:
                        break
                    if self.pause is not None:
                        await self.pause(remaining)
                        break
                    waits = [
                        asyncio.ensure_future(self._wake.wait()),
                        asyncio.ensure_future(self._resched.wait()),
                    ]
                    try:
                        await asyncio.wait(
                            waits, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
                        )
                    finally:
                        for task in waits:
                            task.cancel()
                    if not self._resched.is_set() or self._wake.is_set():
                        break
        except Exception as exc:  # not an API error (a wallet that cannot sign, a bug)
            self._stop(classify(exc))
            raise
        finally:
            self.status = replace(self.status, state="stopped", next_check=None)


def imap_live_settings(settings: PollSettings) -> PollSettings:
    """The API's pace while IMAP is live: IDLE does the waiting, so the API is asked only
    every :attr:`PollSettings.confirm` seconds (and at once about a mail IMAP cannot place,
    see the inbox's ``settle_doubtful``)."""
    slow = max(settings.confirm, settings.fast)
    return replace(settings, fast=slow, waiting=slow, normal=slow, idle=slow)


def message_since(moment: datetime) -> str:
    """The ``since`` value for messages at or after ``moment`` (ISO-8601 UTC, ms)."""
    return iso_z(moment) or ""


def sorted_newest(messages: list[Message]) -> list[Message]:
    """Newest first."""
    return sorted(
        messages,
        key=lambda m: (m.received_at.timestamp() if m.received_at else 0.0, m.message_id),
        reverse=True,
    )
