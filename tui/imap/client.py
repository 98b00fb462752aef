"""aioimaplib's client with linear-time response handling (issue 16: a big FETCH in one go).

aioimaplib 2.0 handles a response chunk recursively, one call per line (a 256 KB chunk of
header fetches is thousands of frames deep: over the recursion limit) and copies the rest of
the chunk at every line (quadratic in the chunk). Its ``FetchCommand.wait_data`` joins every
line since the last ``n FETCH (`` on every line it receives, and every line re-arms the
command's timeout (a new timer in the event loop's heap). Listing 10,000 messages made tens of
thousands of such lines. This module keeps aioimaplib's protocol and state machine and
replaces those three paths with equivalents that do constant work per line:

- :meth:`Protocol._handle_responses` walks the chunk with an offset in a loop;
- :class:`FetchCommand` keeps the parenthesis balance of the current ``FETCH`` item as lines
  arrive (``wait_data`` is what aioimaplib computes, without the rescan);
- its timeout is an inactivity timeout checked when it fires (same behaviour, one timer).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aioimaplib import aioimaplib

log = logging.getLogger("aioimaplib.aioimaplib")

_CRLF = b"\r\n"


class FetchCommand(aioimaplib.FetchCommand):
    """A ``FETCH`` whose ``wait_data`` and timeout cost O(1) per line."""

    def __init__(self, tag: str, *args: Any, **kwargs: Any) -> None:
        self._open = 0
        self._activity = 0.0
        super().__init__(tag, *args, **kwargs)
        self._activity = self._loop.time()

    def append_to_resp(self, line: bytes, result: str = "Pending") -> None:
        super().append_to_resp(line, result)
        if isinstance(line, bytes):  # literals (bytearray) do not count, as in aioimaplib
            balance = line.count(b"(") - line.count(b")")
            if self.FETCH_MESSAGE_DATA_RE.match(line):
                self._open = balance
            else:
                self._open += balance

    def wait_data(self) -> bool:
        return self._open != 0

    def _set_timer(self) -> None:
        if self._timeout is not None:
            self._timer = self._loop.call_later(self._timeout, self._check_timeout)

    def _reset_timer(self) -> None:
        self._activity = self._loop.time()

    def _check_timeout(self) -> None:
        assert self._timeout is not None
        quiet = self._loop.time() - self._activity
        if quiet >= self._timeout:
            self._timeout_callback()
        else:
            self._timer = self._loop.call_later(self._timeout - quiet, self._check_timeout)


class Protocol(aioimaplib.IMAP4ClientProtocol):
    """aioimaplib's protocol with a linear response loop and :class:`FetchCommand`."""

    incomplete_line: bytes
    current_command: aioimaplib.Command | None

    def data_received(self, d: bytes) -> None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug("Received : %s", d)
        try:
            data = self.incomplete_line + d
            self._handle_responses(data, self._handle_line, self.current_command)
            self.incomplete_line = b""
            self.current_command = None
        except aioimaplib.IncompleteRead as incomplete_read:
            self.current_command = incomplete_read.cmd
            self.incomplete_line = incomplete_read.data

    def _handle_responses(
        self,
        data: bytes,
        line_handler: Callable[[bytes, aioimaplib.Command], aioimaplib.Command | None],
        current_cmd: aioimaplib.Command | None = None,
    ) -> None:
        """aioimaplib's ``_handle_responses`` as a loop over an offset (same outcomes)."""
        pos, end = 0, len(data)
        cmd: Any = current_cmd
        while True:
            if pos >= end:
                if self.pending_sync_command is not None:
                    self.pending_sync_command.flush()
                if cmd is not None and cmd.wait_data():
                    raise aioimaplib.IncompleteRead(cmd)
                return
            if cmd is not None and cmd.wait_literal_data():
                missing = cmd._expected_size - len(cmd._resp_literal_data)
                cmd.append_literal_data(data[pos : pos + missing])
                pos = min(end, pos + missing)
                if cmd.wait_literal_data():
                    raise aioimaplib.IncompleteRead(cmd)
            stop = data.find(_CRLF, pos)
            if stop < 0:
                raise aioimaplib.IncompleteRead(cmd, data[pos:])
            line = data[pos:stop]
            pos = stop + 2
            handled = line_handler(line, cmd)
            literal = aioimaplib.literal_data_re.match(line)
            if literal:
                if handled is None:
                    handled = aioimaplib.Command("NIL", "unused")
                handled.begin_literal_data(int(literal.group("size")))
                cmd = handled
            elif handled is not None and handled.wait_data():
                cmd = handled
            else:
                cmd = None

    async def fetch(
        self,
        message_set: str,
        message_parts: str,
        by_uid: bool = False,
        timeout: float | None = None,
    ) -> aioimaplib.Response:
        command = FetchCommand(
            self.new_tag(),
            message_set,
            message_parts,
            prefix="UID" if by_uid else "",
            loop=self.loop,
            timeout=timeout,
        )
        response: aioimaplib.Response = await self.execute(command)
        return response


class Client(aioimaplib.IMAP4):
    """``aioimaplib.IMAP4`` speaking through :class:`Protocol`."""

    def create_client(
        self,
        host: str,
        port: int,
        loop: asyncio.AbstractEventLoop | None,
        conn_lost_cb: Callable[[Exception | None], None] | None = None,
        ssl_context: Any = None,
    ) -> None:
        local_loop = loop if loop is not None else asyncio.get_running_loop()
        self.protocol = Protocol(local_loop, conn_lost_cb)
        self._client_task = local_loop.create_task(
            local_loop.create_connection(lambda: self.protocol, host, port, ssl=ssl_context)
        )
