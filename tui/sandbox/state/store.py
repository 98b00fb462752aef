"""The sandbox's persistent state: every table group on one connection."""

from __future__ import annotations

from collections.abc import Callable

from tui.sandbox.state import leases, messages, sends, tenants, usage, webhooks

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

    def __init__(self, path: str = ":memory:", clock: Callable[[], float] | None = None) -> None:
        super().__init__(path, clock, SCHEMA)
