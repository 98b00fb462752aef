"""Operator console: 10,000 audit rows browse without a stall.

    .venv/bin/python benchmarks/bench_admin_audit.py            # 10,000 rows, 3 runs
    .venv/bin/python benchmarks/bench_admin_audit.py --quick    # 1,000 rows, 1 run

Method. A sandbox (``mailagents-tui sandbox``, its own process) holds N audit rows
(``tui.sandbox.demo.seed_audit``), another one 100, and the real console
(``tui.app.admin.console``) runs headless in ``App.run_test()`` (120x34) against each. Timed
from the key (or the tab switch) to the first frame showing the result: opening the Audit tab,
``]`` (next page), ``}`` (last page), ``{`` (first page), a server-side filter
(``action=...``), and the cursor keys inside a page. Baselines measured in the same run: the
same page fetched by the bare ``AdminClient`` (no UI) for the page keys, a bare DataTable app
holding the same 50 rows for the cursor keys, and the 100-row sandbox for "does it grow with
the table". Stalls: the longest oversleep of a 5 ms sleep loop while browsing
(``_common.LoopLag``, which also counts OS scheduling delay on a busy machine).
No stall = under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bare_apps import BareTableApp
from _common import (
    FrameProbe,
    LoopLag,
    key_to_frame,
    machine_line,
    ms,
    print_table,
    ratio,
    spread,
    verdict,
    wait_until,
)

SIZE = (120, 34)
STALL_BUDGET = 0.100


class ExternalSandbox:
    """``mailagents-tui sandbox`` in its own process (so the console's heap is its own)."""

    def __init__(self, rows: int) -> None:
        import os
        import socket
        import subprocess
        import tempfile

        from tui.sandbox.config import SandboxConfig
        from tui.sandbox.demo import seed_audit
        from tui.sandbox.state.admin import admin_state
        from tui.sandbox.state.store import Store

        self.dir = tempfile.TemporaryDirectory()
        config = SandboxConfig.for_data_dir(self.dir.name)
        store = Store(config.db_path)
        seed_audit(admin_state(store), rows)
        store.close()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        self.config = config
        exe = Path(sys.executable).with_name("mailagents-tui")
        self.proc = subprocess.Popen(
            [
                str(exe),
                "sandbox",
                "--data-dir",
                self.dir.name,
                "--port",
                str(port),
                "--no-smtp",
                "--no-imap",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ},
        )
        import httpx

        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(self.base_url + "/healthz", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self.dir.cleanup()


def start(rows: int) -> ExternalSandbox:
    return ExternalSandbox(rows)


async def raw_page_times(server, pages: list[int]) -> list[float]:
    """The bare client fetching the same pages (no UI)."""
    from tui.api.admin import AdminClient

    client = AdminClient(server.base_url, server.config.admin_token)
    out = []
    try:
        for page in pages:
            t0 = time.perf_counter()
            await client.page("/audit/logs", page, 50)
            out.append(time.perf_counter() - t0)
    finally:
        await client.aclose()
    return out


async def measure_console(server, presses: int) -> dict[str, list[float] | float]:
    from tui.api.admin import AdminClient
    from tui.app.admin.console import make_console

    app = make_console(AdminClient(server.base_url, server.config.admin_token))
    out: dict[str, list[float] | float] = {}
    async with app.run_test(size=SIZE) as pilot:
        probe = FrameProbe(app)
        lag = LoopLag().start()
        await pilot.pause(0.3)
        table = app.table("audit")
        watch = probe.watch(lambda: table.loaded and bool(table.rows))
        t0 = time.perf_counter()
        app.show("audit")
        out["open"] = await watch - t0
        await wait_until(lambda: not table.workers)
        lag.reset()
        flips, lasts, firsts, keys = [], [], [], []
        for _ in range(presses):
            if table.page is None or table.page_no >= table.page.pages:
                break
            want = table.page_no + 1
            watch = probe.watch(
                lambda want=want: table.page is not None and table.page.page == want
            )
            t0 = time.perf_counter()
            await pilot.press("right_square_bracket")
            flips.append(await watch - t0)
            await wait_until(lambda: not table.workers)
            for i in range(6):
                keys.append(await key_to_frame(pilot, probe, "down" if i % 2 == 0 else "up"))
                await asyncio.sleep(0.02)
        pages = table.page.pages
        for _ in range(max(1, presses // 3)):
            watch = probe.watch(lambda: table.page.page == pages)
            t0 = time.perf_counter()
            await pilot.press("right_curly_bracket")
            lasts.append(await watch - t0)
            await wait_until(lambda: not table.workers)
            watch = probe.watch(lambda: table.page.page == 1)
            t0 = time.perf_counter()
            await pilot.press("left_curly_bracket")
            firsts.append(await watch - t0)
            await wait_until(lambda: not table.workers)
        watch = probe.watch(
            lambda: (
                table.server_filters.get("action") == "mailbox.release"
                and not table.workers
                and table.page.total < pages * 50
            )
        )
        t0 = time.perf_counter()
        table.apply_filter("action=mailbox.release")
        out["filter"] = await watch - t0
        out["stall"] = lag.worst
        out["gc"] = lag.worst_gc
        lag.stop()
        out.update(flip=flips, last=lasts, first=firsts, keys=keys)
        out["cols"] = [(c.label, c.width or None) for c in table.spec.columns]
        out["rows"] = [
            tuple(str(c) for c in table.table.get_row_at(i)) for i in range(table.table.row_count)
        ]
    return out


async def measure_bare(columns, rows, presses: int) -> list[float]:
    app = BareTableApp(columns, rows)
    async with app.run_test(size=SIZE) as pilot:
        probe = FrameProbe(app)
        await pilot.pause(0.2)
        out = []
        for i in range(presses):
            out.append(await key_to_frame(pilot, probe, "j" if i % 2 == 0 else "k"))
            await asyncio.sleep(0.02)
    return out


def med(values) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    rows = 1_000 if args.quick else args.rows
    runs = 1 if args.quick else args.runs
    presses = 3 if args.quick else 12
    print(machine_line())
    big, small = start(rows), start(100)
    try:
        results = {"big": [], "small": []}
        raw = []
        bare = []
        for _ in range(runs):
            results["big"].append(asyncio.run(measure_console(big, presses)))
            results["small"].append(asyncio.run(measure_console(small, max(1, presses // 6))))
            pages = list(range(2, 2 + presses))
            raw.extend(asyncio.run(raw_page_times(big, pages)))
            first = results["big"][-1]
            bare.extend(asyncio.run(measure_bare(first["cols"], first["rows"], presses * 6)))
    finally:
        big.stop()
        small.stop()

    def collect(key: str, which: str = "big") -> list[float]:
        values: list[float] = []
        for r in results[which]:
            v = r[key]
            values.extend(v if isinstance(v, list) else [v])
        return values

    raw_med = med(raw)
    rows_table = []
    for label, key in (
        ("open the Audit tab (first page on screen)", "open"),
        ("`]` next page", "flip"),
        ("`}` last page", "last"),
        ("`{` first page", "first"),
        ("server filter action=... (enter to rows)", "filter"),
    ):
        values = collect(key)
        lo, mid, hi = spread(values)
        rows_table.append(
            (
                label,
                ms(mid),
                f"{ms(lo)}-{ms(hi)}",
                ratio(mid, raw_med),
                ms(med(collect(key, "small"))),
            )
        )
    print_table(
        f"Audit log of {rows:,} rows, 50 per page (ratio: to the bare client's GET of a page, "
        f"{ms(raw_med)})",
        ("action", "median", "min-max", "vs bare GET", "same, 100 rows"),
        rows_table,
    )
    keys, bare_med = collect("keys"), med(bare)
    print_table(
        "Cursor keys inside a page",
        ("case", "median", "p-max", "ratio"),
        [
            (
                f"| console, audit page ({rows:,} rows)",
                ms(med(keys)),
                ms(max(keys)),
                ratio(med(keys), bare_med),
            ),
            ("| bare DataTable, same 50 rows", ms(bare_med), ms(max(bare)), "1.00x"),
        ],
    )
    stall = max(collect("stall"))
    gc_pause = max(collect("gc"))
    print_table(
        "Stalls while browsing",
        ("figure", "value", "budget", "verdict"),
        [
            (
                "| longest event-loop stall",
                ms(stall),
                ms(STALL_BUDGET),
                verdict(stall < STALL_BUDGET),
            ),
            ("| longest GC pause", ms(gc_pause), "-", "-"),
        ],
    )


if __name__ == "__main__":
    main()
