"""Lease use cases shared by the TUI and the headless CLI."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from tui.api.errors import ApiError, MailagentsError, NotFoundError
from tui.core.ledger import Ledger, LedgerDamage, LedgerEntry, iso_timestamp

if TYPE_CHECKING:
    from tui.api.models import AllocatedLease, Lease
    from tui.core.mailcache import MailCache
    from tui.core.session import SessionManager

MAX_TTL_HOURS = 720


class LeaseInputError(ValueError):
    """Invalid purpose or ttl typed by the user."""


def validate_lease_input(purpose: str, ttl_hours: object) -> tuple[str, int]:
    """Check allocation input the way the service will, with a clearer message."""
    text = (purpose or "").strip()
    if not text:
        raise LeaseInputError("purpose must not be empty")
    if len(text) > 200:
        raise LeaseInputError("purpose is too long (200 characters at most)")
    try:
        ttl = int(str(ttl_hours).strip())
    except ValueError as exc:
        raise LeaseInputError("ttl hours must be a whole number") from exc
    if not 1 <= ttl <= MAX_TTL_HOURS:
        raise LeaseInputError(f"ttl hours must be between 1 and {MAX_TTL_HOURS}")
    return text, ttl


@dataclass(frozen=True)
class LeaseView:
    """A lease as the UI shows it: the server's view plus what the ledger knows."""

    lease: Lease
    """Server's lease."""
    entry: LedgerEntry | None
    """Ledger entry (credentials, ownership), if any."""

    @property
    def ours(self) -> bool:
        """Allocated by this client (any run)."""
        return self.entry is not None and self.entry.run_id is not None

    @property
    def release_on_exit(self) -> bool:
        """Will be released when this run ends."""
        return self.entry is not None and self.entry.release_on_exit


@dataclass(frozen=True)
class ReleaseResult:
    """Outcome of one release attempt."""

    lease_id: str
    """Lease id."""
    released: bool
    """The lease is no longer active on the server."""
    detail: str
    """``released``, ``already released``, or the error."""
    address: str = ""
    """The lease's address, when known."""
    found: bool = True
    """The server knows the lease (False: ``not found on the server``, nothing released)."""

    def describe(self) -> str:
        """``address (lease id)``."""
        return f"{self.address} ({self.lease_id})" if self.address else self.lease_id


INTENT_SKEW_S = 300.0
"""A lease may have started this long before its intent was written (clocks differ)."""
INTENT_WINDOW_S = 3600.0
"""... and this long after (the request was held up on the way)."""

UNRELEASED = "unreleased"
"""A leftover an earlier run meant to release on exit but could not."""
INTERRUPTED = "interrupted"
"""A leftover whose allocation was sent by a run that died before the answer arrived."""
UNKNOWN = "unknown"
"""A leftover no run of this client knows (allocated elsewhere, or a ledger lost)."""


@dataclass(frozen=True)
class Leftover:
    """An active lease on the server that a decision is needed for (release or keep)."""

    lease: Lease
    """The server's lease."""
    entry: LedgerEntry | None
    """Its ledger entry, or the intent it answers (None when no run knows it)."""
    reason: str
    """:data:`UNRELEASED`, :data:`INTERRUPTED` or :data:`UNKNOWN`."""

    def why(self) -> str:
        """A few words on how it was left behind."""
        return {
            UNRELEASED: "an earlier run could not release it",
            INTERRUPTED: "its run stopped before the allocation's answer came",
        }.get(self.reason, "no run of this client knows it")


@dataclass(frozen=True)
class Reconciliation:
    """What a start found: leases to decide about, and a damaged ledger set aside."""

    leftovers: list[Leftover]
    """Active leases no live run owns."""
    damage: list[LedgerDamage]
    """Damaged ledger files moved aside."""


def definite_failure(exc: BaseException) -> bool:
    """The server answered the allocation with a refusal: nothing was allocated.

    Network errors, a cancelled call, an unreadable answer or a 5xx other than 502 (the
    contract's ``mail_backend_error``, after which the mailbox is put back) leave the outcome
    unknown: the intent stays, and the next start matches it with the server's leases.
    """
    if not isinstance(exc, ApiError):
        return False
    return exc.status < 500 or exc.status == 502


def match_intent(lease: Lease, intents: list[LedgerEntry]) -> LedgerEntry | None:
    """The intent a lease most likely answers: same purpose, started near the intent's time."""
    best: tuple[float, LedgerEntry] | None = None
    for intent in intents:
        if (lease.purpose or "") != intent.purpose:
            continue
        sent = iso_timestamp(intent.allocated_at)
        if lease.started_at is not None and sent is not None:
            delay = lease.started_at.timestamp() - sent
            if not -INTENT_SKEW_S <= delay <= INTENT_WINDOW_S:
                continue
            distance = abs(delay)
        else:
            distance = INTENT_WINDOW_S  # no times to compare: the purpose alone decides
        if best is None or distance < best[0]:
            best = (distance, intent)
    return best[1] if best else None


class LeaseManager:
    """Allocate, list, release and re-credential leases; keeps the ledger in step."""

    run_id: str
    """This process's run id; leases allocated with ``release_on_exit`` carry it."""

    def __init__(
        self,
        session: SessionManager,
        ledger: Ledger,
        run_id: str | None = None,
        *,
        mail_cache: MailCache | None = None,
    ) -> None:
        self.session = session
        self.client = session.client
        self.ledger = ledger
        self.run_id = run_id or uuid.uuid4().hex
        self.mail_cache = mail_cache
        """Where IMAP mail is kept per lease (dropped when the lease ends)."""
        self._in_flight: set[str] = set()
        """Intents of this run whose allocation is still waiting for its answer."""

    def _ended(self, lease_id: str, status: str = "released") -> None:
        """Record that a lease ended, and forget its mail (blocking: run it in a thread)."""
        self.ledger.mark_released(lease_id, status)
        if self.mail_cache is not None:
            self.mail_cache.drop(lease_id)

    @property
    def api_base(self) -> str:
        """The API base of the session."""
        return self.session.settings.api_base

    async def allocate(
        self, purpose: str, ttl_hours: int, *, release_on_exit: bool
    ) -> AllocatedLease:
        """Allocate a mailbox and record it (with its credentials) in the ledger.

        The intent is written (fsync'd) before the request goes out, so a run killed while
        the answer is on its way leaves a trace the next start can match with the server.
        """
        purpose, ttl_hours = validate_lease_input(purpose, ttl_hours)
        session = await self.session.ensure()
        intent = await asyncio.to_thread(
            self.ledger.record_intent,
            self.api_base,
            session.tenant_id,
            purpose=purpose,
            ttl_hours=ttl_hours,
            release_on_exit=release_on_exit,
            run_id=self.run_id,
        )
        intent_id = intent.intent_id or ""
        self._in_flight.add(intent_id)
        try:
            allocated = await self.client.allocate_lease(session.agent_id, purpose, ttl_hours)
        except Exception as exc:
            if definite_failure(exc):
                await asyncio.to_thread(self.ledger.clear_intent, intent_id)
            raise
        finally:
            self._in_flight.discard(intent_id)
        # The session may have been renewed during the call; tenant stays the same.
        tenant = (self.session.session or session).tenant_id
        await asyncio.to_thread(
            self.ledger.record_allocation,
            self.api_base,
            tenant,
            allocated,
            purpose=purpose,
            release_on_exit=release_on_exit,
            run_id=self.run_id,
            intent_id=intent_id,
        )
        return allocated

    async def list_active(self) -> list[LeaseView]:
        """Active leases from the server, joined with the ledger."""
        leases = await self.client.list_leases()
        await asyncio.to_thread(self._settle_own_intents, leases)
        # Lease ids are UUIDs: join on them whatever API base the entry was recorded under.
        entries = {e.lease_id: e for e in self.ledger.entries()}
        active_ids = {lease.lease_id for lease in leases}
        # Ledger entries we thought active but the server no longer lists (expired elsewhere).
        for entry in entries.values():
            if (
                entry.api_base == self.api_base
                and entry.status == "active"
                and entry.lease_id not in active_ids
                and self.session.session is not None
                and entry.tenant_id == self.session.session.tenant_id
            ):
                await asyncio.to_thread(self._ended, entry.lease_id, "gone")
        return [LeaseView(lease, entries.get(lease.lease_id)) for lease in leases]

    async def release(self, lease_id: str) -> ReleaseResult:
        """Release a lease only if its detail still says active.

        On the reference server, releasing a stale lease id releases whatever lease is
        active on that mailbox now, so a stale id must never be sent.
        """
        try:
            lease = await self.client.get_lease(lease_id)
        except NotFoundError:
            entry = await asyncio.to_thread(self.ledger.get, lease_id)
            await asyncio.to_thread(self._ended, lease_id, "gone")
            address = entry.address if entry else ""
            return ReleaseResult(lease_id, True, "not found on the server", address, found=False)
        if not lease.is_active:
            await asyncio.to_thread(self._ended, lease_id, lease.lease_status)
            return ReleaseResult(lease_id, True, f"already {lease.lease_status}", lease.address)
        await self.client.release_lease(lease_id)
        await asyncio.to_thread(self._ended, lease_id)
        return ReleaseResult(lease_id, True, "released", lease.address)

    async def reset_credentials(self, lease: Lease) -> LedgerEntry:
        """Rotate the mailbox password and store the new one."""
        session = await self.session.ensure()
        creds = await self.client.reset_credentials(lease.account_id or lease.mailbox_id)
        return await asyncio.to_thread(
            self.ledger.record_credentials,
            self.api_base,
            session.tenant_id,
            lease.lease_id,
            lease.mailbox_id,
            lease.address,
            creds,
        )

    def credentials(self, lease_id: str) -> LedgerEntry | None:
        """The ledger's entry (with password) for a lease."""
        return self.ledger.get(lease_id)

    def run_leases(self) -> list[LedgerEntry]:
        """Leases this run allocated and will release on exit."""
        return [
            e
            for e in self.ledger.entries(self.api_base)
            if e.run_id == self.run_id and e.release_on_exit and e.status == "active"
        ]

    def orphans(self) -> list[LedgerEntry]:
        """Leases an earlier run should have released (offered at start)."""
        session = self.session.session
        if session is None:
            return []
        return self.ledger.unreleased(self.api_base, session.tenant_id, self.run_id)

    async def release_many(self, lease_ids: list[str], *, timeout: float) -> list[ReleaseResult]:
        """Release several leases concurrently within ``timeout`` seconds in all."""

        async def one(lease_id: str) -> ReleaseResult:
            try:
                return await self.release(lease_id)
            except MailagentsError as exc:
                return ReleaseResult(lease_id, False, exc.user_message())

        tasks = [asyncio.ensure_future(one(lid)) for lid in lease_ids]
        if not tasks:
            return []
        done, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        results = []
        for lid, task in zip(lease_ids, tasks, strict=True):
            if task in done and not task.cancelled() and task.exception() is None:
                results.append(task.result())
            else:
                results.append(ReleaseResult(lid, False, "timed out"))
        if any(not r.address for r in results):
            known = {e.lease_id: e.address for e in await asyncio.to_thread(self.ledger.entries)}
            results = [
                r if r.address else replace(r, address=known.get(r.lease_id, "")) for r in results
            ]
        return results

    async def release_run_leases(self, timeout: float) -> list[ReleaseResult]:
        """Release every lease this run allocated (on quit, SIGTERM, SIGHUP), including those
        whose allocation answer was lost (found on the server by their intent)."""
        if self._own_intents():
            try:
                server = await asyncio.wait_for(self.client.list_leases(), timeout / 2)
            except (MailagentsError, TimeoutError):
                pass  # they stay in the ledger: the next start offers them
            else:
                await asyncio.to_thread(self._settle_own_intents, server)
        return await self.release_many([e.lease_id for e in self.run_leases()], timeout=timeout)

    def _own_intents(self) -> list[LedgerEntry]:
        """This run's intents whose answer is not awaited any more (it was lost)."""
        return [
            e
            for e in self.ledger.intents()
            if e.run_id == self.run_id and e.intent_id not in self._in_flight
        ]

    def _settle_own_intents(self, server: list[Lease]) -> list[LedgerEntry]:
        """Match this run's lost answers with the server's leases and record those found (as
        this run's, released on exit if it asked so; their passwords are not known)."""
        own = self._own_intents()
        session = self.session.session
        if not own or session is None:
            return []
        known = {e.lease_id for e in self.ledger.entries()}
        found = []
        for lease in server:
            if not lease.is_active or lease.lease_id in known:
                continue
            intent = match_intent(lease, own)
            if intent is None:
                continue
            own.remove(intent)
            found.append(
                self.ledger.record_found(
                    self.api_base,
                    session.tenant_id,
                    lease,
                    intent=intent,
                    release_on_exit=intent.release_on_exit,
                    run_id=self.run_id,
                )
            )
        return found

    # -- after a crash -----------------------------------------------------------------------

    async def reconcile(self) -> Reconciliation:
        """Compare the server's active leases with the ledger (at start).

        Returns the leases no live run owns: ones an earlier run could not release, ones
        whose allocation answer never reached a run that died (matched with its intent by
        purpose and time), and ones no run knows at all. A damaged ledger is moved aside
        first and reported. Intents of dead runs that match no active lease are dropped.
        """
        # Read first: a damaged file is set aside before anything is written. Its report
        # stays in ``ledger.damage`` if the server cannot be asked (the caller reports it).
        await asyncio.to_thread(self.ledger.intents)
        session = await self.session.ensure()
        server = await self.client.list_leases()
        leftovers = await asyncio.to_thread(self._leftovers, server, session.tenant_id)
        return Reconciliation(leftovers, self.ledger.take_damage())

    def _leftovers(self, server: list[Lease], tenant_id: str) -> list[Leftover]:
        """The decision list (blocking: run it in a thread)."""
        known = {e.lease_id: e for e in self.ledger.entries(tenant_id=tenant_id)}
        intents = [
            e
            for e in self.ledger.intents(tenant_id)
            if e.run_id != self.run_id and not e.run_alive()
        ]
        leftovers: list[Leftover] = []
        for lease in server:
            if not lease.is_active:
                continue
            entry = known.get(lease.lease_id)
            if entry is not None:
                if (
                    entry.status == "active"
                    and entry.release_on_exit
                    and entry.run_id != self.run_id
                    and not entry.run_alive()
                ):
                    leftovers.append(Leftover(lease, entry, UNRELEASED))
                elif entry.status != "active":
                    # The ledger thought it ended (e.g. a transient miss): ask again.
                    leftovers.append(Leftover(lease, entry, UNKNOWN))
                continue
            intent = match_intent(lease, intents)
            if intent is not None:
                intents.remove(intent)
                leftovers.append(Leftover(lease, intent, INTERRUPTED))
            else:
                leftovers.append(Leftover(lease, None, UNKNOWN))
        for intent in intents:  # never allocated, or that lease is gone already
            self.ledger.clear_intent(intent.intent_id or "")
        return leftovers

    def needs_reconcile(self) -> bool:
        """Cheap, no network: does the ledger hint at leftovers (a damaged file set aside, an
        intent or a release-on-exit lease of a run that died)? Headless commands reconcile
        only then."""
        session = self.session.session
        if session is None:
            return False
        tenant = session.tenant_id
        self.ledger.intents()  # reading first sets a damaged file aside
        if self.ledger.damage:
            return True
        if any(e.run_id != self.run_id and not e.run_alive() for e in self.ledger.intents(tenant)):
            return True
        return bool(self.ledger.unreleased(None, tenant, self.run_id))

    async def release_leftovers(
        self, leftovers: list[Leftover], *, timeout: float
    ) -> list[ReleaseResult]:
        """Release leftovers (the user said so); their intents are settled when released."""
        results = await self.release_many([x.lease.lease_id for x in leftovers], timeout=timeout)
        by_id = {x.lease.lease_id: x for x in leftovers}
        out = []
        for result in results:
            leftover = by_id[result.lease_id]
            if result.released and leftover.reason == INTERRUPTED and leftover.entry:
                await asyncio.to_thread(self.ledger.clear_intent, leftover.entry.intent_id or "")
            if not result.address:
                result = replace(result, address=leftover.lease.address)
            out.append(result)
        return out

    async def keep_leftovers(self, leftovers: list[Leftover]) -> None:
        """Keep (adopt) leftovers: remembered in the ledger, never offered again.

        Their passwords are not known (``p`` then reset gives new ones).
        """
        session = await self.session.ensure()
        for leftover in leftovers:
            if leftover.reason == UNRELEASED:
                await asyncio.to_thread(self.ledger.keep, leftover.lease.lease_id)
            else:
                await asyncio.to_thread(
                    self.ledger.record_found,
                    self.api_base,
                    session.tenant_id,
                    leftover.lease,
                    intent=leftover.entry if leftover.reason == INTERRUPTED else None,
                )
