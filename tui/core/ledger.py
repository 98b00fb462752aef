"""The lease ledger: every lease this client allocated, with its credentials (file mode 0600).

It lets ``send`` and IMAP use the password the service showed only once, and it makes sure
nothing is orphaned or lost:

- an *intent* (``status = "pending"``) is written, fsync'd, before an allocation is sent; the
  answer completes it with the lease and its password, a definite failure removes it, and an
  intent whose run died is matched with the server's leases at the next start;
- leases marked ``release_on_exit`` that a run could not release are offered for release at
  the next start;
- a damaged file (truncated, not JSON, wrong shape, a symbolic link) is moved aside to
  ``ledger.json.damaged-<time>``, what can be salvaged from it is kept, and the damage is
  reported (:attr:`Ledger.damage`) instead of being silently overwritten.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import uuid
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui import limits
from tui.api.models import AllocatedLease, Credentials, iso_z
from tui.files import locked, write_private

if TYPE_CHECKING:
    from tui.api.models import Lease

MAX_LEDGER_BYTES = 32 * 1024 * 1024
"""A ledger larger than this is not ours (a few hundred bytes a lease): treated as damaged."""

PENDING = "pending"
"""Status of an intent: an allocation sent (or about to be) whose answer has not arrived."""


def _now_iso() -> str:
    return iso_z(datetime.now(UTC)) or ""


def process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc), None if unknown.

    A pid alone is not an identity: after a crash and a reboot (or many processes later) the
    same number names another process, which would make a dead run's leases look alive.
    """
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


@dataclass(frozen=True)
class LedgerEntry:
    """One lease the client knows credentials for, or an allocation it has sent (an intent)."""

    api_base: str
    """The API it was allocated on."""
    tenant_id: str
    """Its tenant."""
    lease_id: str
    """Lease id (empty for an intent: the answer has not arrived)."""
    mailbox_id: str
    """Mailbox id (empty for an intent)."""
    account_id: str
    """Account id (= mailbox id)."""
    address: str
    """Mailbox address (empty for an intent)."""
    purpose: str = ""
    """Purpose given at allocation."""
    expires_at: str | None = None
    """ISO expiry as the server stated it."""
    allocated_at: str = field(default_factory=_now_iso)
    """When this client allocated it (for an intent: just before the request was sent)."""
    webmail_login: str | None = None
    """Login for SMTP/IMAP."""
    webmail_password: str | None = field(default=None, repr=False)
    """Password (secret)."""
    webmail_url: str | None = None
    """Webmail URL."""
    status: str = "active"
    """``pending`` (an intent), ``active``, ``released`` or ``gone`` as far as this client knows."""
    released_at: str | None = None
    """When this client released it."""
    release_on_exit: bool = False
    """Allocated by the TUI: release when the run ends."""
    run_id: str | None = None
    """The run that allocated it."""
    pid: int | None = None
    """The process of that run."""
    pid_start: str | None = None
    """When that process started (tells a live run from a reused pid)."""
    intent_id: str | None = None
    """The intent this entry completed (or is, while ``pending``)."""
    ttl_hours: int | None = None
    """Lease length asked for."""
    adopted: bool = False
    """A lease no run of this client allocated that the user chose to keep (no password)."""

    @property
    def has_password(self) -> bool:
        """Credentials are known."""
        return bool(self.webmail_password)

    @property
    def is_intent(self) -> bool:
        """An allocation whose answer never arrived (yet)."""
        return self.status == PENDING

    def run_alive(self) -> bool:
        """The run that wrote this entry is still running (another process than this one)."""
        return _pid_alive(self.pid, self.pid_start)


_STR_FIELDS = ("api_base", "tenant_id", "lease_id", "mailbox_id", "account_id", "address")
_OPTIONAL_STR = (
    "purpose",
    "expires_at",
    "allocated_at",
    "webmail_login",
    "webmail_password",
    "webmail_url",
    "status",
    "released_at",
    "run_id",
    "pid_start",
    "intent_id",
)
_FIELD_NAMES = frozenset(f.name for f in fields(LedgerEntry))


def entry_from_json(item: object) -> LedgerEntry | None:
    """A :class:`LedgerEntry` from one JSON object, None if it is not one (wrong shape)."""
    if not isinstance(item, dict):
        return None
    if not all(isinstance(item.get(name), str) for name in _STR_FIELDS):
        return None
    for name in _OPTIONAL_STR:
        if item.get(name) is not None and not isinstance(item[name], str):
            return None
    for name in ("release_on_exit", "adopted"):
        if name in item and not isinstance(item[name], bool):
            return None
    for name in ("pid", "ttl_hours"):
        value = item.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            return None
    known = {k: v for k, v in item.items() if k in _FIELD_NAMES}
    if known.get("allocated_at") is None:
        known.pop("allocated_at", None)
    if known.get("status") is None:
        known.pop("status", None)
    if known.get("purpose") is None:
        known.pop("purpose", None)
    return LedgerEntry(**known)


@dataclass(frozen=True)
class LedgerDamage:
    """A damaged ledger file that was moved aside."""

    moved_to: Path
    """Where the damaged file is now (``ledger.json.damaged-<time>``)."""
    reason: str
    """What was wrong (``truncated or not JSON``, ``wrong shape``...)."""
    salvaged: int
    """Entries recovered from it (still in the ledger)."""

    def message(self) -> str:
        """One line for a toast or stderr."""
        kept = (
            f"{self.salvaged} entr{'y' if self.salvaged == 1 else 'ies'} recovered"
            if self.salvaged
            else "nothing could be recovered"
        )
        return (
            f"the lease ledger was damaged ({self.reason}): moved aside to {self.moved_to.name}, "
            f"{kept}; the server's leases are offered again"
        )


class LedgerError(OSError):
    """The ledger cannot be used at all (a damaged file that cannot even be moved aside)."""


class LedgerDamaged(ValueError):
    """The ledger file exists but is not a ledger."""

    salvaged: list[LedgerEntry]
    """Whole entries found in it anyway."""

    def __init__(self, reason: str, salvaged: list[LedgerEntry]) -> None:
        super().__init__(reason)
        self.salvaged = salvaged


def parse_ledger(raw: bytes) -> list[LedgerEntry]:
    """Entries of a ledger file's bytes; :class:`LedgerDamaged` when it is not a whole ledger."""
    try:
        data = limits.loads(raw.decode("utf-8"))  # refuses deep nesting before parsing
    except (ValueError, RecursionError):
        raise LedgerDamaged("truncated or not JSON", salvage(raw)) from None
    if not isinstance(data, dict) or not isinstance(data.get("leases"), list):
        raise LedgerDamaged("wrong shape", [])
    entries: list[LedgerEntry] = []
    bad = False
    for item in data["leases"]:
        entry = entry_from_json(item)
        if entry is None:
            bad = True
        else:
            entries.append(entry)
    if bad:
        raise LedgerDamaged("wrong shape", entries)
    return entries


def salvage(raw: bytes) -> list[LedgerEntry]:
    """The whole lease objects at the start of a truncated ledger (their passwords too)."""
    if limits.json_depth(raw) > limits.MAX_JSON_DEPTH:  # a parser would overflow the stack
        return []
    text = raw.decode("utf-8", errors="replace")
    start = text.find('"leases"')
    start = text.find("[", start) if start >= 0 else -1
    if start < 0:
        return []
    decoder = json.JSONDecoder()
    entries: list[LedgerEntry] = []
    pos = start + 1
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] != "{":
            break
        try:
            item, pos = decoder.raw_decode(text, pos)
        except (ValueError, RecursionError):
            break
        entry = entry_from_json(item)
        if entry is not None:
            entries.append(entry)
    return entries


class Ledger:
    """A JSON file of :class:`LedgerEntry`, read and written under an inter-process lock."""

    path: Path
    """The ledger file."""
    damage: list[LedgerDamage]
    """Damaged files this object moved aside (reported once: see :meth:`take_damage`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.damage = []

    def take_damage(self) -> list[LedgerDamage]:
        """The damage found since the last call (to report it once)."""
        found, self.damage = self.damage, []
        return found

    def check(self) -> list[LedgerDamage]:
        """Read the ledger now (moving a damaged one aside); the damage not yet reported."""
        self._read()
        return self.take_damage()

    def _load_raw(self) -> bytes | None:
        """The file's bytes (None if missing); a symbolic link or a huge file is damage."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if os.path.islink(self.path):
                raise LedgerDamaged("a symbolic link", []) from None
            raise LedgerDamaged(f"unreadable: {exc.strerror}", []) from None
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise LedgerDamaged("not a regular file", [])
            data = fh.read(MAX_LEDGER_BYTES + 1)
        if len(data) > MAX_LEDGER_BYTES:
            raise LedgerDamaged("larger than any ledger", [])
        return data

    def _read(self, *, have_lock: bool = False) -> list[LedgerEntry]:
        try:
            raw = self._load_raw()
            return [] if raw is None else parse_ledger(raw)
        except LedgerDamaged:
            if have_lock:
                return self._set_aside()
            with locked(self.path):
                return self._set_aside()

    def _set_aside(self) -> list[LedgerEntry]:
        """Under the lock: read again; if still damaged, move it aside and keep what survives."""
        try:
            raw = self._load_raw()
            return [] if raw is None else parse_ledger(raw)
        except LedgerDamaged as exc:
            damaged = exc
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        n = 1
        while target.exists() or target.is_symlink():
            n += 1
            target = self.path.with_name(f"{self.path.name}.damaged-{stamp}-{n}")
        try:
            os.rename(self.path, target)
        except OSError as exc:
            raise LedgerError(
                f"the lease ledger {self.path} is damaged ({damaged}) and could not be moved "
                f"aside ({exc.strerror}): fix or move it by hand; nothing was overwritten"
            ) from None
        with contextlib.suppress(OSError):
            if not target.is_symlink():
                os.chmod(target, 0o600)
        self._write(damaged.salvaged)
        self.damage.append(LedgerDamage(target, str(damaged), len(damaged.salvaged)))
        return damaged.salvaged

    def _write(self, entries: list[LedgerEntry]) -> None:
        data = {"version": 1, "leases": [asdict(e) for e in entries]}
        write_private(self.path, json.dumps(data, indent=2, sort_keys=True).encode())
        # The rename itself must reach the disk before the request it announces is sent.
        with contextlib.suppress(OSError):
            dir_fd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def entries(
        self, api_base: str | None = None, tenant_id: str | None = None
    ) -> list[LedgerEntry]:
        """All lease entries (not intents), optionally for one API and tenant."""
        return [
            e
            for e in self._read()
            if not e.is_intent
            and (api_base is None or e.api_base == api_base)
            and (tenant_id is None or e.tenant_id == tenant_id)
        ]

    def get(self, lease_id: str) -> LedgerEntry | None:
        """The entry of a lease id."""
        if not lease_id:
            return None
        return next((e for e in self._read() if e.lease_id == lease_id), None)

    def for_mailbox(self, api_base: str, mailbox_id: str) -> LedgerEntry | None:
        """The newest entry of a mailbox (credentials belong to the mailbox)."""
        matches = [
            e
            for e in self._read()
            if e.api_base == api_base and e.mailbox_id == mailbox_id and not e.is_intent
        ]
        return matches[-1] if matches else None

    def _update(self, lease_id: str, **changes: Any) -> LedgerEntry | None:
        with locked(self.path):
            entries = self._read(have_lock=True)
            for i, entry in enumerate(entries):
                if entry.lease_id == lease_id and lease_id:
                    entries[i] = replace(entry, **changes)
                    self._write(entries)
                    return entries[i]
        return None

    def _put(self, entry: LedgerEntry) -> LedgerEntry:
        """Add ``entry``, replacing the intent it completes and any entry of the same lease."""
        with locked(self.path):
            entries = [
                e
                for e in self._read(have_lock=True)
                if not (entry.lease_id and e.lease_id == entry.lease_id)
                and not (entry.intent_id and e.intent_id == entry.intent_id)
            ]
            entries.append(entry)
            self._write(entries)
        return entry

    def record_intent(
        self,
        api_base: str,
        tenant_id: str,
        *,
        purpose: str,
        ttl_hours: int,
        release_on_exit: bool,
        run_id: str | None,
    ) -> LedgerEntry:
        """Note (durably) that an allocation is about to be sent."""
        pid = os.getpid()
        return self._put(
            LedgerEntry(
                api_base=api_base,
                tenant_id=tenant_id,
                lease_id="",
                mailbox_id="",
                account_id="",
                address="",
                purpose=purpose,
                ttl_hours=ttl_hours,
                status=PENDING,
                release_on_exit=release_on_exit,
                run_id=run_id,
                pid=pid,
                pid_start=process_start(pid),
                intent_id=uuid.uuid4().hex,
            )
        )

    def clear_intent(self, intent_id: str) -> None:
        """The allocation definitely failed: forget its intent."""
        with locked(self.path):
            entries = self._read(have_lock=True)
            kept = [e for e in entries if not (e.is_intent and e.intent_id == intent_id)]
            if len(kept) != len(entries):
                self._write(kept)

    def intents(self, tenant_id: str | None = None) -> list[LedgerEntry]:
        """Allocations sent whose answer never arrived (any run), optionally of one tenant."""
        return [
            e
            for e in self._read()
            if e.is_intent and (tenant_id is None or e.tenant_id == tenant_id)
        ]

    def record_allocation(
        self,
        api_base: str,
        tenant_id: str,
        allocated: AllocatedLease,
        *,
        purpose: str,
        release_on_exit: bool,
        run_id: str | None,
        intent_id: str | None = None,
    ) -> LedgerEntry:
        """Record a new allocation (completing its intent) before anything else can go wrong."""
        lease, creds = allocated.lease, allocated.credentials
        pid = os.getpid()
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
            pid=pid,
            pid_start=process_start(pid),
            intent_id=intent_id,
        )
        return self._put(entry)

    def record_found(
        self,
        api_base: str,
        tenant_id: str,
        lease: Lease,
        *,
        intent: LedgerEntry | None = None,
        release_on_exit: bool = False,
        run_id: str | None = None,
    ) -> LedgerEntry:
        """Remember a lease found on the server (an intent's answer that never came, or a
        lease no run knows that the user keeps). Its password is not known."""
        pid = os.getpid() if run_id else None
        entry = LedgerEntry(
            api_base=api_base,
            tenant_id=tenant_id,
            lease_id=lease.lease_id,
            mailbox_id=lease.mailbox_id,
            account_id=lease.account_id or lease.mailbox_id,
            address=lease.address,
            purpose=lease.purpose or (intent.purpose if intent else ""),
            expires_at=iso_z(lease.expires_at),
            allocated_at=iso_z(lease.started_at) or _now_iso(),
            release_on_exit=release_on_exit,
            run_id=run_id if run_id else (intent.run_id if intent else None),
            pid=pid,
            pid_start=process_start(pid) if pid else None,
            intent_id=intent.intent_id if intent else None,
            ttl_hours=intent.ttl_hours if intent else None,
            adopted=intent is None,
        )
        return self._put(entry)

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
            webmail_login=credentials.webmail_login,
            webmail_password=credentials.webmail_password,
            webmail_url=credentials.webmail_url,
        )
        return self._put(entry)

    def mark_released(self, lease_id: str, status: str = "released") -> LedgerEntry | None:
        """Note that a lease is no longer active; keeps the entry for history."""
        return self._update(lease_id, status=status, released_at=_now_iso(), release_on_exit=False)

    def keep(self, lease_id: str) -> LedgerEntry | None:
        """Do not release this lease on exit (the user chose to keep it)."""
        return self._update(lease_id, release_on_exit=False)

    def unreleased(
        self, api_base: str | None, tenant_id: str, exclude_run: str | None
    ) -> list[LedgerEntry]:
        """Leases a past run meant to release on exit but could not (orphans)."""
        return [
            e
            for e in self.entries(api_base, tenant_id)
            if e.release_on_exit
            and e.status == "active"
            and e.run_id != exclude_run
            and not e.run_alive()
        ]


def _pid_alive(pid: int | None, started: str | None = None) -> bool:
    if not pid or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if started is not None:
        now = process_start(pid)
        if now is not None and now != started:
            return False  # the number was reused by another process
    return True


def iso_timestamp(stamp: str | None) -> float | None:
    """Unix time of an ISO time as the ledger writes it (None if unreadable)."""
    if not stamp:
        return None
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
