"""Messages that carry worker results to widgets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


@dataclass
class RuntimeLoaded(Message):
    """The service's runtime arrived (or failed)."""

    runtime: Any
    """A :class:`tui.api.models.Runtime`, or None on failure."""
    error: str | None = None
    """Why it failed."""


@dataclass
class SignedIn(Message):
    """Sign-in finished."""

    info: dict[str, Any]
    """Public session facts (address, tenant_id, agent_id, did)."""


@dataclass
class LeasesLoaded(Message):
    """A fresh list of active leases."""

    views: list[Any]
    """:class:`tui.core.leases.LeaseView` items."""

    def can_replace(self, message: Message) -> bool:
        """Only the newest list matters."""
        return isinstance(message, LeasesLoaded)


@dataclass
class LeaseAllocated(Message):
    """A lease was allocated."""

    allocated: Any
    """:class:`tui.api.models.AllocatedLease`."""


@dataclass
class LeaseReleased(Message):
    """A release attempt finished."""

    result: Any
    """:class:`tui.core.leases.ReleaseResult`."""
