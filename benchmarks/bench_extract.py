"""Extractor throughput on the message corpus, and the time of a 200 KB message.

    .venv/bin/python benchmarks/bench_extract.py           # 7 runs over the corpus
    .venv/bin/python benchmarks/bench_extract.py --quick   # 1 tiny run (CI smoke test)

Times are CPU time of this process (``time.process_time``: one core, and less sensitive to
other load on the machine than wall time); wall time is printed beside it.
Budgets (issues 3 and 14): > 1,500 messages/s on the corpus; a 200 KB message in <= 50 ms.
"""

from __future__ import annotations

import argparse
import platform
import quopri
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tui.extract import analyze_message  # noqa: E402

CORPUS = ROOT / "tests" / "corpus"
BUDGET_MSGS_PER_S = 1500
BUDGET_200KB_MS = 50.0

LOREM = (  # noqa: SIM905 - prose is easier to read than a list of words
    "teams that ship weekly learn faster than teams that plan quarterly and the best onboarding "
    "flows we studied this year share three traits they ask for little up front they show value "
    "in the first minute and they follow up by email with one clear next step for each user "
).split()


def newsletter_200kb(code: str = "482193") -> bytes:
    """A realistic 200 KB HTML newsletter (inline styles, images, tracking links), QP-encoded,
    with a verification code near the top."""
    rows = []
    i = 0
    while sum(len(r) for r in rows) < 190_000:
        words = [LOREM[(i * 7 + k * 3) % len(LOREM)] for k in range(45)]
        url = "https://click.news.example.com/ls/click?upn=" + (f"{i:04d}Zx9-Qm_" * 22)
        rows.append(
            '<tr><td style="padding:16px 24px;font-family:Helvetica,Arial,sans-serif;'
            'font-size:15px;line-height:22px;color:#333333">'
            f'<a href="{url}" style="color:#1a73e8"><img src="https://cdn.news.example.com/i/{i}.jpg"'
            ' width="560" alt="" style="display:block;border:0;width:100%"></a>'
            f'<h3 style="margin:12px 0 4px;font-size:18px">{" ".join(words[:8]).title()}</h3>'
            f'<p style="margin:0">{" ".join(words)} (read {i % 9 + 2} min, {1000 + i} readers)</p>'
            f'<a href="{url}&amp;c=more" style="color:#1a73e8">Read more</a></td></tr>'
        )
        i += 1
    html = (
        '<html><head><style>td{font-family:Arial}</style></head><body><table width="100%">'
        f"<tr><td><p>Your verification code is <b>{code}</b></p></td></tr>"
        + "".join(rows)
        + '<tr><td><a href="https://news.example.com/unsubscribe">Unsubscribe</a></td></tr>'
        "</table></body></html>"
    )
    head = (
        "From: News <news@news.example.com>\nSubject: This week\nMIME-Version: 1.0\n"
        "Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
    )
    return head.encode() + quopri.encodestring(html.encode())


def dense_200kb(code: str = "482193") -> bytes:
    """Worst case: 200 KB of HTML table whose visible text is mostly numbers and links."""
    rows = b"".join(
        b"<tr><td>Row %d</td><td><a href='https://e.example/p/%d'>item %d</a> $%d.99</td></tr>"
        % (i, i, i, i)
        for i in range(2500)
    )
    return (
        b"From: x@y.example\nSubject: big\nContent-Type: text/html; charset=utf-8\n\n<table>"
        + rows
        + b"</table><p>Your verification code is <b>"
        + code.encode()
        + b"</b></p>"
    )


def _html_message(subject: str, html: str) -> bytes:
    head = f"From: x@y.example\nSubject: {subject}\nContent-Type: text/html; charset=utf-8\n\n"
    return head.encode() + html.encode()


def plain_numbers_200kb(code: str = "482193") -> bytes:
    """Worst case: 200 KB of text/plain that is nearly all numbers (a tab-separated export of
    4-8 digit ids, quantities, amounts and mixed ids), the code at the end."""
    lines = []
    i = 0
    while sum(len(x) + 1 for x in lines) < 200_000:
        lines.append(
            f"{1000 + i % 9000}\t{100000 + i * 7919 % 900000}\t{10000000 + i * 104729 % 89999999}"
            f"\t{i % 977}.{i % 100:02d}\tA{i % 97}K{i % 89}\t{20000 + i * 31 % 70000}"
        )
        i += 1
    body = "\n".join(lines) + f"\n\nYour verification code is {code}\n"
    return b"From: x@y.example\nSubject: report\nContent-Type: text/plain\n\n" + body.encode()


def nested_tables_200kb(code: str = "482193") -> bytes:
    """Worst case: 200 KB of tables nested in tables (layout-table mail builders), one number
    per innermost cell, the code in the middle."""
    cells = []
    i = 0
    while sum(map(len, cells)) < 196_000:
        cell = (
            f"<b>{i * 7919 % 1000000:06d}</b>"
            if i != 700
            else f"Your verification code:<br><b>{code}</b>"
        )
        cells.append(
            '<table role="presentation" width="100%"><tr><td style="padding:0">'
            '<table><tr><td style="font-size:14px"><div><span>'
            f"{cell}</span></div></td></tr></table></td></tr></table>"
        )
        i += 1
    return _html_message("nested", "<table><tr><td>" + "".join(cells) + "</td></tr></table>")


def links_200kb(code: str = "482193") -> bytes:
    """Worst case: 200 KB of anchors (a link directory), each with a number in its text and
    URL, then a bare-URL list, the code at the top."""
    parts = [f"<p>Your verification code is <b>{code}</b></p><ul>"]
    i = 0
    while sum(map(len, parts)) < 170_000:
        parts.append(
            f'<li><a href="https://e.example/item/{i}?ref=list&amp;id={i * 37}">Item {i} '
            f"(#{10000 + i})</a></li>"
        )
        i += 1
    parts.append("</ul><pre>")
    while sum(map(len, parts)) < 200_000:
        parts.append(f"https://e.example/x/{i}/{i * 7919}\n")
        i += 1
    parts.append("</pre>")
    return _html_message("links", "".join(parts))


def _time(func, *args) -> tuple[float, float]:
    w, c = time.perf_counter(), time.process_time()
    func(*args)
    return time.process_time() - c, time.perf_counter() - w


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one tiny run (CI smoke test)")
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args(argv)
    runs = 1 if args.quick else args.runs
    messages = [p.read_bytes() for p in sorted(CORPUS.glob("*.eml"))]
    if args.quick:
        messages = messages[:10]
    for raw in messages:  # warm up (regex compilation, imports)
        analyze_message(raw)

    rates: list[float] = []
    wall_rates: list[float] = []
    for _ in range(runs):
        cpu = wall = 0.0
        for raw in messages:
            c, w = _time(analyze_message, raw)
            cpu += c
            wall += w
        rates.append(len(messages) / cpu if cpu else float("inf"))
        wall_rates.append(len(messages) / wall if wall else float("inf"))

    big = {
        "newsletter": newsletter_200kb(),
        "dense table (worst case)": dense_200kb(),
        "plain numbers (worst case)": plain_numbers_200kb(),
        "nested tables (worst case)": nested_tables_200kb(),
        "links (worst case)": links_200kb(),
    }
    big_times: dict[str, list[tuple[float, float]]] = {}
    for name, raw in big.items():
        assert analyze_message(raw).otp == "482193", name
        big_times[name] = [_time(analyze_message, raw) for _ in range(1 if args.quick else 7)]

    print(f"python {platform.python_version()} on {platform.machine()}, {runs} run(s)")
    print(
        f"corpus: {len(messages)} messages, {sum(map(len, messages)) / len(messages) / 1024:.1f} KB"
        " average"
    )
    print(
        f"  messages/s (CPU)  min {min(rates):8.0f}  median {statistics.median(rates):8.0f}"
        f"  max {max(rates):8.0f}   budget > {BUDGET_MSGS_PER_S}"
    )
    print(
        f"  messages/s (wall) min {min(wall_rates):8.0f}  median"
        f" {statistics.median(wall_rates):8.0f}  max {max(wall_rates):8.0f}"
    )
    ok = statistics.median(rates) > BUDGET_MSGS_PER_S
    for name, times in big_times.items():
        cpu_ms = [c * 1000 for c, _ in times]
        wall_ms = [w * 1000 for _, w in times]
        print(
            f"200 KB {name} ({len(big[name]) / 1024:.0f} KB): CPU min {min(cpu_ms):.1f} ms,"
            f" median {statistics.median(cpu_ms):.1f} ms, max {max(cpu_ms):.1f} ms; wall median"
            f" {statistics.median(wall_ms):.1f} ms   budget <= {BUDGET_200KB_MS:.0f} ms"
        )
    ok = ok and all(
        statistics.median(c * 1000 for c, _ in times) <= BUDGET_200KB_MS
        for times in big_times.values()
    )
    print("within budget" if ok else "OVER BUDGET")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
