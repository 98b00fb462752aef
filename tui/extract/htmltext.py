"""HTML -> readable text, keeping line structure and table cells, plus the anchors.

Block elements start new lines, table cells are separated by a tab, ``<style>``,
``<script>`` and similar are dropped, entities are decoded (also in ``href``), text is
NFKC-normalised (full-width digits become ASCII) and zero-width padding is removed.
Spans of emphasised text (bold, headings, large or letter-spaced fonts, monospace) are
recorded because codes are usually shown that way.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from typing import TYPE_CHECKING

from tui.escapes import strip_escapes

if TYPE_CHECKING:
    from selectolax.lexbor import LexborNode

_SKIP = frozenset({"style", "script", "title", "noscript", "template", "xml", "head_style"})
_VOID = frozenset(
    {"br", "img", "meta", "hr", "input", "link", "col", "area", "base", "wbr", "source", "param"}
)
_BREAK1 = frozenset(
    {
        "div", "tr", "li", "ul", "ol", "dl", "dt", "dd", "section", "article", "header",
        "footer", "nav", "aside", "center", "form", "address", "figure", "figcaption",
        "main", "tbody", "thead", "tfoot", "caption", "option", "fieldset", "legend",
    }
)  # fmt: skip
_BREAK2 = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "pre", "hr"})
_CELL = frozenset({"td", "th"})
# tag -> 2 (blank line), 1 (new line) or 0 (table cell); _BREAK2 wins over _BREAK1 ("hr")
_BREAKS = {**dict.fromkeys(_CELL, 0), **dict.fromkeys(_BREAK1, 1), **dict.fromkeys(_BREAK2, 2)}
_EMPH_TAGS = frozenset(
    {"b", "strong", "h1", "h2", "h3", "code", "kbd", "tt", "samp", "big", "mark"}
)
_FONT_SIZE = re.compile(r"font-size\s*:\s*(\d+(?:\.\d+)?)\s*(px|pt|em|rem)?", re.I)
_EMPH_STYLE = re.compile(
    r"letter-spacing\s*:\s*[1-9]|font-weight\s*:\s*(?:bold|[6-9]00)|"
    r"font-family\s*:[^;]*(?:mono|courier|consolas|menlo)",
    re.I,
)
_INVISIBLE = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad\u034f\u061c\u180e]")
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_C1_START = re.compile("[\x90\x98\x9b\x9d\x9e\x9f]")
MAX_STACK = 256
_NO_ATTRS: dict[str, str] = {}


def clean_text(text: str) -> str:
    """NFKC-normalise, drop zero-width padding and control characters (keeps tab/newline)."""
    ascii_only = text.isascii()
    if not ascii_only:
        text = _INVISIBLE.sub("", text).replace("\uff0c", ", ").replace("\u2019", "'")
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
    if "\x1b" in text or (not ascii_only and _C1_START.search(text)):
        text = strip_escapes(text)  # whole escape sequences, before their lone bytes
    return _CONTROL.sub("", text)


@dataclass
class Anchor:
    """An ``<a href>``: its URL (entities decoded), visible text, image info and position."""

    href: str
    text: str = ""
    title: str = ""
    alt: str = ""
    has_img: bool = False
    img_src: str = ""
    start: int = 0
    index: int = 0


@dataclass
class HtmlDoc:
    """Text of an HTML body, its anchors and the emphasised spans of the text."""

    text: str = ""
    anchors: list[Anchor] = field(default_factory=list)
    emphasis: list[tuple[int, int]] = field(default_factory=list)


def _is_emph(tag: str, attrs: dict[str, str]) -> bool:
    if tag in _EMPH_TAGS:
        return True
    style = attrs.get("style") or ""
    if not style:
        return tag == "font" and (attrs.get("size") or "") in ("5", "6", "7", "+2", "+3")
    if _EMPH_STYLE.search(style):
        return True
    m = _FONT_SIZE.search(style)
    if m:
        size = float(m.group(1))
        unit = (m.group(2) or "px").lower()
        px = size * 16 if unit in ("em", "rem") else size * 1.33 if unit == "pt" else size
        return px >= 20
    return False


class _Converter:
    def __init__(self) -> None:
        self.chunks: list[str] = []
        self.length = 0
        self.trailing_nl = 2  # at the start, behave as if after a blank line
        self.line_has_text = False
        self.pending_space = False
        self.pending_cell = False
        self.skip = 0
        self.pre = 0
        self.stack: list[tuple[str, bool]] = []
        self.emph = 0
        self.emph_start = -1
        self.emphasis: list[tuple[int, int]] = []
        self.anchors: list[Anchor] = []
        self.anchor: Anchor | None = None
        self.anchor_chunk = 0

    # -- output -------------------------------------------------------------------------
    def _append(self, s: str) -> None:
        self.chunks.append(s)
        self.length += len(s)

    def _break(self, n: int) -> None:
        self.pending_space = False
        self.pending_cell = False
        while self.trailing_nl < n:
            self._append("\n")
            self.trailing_nl += 1
        self.line_has_text = False

    def _cell(self) -> None:
        self.pending_space = False
        self.pending_cell = self.line_has_text

    def _text(self, data: str) -> None:
        if self.pre:
            data = clean_text(data)
            if data:
                self._append(data)
                self.trailing_nl = len(data) - len(data.rstrip("\n"))
                self.line_has_text = not data.endswith("\n")
            return
        if not data.isprintable() or "  " in data:  # printable: no tab, newline, ...
            data = _SPACES.sub(" ", data)
        if not data:
            return
        if data[0] == " ":
            if self.line_has_text:
                self.pending_space = True
            data = data[1:]
        if not data:
            return
        trailing = data[-1] == " "
        if trailing:
            data = data[:-1]
        if self.pending_cell and self.line_has_text:
            self._append("\t")
        elif self.pending_space and self.line_has_text:
            self._append(" ")
        self.pending_cell = False
        start = self.length
        self._append(data)
        if self.emph:
            self.emphasis.append((start, self.length))
        self.trailing_nl = 0
        self.line_has_text = True
        self.pending_space = trailing

    # -- parser callbacks ---------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
            if tag not in ("style", "script"):
                self.stack.append((tag, False))
            return
        if self.skip:
            return
        a = {k: (v or "") for k, v in attrs} if attrs else _NO_ATTRS
        if tag == "br":
            self._break(1)
            return
        brk = _BREAKS.get(tag)
        if brk is not None:
            if brk:
                self._break(brk)
            else:
                self._cell()
        if tag == "img":
            if self.anchor is not None:
                self.anchor.has_img = True
                self.anchor.alt = (self.anchor.alt + " " + clean_text(a.get("alt", ""))).strip()
                self.anchor.img_src = self.anchor.img_src or a.get("src", "")
            return
        if tag == "a":
            self._close_anchor()
            href = a.get("href", "").strip()
            if href:
                self.anchor = Anchor(
                    href=href,
                    title=clean_text(a.get("title", "") or a.get("aria-label", "")),
                    start=self.length,
                    index=len(self.anchors),
                )
                self.anchor_chunk = len(self.chunks)
        if tag in _VOID:
            return
        if tag == "pre":
            self.pre += 1
        emph = _is_emph(tag, a)
        if len(self.stack) < MAX_STACK:
            self.stack.append((tag, emph))
            if emph:
                self.emph += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            if self.skip:
                self.skip -= 1
            if tag not in ("style", "script"):
                self._pop(tag)
            return
        if self.skip:
            return
        if tag == "a":
            self._close_anchor()
        self._pop(tag)
        brk = _BREAKS.get(tag)
        if brk is not None:
            if brk:
                self._break(brk)
            else:
                self._cell()
        if tag == "pre" and self.pre:
            self.pre -= 1

    def _pop(self, tag: str) -> None:
        stack = self.stack
        if stack and stack[-1][0] == tag:
            if stack.pop()[1]:
                self.emph -= 1
            return
        for i in range(len(stack) - 1, max(-1, len(stack) - 40), -1):
            if self.stack[i][0] == tag:
                for _, emph in self.stack[i:]:
                    if emph:
                        self.emph -= 1
                del self.stack[i:]
                return

    def _close_anchor(self) -> None:
        if self.anchor is None:
            return
        text = "".join(self.chunks[self.anchor_chunk :])
        self.anchor.text = _SPACES.sub(" ", text).strip()[:300]
        self.anchors.append(self.anchor)
        self.anchor = None

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self._text(data)

    def result(self) -> HtmlDoc:
        self._close_anchor()
        return HtmlDoc("".join(self.chunks).strip("\n"), self.anchors, self.emphasis)


MAX_HTML = 2_000_000
_STRUCTURAL = frozenset({"html", "head", "body"})
# Tags that never deepen the tree: void elements and those whose end tag is implied by the
# next one (an unclosed <td>, <li> or <p> closes itself).
_FLAT = _VOID | frozenset(
    {"p", "li", "td", "th", "tr", "option", "optgroup", "dt", "dd", "tbody", "thead", "tfoot",
     "colgroup", "rb", "rt", "rp", "html", "head", "body", "caption", "source", "track"}
)  # fmt: skip
# A start or end tag of an element that may deepen the tree (the flat ones are skipped in C).
_DEEPENING_TAG = re.compile(
    r"<(/?)(?=[A-Za-z])(?!(?:" + "|".join(sorted(_FLAT, key=len, reverse=True)) + r")[\s/>])",
    re.I,
)
DEEP_CHECK_TAGS = 3000
"""Documents with fewer ``<`` than this are never checked for pathological nesting."""
MAX_DEPTH = 256
"""Elements left open past this depth are dropped before parsing (their text stays): lexbor's
tree building is quadratic in the depth of open elements (10,000 nested ``<div>`` take 70 ms,
40,000 take 4 s), and no real mail nests this deep."""


# Exact spellings of flat start and end tags (a longer or oddly spelt name is not subtracted,
# which only makes the bound of :func:`_maybe_deep` larger: it stays an upper bound).
_FLAT_NAMES = ("td", "tr", "th", "p", "li", "br", "hr", "img", "meta", "input", "option")
_FLAT_OPENS = (*(f"<{t}{c}" for t in _FLAT_NAMES for c in "> "), "<br/")
_FLAT_CLOSES = tuple(f"</{t}>" for t in ("td", "tr", "th", "p", "li", "option"))
_CHUNK = 4096


def _maybe_deep(html: str) -> bool:
    """False when ``html`` surely opens no more than :data:`MAX_DEPTH` elements at once.

    An upper bound from substring counts per 4 KB chunk (in C): the depth before a chunk plus
    every start tag in it. A first pass counts all start tags (a fraction of a millisecond for
    200 KB); only if that bound is too high does a second pass subtract the surely flat ones
    (void elements, cells, rows, paragraphs, list items), and only if that one is too high does
    :func:`_shallow` scan the tags one by one.
    """
    return _depth_bound(html, False) and _depth_bound(html, True)


def _depth_bound(html: str, subtract_flat: bool) -> bool:
    depth = 0
    for pos in range(0, len(html), _CHUNK):
        chunk = html[pos : pos + _CHUNK]
        tags = chunk.count("<")
        if not tags:
            continue
        closes = chunk.count("</")
        opens = tags - closes - chunk.count("<!")
        if subtract_flat:
            opens -= sum(map(chunk.count, _FLAT_OPENS))
            closes -= sum(map(chunk.count, _FLAT_CLOSES))
        if depth + opens > MAX_DEPTH:
            return True
        depth = max(0, depth + opens - closes)
    return False


def _shallow(html: str) -> str:
    """``html`` without the tags that would open elements deeper than :data:`MAX_DEPTH` (and
    the end tags that close them). Linear; a document with few tags is returned as is."""
    if html.count("<") < DEEP_CHECK_TAGS or not _maybe_deep(html):
        return html
    depth = 0
    cuts: list[tuple[int, int]] = []
    last = 0
    for m in _DEEPENING_TAG.finditer(html):
        if m.start() < last:
            continue  # inside a tag already cut
        closing = bool(m.group(1))
        if not closing:
            depth += 1
        if depth > MAX_DEPTH:
            end = html.find(">", m.end())
            last = len(html) if end < 0 else end + 1
            cuts.append((m.start(), last))
        if closing and depth:
            depth -= 1
    if not cuts:
        return html
    pieces = []
    pos = 0
    for start, end in cuts:
        pieces.append(html[pos:start])
        pos = end
    pieces.append(html[pos:])
    return "".join(pieces)


class _Streaming(HTMLParser):
    """The stdlib's streaming tokenizer feeding the converter: used only when selectolax is
    not installed (the same text on the whole corpus, about twice as slow)."""

    def __init__(self, conv: _Converter) -> None:
        super().__init__(convert_charrefs=True)
        self.conv = conv

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """An opening tag."""
        self.conv.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        """A closing tag."""
        self.conv.handle_endtag(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """``<tag/>``: opened and, unless void, closed."""
        self.conv.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.conv.handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        """Text, entities decoded."""
        if not self.conv.skip:
            self.conv._text(data if data.isascii() else clean_text(data))


def _feed_streaming(conv: _Converter, html: str) -> None:
    parser = _Streaming(conv)
    parser.feed(html)
    parser.close()


def _feed(conv: _Converter, html: str) -> None:
    """Parse ``html`` with lexbor (selectolax), an HTML5 parser, and replay its tree as the
    start tag / text / end tag events the converter expects.

    The parser does what browsers do: quoted ``>`` in attribute values, unquoted attributes,
    comments, raw text of ``<script>`` and ``<style>``, entities (also in attributes),
    misnested and unclosed tags. The walk is iterative (no recursion limit on deep nesting).
    A pathologically deep document is made shallow first (:func:`_shallow`).
    """
    try:
        from selectolax.lexbor import LexborHTMLParser  # lazy: only when a mail has HTML
    except ImportError:  # an install without the wheel: the stdlib's (slower) tokenizer
        _feed_streaming(conv, html)
        return
    root = LexborHTMLParser(_shallow(html)).root
    if root is None:
        return
    start_tag, end_tag, text = conv.handle_starttag, conv.handle_endtag, conv._text
    stack: list[LexborNode | str] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, str):  # the end of an element
            end_tag(node)
            continue
        tag = node.tag
        if tag == "-text":
            if not conv.skip:
                data = node.text_content or ""
                text(data if data.isascii() else clean_text(data))
            continue
        if tag is None or tag[0] == "-" or tag == "!doctype":
            if tag != "-document":
                continue  # comment, doctype, processing instruction
        elif tag not in _STRUCTURAL:
            attrs = node.attributes
            start_tag(tag, list(attrs.items()) if attrs else [])
            if tag in _VOID:
                continue
            stack.append(tag)
        children = []
        child = node.child
        while child is not None:
            children.append(child)
            child = child.next
        children.reverse()
        stack.extend(children)


def html_to_text(html: str) -> HtmlDoc:
    """Convert an HTML body; never raises."""
    conv = _Converter()
    try:
        _feed(conv, clean_text(html[:MAX_HTML]))
        return conv.result()
    except Exception:  # pragma: no cover - defensive
        text = unescape(re.sub(r"<[^>]*>", " ", html[:MAX_HTML]))
        return HtmlDoc(clean_text(_SPACES.sub(" ", text)).strip())
