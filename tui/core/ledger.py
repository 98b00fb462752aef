"""The lease ledger: every lease this client allocated, with its credentials (file mode 0600).

It lets ``send`` and IMAP use the password the service showed only once, and it makes sure
nothing is orphaned: leases marked ``release_on_exit`` that a run could not release are
offered for release at the next start.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tui.api.models import AllocatedLease, Credentials, iso_z
from tui.core.files import locked, read_json, write_json


def _now_iso() -> str:
    return iso_z(datetime.now(UTC)) or ""


@dataclass(frozen=True)
class LedgerEntry:
    """One lease the client knows credentials for."""

    api_base: str
    """The API it was allocated on."""
    tenant_id: str
    """Its tenant."""
    lease_id: str
    """Lease id."""
    mailbox_id: str
    """Mailbox id."""
    account_id: str
    """Account id (= mailbox id)."""
    address: str
    """Mailbox address."""
    purpose: str = ""
    """Purpose given at allocation."""
    expires_at: str | None = None
    """ISO expiry as the server stated it."""
    allocated_at: str = field(default_factory=_now_iso)
    """When this client allocated it."""
    webmail_login: str | None = None
    """Login for SMTP/IMAP."""
    webmail_password: str | None = field(default=None, repr=False)
    """Password (secret)."""
    webmail_url: str | None = None
    """Webmail URL."""
    status: str = "active"
    """``active`` or ``released`` as far as this client knows."""
    released_at: str | None = None
    """When this client released it."""
    release_on_exit: bool = False
    """Allocated by the TUI: release when the run ends."""
    run_id: str | None = None
    """The run that allocated it."""
    pid: int | None = None
    """The process of that run."""

    @property
    def has_password(self) -> bool:
        """Credentials are known."""
        return bool(self.webmail_password)


class Ledger:
    """A JSON file of :class:`LedgerEntry`, read and written under an inter-process lock."""

    path: Path
    """The ledger file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> list[LedgerEntry]:
        data = read_json(self.path, {})
        raw = data.get("leases") if isinstance(data, dict) else None
        entries: list[LedgerEntry] = []
        names = {f.name for f in fields(LedgerEntry)}
        for item in raw if isinstance(raw, list) else []:
            if not isinstance(item, dict):
                continue
            try:
                entries.append(LedgerEntry(**{k: v for k, v in item.items() if k in names}))
            except TypeError:
                continue
        return entries

    def _write(self, entries: list[LedgerEntry]) -> None:
        write_json(self.path, {"version": 1, "leases": [asdict(e) for e in entries]})

    def entries(
        self, api_base: str | None = None, tenant_id: str | None = None
    ) -> list[LedgerEntry]:
        """All entries, optionally for one API and tenant."""
        return [
            e
            for e in self._read()
            if (api_base is None or e.api_base == api_base)
            and (tenant_id is None or e.tenant_id == tenant_id)
        ]

    def get(self, lease_id: str) -> LedgerEntry | None:
        """The entry of a lease id."""
        return next((e for e in self._read() if e.lease_id == lease_id), None)

    def for_mailbox(self, api_base: str, mailbox_id: str) -> LedgerEntry | None:
        """The newest entry of a mailbox (credentials belong to the mailbox)."""
        matches = [e for e in self._read() if e.api_base == api_base and e.mailbox_id == mailbox_id]
        return matches[-1] if matches else None

    def _update(self, lease_id: str, **changes: Any) -> LedgerEntry | None:
        with locked(self.path):
            entries = self._read()
            for i, entry in enumerate(entries):
                if entry.lease_id == lease_id:
                    entries[i] = replace(entry, **changes)
                    self._write(entries)
                    return entries[i]
        return None

    def record_allocation(
        self,
        api_base: str,
        tenant_id: str,
        allocated: AllocatedLease,
        *,
        purpose: str,
        release_on_exit: bool,
        run_id: str | None,
    ) -> LedgerEntry:
        """Record a new allocation (written before anything else can go wrong)."""
        lease, creds = allocated.lease, allocated.credentials
        entry = LedgerEntry(
            api_base=api_base,
            tenant_id=tenant_id,
            lease_id=lease.lease_id,
            mailbox_id=lease.mailbox_id,
            account_id=lease.account_id or lease.mailbox_id,
            address=lease.address,
            purpose=purpose,
            expires_at=iso_z(lease.expires_at),
            webmail_login=creds.webmail_login,
            webmail_password=creds.webmail_password,
            webmail_url=creds.webmail_url,
            release_on_exit=release_on_exit,
            run_id=run_id,
            pid=os.getpid(),
        )
        with locked(self.path):
            entries = [e for e in self._read() if e.lease_id != entry.lease_id]
            entries.append(entry)
            self._write(entries)
        return entry

    def record_credentials(
        self,
        api_base: str,
        tenant_id: str,
        lease_id: str,
        mailbox_id: str,
        address: str,
        credentials: Credentials,
    ) -> LedgerEntry:
        """Store new credentials after a reset (adds an entry for a lease allocated elsewhere)."""
        changes = {
            "webmail_login": credentials.webmail_login,
            "webmail_password": credentials.webmail_password,
            "webmail_url": credentials.webmail_url,
        }
        updated = self._update(lease_id, **changes)
        if updated is not None:
            return updated
        entry = LedgerEntry(
            api_base=api_base,
            tenant_id=tenant_id,
            lease_id=lease_id,
            mailbox_id=mailbox_id,
            account_id=credentials.account_id or mailbox_id,
            address=address or credentials.address,
            **changes,
        )
        with locked(self.path):
            entries = self._read()
            entries.append(entry)
            self._write(entries)
        return entry

    def mark_released(self, lease_id: str, status: str = "released") -> LedgerEntry | None:
        """Note that a lease is no longer active; keeps the entry for history."""
        return self._update(lease_id, status=status, released_at=_now_iso(), release_on_exit=False)

    def keep(self, lease_id: str) -> LedgerEntry | None:
        """Do not release this lease on exit (the user chose to keep it)."""
        return self._update(lease_id, release_on_exit=False)

    def unreleased(
        self, api_base: str, tenant_id: str, exclude_run: str | None
    ) -> list[LedgerEntry]:
        """Leases a past run meant to release on exit but could not (orphans)."""
        return [
            e
            for e in self.entries(api_base, tenant_id)
            if e.release_on_exit
            and e.status == "active"
            and e.run_id != exclude_run
            and not _pid_alive(e.pid)
        ]


def _pid_alive(pid: int | None) -> bool:
    if not pid or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
