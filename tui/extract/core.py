"""The two entry points: a raw message or its parts -> :class:`Extraction`."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from tui.extract.decode import decode_message
from tui.extract.htmltext import HtmlDoc, clean_text, html_to_text
from tui.extract.links import find_link
from tui.extract.model import Attachment, Candidate, Extraction
from tui.extract.otp import find_otp
from tui.extract.report import ExtractionReport, extraction_report

MAX_TEXT = 1_000_000
SUBJECT_MEMO = 512
"""Subjects alone whose analysis is remembered (a big mailbox repeats its subjects: the
same notifications and digests, a few hundred texts). Since a big mailbox's older subjects
are read only when their rows are built (``tui.imap.message.SubjectReading``), the memory
saves the inbox's background work, not the listing: 4,096 analyses of distinct subjects
held 3.3 MB for nothing (issue 15's 10,000-message inbox)."""


def clean_subject(subject: str) -> str:
    """A subject as the extractor reads it (and returns it as ``Extraction.subject``): one
    line, cleaned, capped."""
    return clean_text(" ".join(subject.split()))[:2000]


def _analyze(
    subject: str,
    plain: str,
    html: str | None,
    sender: str = "",
    attachments: list[Attachment] | None = None,
) -> Extraction:
    subject = clean_subject(subject)
    plain = clean_text(plain.replace("\r\n", "\n").replace("\r", "\n"))[:MAX_TEXT]
    doc = html_to_text(html) if html else HtmlDoc()
    sources: list[tuple[str, str, list[tuple[int, int]]]] = []
    if plain.strip():
        sources.append(("text", plain, []))
    if doc.text.strip():
        sources.append(("html", doc.text, doc.emphasis))
    otp, otp_cands = find_otp(subject, sources)
    body = plain if plain.strip() else doc.text
    link, link_cands = find_link(subject, body, doc.anchors, [plain, doc.text], doc.text)
    return Extraction(
        otp=otp,
        link=link,
        otp_candidates=otp_cands,
        link_candidates=link_cands,
        subject=subject,
        text=body,
        html=html or None,
        sender=sender,
        attachments=list(attachments or []),
    )


@lru_cache(maxsize=SUBJECT_MEMO)
def _subject_only(subject: str) -> Extraction:
    """Kept private: callers get a copy (:func:`analyze_parts`), never this object."""
    return _analyze(subject, "", None)


def subject_otp(subject: str) -> tuple[str | None, list[Candidate]]:
    """``find_otp(subject, [])`` (the chosen code and the ranked candidates of a subject
    alone), read from :func:`analyze_parts`'s memory when the subject is already clean text
    (then the analysis read exactly this text): judging a server's guess after the inbox read
    the subject does not read it again. A fresh list; the candidates are frozen."""
    if clean_subject(subject) != subject:
        return find_otp(subject, [])
    once = _subject_only(subject)
    return once.otp, list(once.otp_candidates)


def analyze_parts(
    subject: str = "", text: str = "", html: str = "", *, sender: str = ""
) -> Extraction:
    """Analyse a message given as already-decoded subject, plain text and HTML (``sender``:
    the decoded ``From``, kept as the extraction's).

    A subject alone (an older message of a big mailbox, read by its header fields; an API
    message) is analysed once per distinct text: the result is remembered, and each call gets
    its own copy (fresh lists of frozen candidates)."""
    try:
        if not text and not html:
            once = _subject_only(subject or "")
            return replace(
                once,
                otp_candidates=list(once.otp_candidates),
                link_candidates=list(once.link_candidates),
                attachments=[],
                sender=sender,
            )
        return _analyze(subject or "", text or "", html or None, sender)
    except Exception:  # pragma: no cover - last line of defence, never raise
        return Extraction(subject=subject or "", text=text or "", html=html or None, sender=sender)


def analyze_message(raw: bytes) -> Extraction:
    """Parse a raw RFC 5322 message and analyse it; never raises."""
    dec = decode_message(raw)
    html = "\n".join(dec.html) if dec.html else None
    try:
        return _analyze(dec.subject, "\n\n".join(dec.plain), html, dec.sender, dec.attachments)
    except Exception:  # pragma: no cover - last line of defence, never raise
        return Extraction(
            subject=dec.subject,
            text="\n\n".join(dec.plain),
            html=html,
            sender=dec.sender,
            attachments=dec.attachments,
        )


def report(raw: bytes) -> ExtractionReport:
    """The ``mailagents-tui parse FILE.eml --json`` object for a raw message."""
    return extraction_report(analyze_message(raw))
