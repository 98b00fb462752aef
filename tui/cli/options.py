"""The options every command shares (``--api-base``, ``--keystore``, ``--payment``,
``--profile``), as the click root and the entry point's fast path read them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.core.settings import Settings


class Context:
    """Options shared by every command."""

    def __init__(
        self,
        api_base: str | None,
        keystore: Path | None,
        payment: str | None,
        profile: str | None = None,
    ) -> None:
        self.api_base = api_base
        self.keystore = keystore
        self.payment = payment
        self.profile = profile

    def settings(self) -> Settings:
        """Resolved :class:`tui.core.settings.Settings`."""
        from tui.core.settings import Settings

        return Settings.load(profile=self.profile).with_overrides(
            api_base=self.api_base, keystore=self.keystore, payment=self.payment
        )
