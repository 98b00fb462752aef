"""The sandbox's mail parser child: ``python -m tui.sandbox.mail.parser_worker``.

Parsing inbound mail holds the GIL for long stretches (regular expressions over big bodies,
base64), so in a thread of the sandbox it still makes the event loop late; in this child it
cannot, and a crash of the parser cannot take the sandbox down. See
:func:`tui.sandbox.mail.inbound.parse_isolated`, which starts it with pipes on stdin and stdout.

Protocol: frames of an 8-byte big-endian length and the bytes. A request is two frames, a
pickle of ``(parser, envelope_from)`` then the raw message as is; an answer is one frame, a
pickle of ``("ok", Parsed)`` or ``("error", text)``. The child
reads until its stdin closes, which happens when the sandbox process ends, however it ends.
Pickles cross only between the sandbox and the child it started (never from the network).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
from typing import BinaryIO

HEADER = 8


def read_exact(stream: BinaryIO, size: int) -> bytes | None:
    """``size`` bytes from ``stream``, or None at end of file."""
    chunks: list[bytes] = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def write_frame(stream: BinaryIO, payload: bytes) -> None:
    """One length-prefixed frame, flushed."""
    stream.write(len(payload).to_bytes(HEADER, "big") + payload)
    stream.flush()


def main() -> None:
    """Serve parse requests until stdin closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the sandbox, which stops us
    with contextlib.suppress(OSError):
        os.nice(10)  # parsing yields the CPU to the sandbox's event loop
    requests = sys.stdin.buffer
    answers = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # nothing may reach the pipe (or a TUI's terminal) but answers
    os.dup2(devnull, 2)
    from tui.sandbox.mail.inbound import _parse_job

    while True:
        header = read_exact(requests, HEADER)
        if header is None:
            return
        meta = read_exact(requests, int.from_bytes(header, "big"))
        size = read_exact(requests, HEADER)
        raw = read_exact(requests, int.from_bytes(size, "big")) if size is not None else None
        if meta is None or raw is None:
            return
        try:
            parser, envelope_from = pickle.loads(meta)  # noqa: S301 - from our parent
            answer = pickle.dumps(("ok", _parse_job(parser, raw, envelope_from)))
        except Exception as exc:
            answer = pickle.dumps(("error", f"{type(exc).__name__}: {exc}"))
        write_frame(answers, answer)


if __name__ == "__main__":
    main()
