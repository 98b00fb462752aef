"""Decoding: raw RFC 5322 bytes -> subject, sender, text and HTML bodies, attachments.

Best effort and never raising: unknown or lying charsets fall back to UTF-8 then
Windows-1252, truncated base64 decodes as far as it goes, broken MIME structure is walked
as far as the parser got, and a message the parser cannot handle at all is read as headers
plus a plain body. Nesting is bounded before parsing (:data:`MAX_CONTAINERS`): thousands of
nested multiparts would exhaust the C stack once eth-account has raised the recursion limit.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email
import re
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from urllib.parse import unquote_to_bytes

from tui.escapes import strip_escapes
from tui.extract.model import Attachment


def _raw_header_string(name: str, value: str) -> str:
    """Header factory that keeps the raw string (headers are decoded by this module)."""
    return value


# policy.default, except that headers stay raw strings: building policy.default's structured
# header objects dominated the parse time, and decode_header_value() does the decoding.
POLICY = policy.default.clone(header_factory=_raw_header_string)
MAX_PARTS = 400
MAX_DEPTH = 100
MAX_CONTAINERS = 100
"""Most ``multipart/*`` and ``message/*`` Content-Type fields a message may hold and still be
parsed as MIME. The stdlib parser recurses once per nesting level (and checks every line
against every open boundary), so nesting must be bounded before it runs: past this count the
message is read as headers plus a plain body (:func:`_fallback`)."""

# A Content-Type field with its folded lines, matched in the lower-cased message (a literal
# prefix keeps the scan fast); it must start a line, and CR alone ends a line for the stdlib
# parser too. Over-counting (a body line that looks like a header) is harmless.
_CONTENT_TYPE_FIELD = re.compile(rb"content-type[ \t]*:([^\r\n]*(?:(?:\r\n|\r|\n)[ \t][^\r\n]*)*)")

_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "big5": "big5hkscs",
    "iso-8859-9": "cp1254",
    "tis-620": "cp874",
    "iso-8859-11": "cp874",
    "x-user-defined": "cp1252",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
}
_ASCII_NAMES = {"us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us", "646"}
_CODEC_CACHE: dict[str, str | None] = {}


def codec_for(charset: str | None) -> str | None:
    """A Python codec name for a MIME charset label, or None when unknown or absent."""
    if not charset:
        return None
    label = charset.strip().strip("\"'").lower()
    if label in _CODEC_CACHE:
        return _CODEC_CACHE[label]
    name: str | None = _ALIASES.get(label, label)
    if label in _ASCII_NAMES:
        name = "ascii"
    try:
        info = codecs.lookup(name or "")
        # Refuse codecs that are not text encodings (rot13, base64, zlib...).
        name = info.name if getattr(info, "_is_text_encoding", True) else None
    except (LookupError, ValueError):
        name = None
    if len(_CODEC_CACHE) < 256:
        _CODEC_CACHE[label] = name
    return name


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Decode ``data`` trying the declared charset, then UTF-8, then Windows-1252 (lossy)."""
    codec = codec_for(charset)
    if codec and codec != "ascii":
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError, ValueError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if codec and codec not in ("ascii", "utf-8"):
        try:
            return data.decode(codec, errors="replace")
        except (LookupError, ValueError):
            pass
    return data.decode("cp1252", errors="replace")


def _unsurrogate(value: str) -> str:
    """Header strings from ``message_from_bytes`` carry raw 8-bit bytes as surrogates."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return decode_bytes(value.encode("utf-8", "surrogateescape"))


_ENCODED_WORD = re.compile(r"=\?([^?\s]*)\?([bBqQ])\?([^?\s]*)\?=")
_QP_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")
_FOLD = re.compile(r"\r?\n[ \t]*")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _ew_bytes(kind: str, payload: str) -> bytes:
    raw = payload.encode("ascii", "replace")
    if kind in "bB":
        raw = re.sub(rb"[^A-Za-z0-9+/]", b"", raw)
        raw = raw[: len(raw) - len(raw) % 4] if len(raw) % 4 == 1 else raw
        try:
            return base64.b64decode(raw + b"=" * (-len(raw) % 4))
        except (binascii.Error, ValueError):
            return b""
    raw = raw.replace(b"_", b" ")
    return _QP_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), raw)


def decode_header_value(value: str | None) -> str:
    """Decode RFC 2047 encoded words (also when split mid-character), unfold, drop controls."""
    if not value:
        return ""
    value = _FOLD.sub(" ", _unsurrogate(str(value)))
    out: list[str] = []
    pos = 0
    pending: tuple[str, bytearray] | None = None
    for m in _ENCODED_WORD.finditer(value):
        between = value[pos : m.start()]
        charset = m.group(1).split("*", 1)[0]
        chunk = _ew_bytes(m.group(2), m.group(3))
        if pending is not None and not between.strip() and pending[0] == charset.lower():
            pending[1].extend(chunk)
        else:
            if pending is not None:
                out.append(decode_bytes(bytes(pending[1]), pending[0]))
                if between.strip():
                    out.append(between)
                elif between:
                    # Whitespace between encoded words of different charsets is dropped.
                    pass
            else:
                out.append(between)
            pending = (charset.lower(), bytearray(chunk))
        pos = m.end()
    if pending is not None:
        out.append(decode_bytes(bytes(pending[1]), pending[0]))
    out.append(value[pos:])
    return _CONTROL.sub("", strip_escapes("".join(out))).strip()


@dataclass
class Decoded:
    """The readable pieces of a message (mutable while it is being built)."""

    subject: str = ""
    sender: str = ""
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    payloads: list[bytes] | None = None
    """The attachments' decoded bytes, in the same order (only when asked for)."""


def _raw_header(msg: Message, name: str) -> str | None:
    try:
        for key, value in msg.raw_items():
            if key.lower() == name:
                return str(value)
    except Exception:  # noqa: S110 - any parser oddity means "no header"
        pass
    return None


_PARAM = re.compile(r"""([\w*.!#$%&'+^`|~-]+)\s*=\s*("(?:[^"\\]|\\.)*"?|[^;\s]*)""")
_RFC2231 = re.compile(r"([\w.-]*)'[\w-]*'(.*)\Z", re.S)


def _header_params(msg: Message, header: str) -> tuple[str, dict[str, str]]:
    """(lower-cased value, params) of a raw structured header, parsed cheaply and leniently.

    Reading raw values avoids building policy.default header objects on every lookup.
    """
    raw = _raw_header(msg, header)
    if raw is None:
        return "", {}
    raw = _FOLD.sub(" ", _unsurrogate(raw))
    value, _, rest = raw.partition(";")
    params: dict[str, str] = {}
    for m in _PARAM.finditer(rest):
        key, val = m.group(1).lower(), m.group(2)
        if val.startswith('"'):
            val = val[1:-1] if val.endswith('"') and len(val) > 1 else val[1:]
            val = val.replace('\\"', '"').replace("\\\\", "\\")
        if key.endswith("*") or key[-2:-1] == "*":  # RFC 2231: name*=charset'lang'%XX / name*0=
            base = key.split("*", 1)[0]
            enc = _RFC2231.match(val)
            if enc:
                val = decode_bytes(unquote_to_bytes(enc.group(2)), enc.group(1) or None)
            continued = key[-1:].isdigit() or "*" in key[len(base) + 1 :]
            params[base] = params.get(base, "") + val if continued else val
            continue
        params.setdefault(key, val)
    return value.strip().lower(), params


def _content_type(msg: Message) -> tuple[str, dict[str, str]]:
    ctype, params = _header_params(msg, "content-type")
    if "/" not in ctype:
        ctype = "text/plain"
    return ctype, params


def _cte(msg: Message) -> str:
    return (_raw_header(msg, "content-transfer-encoding") or "7bit").strip().lower()


def _b64(data: bytes) -> bytes:
    """Lenient base64: ignores junk characters and a truncated final quantum."""
    data = re.sub(rb"[^A-Za-z0-9+/]", b"", data)
    data = data[: len(data) - len(data) % 4] if len(data) % 4 == 1 else data
    try:
        return base64.b64decode(data + b"=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        return b""


def _payload(msg: Message) -> bytes:
    """The decoded body bytes of a leaf part (base64 and quoted-printable undone, leniently)."""
    try:
        data = msg.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    try:
        raw = msg.get_payload()
    except Exception:
        return b""
    if not isinstance(raw, str):
        return b""
    data = raw.encode("utf-8", "surrogateescape")
    return _b64(data) if _cte(msg) == "base64" else data


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)


def _html_charset(data: bytes) -> str | None:
    m = _META_CHARSET.search(data[:4096])
    return m.group(1).decode("ascii") if m else None


def _looks_like_html(text: str) -> bool:
    head = text[:2048].lower()
    return "<html" in head or "<body" in head or ("<table" in head and "</td>" in text.lower())


def _add_body_part(out: Decoded, msg: Message, ctype: str, params: dict[str, str]) -> None:
    data = _payload(msg)
    charset = params.get("charset")
    if ctype == "text/html":
        out.html.append(decode_bytes(data, charset or _html_charset(data)))
        return
    text = decode_bytes(data, charset)
    if _looks_like_html(text):
        out.html.append(text)
    else:
        out.plain.append(text)


def _disposition(msg: Message, params: dict[str, str]) -> tuple[str, str | None]:
    disposition, dparams = _header_params(msg, "content-disposition")
    name = dparams.get("filename") or params.get("name")
    return disposition, (decode_header_value(name) or None) if name else None


def _walk(root: Message, out: Decoded) -> None:
    stack: list[tuple[Message, int]] = [(root, 0)]
    seen = 0
    while stack and seen < MAX_PARTS:
        msg, depth = stack.pop()
        seen += 1
        ctype, params = _content_type(msg)
        try:
            payload = msg.get_payload()
        except Exception:
            payload = None
        if isinstance(payload, list):
            if depth < MAX_DEPTH:
                stack.extend((p, depth + 1) for p in reversed(payload) if isinstance(p, Message))
            continue
        disposition, filename = _disposition(msg, params)
        if ctype.startswith("multipart/"):
            # A multipart without a usable boundary: its body is all we have.
            text = decode_bytes(_payload(msg))
            (out.html if _looks_like_html(text) else out.plain).append(text)
        elif ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            _add_body_part(out, msg, ctype, params)
        else:
            data = _payload(msg)
            out.attachments.append(Attachment(filename, ctype, len(data)))
            if out.payloads is not None:
                out.payloads.append(data)


def _fallback(raw: bytes, out: Decoded) -> None:
    """Headers parsed alone; the body kept as text (used when MIME parsing fails)."""
    sep = re.search(rb"\r?\n\r?\n", raw)
    head, body = (raw[: sep.start()], raw[sep.end() :]) if sep else (raw, b"")
    try:
        hmsg = email.message_from_bytes(head + b"\n\n", policy=POLICY)
        out.subject = decode_header_value(_raw_header(hmsg, "subject"))
        out.sender = decode_header_value(_raw_header(hmsg, "from"))
    except Exception:  # noqa: S110 - keep whatever we have
        pass
    text = decode_bytes(body)
    (out.html if _looks_like_html(text) else out.plain).append(text)


def attachment_parts(raw: bytes) -> list[tuple[Attachment, bytes]]:
    """Each attachment of a raw message with its decoded bytes, in the order
    :attr:`Extraction.attachments` lists them; never raises."""
    out = decode_message(raw, payloads=True)
    return list(zip(out.attachments, out.payloads or [], strict=False))


def mime_containers(raw: bytes, limit: int | None = None) -> int:
    """How many Content-Type fields of ``raw`` name a ``multipart`` or ``message`` type.

    A flat scan, no parsing: an upper bound of the MIME nesting depth (each level needs such a
    field; a ``multipart/digest`` gives its parts a default ``message/rfc822``, so the depth is
    at most twice this count). Stops counting past ``limit`` when one is given.
    """
    count = 0
    low = raw.lower()
    for match in _CONTENT_TYPE_FIELD.finditer(low):
        start = match.start()
        if start and low[start - 1] not in b"\r\n":
            continue
        value = match.group(1)
        if b"multipart" in value or b"message" in value:
            count += 1
            if limit is not None and count > limit:
                break
    return count


def mime_too_deep(raw: bytes) -> bool:
    """True when ``raw`` has more MIME containers than :data:`MAX_CONTAINERS` (so it is
    not parsed as MIME: deep nesting would exhaust the stack or take minutes)."""
    return mime_containers(raw, MAX_CONTAINERS) > MAX_CONTAINERS


def decode_message(raw: bytes, *, payloads: bool = False) -> Decoded:
    """Parse and decode a raw message; never raises. ``payloads`` keeps attachment bytes."""
    out = Decoded(payloads=[] if payloads else None)
    if not isinstance(raw, bytes | bytearray | memoryview):
        raw = str(raw).encode("utf-8", "replace")
    raw = bytes(raw)
    if mime_too_deep(raw):
        _fallback(raw, out)
        return out
    try:
        msg = email.message_from_bytes(raw, policy=POLICY)
        out.subject = decode_header_value(_raw_header(msg, "subject"))
        out.sender = decode_header_value(_raw_header(msg, "from"))
        _walk(msg, out)
    except (RecursionError, MemoryError, Exception):
        out = Decoded(payloads=[] if payloads else None)
        _fallback(raw, out)
    return out
