"""HTML tokenizers under the extractor's converter: lexbor (selectolax, used) vs the stdlib.

    .venv/bin/python benchmarks/bench_html_parsers.py

Both drive the same converter (:class:`tui.extract.htmltext._Converter`: text, emphasis and
anchors); only the parser differs. Prints CPU time per HTML part of the corpus and per 200 KB
worst case, and how many corpus parts give a different text (issue 14 chose lexbor).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_extract as B  # noqa: E402

from tui.extract import htmltext as H  # noqa: E402
from tui.extract.decode import decode_message  # noqa: E402


def stdlib(html: str) -> H.HtmlDoc:
    """The converter driven by ``html.parser`` (the fallback without selectolax)."""
    conv = H._Converter()
    H._feed_streaming(conv, H.clean_text(html[: H.MAX_HTML]))
    return conv.result()


def lexbor(html: str) -> H.HtmlDoc:
    """The converter driven by lexbor (what ``html_to_text`` does)."""
    return H.html_to_text(html)


def _cpu(func, arg, runs: int = 5) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(runs):
        c = time.process_time()
        func(arg)
        best = min(best, time.process_time() - c)
    return best


def main() -> int:
    raws = [p.read_bytes() for p in sorted((ROOT / "tests" / "corpus").glob("*.eml"))]
    htmls = [h for h in ("\n".join(decode_message(r).html) for r in raws) if h]
    big = {
        "newsletter": B.newsletter_200kb(),
        "dense table": B.dense_200kb(),
        "nested tables": B.nested_tables_200kb(),
        "links": B.links_200kb(),
    }
    big_html = {name: "\n".join(decode_message(raw).html) for name, raw in big.items()}
    for name, func in (("lexbor (selectolax)", lexbor), ("stdlib html.parser", stdlib)):
        for h in htmls:
            func(h)
        per_part = _cpu(lambda hs, f=func: [f(h) for h in hs], htmls)
        line = f"{name:20s} corpus {per_part * 1000 / len(htmls):.3f} ms/part"
        for bname, h in big_html.items():
            line += f" | {bname} {_cpu(func, h) * 1000:.1f} ms"
        print(line)
    differ = sum(1 for h in htmls if lexbor(h).text != stdlib(h).text)
    print(f"{len(htmls)} corpus HTML parts; texts that differ between the two: {differ}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
