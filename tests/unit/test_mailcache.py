"""The mail cache: what IMAP read, per lease, private, bounded, and rebuilt when damaged."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime

from tui.core.mailcache import MailCache
from tui.imap.message import parse_message
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
    folder = cache.folder("lease-a")
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(cache.root).st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    assert cache.load("other") == (MailboxState(), [])


def test_a_new_uidvalidity_replaces_every_file(tmp_path):
    cache = MailCache(tmp_path)
    cache.save("l", MailboxState(uidvalidity=1, last_uid=2), [message(2, "old body")])
    cache.save("l", MailboxState(uidvalidity=2, last_uid=2), [message(2, "new body")])
    _state, loaded = cache.load("l")
    assert [m.text.strip() for m in loaded] == ["new body"]  # never the old UID 2's file


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
    assert sorted(p.name for p in cache.folder("l").glob("*.eml")) == ["4.eml", "5.eml", "6.eml"]
    small = MailCache(tmp_path / "small", max_bytes=100)
    big = [message(2, "y" * 80), message(1, "z" * 80)]
    small.save("l", MailboxState(uidvalidity=1, last_uid=2), big)
    assert [m.uid for m in small.load("l")[1]] == [2]  # the newest always, then within bytes


def test_damage_gives_a_fresh_start_not_an_error(tmp_path):
    cache = MailCache(tmp_path)
    cache.save("l", MailboxState(uidvalidity=1, last_uid=2), [message(2), message(1)])
    (cache.folder("l") / "1.eml").unlink()
    assert [m.uid for m in cache.load("l")[1]] == [2]
    index = cache.folder("l") / "index.json"
    data = json.loads(index.read_text())
    data["messages"]["2"] = {"size": "lots", "received": "yesterday"}
    index.write_text(json.dumps(data))
    assert cache.load("l") == (MailboxState(uidvalidity=1, last_uid=2), [])
    index.write_text("{not json")
    assert cache.load("l") == (MailboxState(), [])


def test_odd_lease_ids_stay_inside_and_drop_forgets(tmp_path):
    cache = MailCache(tmp_path / "mail")
    for lease_id in ("../../escape", "/etc", "a b"):
        assert cache.folder(lease_id).parent == tmp_path / "mail"
    cache.save("../../escape", MailboxState(uidvalidity=1, last_uid=1), [message(1)])
    assert [p.name for p in tmp_path.iterdir()] == ["mail"]
    cache.drop("../../escape")
    assert cache.load("../../escape") == (MailboxState(), [])
    assert not cache.folder("../../escape").exists()


def test_headers_only_messages_stay_headers_only(tmp_path):
    cache = MailCache(tmp_path)
    head = parse_message(1, b"From: a@b.io\r\nSubject: old\r\n\r\n", size=4000, headers_only=True)
    cache.save("l", MailboxState(uidvalidity=1, last_uid=2), [message(2), head])
    loaded = {m.uid: m for m in cache.load("l")[1]}
    assert loaded[1].headers_only and loaded[1].partial and loaded[1].size == 4000
    assert loaded[1].subject == "old" and not loaded[2].headers_only
