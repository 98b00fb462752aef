"""What ``wait-otp`` may return, decided without I/O: mail identity and the returned ledger."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tui.core.codepick import MailIdentity, ReturnedCodes, bad_regex

NOW = datetime(2026, 12, 6, 12, 0, 0, 500_000, tzinfo=UTC)


def test_the_uid_decides_then_the_api_id_then_the_message_id():
    a = MailIdentity(api_id="m1", uid=(7, 1), header_id="<x@y>")
    assert a.same(MailIdentity(api_id="m1"))
    # A code read over IMAP came from that UID's body, whichever API row it was paired with.
    assert a.same(MailIdentity(api_id="m2", uid=(7, 1)))
    assert not a.same(MailIdentity(api_id="m1", uid=(7, 2)))
    assert not a.same(MailIdentity(api_id="m2"))
    assert a.same(MailIdentity(uid=(7, 1)))  # the same mail before the API listed it
    assert not a.same(MailIdentity(uid=(7, 2), header_id="<x@y>"))  # a resend reusing the id
    # A new UIDVALIDITY renumbers the mailbox: UID 1 is another mail; Message-ID decides.
    assert not a.same(MailIdentity(uid=(8, 1)))
    assert a.same(MailIdentity(uid=(8, 5), header_id="<x@y>"))
    assert not MailIdentity(api_id="m1").same(MailIdentity(uid=(7, 1)))  # nothing to pair on


def test_newer_by_uid_then_by_time_with_imap_seconds():
    first = MailIdentity(api_id="m1", uid=(7, 1), received_at=NOW)
    # UIDs of one UIDVALIDITY grow with arrival, whatever the clocks say.
    assert MailIdentity(uid=(7, 2), received_at=NOW - timedelta(seconds=5)).newer_than(first)
    assert not MailIdentity(uid=(7, 1), received_at=NOW + timedelta(seconds=5)).newer_than(
        MailIdentity(uid=(7, 2), received_at=NOW)
    )
    # An IMAP time is cut to the second: the same second may be later.
    cut = NOW.replace(microsecond=0)
    assert MailIdentity(uid=(8, 1), received_at=cut, slack_s=1.0).newer_than(first)
    assert not MailIdentity(api_id="m0", received_at=cut).newer_than(first)
    assert MailIdentity(api_id="m2", received_at=NOW + timedelta(milliseconds=1)).newer_than(first)


def test_the_ledger_survives_a_hostile_or_old_file(tmp_path):
    path = tmp_path / "returned.json"
    path.write_text(
        json.dumps(
            {
                "L:otp": [
                    "acme@x|Your code|29000000",  # the old sender|subject|minute format
                    {"api_id": 5, "uid": ["a", 1], "received_at": "yesterday"},
                    {"uid": [True, 1]},
                    {"api_id": "m1", "uid": [7, 3], "received_at": "2026-12-06T12:00:00.500Z"},
                    None,
                ],
                "L:link": "not a list",
            }
        )
    )
    ledger = ReturnedCodes(path)
    legacy, m1 = ledger.get("L", "otp")
    # An old entry: nothing of its minute or before comes back after an upgrade.
    assert legacy.received_at == datetime(2025, 2, 19, 21, 20, 59, 999_000, tzinfo=UTC)
    assert m1 == MailIdentity(api_id="m1", uid=(7, 3), received_at=NOW, slack_s=0.0)
    assert ledger.get("L", "link") == []
    ledger.add("L", "otp", MailIdentity(uid=(7, 4), header_id="<a@b>", received_at=NOW))
    assert [i.uid for i in ledger.get("L", "otp")] == [None, (7, 3), (7, 4)]
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_bad_patterns_are_named():
    assert bad_regex(r"\d{6}") is None
    assert "not a valid regular expression" in (bad_regex("([a-z") or "")
    assert "empty string" in (bad_regex("x*") or "")


def test_an_identity_set_finds_a_mail_by_any_of_its_keys():
    from tui.core.codepick import IdentitySet

    known = IdentitySet([MailIdentity(api_id="m1", uid=(7, 1)), MailIdentity(uid=(7, 2))])
    assert MailIdentity(api_id="m1") in known
    assert MailIdentity(api_id="m9", uid=(7, 2)) in known  # paired since: its UID
    assert MailIdentity(api_id="m1", uid=(7, 3)) not in known  # another message than m1's
    assert MailIdentity(uid=(8, 2)) not in known
