"""The paid-calls note the lease list and the inbox put on their status lines."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

if TYPE_CHECKING:
    from tui.core.services import Services


def paid_calls_text(services: Services) -> Text:
    """` · paid calls 2 x 0.001 = 0.002 USDC` once this session paid for a call."""
    client = services.client
    if not client.paid_calls:
        return Text()
    runtime = services.session.runtime
    price = runtime.overage_charge_usdc if runtime is not None else None
    each = f" x {price:g}" if price is not None else ""
    return Text(
        f" · paid calls {client.paid_calls}{each} = {client.paid_usdc:g} USDC", style="yellow"
    )
