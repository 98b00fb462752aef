"""Reading a mailbox's messages over an open connection: what is new since the last UID, the
newest read whole (big ones lazily), the older ones of a first sync by their header fields
(a big mailbox listed whole), one message whole on demand. Parsing runs in threads."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from aioimaplib import aioimaplib

from tui.imap.connection import ImapConnection
from tui.imap.errors import ImapClosedError
from tui.imap.message import HEADER_FIELDS, ImapMessage, parse_headers, parse_message
from tui.imap.protocol import SelectInfo, bye_text, parse_fetch, parse_search, uid_set
from tui.imap.state import MailboxState

DEFAULT_SIZE_LIMIT = 5 * 1024 * 1024
"""Messages larger than this (RFC822.SIZE) are fetched partially."""
LAZY_BODY_BYTES = 1024 * 1024
"""Messages larger than this are read lazily: their first ``LAZY_PREFIX_BYTES`` while the
mailbox syncs, the rest when shown (``ImapMessage.lazy``): a newsletter of megabytes neither
stalls the sync nor stays in memory."""
LAZY_PREFIX_BYTES = 64 * 1024
"""What a sync reads of a big message (its headers and the start of its body)."""
BATCH_BYTES = 8 * 1024 * 1024
"""Most bytes asked for in one ``UID FETCH`` of bodies."""
BATCH_COUNT = 50
"""Most messages asked for in one ``UID FETCH`` of bodies."""
SIZE_BATCH = 200
"""UIDs whose sizes one UID FETCH asks for (more are listed with UID SEARCH first)."""
HEADER_BATCH = 1000
"""Older messages whose header fields one UID FETCH asks for (first sync of a big mailbox);
the next batch is on the wire while one is parsed (in a thread). The response handling costs
the same per line whatever the batch (:mod:`tui.imap.client`); a batch bounds how long the
event loop handles one response chunk and how much waits in memory."""


def _parse_headers(lines: list[Any], asked: set[int]) -> list[ImapMessage]:
    """:func:`parse_headers` of each message of a header-fields FETCH response that was asked
    for (not an unsolicited FETCH), in UID order (run in a thread)."""
    out = [
        parse_headers(uid, item.literal, size=item.size or 0, internaldate=item.internaldate)
        for item in parse_fetch(lines)
        if (uid := item.uid) in asked and item.literal is not None
    ]
    return sorted(out, key=lambda m: m.uid)


class MailboxSync:
    """What one reader has read of a mailbox (by UID, with its :class:`MailboxState`) and how
    it reads more over its connection; never changes anything on the server."""

    def __init__(
        self,
        conn: ImapConnection,
        *,
        state: MailboxState | None = None,
        known: Iterable[ImapMessage] = (),
        size_limit: int = DEFAULT_SIZE_LIMIT,
        lazy_size: int = LAZY_BODY_BYTES,
        max_initial: int = 200,
        headers_for_older: bool = False,
        keep: int = 1000,
        after_batch: Callable[[], None] | None = None,
    ) -> None:
        self.conn = conn
        """The connection it reads through."""
        self.state = state or MailboxState()
        """UIDVALIDITY and last UID (updated as messages are fetched)."""
        self.size_limit = max(1024, int(size_limit))
        """Bytes fetched at most per message (larger ones are partial)."""
        self.lazy_size = max(1024, int(lazy_size))
        """Messages larger than this are read lazily (``LAZY_PREFIX_BYTES`` of them)."""
        self.max_initial = max_initial
        """On the first sync of a mailbox, fetch at most this many (the newest) messages."""
        self.headers_for_older = headers_for_older
        """On that first sync, fetch only the headers of the older ones (so a big mailbox is
        listed whole; :attr:`ImapMessage.headers_only`), instead of leaving them out."""
        self.keep = keep
        """How many messages :attr:`messages` keeps."""
        self.after_batch = after_batch
        """Called before older messages are listed by batches (a big first sync) and once each
        batch is parsed: the TUI's inbox moves its heap out of the collector's reach there
        (``tui.core.imapsource``)."""
        self.read: dict[int, ImapMessage] = {m.uid: m for m in known}
        """Messages read (by this reader, or earlier ones: ``known``, which goes with
        ``state``), by UID."""
        self.reset = False
        """UIDVALIDITY changed since the last report: what was reported before is void."""

    def restore(self, state: MailboxState, known: Iterable[ImapMessage]) -> None:
        """Start from what an earlier reader read (the mail cache)."""
        self.state = state
        self.read = {m.uid: m for m in known}

    @property
    def messages(self) -> list[ImapMessage]:
        """Every message read so far (up to :attr:`keep`), newest first."""
        return [self.read[uid] for uid in sorted(self.read, reverse=True)]

    def selected(self, info: SelectInfo) -> None:
        """INBOX was selected: a new UIDVALIDITY voids what was read (read again from UID 1)."""
        state = self.state
        if info.uidvalidity is not None and state.uidvalidity != info.uidvalidity:
            if state.uidvalidity is not None or state.last_uid:
                self.reset = True
                self.read.clear()
            state.last_uid = 0
        state.uidvalidity = info.uidvalidity
        state.uidnext = info.uidnext

    async def fetch_new(self) -> list[ImapMessage]:
        """Fetch messages with a UID above ``state.last_uid``, oldest first.

        A NOOP first lets the server notice mail that arrived since the last command (Dovecot
        only rescans a mailbox at such sync points, not for a bare UID FETCH).
        """
        client = self.conn.require()
        noop = await self.conn.command("NOOP", client.noop())
        bye = bye_text(noop.lines)
        if bye is not None:
            raise ImapClosedError(self.conn.safe(f"{self.conn.where()} ended the session: {bye}"))
        start = self.state.last_uid + 1
        first = self.state.last_uid == 0
        expected = (self.state.uidnext or start) - start
        if first or expected > SIZE_BATCH:
            # Many UIDs: list them in one line (UID SEARCH), then ask the sizes of those read
            # whole by chunks; the older ones of a first sync come by their header fields.
            uids = [u for u in await self._search_uids(client, start) if u >= start]
            if not uids:
                return []
            highest = uids[-1]
            older_uids: list[int] = []
            if first and len(uids) > self.max_initial:
                older_uids = uids[: -self.max_initial] if self.headers_for_older else []
                uids = uids[-self.max_initial :]
            found = await self._sizes(client, uids)
        else:
            found = await self._sizes(client, None, start=start)
            if not found:
                return []
            highest = found[-1][0]
            older_uids = []
        fetched = await self._fetch_older(client, older_uids)
        for batch in self._batches(found):
            fetched.extend(await self._fetch_bodies(client, batch))
            self.state.last_uid = max(self.state.last_uid, batch[-1][0])
        self.state.last_uid = max(self.state.last_uid, highest)
        fetched.sort(key=lambda m: m.uid)
        for message in fetched:
            self.read[message.uid] = message
        if len(self.read) > self.keep:  # the oldest go (one sort, not a min() per message)
            for uid in sorted(self.read)[: len(self.read) - self.keep]:
                del self.read[uid]
        return fetched

    def _batches(self, found: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
        batches: list[list[tuple[int, int]]] = []
        current: list[tuple[int, int]] = []
        total = 0
        for uid, size in found:
            if size > min(self.size_limit, self.lazy_size):
                if current:
                    batches.append(current)
                    current, total = [], 0
                batches.append([(uid, size)])
                continue
            if current and (total + size > BATCH_BYTES or len(current) >= BATCH_COUNT):
                batches.append(current)
                current, total = [], 0
            current.append((uid, size))
            total += size
        if current:
            batches.append(current)
        return batches

    async def _fetch_bodies(
        self, client: aioimaplib.IMAP4, batch: list[tuple[int, int]]
    ) -> list[ImapMessage]:
        sizes = dict(batch)
        one = batch[0][1] if len(batch) == 1 else 0
        lazy = one > self.lazy_size
        limit = min(LAZY_PREFIX_BYTES, self.size_limit) if lazy else self.size_limit
        partial = lazy or one > self.size_limit
        body = f"BODY.PEEK[]<0.{limit}>" if partial else "BODY.PEEK[]"
        response = await self.conn.command_ok(
            "FETCH",
            client.uid("fetch", uid_set(list(sizes)), f"(UID RFC822.SIZE INTERNALDATE {body})"),
            "UID FETCH",
        )

        def parse_all() -> list[ImapMessage]:
            # Off the event loop (the UI's): the extractor reads every part of every message.
            out: list[ImapMessage] = []
            for item in parse_fetch(response.lines):
                uid = item.uid
                if uid is None or uid not in sizes or item.literal is None:
                    continue  # an unsolicited FETCH (flags), or a message expunged meanwhile
                size = item.size if item.size is not None else sizes[uid]
                cut = partial and len(item.literal) < size
                out.append(
                    parse_message(
                        uid,
                        item.literal,
                        size=size,
                        partial=cut,
                        internaldate=item.internaldate,
                        lazy=lazy and cut,
                    )
                )
            return sorted(out, key=lambda m: m.uid)

        return await asyncio.to_thread(parse_all)

    async def _search_uids(self, client: aioimaplib.IMAP4, start: int) -> list[int]:
        """``UID SEARCH UID start:*``: the UIDs from ``start`` on (one response line)."""
        search = client.uid_search("UID", f"{start}:*", charset=None)
        response = await self.conn.command_ok("SEARCH", search, "UID SEARCH")
        return parse_search(response.lines)

    async def _sizes(
        self, client: aioimaplib.IMAP4, uids: list[int] | None, *, start: int = 1
    ) -> list[tuple[int, int]]:
        """(uid, RFC822.SIZE) of ``uids`` (by chunks), or of ``start:*`` when None."""
        sets = (
            [f"{start}:*"]
            if uids is None
            else [uid_set(uids[i : i + SIZE_BATCH]) for i in range(0, len(uids), SIZE_BATCH)]
        )
        low = start if uids is None else 1
        found: set[tuple[int, int]] = set()
        for uids_text in sets:
            fetch = client.uid("fetch", uids_text, "(UID RFC822.SIZE)")
            response = await self.conn.command_ok("FETCH", fetch, "UID FETCH")
            found.update(
                (item.uid, item.size or 0)
                for item in parse_fetch(response.lines)
                if item.uid is not None and item.uid >= low
            )
        return sorted(found)

    async def _fetch_older(self, client: aioimaplib.IMAP4, uids: list[int]) -> list[ImapMessage]:
        """The header fields of older messages, ``HEADER_BATCH`` per UID FETCH, each batch
        parsed in a thread while the next one is fetched."""
        fetched: list[ImapMessage] = []
        parsing: asyncio.Future[list[ImapMessage]] | None = None
        if uids:
            self._after_batch()  # what is loaded before the listing, too
        try:
            for start_at in range(0, len(uids), HEADER_BATCH):
                batch = uids[start_at : start_at + HEADER_BATCH]
                lines = await self._fetch_headers(client, batch)
                if parsing is not None:
                    fetched.extend(await parsing)
                    self._after_batch()
                parse = asyncio.to_thread(_parse_headers, lines, set(batch))
                parsing = asyncio.ensure_future(parse)
            if parsing is not None:
                fetched.extend(await parsing)
                self._after_batch()
        finally:
            if parsing is not None and not parsing.done():
                parsing.cancel()
        return fetched

    def _after_batch(self) -> None:
        if self.after_batch is not None:
            self.after_batch()

    async def _fetch_headers(self, client: aioimaplib.IMAP4, uids: list[int]) -> list[Any]:
        """The response lines of one UID FETCH of older messages' header fields."""
        fields = " ".join(HEADER_FIELDS)
        what = f"(UID RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS ({fields})])"
        fetch = client.uid("fetch", uid_set(uids), what)
        response = await self.conn.command_ok("FETCH", fetch, "UID FETCH")
        return list(response.lines)

    async def fetch_raw(self, uid: int, *, limit: int | None = None) -> bytes | None:
        """The bytes of one message (all of it unless ``limit``), or None if it is gone."""
        client = self.conn.require()
        body = f"BODY.PEEK[]<0.{int(limit)}>" if limit else "BODY.PEEK[]"
        response = await self.conn.command_ok(
            "FETCH", client.uid("fetch", str(int(uid)), f"(UID {body})"), "UID FETCH"
        )
        for item in parse_fetch(response.lines):
            if item.uid == uid and item.literal is not None:
                return item.literal
        return None
