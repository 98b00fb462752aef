"""Human time formats shared by the CLI and the TUI."""

from __future__ import annotations

from datetime import UTC, datetime


def time_left(expires: datetime | None, now: datetime | None = None) -> str:
    """``3d 04h``, ``2h 05m``, ``4m 10s``, ``45s``, ``expired`` or ``-`` (unknown)."""
    if expires is None:
        return "-"
    seconds = int((expires - (now or datetime.now(UTC))).total_seconds())
    if seconds <= 0:
        return "expired"
    days, rem = divmod(seconds, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, secs = divmod(rem, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def relative_time(moment: datetime | None, now: datetime | None = None) -> str:
    """``just now``, ``5m ago``, ``3h ago``, ``2d ago`` (or ``-``)."""
    if moment is None:
        return "-"
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    if seconds < 10:
        return "just now"
    if seconds < 60:
        return f"{seconds}s ago"
    if seconds < 3600:
        return f"{seconds // 60}m ago"
    if seconds < 86400:
        return f"{seconds // 3600}h ago"
    return f"{seconds // 86400}d ago"
