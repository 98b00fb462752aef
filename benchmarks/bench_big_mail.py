"""Big mail over IMAP without a freeze (issue 16): an inbox of 100 small mails plus an 8 MB HTML
newsletter and a 5 MB attachment, opened in the TUI, against the same inbox without the two.

    .venv/bin/python benchmarks/bench_big_mail.py                 # 3 runs of each, interleaved
    .venv/bin/python benchmarks/bench_big_mail.py --quick         # 1 run, 20 small mails (CI)
    .venv/bin/python benchmarks/bench_big_mail.py --before /tmp/old-tree   # + an older checkout

One sandbox with SMTP and a private Dovecot runs in this process; two leases are filled (mail
delivered through the store, written to the Maildirs Dovecot serves). Each measurement is a
fresh interpreter (``--child``) that opens the lease list, then the inbox, and waits until IMAP
is live and every mail is listed: the longest event-loop stall (a 5 ms sleep that overslept;
the longest garbage collection beside it) while opening (``enter`` to the inbox's first frame)
and while syncing (from there to every mail listed, plus 0.5 s), the time to every row, and the
peak RSS of that process (VmHWM). ``--before DIR`` runs the same child with
``PYTHONPATH=DIR`` (an older tree of ``tui/``) in the same rotation.

Budgets: no stall over 50 ms while the inbox with the big mails syncs; its peak RSS within 2x
that of the same inbox without them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    LoopLag,
    machine_line,
    make_signed_in_app,
    ms,
    new_account,
    print_table,
    rss_mb,
    run_child_with_home,
    sign_in_and_allocate,
    spread,
    start_sandbox,
    verdict,
    wait_until,
)

SIZE = (120, 34)
STALL_BUDGET_S = 0.050
RSS_BUDGET = 2.0


def newsletter(to: str, megabytes: float) -> bytes:
    """An HTML-only newsletter of about ``megabytes`` MB."""
    from tui.sandbox.mail.inbound import build_mime

    row = '<tr><td style="padding:8px"><a href="https://news.example/a">Story</a> text.</td></tr>'
    rows = row * int(megabytes * 1024 * 1024 / len(row))
    html = f"<html><body><h1>Weekly news</h1><table>{rows}</table></body></html>"
    return build_mime(sender="News <news@news.example>", to=to, subject="Weekly news", html=html)


def with_attachment(to: str, megabytes: float) -> bytes:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "Reports <reports@acme.example>"
    msg["To"] = to
    msg["Subject"] = "Your report"
    msg.set_content("The report is attached.")
    msg.add_attachment(
        os.urandom(int(megabytes * 1024 * 1024)),
        maintype="application",
        subtype="octet-stream",
        filename="report.bin",
    )
    return msg.as_bytes()


def fill(server: Any, address: str, small: int, big: bool) -> int:
    """Deliver ``small`` small mails (and the two big ones); the number delivered."""
    from tui.sandbox.mail.inbound import build_mime, deliver

    base_ms = server.store.now_ms()
    raws = [
        build_mime(
            sender=f"no-reply{i % 7}@service.example",
            to=address,
            subject=f"Your code is {100000 + i}" if i % 3 == 0 else f"Digest #{i}",
            text=f"Hello,\n\nmessage {i}.\n",
        )
        for i in range(small)
    ]
    if big:  # among the newest: the first sync reads them
        raws.insert(len(raws) - 5, newsletter(address, 8))
        raws.insert(len(raws) - 2, with_attachment(address, 5))
    for i, raw in enumerate(raws):
        deliver(server.store, address, raw, received_ms=base_ms + i)
    return len(raws)


async def child(spec: dict[str, Any]) -> None:
    """Open the inbox of ``spec['mailbox_id']``; print what was measured as JSON."""
    from textual.widgets import DataTable

    from tui.app.screens.inbox import InboxScreen
    from tui.app.screens.leases import LeaseListScreen

    account = type("Account", (), {})()
    account.key = bytes.fromhex(spec["key"])
    account.address = spec["address"]
    app = make_signed_in_app(spec["base_url"], Path(spec["home"]), account)
    out: dict[str, Any] = {}
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: isinstance(app.screen, LeaseListScreen), 30)
        await wait_until(lambda: len(app.screen.views) == 2, 30)
        leases = app.screen
        views = leases.visible_rows() if hasattr(leases, "visible_rows") else leases.visible_views()
        row = next(i for i, v in enumerate(views) if v.lease.mailbox_id == spec["mailbox_id"])
        app.screen.query_one(DataTable).move_cursor(row=row)
        await pilot.pause(0.2)
        lag = LoopLag().start()
        lag.reset()
        t0 = time.perf_counter()
        app.simulate_key("enter")  # (pilot.press waits up to 2 s for the app to idle)
        await wait_until(lambda: isinstance(app.screen, InboxScreen), 30)
        inbox = app.screen
        await pilot.pause()  # the inbox's first frame: opening a screen is not the sync
        out["open_stall"], out["open_gc"] = lag.worst, lag.worst_gc
        lag.reset()
        count = spec["count"]
        model = getattr(inbox, "model", inbox)  # an older tree keeps the state on the screen

        def imap() -> dict[int, Any]:
            found = getattr(model, "imap", None)
            return found if isinstance(found, dict) else dict(inbox._imap)

        await wait_until(lambda: model.imap_live and len(imap()) >= count, 180)
        out["all_rows_s"] = time.perf_counter() - t0
        await pilot.pause(0.5)  # what follows the sync (cache write, repaint)
        out["stall"], out["gc"] = lag.worst, lag.worst_gc
        lag.stop()
        out["lazy"] = sum(bool(getattr(m, "lazy", False)) for m in imap().values())
        out["rss_peak"] = rss_mb()[1]
        await app.action_quit()
    print("RESULT " + json.dumps(out), flush=True)


def run_child(spec: dict[str, Any], pythonpath: str | None) -> dict[str, Any]:
    """One measurement in a fresh process, on a fresh copy of the home (no mail cache)."""
    return run_child_with_home(__file__, spec, pythonpath, timeout=600, skip=())


async def setup(small: int) -> tuple[Any, dict[str, Any], dict[str, int]]:
    server = start_sandbox(allocate_hourly_limit=0, imap_port=0, smtp_port=0)
    if server.imap_port is None:
        server.stop()
        raise SystemExit("Dovecot is not installed (apt-get install dovecot-imapd)")
    home = Path(tempfile.mkdtemp(prefix="bench-big-mail-"))
    account = new_account()
    big_lease, small_lease = await sign_in_and_allocate(server.base_url, home, account, 2)
    await asyncio.sleep(1.1)  # past the leases' first second (IMAP times are whole seconds)
    counts = {
        big_lease.mailbox_id: fill(server, big_lease.address, small, True),
        small_lease.mailbox_id: fill(server, small_lease.address, small, False),
    }
    spec = {
        "base_url": server.base_url,
        "home": str(home),
        "key": bytes(account.key).hex(),
        "address": account.address,
        "big": big_lease.mailbox_id,
        "small": small_lease.mailbox_id,
    }
    return server, spec, counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 run, 20 small mails (CI)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--small", type=int, default=100, help="small mails in each inbox")
    ap.add_argument("--before", metavar="DIR", help="also run an older tree (PYTHONPATH=DIR)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        asyncio.run(child(json.loads(args.child)))
        return 0
    if args.quick:
        args.runs, args.small = 1, 20
    print(machine_line())
    server, spec, counts = asyncio.run(setup(args.small))
    codes = [("now", None)] + ([("before", args.before)] if args.before else [])
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    try:
        for _ in range(args.runs):
            for code, path in codes:
                for inbox in ("big", "small"):
                    mailbox = spec[inbox]
                    got = run_child({**spec, "mailbox_id": mailbox, "count": counts[mailbox]}, path)
                    results.setdefault((code, inbox), []).append(got)
                    print(
                        f"  {code} {inbox}: stall {ms(got['stall'])} ms,"
                        f" RSS peak {got['rss_peak']:.0f} MB",
                        flush=True,
                    )
    finally:
        server.stop()
        shutil.rmtree(spec["home"], ignore_errors=True)
    rows = []
    for code, _path in codes:
        small_rss = spread([r["rss_peak"] for r in results[(code, "small")]])[1]
        for inbox in ("big", "small"):
            runs = results[(code, inbox)]
            stall = spread([r["stall"] for r in runs])
            rss = spread([r["rss_peak"] for r in runs])[1]
            big = inbox == "big"
            ok = stall[2] <= STALL_BUDGET_S and (not big or rss <= RSS_BUDGET * small_rss)
            rows.append(
                [
                    code,
                    f"{counts[spec[inbox]]} mails" + (" (8 MB HTML, 5 MB file)" if big else ""),
                    ms(spread([r["open_stall"] for r in runs])[1]),
                    ms(spread([r["open_gc"] for r in runs])[1]),
                    f"{ms(stall[1])} ({ms(stall[0])}-{ms(stall[2])})",
                    ms(max(r["gc"] for r in runs)),
                    f"{spread([r['all_rows_s'] for r in runs])[1]:.2f}",
                    f"{rss:.0f}",
                    f"{rss / small_rss:.2f}x" if small_rss else "-",
                    str(runs[0]["lazy"]),
                    verdict(ok) if code == "now" else "",
                ]
            )  # fmt: skip
    print_table(
        f"Opening an inbox over IMAP, {args.runs} run(s) each, fresh process each",
        ["code", "inbox", "opening: stall ms", "opening: longest GC ms",
         "syncing: longest stall ms, median (min-max)",
         "longest GC ms",
         "all listed s", "peak RSS MB", "RSS vs small inbox", "read lazily", "verdict"],
        rows,
    )  # fmt: skip
    print(f"budgets: stall <= {ms(STALL_BUDGET_S)} ms, peak RSS <= {RSS_BUDGET:g}x the small inbox")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
