"""One send attempt in full: recipients accepted and refused, the error, the mail server's
answer and the envelope (``GET /v2/send-attempts/{id}``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from rich.text import Text

from tui.app.dialogs.detail import DetailDialog, fields_text

if TYPE_CHECKING:
    from tui.api.models import SendAttempt

STATUS_STYLE = {"accepted": "green", "queued": "yellow", "failed": "bold red"}
"""Colour of a submission status."""


def attempt_text(attempt: SendAttempt) -> Text:
    """The attempt's fields as plain text."""
    from tui.api.models import iso_z

    envelope = json.dumps(attempt.envelope, default=str) if attempt.envelope else "-"
    return fields_text(
        [
            ("Attempt", attempt.send_attempt_id, ""),
            ("Status", attempt.submission_status, STATUS_STYLE.get(attempt.submission_status, "")),
            ("Created", iso_z(attempt.created_at) or "-", ""),
            ("Updated", iso_z(attempt.updated_at) or "-", ""),
            ("Subject", attempt.subject or "-", "bold"),
            ("To", ", ".join(attempt.to) or "-", ""),
            ("Accepted", ", ".join(attempt.accepted) or "-", "green"),
            ("Refused", ", ".join(attempt.rejected) or "-", "red" if attempt.rejected else ""),
            ("Error", attempt.error or "-", "red" if attempt.error else ""),
            ("Message-ID", attempt.message_id or "-", ""),
            ("Response", attempt.response or "-", ""),
            ("Envelope", envelope, "dim"),
        ]
    )


class SendAttemptDialog(DetailDialog["SendAttempt"]):
    """A send attempt, fetched by id."""

    TITLE_TEXT = "Send attempt"

    async def fetch(self) -> SendAttempt:
        """``GET /v2/send-attempts/{id}``."""
        return await self.app.services.client.get_send_attempt(self.item.send_attempt_id)

    def render_item(self, item: SendAttempt) -> Text:
        """The attempt's fields, then the text sent when this app kept a copy."""
        from tui.core.sanitize import clean_block
        from tui.core.sentcopies import SentCopies

        text = attempt_text(item)
        copy = SentCopies(self.app.services.settings.state_dir / "sent").load(item.send_attempt_id)
        if copy is not None:
            text.append("\nText sent (this app's copy; the service does not return it)\n", "bold")
            text.append(clean_block(copy["text"], 200_000))
        else:
            text.append(
                "\nText: not available (sent elsewhere; the service never returns it)", "dim"
            )
        return text
