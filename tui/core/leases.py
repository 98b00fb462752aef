"""Lease use cases shared by the TUI and the headless CLI."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from tui.api.errors import MailagentsError, NotFoundError
from tui.api.models import AllocatedLease, Lease
from tui.core.ledger import Ledger, LedgerEntry
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
        """Allocate a mailbox and record it (with its credentials) in the ledger."""
        purpose, ttl_hours = validate_lease_input(purpose, ttl_hours)
        session = await self.session.ensure()
        allocated = await self.client.allocate_lease(session.agent_id, purpose, ttl_hours)
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
        )
        return allocated

    async def list_active(self) -> list[LeaseView]:
        """Active leases from the server, joined with the ledger."""
        leases = await self.client.list_leases()
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
            await asyncio.to_thread(self._ended, lease_id, "gone")
            return ReleaseResult(lease_id, True, "not found on the server")
        if not lease.is_active:
            await asyncio.to_thread(self._ended, lease_id, lease.lease_status)
            return ReleaseResult(lease_id, True, f"already {lease.lease_status}")
        await self.client.release_lease(lease_id)
        await asyncio.to_thread(self._ended, lease_id)
        return ReleaseResult(lease_id, True, "released")

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
        return results

    async def release_run_leases(self, timeout: float) -> list[ReleaseResult]:
        """Release every lease this run allocated (on quit, SIGTERM, SIGHUP)."""
        return await self.release_many([e.lease_id for e in self.run_leases()], timeout=timeout)
