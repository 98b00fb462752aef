"""Wiring: the client, session, ledger and lease manager for one API base."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui.core.leases import LeaseManager
from tui.core.ledger import Ledger
from tui.core.mailcache import MailCache
from tui.core.session import SessionManager
from tui.core.wallets import WalletSource, resolve_wallet_source

if TYPE_CHECKING:
    from tui.api.client import MailagentsClient
    from tui.core.settings import Settings


@dataclass
class Services:
    """Everything the TUI and the CLI need, built once."""

    settings: Settings
    """Resolved settings."""
    client: MailagentsClient
    """API client."""
    session: SessionManager
    """Sign-in and tokens."""
    ledger: Ledger
    """Lease ledger."""
    leases: LeaseManager
    """Lease use cases."""
    mail_cache: MailCache | None = None
    """Mail read over IMAP, per lease (None: ``mail_cache = false``)."""

    @classmethod
    def create(
        cls,
        settings: Settings,
        client: MailagentsClient | None = None,
        wallet_source: WalletSource | None = None,
        run_id: str | None = None,
    ) -> Services:
        """Build the services; a given client (tests) is used as is."""
        if client is None:
            from tui.api.client import MailagentsClient

            client = MailagentsClient(
                settings.api_base,
                payment_policy=settings.payment,  # type: ignore[arg-type]
                timeout=settings.timeout,
            )
        source = wallet_source or resolve_wallet_source(settings)
        session = SessionManager(settings, client, source)
        ledger = Ledger(settings.state_dir / "ledger.json")
        cache = MailCache(settings.state_dir / "mail") if settings.mail_cache else None
        return cls(
            settings=settings,
            client=client,
            session=session,
            ledger=ledger,
            leases=LeaseManager(session, ledger, run_id, mail_cache=cache),
            mail_cache=cache,
        )

    async def aclose(self) -> None:
        """Close network resources (and the mail cache's database, reopened if used again)."""
        await self.client.aclose()
        if self.mail_cache is not None:
            self.mail_cache.close()
