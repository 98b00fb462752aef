"""The sandbox's persistent state: every table group on one connection."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tui.sandbox.state import leases, messages, sends, tenants, usage, webhooks

if TYPE_CHECKING:
    from tui.sandbox.state.admin import AdminState

SCHEMA = "".join(m.SCHEMA for m in (tenants, leases, messages, usage, sends, webhooks))


class Store(
    tenants.Tenants,
    leases.Leases,
    messages.Messages,
    usage.Usage,
    sends.Sends,
    webhooks.Webhooks,
):
    """The sandbox's state. Thread-safe; every public method takes the lock."""

    _admin_state: AdminState
    """The operator state over this store, once :func:`tui.sandbox.state.admin.admin_state`
    made it (declared only: absent until then)."""

    def __init__(self, path: str = ":memory:", clock: Callable[[], float] | None = None) -> None:
        super().__init__(path, clock, SCHEMA)
