"""A big mailbox's listing reads each subject once: the extractor on a subject is remembered
by its text (a pure function of the string), and the inbox does not read it again to judge the
server's guess (tui.extract.core/otp, tui.imap.message.parse_headers, tui.core.inbox)."""

from __future__ import annotations

import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import tui.extract.otp
from tui.api.models import Message
from tui.core.inbox_model import InboxModel
from tui.extract import analyze_parts, judge_server_guess
from tui.imap.message import ImapMessage, parse_headers

STARTED = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Each call of the real ``find_otp`` (wherever a module holds it), by subject."""
    real = tui.extract.otp.find_otp
    seen: Counter[str] = Counter()

    def counting(subject: str, sources: Any) -> Any:
        seen[subject] += 1
        return real(subject, sources)

    for name, module in list(sys.modules.items()):
        if name.startswith("tui.") and getattr(module, "find_otp", None) is real:
            monkeypatch.setattr(module, "find_otp", counting)
    yield seen


def header_only(uid: int, subject: str, at: datetime) -> ImapMessage:
    raw = (
        f"From: Shop <orders@shop.example>\r\nSubject: {subject}\r\n"
        f"Message-ID: <m{uid}@shop.example>\r\n\r\n"
    ).encode()
    stamp = at.strftime("%d-%b-%Y %H:%M:%S +0000")
    return parse_headers(uid, raw, size=len(raw) + 900, internaldate=stamp)


def test_the_listing_reads_each_subject_once_also_when_it_judges_the_servers_guess(
    reads: Counter[str],
) -> None:
    token = uuid.uuid4().hex[:8]  # subjects no other test has read (nothing remembered yet)
    subjects = [f"Order {token} {4100 + i} has shipped" for i in range(30)]
    at = [STARTED + timedelta(minutes=1 + i) for i in range(30)]
    over_imap = [
        header_only(i + 1, s, t) for i, (s, t) in enumerate(zip(subjects, at, strict=True))
    ]
    # The API lists the newest ten too (the service guessed the order number as the code),
    # and ten more that IMAP has not read: judged on their subject alone.
    listed = [
        Message(f"m{i}", "orders@shop.example", subjects[i], at[i], str(4100 + i), None, "x")
        for i in range(20, 30)
    ]
    only_api = [f"Invoice {token} {5200 + i} paid" for i in range(10)]
    listed += [
        Message(f"a{i}", "billing@shop.example", s, at[-1] + timedelta(minutes=1 + i),
                str(5200 + i), None, "x")
        for i, s in enumerate(only_api)
    ]  # fmt: skip
    model = InboxModel(STARTED)
    model.load(listed, over_imap)
    assert not reads  # listed and merged: no subject read before a row needs it
    newest = model.item(model.order[0])
    assert newest.message.subject == only_api[-1] and dict(reads) == {only_api[-1]: 1}
    items = model.items
    assert len(items) == 40
    assert dict(reads) == {s: 1 for s in subjects + only_api}  # once each, not twice
    # ... and what is shown did not change: no code from an order number; the API-only
    # guesses are doubtful, with the reason the subject gives.
    assert all(item.code is None for item in items)
    for item in items:
        if item.message.message_id.startswith("a"):
            verdict = judge_server_guess(
                item.message.otp_code or "", subject=item.message.subject, sender="x@y.example"
            )
            assert item.guess_doubt == verdict.reason != ""


def test_a_repeated_subject_is_read_once_and_each_reading_is_its_own_copy(
    reads: Counter[str],
) -> None:
    subject = f"Your verification code is 482913 ({uuid.uuid4().hex[:8]})"
    first, second = (
        header_only(1, subject, STARTED + timedelta(minutes=1)),
        header_only(2, subject, STARTED + timedelta(minutes=2)),
    )
    assert reads[subject] == 0  # listed, not read yet: a row reads its subject when needed
    assert first.otp == second.otp == "482913"
    assert reads[subject] == 1
    assert first.extraction is not second.extraction
    assert first.extraction.otp_candidates == second.extraction.otp_candidates
    first.extraction.otp_candidates.clear()  # a caller's copy: the remembered result is intact
    assert first.extraction.attachments is not second.extraction.attachments
    again = analyze_parts(subject=subject)
    assert again.otp == "482913" and again.otp_candidates and not again.attachments
    assert again.otp_candidates == second.extraction.otp_candidates
    assert reads[subject] == 1
    # the judge of a server guess reads the same subject from the same memory
    assert judge_server_guess("482913", subject=subject).doubtful is False
    assert reads[subject] == 1
