"""tui.imap.client: aioimaplib's protocol with linear response handling gives aioimaplib's
answers, for responses of any size and split anywhere (no server: bytes fed to the protocol)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aioimaplib import aioimaplib

from tui.imap.client import Protocol
from tui.imap.protocol import parse_fetch


class _Transport:
    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)


def _response(tag: str, count: int) -> bytes:
    parts = [b"* 1 EXISTS\r\n"]
    for i in range(1, count + 1):
        literal = f"Subject: message {i} (of {count})\r\nFrom: a{i}@b.example\r\n\r\n".encode()
        parts.append(
            f"* {i} FETCH (UID {i + 100} RFC822.SIZE {500 + i} INTERNALDATE "
            f'"06-Dec-2026 22:08:01 +0000" BODY[HEADER.FIELDS (FROM SUBJECT)] '
            f"{{{len(literal)}}}\r\n".encode()
            + literal
            + (b" FLAGS (\\Seen))\r\n" if i % 2 else b")\r\n")
        )
    parts.append(f"{tag} OK Fetch completed (0.001 + 0.000 secs).\r\n".encode())
    return b"".join(parts)


async def _fetch(protocol_class: type[Any], count: int, chunk: int | None) -> list[Any]:
    """Run one UID FETCH on ``protocol_class`` fed the server's answer in ``chunk``-byte pieces
    (all at once when None); the response's lines."""
    proto = protocol_class(asyncio.get_running_loop(), None)
    transport = _Transport()
    proto.transport = transport
    proto.state = aioimaplib.SELECTED
    task = asyncio.ensure_future(
        proto.fetch("101:*", "(UID BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])", by_uid=True)
    )
    await asyncio.sleep(0)
    tag = transport.written[0].split()[0].decode()
    data = _response(tag, count)
    step = chunk or len(data)
    for start in range(0, len(data), step):
        proto.data_received(data[start : start + step])
    response = await asyncio.wait_for(task, 10)
    assert response.result == "OK"
    return list(response.lines)


@pytest.mark.parametrize("chunk", [None, 1, 7, 64, 4096])
async def test_the_same_lines_as_aioimaplib_however_the_bytes_arrive(chunk: int | None) -> None:
    ours = await _fetch(Protocol, 120, chunk)
    theirs = await _fetch(aioimaplib.IMAP4ClientProtocol, 120, chunk)
    assert ours == theirs
    items = parse_fetch(ours)
    assert [item.uid for item in items] == list(range(101, 221))
    assert items[4].literal == b"Subject: message 5 (of 120)\r\nFrom: a5@b.example\r\n\r\n"


async def test_ten_thousand_messages_in_one_chunk() -> None:
    """aioimaplib handles a chunk with one recursive call per line: thousands of lines are
    over the recursion limit. Ours reads them in a loop, in time linear in the response."""
    lines = await _fetch(Protocol, 10_000, None)
    items = parse_fetch(lines)
    assert len(items) == 10_000 and items[-1].uid == 10_100 and items[-1].size == 10_500
    with pytest.raises(RecursionError):
        await _fetch(aioimaplib.IMAP4ClientProtocol, 2_000, None)


async def test_a_fetch_times_out_after_a_quiet_spell_only() -> None:
    """One timer per FETCH, checked when it fires: data that keeps coming keeps the command
    alive past its timeout; silence for the timeout ends it with CommandTimeout."""
    proto = Protocol(asyncio.get_running_loop(), None)
    transport = _Transport()
    proto.transport = transport
    proto.state = aioimaplib.SELECTED
    task = asyncio.ensure_future(proto.fetch("1:*", "(UID)", by_uid=True, timeout=0.3))
    await asyncio.sleep(0)
    tag = transport.written[0].split()[0].decode()
    for i in range(1, 7):  # 0.6 s of data, 0.1 s apart
        proto.data_received(f"* {i} FETCH (UID {i})\r\n".encode())
        await asyncio.sleep(0.1)
    assert not task.done()
    proto.data_received(f"{tag} OK done\r\n".encode())
    assert len((await task).lines) == 7
    quiet = asyncio.ensure_future(proto.fetch("1:*", "(UID)", by_uid=True, timeout=0.2))
    with pytest.raises(aioimaplib.CommandTimeout):
        await asyncio.wait_for(quiet, 5)
