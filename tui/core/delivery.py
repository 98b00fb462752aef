"""Was a sent mail delivered? Only knowable when every recipient is a lease this tenant can
read: the mail then shows up in that mailbox. Anything else stays "accepted" (the service's
word: taken by its mail backend, which on the reference server is a no-op)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tui.api.models import Lease, Message, SendAttempt, iso_z

if TYPE_CHECKING:
    from tui.api.client import MailagentsClient

MAX_MAILBOXES = 5
"""Recipient mailboxes read per check (each is one ``GET /v2/messages``)."""
SLACK = timedelta(seconds=5)
"""Clock skew allowed between the attempt's ``created_at`` and the mail's ``received_at``."""


def _sender_matches(sender: str, address: str) -> bool:
    text = sender.strip().lower()
    return text == address or text.endswith(f"<{address}>")


async def delivered_attempts(
    client: MailagentsClient, attempts: Iterable[SendAttempt], leases: Iterable[Lease]
) -> set[str]:
    """Ids of the accepted attempts whose every recipient is one of ``leases`` (this tenant's
    active leases) and has received a mail from the sending mailbox with the same subject
    since the attempt. Reads at most :data:`MAX_MAILBOXES` mailboxes, oldest attempt first."""
    by_address = {lease.address.lower(): lease for lease in leases}
    address_of = {lease.mailbox_id: lease.address.lower() for lease in by_address.values()}
    candidates = []
    for attempt in attempts:
        recipients = [r.lower() for r in (attempt.accepted or attempt.to)]
        sender = address_of.get(attempt.mailbox_id or "")
        if (
            attempt.submission_status == "accepted"
            and recipients
            and sender is not None
            and all(r in by_address for r in recipients)
        ):
            candidates.append((attempt, sender, recipients))
    if not candidates:
        return set()
    # recipient address -> the earliest attempt time to look from
    wanted: dict[str, datetime | None] = {}
    for attempt, _sender, recipients in candidates:
        for r in recipients:
            start, earliest = attempt.created_at, wanted.get(r)
            if r not in wanted or (start is not None and (earliest is None or start < earliest)):
                wanted[r] = start
    inbox: dict[str, list[Message]] = {}
    for address in list(wanted)[:MAX_MAILBOXES]:
        since = wanted[address]
        inbox[address] = await client.list_messages(
            by_address[address].mailbox_id, since=iso_z(since - SLACK) if since else None
        )
    done: set[str] = set()
    for attempt, sender, recipients in candidates:
        if all(r in inbox for r in recipients) and all(
            any(
                _sender_matches(m.sender, sender)
                and m.subject.strip() == attempt.subject.strip()
                and (
                    attempt.created_at is None
                    or m.received_at is None
                    or m.received_at >= attempt.created_at - SLACK
                )
                for m in inbox[r]
            )
            for r in recipients
        ):
            done.add(attempt.send_attempt_id)
    return done
