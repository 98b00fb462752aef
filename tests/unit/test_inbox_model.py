"""The inbox's state and rules without a screen: both sources merged, news once, doubtful rows,
the filter, what ``c`` copies, the poller's pace (tui.core.inbox_model)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tui.api.client import MailagentsClient
from tui.api.models import Message
from tui.core.inbox_model import InboxModel
from tui.core.poller import PollSettings, PollStatus, PollUpdate
from tui.imap.message import ImapMessage, parse_message
from tui.imap.reader import ImapStatus, ImapUpdate

STARTED = datetime(2026, 11, 24, 12, 0, 0, 250_000, tzinfo=UTC)
"""The lease began a quarter of a second into 12:00:00."""


def api(mid: str, subject: str, at: datetime, otp: str | None = None) -> Message:
    return Message(mid, "svc@site.io", subject, at, otp, None, "parsed")


def imap(uid: int, subject: str, at: datetime, body: str = "hello") -> ImapMessage:
    raw = f"From: svc@site.io\r\nSubject: {subject}\r\n\r\n{body}\r\n".encode()
    stamp = at.strftime("%d-%b-%Y %H:%M:%S +0000")
    return parse_message(uid, raw, size=len(raw), partial=False, internaldate=stamp)


def poll(messages: list[Message], new: list[Message]) -> PollUpdate:
    return PollUpdate(messages, new, PollStatus(state="ok"))


def imap_update(messages: list[ImapMessage], new: list[ImapMessage]) -> ImapUpdate:
    live = ImapStatus(state="live", mode="idle")
    return ImapUpdate(status=live, new=new, messages=sorted(messages, key=lambda m: -m.uid))


def later(seconds: float) -> datetime:
    return STARTED + timedelta(seconds=seconds)


def test_the_first_poll_is_not_news_the_next_mail_is_announced_once():
    model = InboxModel(STARTED)
    first = api("a", "Welcome", later(10))
    applied = model.apply_poll(poll([first], [first]))
    assert applied.rows and not applied.arrivals  # what was there when the inbox opened
    code = api("b", "Your code is 482913", later(20))
    applied = model.apply_poll(poll([code, first], [code]))
    assert [i.code for i in applied.arrivals.codes] == ["482913"] and not applied.arrivals.others
    assert model.order == ["b", "a"]
    again = model.apply_poll(poll([code, first], [code]))  # the same mail reported again
    assert not again.rows and not again.arrivals


def test_mail_seen_over_imap_first_is_not_announced_again_when_the_api_lists_it():
    model = InboxModel(STARTED)
    model.apply_poll(poll([], []))
    model.apply_imap(imap_update([], []))  # IMAP live, the mailbox empty: its first sync
    over_imap = imap(7, "Your code", later(30), body="Your code is 551234")
    applied = model.apply_imap(imap_update([over_imap], [over_imap]))
    assert [i.message_id for i in applied.arrivals.codes] == ["imap:7"]
    assert model.item("imap:7").code == "551234"
    listed = api("m7", "Your code", later(30.4))
    applied = model.apply_poll(poll([listed], [listed]))
    assert model.order == ["m7"]  # one row per mail, under the API's id now
    assert model.item("m7").code == "551234"  # its code read from the body over IMAP
    assert not applied.arrivals  # the same mail: announced once


def test_samples_and_an_earlier_lessees_mail_are_not_news():
    model = InboxModel(STARTED)
    model.apply_poll(poll([], []))
    sample = Message(
        "s",
        "noreply@example.com",
        "Your verification code",
        later(5),
        "123456",
        "https://example.com/verify?token=test-token",
        "parsed",
    )
    older = api("o", "Your code is 111222", STARTED - timedelta(minutes=5))
    applied = model.apply_poll(poll([sample, older], [sample, older]))
    assert not applied.arrivals
    assert model.refresh_visible() == ["s"]  # the older mail is hidden...
    model.show_older = True
    assert model.refresh_visible() == ["s", "o"]  # ...until asked for


def test_imap_mail_from_the_leases_first_second_asks_the_api_once():
    model = InboxModel(STARTED)
    client = MailagentsClient("http://127.0.0.1:9")  # never called: only woken
    poller = model.new_poller(client, PollSettings())
    model.apply_poll(poll([], []))
    model.apply_imap(imap_update([], []))
    doubtful = imap(3, "Hi", STARTED.replace(microsecond=0))  # 12:00:00: before or after?
    applied = model.apply_imap(imap_update([doubtful], [doubtful]))
    assert applied.asked and 3 in model.asked_api
    assert model.item("imap:3").before_lease and model.refresh_visible() == []  # hidden
    assert poller.status.state == "starting"  # woken, not polled here
    other = imap(4, "Later", later(60))
    applied = model.apply_imap(imap_update([doubtful, other], [other]))
    assert not applied.asked  # asked once per mail
    placed = api("m3", "Hi", STARTED + timedelta(milliseconds=400))  # the API's milliseconds
    model.apply_poll(poll([placed], [placed]))
    assert not model.item("m3").before_lease and "m3" in model.refresh_visible()


def test_imap_live_slows_the_api_and_a_new_poller_keeps_that_pace():
    model = InboxModel(STARTED)
    settings = PollSettings()
    poller = model.new_poller(MailagentsClient("http://127.0.0.1:9"), settings)
    assert poller.settings == settings and poller.since is not None
    model.apply_imap(imap_update([], []))
    assert model.imap_live and poller.settings.fast >= settings.confirm
    model.show_older = True
    again = model.new_poller(MailagentsClient("http://127.0.0.1:9"), settings)
    assert again.since is None and again.settings.fast >= settings.confirm
    assert model.first_update  # its first report is what was there
    model.set_imap_status("IMAP offline: retrying")
    assert again.settings == settings


def test_a_message_read_whole_replaces_its_start_and_stays_whole():
    model = InboxModel(STARTED)
    model.apply_poll(poll([], []))
    raw = b"From: n@news.io\r\nSubject: Weekly\r\n\r\n" + b"x" * 100
    start = parse_message(9, raw[:60], size=len(raw), partial=True, lazy=True)
    model.apply_imap(imap_update([start], [start]))
    item = model.item("imap:9")
    assert model.needs_whole(item) is start
    whole = parse_message(9, raw, size=len(raw))
    assert model.replace_whole(start, whole) is not None
    assert model.needs_whole(model.item("imap:9")) is None
    model.apply_imap(imap_update([start, imap(10, "New", later(90))], []))  # a later sync
    assert model.imap[9] is whole  # a message fetched whole stays whole
    assert model.replace_whole(start, whole) is None  # no longer the one held


def test_the_filter_searches_sender_subject_and_code():
    model = InboxModel(STARTED)
    rows = [api("a", "Invoice", later(1)), api("b", "Your code is 909090", later(2))]
    model.apply_poll(poll(rows, rows))
    model.filter_text = "9090"
    assert model.refresh_visible() == ["b"]
    model.filter_text = "SVC@"  # any case
    assert model.refresh_visible() == ["b", "a"]
    model.filter_text = "nothing like it"
    assert model.refresh_visible() == []


def test_c_copies_a_doubtful_guess_only_when_asked_twice():
    model = InboxModel(STARTED)
    rows = [
        api("y", "Order 2024 shipped", later(1), otp="2024"),
        api("c", "Code", later(2), "4821"),
    ]
    model.apply_poll(poll(rows, rows))
    doubtful = model.item("y")
    assert doubtful.code is None and doubtful.guess_doubt
    assert model.copy_choice(doubtful) == ("warn", "2024")
    assert model.copy_choice(doubtful) == ("doubtful", "2024")
    assert model.copy_choice(doubtful) == ("warn", "2024")  # a third c warns again
    assert model.copy_choice(model.item("c")) == ("code", "4821")


def test_a_big_inbox_is_warmed_in_batches():
    model = InboxModel(STARTED)
    rows = [api(f"m{i:04}", f"Digest {i}", later(i)) for i in range(450)]
    model.apply_poll(poll(rows, rows))
    assert model.needs_warm()
    batches = list(model.warm(100))
    assert batches == [0, 100, 200, 300, 400] and not model.needs_warm()
    assert len(model.items) == 450


def test_a_headless_follower_gets_each_mail_once_oldest_first():
    """``messages --follow`` and the SDK's follow: both sources loaded whole each time, every
    mail handed out once (under either key), another lessee's left out unless asked for."""
    ended = later(600)
    model = InboxModel(STARTED, lease_ended=ended)
    first, second = api("a", "First", later(10)), api("b", "Second", later(20))
    over_imap = imap(5, "Your code", later(30), body="Your code is 313131")
    model.load([second, first], [over_imap])
    out = model.unseen()
    assert [(i.message_id, src) for i, src in out] == [
        ("a", "api"),
        ("b", "api"),
        ("imap:5", "imap"),
    ]
    listed = api("m5", "Your code", later(30.2))
    late = api("z", "After release", ended + timedelta(seconds=5))
    model.load([late, listed, second, first], [over_imap])
    assert model.unseen() == []  # m5 is imap:5, handed out already; z is a later lessee's
    assert [(i.message_id, i.code, src) for i, src in model.rows()][:2] == [
        ("z", None, "api"),
        ("m5", "313131", "imap"),
    ]
    everything = InboxModel(STARTED, lease_ended=ended)
    everything.load([late, listed], [over_imap])
    assert [i.message_id for i, _ in everything.unseen(show_all=True)] == ["m5", "z"]


def test_a_row_made_for_imap_mail_is_the_message_its_init_would_make() -> None:
    """imap_as_message skips the frozen dataclass's __init__ (10,000 rows at once): the same
    object as Message(...) gives, while Message keeps neither slots nor __post_init__."""
    import dataclasses

    from tui.core.inbox import imap_as_message
    from tui.imap.message import parse_headers

    assert not hasattr(Message, "__post_init__") and not hasattr(Message, "__slots__")
    raw = (
        b"From: A <a@b.io>\r\nSubject: Code 482913\r\nDate: Mon, 7 Dec 2026 01:00:00 +0000\r\n\r\n"
    )
    imap = parse_headers(5, raw, size=900, internaldate="07-Dec-2026 01:00:02 +0000")
    row = imap_as_message(imap)
    made = Message(
        message_id="imap:5", sender="a@b.io", subject="Code 482913",
        received_at=imap.received, otp_code=None, verification_link=None, parsed_status="imap",
    )  # fmt: skip
    assert row == made and vars(row) == vars(made)
    assert [f.name for f in dataclasses.fields(Message)] == list(vars(row))
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.subject = "changed"  # type: ignore[misc]


def test_rows_of_imap_mail_are_made_once_and_again_for_a_new_reading() -> None:
    from tui.imap.message import parse_headers

    def header(uid: int) -> ImapMessage:
        raw = f"From: a@b.io\r\nSubject: mail {uid}\r\n\r\n".encode()
        return parse_headers(uid, raw, size=900, internaldate="07-Dec-2026 01:00:02 +0000")

    model = InboxModel(None)
    first = [header(uid) for uid in range(1, 6)]
    model.load([], first)
    rows = {key: model.messages[key] for key in model.order}
    model.load([], [*first, header(6)])  # a new mail: the others' rows are the same objects
    assert all(model.messages[key] is row for key, row in rows.items())
    again = header(3)  # read anew (e.g. fetched whole): its row is made again
    model.load([], [m if m.uid != 3 else again for m in first])
    assert model.messages["imap:3"] is not rows["imap:3"] and "imap:6" not in model.messages
    assert model.messages["imap:3"] == rows["imap:3"]


def _headers(count: int, at: datetime) -> list[ImapMessage]:
    from tui.imap.message import parse_headers

    out = []
    for uid in range(1, count + 1):
        raw = f"From: s{uid % 7}@x.io\r\nSubject: Digest {uid}\r\n\r\n".encode()
        stamp = (at + timedelta(seconds=uid)).strftime("%d-%b-%Y %H:%M:%S +0000")
        out.append(parse_headers(uid, raw, size=900, internaldate=stamp))
    return out


def test_rows_merged_ahead_are_the_rows_merged_at_once_and_change_nothing() -> None:
    """A big first sync is merged in a thread (InboxModel.merge_for) and applied after: the
    same rows as merging when applied; making them changes nothing in the model."""
    listed = [api("a1", "Digest 5", later(5.3)), api("a2", "Welcome", later(40))]
    update = imap_update(_headers(300, STARTED), _headers(300, STARTED))
    ahead, at_once = InboxModel(STARTED), InboxModel(STARTED)
    for model in (ahead, at_once):
        model.apply_poll(poll(listed, listed))
    merged = ahead.merge_for(update)
    assert ahead.imap == {} and len(ahead.order) == 2  # nothing changed yet
    ahead.apply_imap(update, merged)
    at_once.apply_imap(update)
    assert ahead.order == at_once.order and len(ahead.order) == 301  # a1 paired with uid 5
    assert ahead.messages == at_once.messages and ahead.imap_of.keys() == at_once.imap_of.keys()
    assert ahead.messages is merged.messages


def test_rows_merged_ahead_of_a_change_are_merged_again() -> None:
    model = InboxModel(STARTED)
    first = api("a1", "Welcome", later(40))
    model.apply_poll(poll([first], [first]))
    update = imap_update(_headers(50, STARTED), _headers(50, STARTED))
    merged = model.merge_for(update)
    second = api("a2", "Your code 482913", later(90))
    model.apply_poll(poll([second, first], [second]))  # the API listed more meanwhile
    model.apply_imap(update, merged)
    assert "a2" in model.order and model.messages is not merged.messages
    assert len(model.order) == 52
