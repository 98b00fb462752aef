"""The IMAP mail cache of a big mailbox (issue 16): reopening 10,000 cached messages, and what
one new mail costs to save.

    .venv/bin/python benchmarks/bench_mail_cache.py                # 10,000 messages, 5 runs
    .venv/bin/python benchmarks/bench_mail_cache.py --quick        # 500 messages, 1 run (CI)
    .venv/bin/python benchmarks/bench_mail_cache.py --before DIR   # + an older tree (PYTHONPATH)

The messages are what a first IMAP sync of a big mailbox keeps: the newest 200 read whole, the
others by their headers (``headers_only``). Each figure comes from a fresh interpreter (the
cache is read as an inbox reopening it would): ``load`` of the whole lease, the first ``save``,
and the ``save`` of the same list plus one new mail (bytes the cache's files grew by, rows or
files written). Budget: reopening within 0.3 s; one new mail, one row written.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_line, ms, print_table, spread, verdict

LOAD_BUDGET_S = 0.3

CHILD = r"""
import json, os, sys, time
from datetime import UTC, datetime
from pathlib import Path
from tui.core.mailcache import MailCache
from tui.imap.message import parse_headers, parse_message
from tui.imap.reader import MailboxState

root, count, step = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
WHEN = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def make(uid):
    head = (f"From: Service {uid % 37} <no-reply{uid % 37}@service{uid % 11}.example>\r\n"
            f"To: agent@mailagents.example\r\nSubject: Your code is {100000 + uid}\r\n"
            f"Date: Tue, 25 Nov 2026 12:00:00 +0000\r\nMessage-ID: <{uid}@service.example>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
    whole = uid > count - 200
    body = f"Hello,\r\n\r\nyour verification code is {100000 + uid}.\r\n" if whole else ""
    raw = (head + body).encode()
    if not whole:  # an older message: read by its header fields, as a sync reads it
        return parse_headers(uid, raw, size=len(raw) + 400, internaldate=WHEN)
    return parse_message(uid, raw, size=len(raw) + 400, internaldate=WHEN)


def size(path):
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


cache = MailCache(root)
if step == "save":
    msgs = [make(uid) for uid in range(1, count + 1)]
    t = time.perf_counter()
    cache.save("lease", MailboxState(uidvalidity=1, last_uid=count), msgs)
    out = {"s": time.perf_counter() - t}
elif step == "one-more":
    msgs = [make(uid) for uid in range(1, count + 2)]
    before = size(root)
    t = time.perf_counter()
    cache.save("lease", MailboxState(uidvalidity=1, last_uid=count + 1), msgs)
    out = {"s": time.perf_counter() - t, "grew": size(root) - before,
           "rows": getattr(cache, "last_written", None)}
else:
    t = time.perf_counter()
    state, msgs = cache.load("lease")
    out = {"s": time.perf_counter() - t, "n": len(msgs)}
print("RESULT " + json.dumps(out))
"""


def step(root: Path, count: int, what: str, pythonpath: str | None) -> dict[str, Any]:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    proc = subprocess.run(
        [sys.executable, "-P", "-c", CHILD, str(root), str(count), what],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line[len("RESULT ") :]))
    raise RuntimeError(f"{what} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="500 messages, 1 run (CI)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--before", metavar="DIR", help="also run an older tree (PYTHONPATH=DIR)")
    args = ap.parse_args(argv)
    if args.quick:
        args.runs, args.messages = 1, 500
    print(machine_line())
    codes = [("now", None)] + ([("before", args.before)] if args.before else [])
    results: dict[str, dict[str, list[dict[str, Any]]]] = {c: {} for c, _ in codes}
    for _ in range(args.runs):
        for code, path in codes:
            root = Path(tempfile.mkdtemp(prefix="bench-mail-cache-")) / "mail"
            try:
                for what in ("save", "load", "one-more"):
                    results[code].setdefault(what, []).append(step(root, args.messages, what, path))
            finally:
                shutil.rmtree(root.parent, ignore_errors=True)
    rows = []
    for code, _path in codes:
        r = results[code]
        load = spread([x["s"] for x in r["load"]])
        one = r["one-more"][-1]
        rows.append(
            [code, f"{r['load'][-1]['n']:,}", f"{ms(load[1])} ({ms(load[0])}-{ms(load[2])})",
             ms(spread([x["s"] for x in r["save"]])[1]),
             ms(spread([x["s"] for x in r["one-more"]])[1]),
             f"{one['grew']:,}", "-" if one["rows"] is None else str(one["rows"]),
             verdict(load[1] <= LOAD_BUDGET_S and one["rows"] == 1) if code == "now" else ""]
        )  # fmt: skip
    print_table(
        f"Mail cache of a lease with {args.messages:,} messages (200 whole, the rest headers),"
        f" {args.runs} run(s), fresh process each",
        ["code", "loaded", "reopen (load) ms, median (min-max)", "first save ms",
         "save with one new mail ms", "cache files grew by (bytes)", "rows written", "verdict"],
        rows,
    )  # fmt: skip
    print(f"budgets: reopen <= {ms(LOAD_BUDGET_S)} ms; one new mail = one row written")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
