"""The App's screen registry: every screen another screen may open, by name.

Screens never import each other: a screen asks ``self.app.open_screen("inbox", view=view)``
and the App builds it from the factory named here. Each factory imports its screen on first
use (the lease list's first frame loads no other screen) and is typed with the arguments
the screen takes. A new screen is one factory and one entry in :data:`SCREENS`
(``tests/unit/test_screen_registry.py`` checks that every name the code opens is here).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.screen import Screen

    from tui.api.models import Lease, Message
    from tui.core.leases import LeaseView


def login() -> Screen[None]:
    """Sign in (also shown again when a session expires)."""
    from tui.app.screens.login import LoginScreen

    return LoginScreen()


def leases() -> Screen[None]:
    """The lease list."""
    from tui.app.screens.leases import LeaseListScreen

    return LeaseListScreen()


def inbox(view: LeaseView) -> Screen[None]:
    """One lease's inbox."""
    from tui.app.screens.inbox import InboxScreen

    return InboxScreen(view)


def compose(
    lease: Lease, *, reply_to: Message | None = None, prefill: tuple[str, str, str] | None = None
) -> Screen[None]:
    """Write from ``lease`` (a reply or a forward when ``reply_to`` / ``prefill`` are given)."""
    from tui.app.screens.compose import ComposeScreen

    return ComposeScreen(lease, reply_to=reply_to, prefill=prefill)


def sent() -> Screen[None]:
    """The send attempts."""
    from tui.app.screens.sent import SentScreen

    return SentScreen()


def webhooks() -> Screen[None]:
    """Webhooks and their deliveries."""
    from tui.app.screens.webhooks import WebhooksScreen

    return WebhooksScreen()


def usage() -> Screen[None]:
    """Usage, paid calls and invoices."""
    from tui.app.screens.usage import UsageScreen

    return UsageScreen()


def feed(views: list[LeaseView]) -> Screen[None]:
    """Codes and links arriving in every active lease."""
    from tui.app.screens.feed import LiveFeedScreen

    return LiveFeedScreen(views)


SCREENS: dict[str, Callable[..., Screen[None]]] = {
    "login": login,
    "leases": leases,
    "inbox": inbox,
    "compose": compose,
    "sent": sent,
    "webhooks": webhooks,
    "usage": usage,
    "feed": feed,
}
"""Every factory by name."""


def make_screen(name: str, /, **args: object) -> Screen[None]:
    """The screen ``name`` built with ``args`` (KeyError: no such screen; TypeError: a wrong
    argument)."""
    return SCREENS[name](**args)
