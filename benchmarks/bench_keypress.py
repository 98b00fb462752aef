"""Keypress to frame: ``j``/``k`` in the lease list and in an inbox of 1,000 messages, against a
bare DataTable app holding the same rows.

    .venv/bin/python benchmarks/bench_keypress.py            # 60 presses per case, 3 runs
    .venv/bin/python benchmarks/bench_keypress.py --quick    # a few presses, 100 messages

Method. Everything runs headless in ``App.run_test()`` (120x34). The product is the real App
from ``make_app`` signed in to a sandbox started here, opening on its lease list with the
tenant's 5 leases; its inbox is the real ``InboxScreen`` of one of them, fed by posting one
``InboxUpdated`` with 1,000 ``tui.api.models.Message`` objects (the poller runs, with intervals
stretched to an hour so that it stays out of the way). The baseline is a DataTable app with
``j``/``k`` bindings and nothing else, loaded with the product's own rows (cells copied from
its table).

A keypress is timed from just before ``pilot.press(key)`` to the first frame the App composes
after it. A frame is observed by wrapping ``App._display`` (where Textual hands the
compositor's update to the driver); the wrapper also converts the update to terminal escape
sequences, the step a headless driver skips, so the cost of a real frame is counted. The
figures come out below one 60 Hz frame period (16.7 ms): an idle Textual app composes the frame
right after the key is handled, without waiting for a frame tick.
Keys alternate ``j``, ``k`` (the cursor always moves) with a 20 ms pause between presses.
Budget (DESIGN.md): within 1.5x the bare DataTable.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bare_apps import BareTableApp
from _common import (
    FrameProbe,
    fake_messages,
    inbox_update,
    key_to_frame,
    machine_line,
    make_signed_in_app,
    ms,
    new_account,
    percentile,
    print_table,
    ratio,
    sign_in_and_allocate,
    spread,
    start_sandbox,
    table_columns,
    table_rows,
    verdict,
    wait_until,
)

BUDGET = 1.5
SIZE = (120, 34)


async def press_series(pilot, probe: FrameProbe, presses: int) -> list[float]:
    """Latencies of ``presses`` alternating j/k presses."""
    out = []
    for i in range(presses):
        out.append(await key_to_frame(pilot, probe, "j" if i % 2 == 0 else "k"))
        await asyncio.sleep(0.02)
    return out


async def measure_product(base_url: str, home: Path, account, count: int, presses: int):
    """(lease-list latencies, inbox latencies, inbox load seconds, lease rows, inbox rows, cols)."""
    from textual.widgets import DataTable

    from tui.app.screens.inbox import InboxScreen
    from tui.app.screens.leases import LeaseListScreen
    from tui.core.poller import PollSettings

    slow = PollSettings(fast=3600, normal=3600, idle=3600)
    app = make_signed_in_app(base_url, home, account, poll=slow)
    async with app.run_test(size=SIZE) as pilot:
        probe = FrameProbe(app)
        await wait_until(lambda: isinstance(app.screen, LeaseListScreen))
        leases = app.screen
        await wait_until(lambda: len(leases.views) == 5)
        await pilot.pause()
        table = leases.query_one(DataTable)
        lease_rows, lease_cols = table_rows(table), table_columns(table)
        lease_lat = await press_series(pilot, probe, presses)

        await pilot.press("enter")
        await wait_until(lambda: isinstance(app.screen, InboxScreen))
        inbox = app.screen
        await wait_until(lambda: inbox.poller is not None and inbox.poller.status.calls > 0)
        await wait_until(lambda: not inbox.model.first_update)
        messages = fake_messages(count, inbox.lease.mailbox_id, inbox.lease.started_at)
        inbox_table = inbox.query_one("#inbox-list")  # a DataTable or a line-API list
        loaded = probe.watch(lambda: inbox_table.row_count == count, 60)
        t0 = time.perf_counter()
        inbox.post_message(inbox_update(messages))
        load_s = await loaded - t0
        await pilot.pause()
        inbox_rows, inbox_cols = table_rows(inbox_table), table_columns(inbox_table)
        inbox_lat = await press_series(pilot, probe, presses)
        await app.action_quit()
    return lease_lat, inbox_lat, load_s, (lease_cols, lease_rows), (inbox_cols, inbox_rows)


async def measure_bare(columns, rows, presses: int) -> tuple[list[float], float]:
    """(latencies, seconds to load the rows and show them) of the bare DataTable app."""
    from textual.widgets import DataTable

    app = BareTableApp(columns, [])
    async with app.run_test(size=SIZE) as pilot:
        probe = FrameProbe(app)
        await pilot.pause()
        table = app.query_one(DataTable)
        loaded = probe.watch(lambda: table.row_count == len(rows), 60)
        t0 = time.perf_counter()
        app.load(rows)
        load_s = await loaded - t0
        await pilot.pause()
        lat = await press_series(pilot, probe, presses)
    return lat, load_s


def summary_row(name: str, values: list[float], base: float | None, budget: bool) -> list[str]:
    """One table row: min/median/p95/max, ratio of the median to ``base``, verdict."""
    lo, med, hi = spread(values)
    row = [name, ms(lo), ms(med), ms(percentile(values, 95)), ms(hi)]
    if base is None:
        return [*row, "1.00x", "baseline", ""]
    return [
        *row,
        ratio(med, base),
        f"<= {BUDGET}x" if budget else "-",
        verdict(med <= BUDGET * base) if budget else "",
    ]


async def run(args) -> int:
    count = 100 if args.quick else args.messages
    presses = 4 if args.quick else args.presses
    runs = 1 if args.quick else args.runs
    server = start_sandbox(allocate_hourly_limit=0)
    home = Path(tempfile.mkdtemp(prefix="bench-keypress-"))
    try:
        account = new_account()
        await sign_in_and_allocate(server.base_url, home, account, 5)
        lease_p: list[float] = []
        inbox_p: list[float] = []
        lease_b: list[float] = []
        inbox_b: list[float] = []
        load_p: list[float] = []
        load_b: list[float] = []
        for _ in range(runs):  # interleave product and baseline runs
            lp, ip, load, lease_table, inbox_table = await measure_product(
                server.base_url, home, account, count, presses
            )
            lease_p += lp
            inbox_p += ip
            load_p.append(load)
            lb, _ = await measure_bare(*lease_table, presses)
            ib, bload = await measure_bare(*inbox_table, presses)
            lease_b += lb
            inbox_b += ib
            load_b.append(bload)
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)

    headers = ["case", "min", "median", "p95", "max", "ratio (median)", "budget", "verdict"]
    lb_med, ib_med = statistics.median(lease_b), statistics.median(inbox_b)
    print_table(
        f"Keypress (j/k) to frame, {len(lease_p)} presses per case over {runs} run(s) (ms)",
        headers,
        [
            summary_row("bare DataTable, 5 lease rows", lease_b, None, False),
            summary_row("lease list (5 leases)", lease_p, lb_med, True),
            summary_row(f"bare DataTable, {count} inbox rows", inbox_b, None, False),
            summary_row(f"inbox ({count} messages)", inbox_p, ib_med, True),
        ],
    )
    print_table(
        f"Loading {count} messages until they are on screen (ms, {runs} run(s))",
        ["case", "min", "median", "max", "ratio (median)"],
        [
            ["bare DataTable add_row", *map(ms, spread(load_b)), "1.00x"],
            [
                "inbox InboxUpdated -> rows",
                *map(ms, spread(load_p)),
                ratio(statistics.median(load_p), statistics.median(load_b)),
            ],
        ],
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a few presses, 100 messages (CI)")
    ap.add_argument("--runs", type=int, default=3, help="runs of each app")
    ap.add_argument("--presses", type=int, default=60, help="presses per case and run")
    ap.add_argument("--messages", type=int, default=1000, help="messages in the inbox")
    args = ap.parse_args(argv)
    print(machine_line())
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
