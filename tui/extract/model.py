"""Result types of the extractor (immutable, plain data)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Candidate:
    """One ranked OTP or link candidate.

    ``score`` is in [0, 1]; a candidate is only *chosen* when it scores at least 0.5 and has
    positive evidence (a keyword near it). ``reason`` says, in a few words, why it scored so.
    """

    value: str
    score: float
    reason: str


@dataclass(frozen=True)
class Attachment:
    """A non-body MIME part: its file name (if any), content type and decoded size in bytes."""

    filename: str | None
    content_type: str
    size: int


@dataclass(frozen=True)
class Extraction:
    """Everything the extractor learnt from one message.

    ``text`` is the readable body (the text/plain part, or the HTML turned into text);
    ``html`` the decoded HTML part, if there was one.
    """

    otp: str | None = None
    link: str | None = None
    otp_candidates: list[Candidate] = field(default_factory=list)
    link_candidates: list[Candidate] = field(default_factory=list)
    subject: str = ""
    text: str = ""
    html: str | None = None
    sender: str = ""
    attachments: list[Attachment] = field(default_factory=list)
