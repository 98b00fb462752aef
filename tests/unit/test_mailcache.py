"""The mail cache (SQLite): what IMAP read, per lease, private, bounded, rebuilt when damaged;
one row written per new mail; the cache of earlier versions discarded."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path

from tui.core.mailcache import MailCache
from tui.imap.message import SubjectReading, parse_headers, parse_message
from tui.imap.reader import MailboxState

WHEN = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def message(uid: int, body: str = "x", *, partial: bool = False, size: int | None = None):
    raw = f"From: a@b.io\r\nSubject: m{uid}\r\n\r\n{body}\r\n".encode()
    return parse_message(uid, raw, size=size or len(raw), partial=partial, internaldate=WHEN)


def test_round_trip_keeps_state_facts_and_bodies(tmp_path):
    cache = MailCache(tmp_path / "mail")
    state = MailboxState(uidvalidity=7, last_uid=3, uidnext=4)
    msgs = [message(3, "Your code is 482913."), message(1, partial=True, size=9_000_000)]
    cache.save("lease-a", state, msgs)
    loaded_state, loaded = cache.load("lease-a")
    assert loaded_state == state
    assert [(m.uid, m.subject, m.otp, m.received) for m in loaded] == [
        (3, "m3", "482913", WHEN),
        (1, "m1", None, WHEN),
    ]
    assert loaded[1].partial and loaded[1].size == 9_000_000 and loaded[1].notice
    assert loaded == msgs  # every fact, the extraction and the bytes, as parsed
    assert stat.S_IMODE(os.stat(cache.root).st_mode) == 0o700
    for path in cache.root.iterdir():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    assert cache.load("other") == (MailboxState(), [])
    fresh = MailCache(tmp_path / "mail")  # another process later: the same
    assert fresh.load("lease-a") == (state, msgs)


def test_reopening_reads_rows_and_parses_nothing(tmp_path, monkeypatch):
    cache = MailCache(tmp_path)
    msgs = [message(uid, f"Your code is {100000 + uid}.") for uid in range(1, 51)]
    cache.save("l", MailboxState(uidvalidity=1, last_uid=50), msgs)
    import tui.imap.message

    def refuse(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(tui.imap.message, "parse_message", refuse)
    _state, loaded = MailCache(tmp_path).load("l")
    assert [m.otp for m in loaded] == [f"{100000 + uid}" for uid in range(50, 0, -1)]


def test_one_new_mail_is_one_row_written(tmp_path):
    cache = MailCache(tmp_path)
    msgs = [message(uid) for uid in range(1, 101)]
    cache.save("l", MailboxState(uidvalidity=1, last_uid=100), msgs)
    assert cache.last_written == 100
    cache.save("l", MailboxState(uidvalidity=1, last_uid=101), [*msgs, message(101)])
    assert cache.last_written == 1
    cache.save("l", MailboxState(uidvalidity=1, last_uid=101), [*msgs, message(101)])
    assert cache.last_written == 0
    assert cache.count("l") == 101


def test_a_new_uidvalidity_replaces_every_row(tmp_path):
    cache = MailCache(tmp_path)
    cache.save("l", MailboxState(uidvalidity=1, last_uid=2), [message(2, "old body")])
    cache.save("l", MailboxState(uidvalidity=2, last_uid=2), [message(2, "new body")])
    _state, loaded = cache.load("l")
    assert [m.text.strip() for m in loaded] == ["new body"]  # never the old UID 2's row


def test_an_older_save_never_undoes_a_newer_one(tmp_path):
    cache = MailCache(tmp_path)
    cache.save("l", MailboxState(uidvalidity=1, last_uid=5), [message(5), message(4)])
    cache.save("l", MailboxState(uidvalidity=1, last_uid=4), [message(4)])
    state, loaded = cache.load("l")
    assert state.last_uid == 5 and [m.uid for m in loaded] == [5, 4]


def test_only_the_newest_are_kept(tmp_path):
    cache = MailCache(tmp_path, keep=3, max_bytes=10_000)
    msgs = [message(uid) for uid in range(1, 7)]
    cache.save("l", MailboxState(uidvalidity=1, last_uid=6), msgs)
    assert [m.uid for m in cache.load("l")[1]] == [6, 5, 4]
    assert cache.count("l") == 3
    small = MailCache(tmp_path / "small", max_bytes=100)
    big = [message(2, "y" * 80), message(1, "z" * 80)]
    small.save("l", MailboxState(uidvalidity=1, last_uid=2), big)
    assert [m.uid for m in small.load("l")[1]] == [2]  # the newest always, then within bytes


def test_damage_gives_a_fresh_start_not_an_error(tmp_path):
    cache = MailCache(tmp_path)
    cache.save("l", MailboxState(uidvalidity=1, last_uid=3), [message(3), message(2), message(1)])
    with sqlite3.connect(cache.path) as db:  # a row whose facts are damaged: parsed again
        db.execute("UPDATE messages SET facts='{not json' WHERE uid=2")
        db.execute("UPDATE messages SET received='yesterday' WHERE uid=1")  # unusable: skipped
    assert [(m.uid, m.subject) for m in cache.load("l")[1]] == [(3, "m3"), (2, "m2")]
    cache.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{cache.path}{suffix}").unlink(missing_ok=True)
    cache.path.write_bytes(b"not a database" * 100)
    assert cache.load("l") == (MailboxState(), [])  # logged, rebuilt
    cache.save("l", MailboxState(uidvalidity=1, last_uid=1), [message(1)])
    assert [m.uid for m in cache.load("l")[1]] == [1]


def test_odd_lease_ids_stay_inside_and_drop_forgets(tmp_path):
    cache = MailCache(tmp_path / "mail")
    for lease_id in ("../../escape", "/etc", "a b"):
        assert cache.folder(lease_id).parent == tmp_path / "mail"
    cache.save("../../escape", MailboxState(uidvalidity=1, last_uid=1), [message(1)])
    assert [p.name for p in tmp_path.iterdir()] == ["mail"]
    cache.save("other", MailboxState(uidvalidity=1, last_uid=1), [message(1)])
    cache.drop("../../escape")
    assert cache.load("../../escape") == (MailboxState(), [])
    assert cache.count("../../escape") == 0 and cache.count("other") == 1


def test_headers_only_and_lazy_messages_stay_so(tmp_path):
    cache = MailCache(tmp_path)
    head = parse_message(1, b"From: a@b.io\r\nSubject: old\r\n\r\n", size=4000, headers_only=True)
    lazy = parse_message(3, b"From: a@b.io\r\nSubject: big\r\n\r\nstart", size=9_000, lazy=True)
    cache.save("l", MailboxState(uidvalidity=1, last_uid=3), [lazy, message(2), head])
    loaded = {m.uid: m for m in cache.load("l")[1]}
    assert loaded[1].headers_only and loaded[1].partial and loaded[1].size == 4000
    assert loaded[1].subject == "old" and not loaded[2].headers_only
    assert loaded[3].lazy and loaded[3].partial and not loaded[3].headers_only
    assert loaded == {1: head, 2: message(2), 3: lazy}


def test_the_cache_of_earlier_versions_is_discarded(tmp_path):
    root = tmp_path / "mail"
    old = root / "lease-a"
    old.mkdir(parents=True)
    (old / "index.json").write_text(json.dumps({"state": {"uidvalidity": 1, "last_uid": 9}}))
    (old / "9.eml").write_bytes(b"Subject: old\r\n\r\nx")
    cache = MailCache(root)
    assert cache.load("lease-a") == (MailboxState(), [])  # read again from the server
    assert [p.name for p in root.iterdir() if p.is_dir()] == []


def test_an_unread_subject_is_kept_unread_and_reads_the_same_later(tmp_path):
    """Saving or reopening a big mailbox reads none of its older messages' subjects (the
    extractor on 9,800 subjects is most of a listing's CPU); reading one later gives what
    reading it at once would have."""
    raws = [
        f"From: Shop <s@shop.io>\r\nSubject: =?utf-8?q?Code_{100000 + uid}?=\r\n\r\n".encode()
        for uid in range(1, 4)
    ]
    msgs = [
        parse_headers(uid, raw, size=5000, internaldate=WHEN) for uid, raw in enumerate(raws, 1)
    ]
    assert all(isinstance(m.reading, SubjectReading) and m.reading.done is None for m in msgs)
    cache = MailCache(tmp_path)
    cache.save("l", MailboxState(uidvalidity=1, last_uid=3), msgs)
    assert all(m.reading.done is None for m in msgs)  # saving read nothing
    _state, loaded = MailCache(tmp_path).load("l")
    assert loaded == sorted(msgs, key=lambda m: -m.uid)
    assert all(isinstance(m.reading, SubjectReading) and m.reading.done is None for m in loaded)
    fresh = [
        parse_message(m.uid, m.raw, size=5000, internaldate=WHEN, headers_only=True) for m in loaded
    ]
    for cached, slow in zip(loaded, fresh, strict=True):
        assert cached.otp == slow.otp == f"{100000 + cached.uid}"
        assert cached.extraction.otp_candidates == slow.extraction.otp_candidates
        assert (cached.extraction.subject, cached.extraction.sender) == (
            slow.extraction.subject,
            slow.extraction.sender,
        )


def test_a_damaged_unread_subject_is_parsed_again(tmp_path):
    raw = b"From: s@shop.io\r\nSubject: Your code is 482913\r\n\r\n"
    cache = MailCache(tmp_path)
    cache.save("l", MailboxState(uidvalidity=1, last_uid=1), [parse_headers(1, raw, size=900)])
    with sqlite3.connect(cache.path) as db:
        (facts,) = db.execute("SELECT facts FROM messages").fetchone()
        data = json.loads(facts)
        data["read"] = {"subject": 5, "sender": None}
        db.execute("UPDATE messages SET facts=?", (json.dumps(data),))
    _state, (loaded,) = MailCache(tmp_path).load("l")
    assert loaded.headers_only and loaded.otp == "482913"
    with sqlite3.connect(cache.path) as db:  # a subject too long to be read later: read now
        data["read"] = {"subject": "x" * 100_000, "sender": "s@shop.io"}
        db.execute("UPDATE messages SET facts=?", (json.dumps(data),))
    _state, (loaded,) = MailCache(tmp_path).load("l")
    assert not isinstance(loaded.reading, SubjectReading) and loaded.otp == "482913"
