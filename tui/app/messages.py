"""Messages that carry worker results to widgets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # the API models and the lease helpers load after the first frame
    from tui.api.models import AllocatedLease, Runtime
    from tui.core.leases import LeaseView, ReleaseResult
    from tui.core.session import SessionInfo


@dataclass
class RuntimeLoaded(Message):
    """The service's runtime arrived (or failed)."""

    runtime: Runtime | None
    """The runtime, or None on failure."""
    error: str | None = None
    """Why it failed."""


@dataclass
class SignedIn(Message):
    """Sign-in finished."""

    info: SessionInfo
    """Public session facts (address, tenant_id, agent_id, did)."""


@dataclass
class LeasesLoaded(Message):
    """A fresh list of active leases."""

    views: list[LeaseView]
    """The active leases, as shown."""

    def can_replace(self, message: Message) -> bool:
        """Only the newest list matters."""
        return isinstance(message, LeasesLoaded)


@dataclass
class LeaseAllocated(Message):
    """A lease was allocated."""

    allocated: AllocatedLease
    """The new lease and its credentials."""


@dataclass
class LeaseReleased(Message):
    """A release attempt finished."""

    result: ReleaseResult
    """What the release did."""
