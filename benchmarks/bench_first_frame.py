"""First frame of the installed ``mailagents-tui`` in a real terminal vs a bare Textual app.

    .venv/bin/python benchmarks/bench_first_frame.py            # 7 runs of each, interleaved
    .venv/bin/python benchmarks/bench_first_frame.py --quick    # 1 run of each (CI smoke test)

Both programs run in the same private tmux server (``tmux -L``, a fixed 110x30 pane), started
the same way (``respawn-pane`` with ``env -i``): the product is the venv's
``bin/mailagents-tui --api-base <a sandbox started here>`` with a throwaway
``MAILAGENTS_PRIVATE_KEY`` and ``MAILAGENTS_HOME``; the baseline is a Textual app showing one
Label (``benchmarks/_bare_apps.py label``). "First frame" is the moment ``tmux capture-pane``
first shows a known text (the login screen's "Press enter to sign in" / the label), polled
every 5 ms, measured from just before tmux was asked to start the program. Runs alternate
between the two programs so that machine noise hits both.

Also reported (no budget): when the login screen shows the runtime fetched from the API and
the wallet's address (eth-account loaded in a thread), and the import time of the modules on
the first screen's path, each in a fresh interpreter (what limits the first frame).
Budget (DESIGN.md): first frame within 1.3x the bare app's.

``mailagents-tui --sandbox`` (issue 16) is a third program in the same rotation (a fresh
``MAILAGENTS_HOME`` each run, a throwaway wallet): its first frame (same budget), and when the
login screen shows the sandbox running ("Sandbox   local") and the runtime it answered.
``--also-sandbox "CMD ..."`` adds another command started the same way with ``--sandbox``
(e.g. an older checkout: ``"env PYTHONPATH=/old/tree .venv/bin/python -m tui"``), measured in
the same rotation; ``--no-sandbox`` leaves the sandbox rows out.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    COMMAND,
    ROOT,
    Tmux,
    machine_line,
    ms,
    print_table,
    ratio,
    spread,
    start_sandbox,
    verdict,
)

BUDGET = 1.3
BARE = str(Path(__file__).resolve().parent / "_bare_apps.py")
APP_MARK = "Press enter to sign in"
RUNTIME_MARK = "Runtime   Base Sepolia"
WALLET_MARK = "private key from"
BARE_MARK = "bare textual ready"
SANDBOX_MARK = "Sandbox   local"

IMPORTS = {
    "textual.app + widgets (bare app)": "import textual.app, textual.widgets",
    "tui.launch (entry point)": "import tui.launch",
    "first screen path (entry point, app, login screen)": (
        "import tui.launch, tui.app, tui.app.screens.login"
    ),
    "tui.cli.root (click: commands, --help)": "import tui.cli.root",
    "services (built after the first frame)": "import tui.core.services",
    "httpx": "import httpx",
    "eth_account (wallet, loaded in a thread)": "import eth_account",
}


def base_env(home: Path) -> dict[str, str]:
    """The environment of both programs (nothing else is inherited: ``env -i``)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "TEXTUAL_ANIMATIONS": "none",
    }


def import_time(statement: str, runs: int) -> float:
    """Median wall time of ``statement`` in a fresh interpreter."""
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
        )
        times.append(float(out.stdout.strip()))
    return sorted(times)[len(times) // 2]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 run of each (CI smoke test)")
    ap.add_argument("--runs", type=int, default=7, help="runs of each program")
    ap.add_argument("--width", type=int, default=110)
    ap.add_argument("--height", type=int, default=30)
    ap.add_argument("--no-sandbox", action="store_true", help="leave out `--sandbox`")
    ap.add_argument(
        "--also-sandbox",
        default=None,
        metavar="CMD",
        help="another command to start with --sandbox in the same rotation (e.g. old code)",
    )
    args = ap.parse_args(argv)
    runs = 1 if args.quick else args.runs
    print(machine_line())
    print(f"command: {COMMAND}")

    server = start_sandbox()
    term = Tmux(args.width, args.height)
    tmp = Path(tempfile.mkdtemp(prefix="bench-first-frame-"))
    bare_times: list[float] = []
    app_times: list[float] = []
    runtime_times: list[float] = []
    wallet_times: list[float] = []
    sandbox_times: dict[str, list[tuple[float, float, float]]] = {"sandbox": [], "also": []}
    try:
        programs = ["bare", "app"]
        if not args.no_sandbox:
            programs.append("sandbox")
        if args.also_sandbox:
            programs.append("also")
        order = programs * (runs + (0 if args.quick else 1))
        for i, which in enumerate(order):
            warmup = not args.quick and i < len(programs)
            if which == "bare":
                env = base_env(tmp)
                t0 = term.start([sys.executable, BARE, "label"], env)
                t1 = term.wait_for(BARE_MARK)
                if not warmup:
                    bare_times.append(t1 - t0)
            elif which in ("sandbox", "also"):
                home = tmp / f"home{i}"
                env = {**base_env(home), "MAILAGENTS_HOME": str(home)}
                command = [COMMAND] if which == "sandbox" else shlex.split(args.also_sandbox)
                t0 = term.start([*command, "--sandbox"], env)
                t1 = term.wait_for(APP_MARK)
                t2 = term.wait_for(SANDBOX_MARK)
                t3 = term.wait_for(RUNTIME_MARK)
                if not warmup:
                    sandbox_times[which].append((t1 - t0, t2 - t0, t3 - t0))
            else:
                home = tmp / f"home{i}"
                env = {
                    **base_env(home),
                    "MAILAGENTS_HOME": str(home),
                    "MAILAGENTS_PRIVATE_KEY": "0x" + secrets.token_hex(32),
                }
                t0 = term.start([COMMAND, "--api-base", server.base_url], env)
                t1 = term.wait_for(APP_MARK)
                t2 = term.wait_for(RUNTIME_MARK)
                t3 = term.wait_for(WALLET_MARK)
                if not warmup:
                    app_times.append(t1 - t0)
                    runtime_times.append(t2 - t0)
                    wallet_times.append(t3 - t0)
            term.stop()
            time.sleep(0.3)  # let the killed program go before the next start
    finally:
        term.close()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    bare = spread(bare_times)
    app = spread(app_times)
    print_table(
        f"First frame in tmux {args.width}x{args.height}, {runs} run(s) each (ms)",
        ["program", "min", "median", "max", "ratio (median)", "budget", "verdict"],
        [
            ["bare Textual app (one Label)", *map(ms, bare), "1.00x", "baseline", ""],
            [
                "mailagents-tui login screen",
                *map(ms, app),
                ratio(app[1], bare[1]),
                f"<= {BUDGET}x",
                verdict(app[1] <= BUDGET * bare[1]),
            ],
            [
                "  ... runtime shown (API call)",
                *map(ms, spread(runtime_times)),
                ratio(spread(runtime_times)[1], bare[1]),
                "-",
                "",
            ],
            [
                "  ... wallet address shown",
                *map(ms, spread(wallet_times)),
                ratio(spread(wallet_times)[1], bare[1]),
                "-",
                "",
            ],
        ],
    )

    rows = []
    for which, label in (("sandbox", "mailagents-tui --sandbox"), ("also", args.also_sandbox)):
        times = sandbox_times[which]
        if not times:
            continue
        first, up, rt = (spread([t[k] for t in times]) for k in range(3))
        rows += [
            [
                f"{label}: login screen",
                *map(ms, first),
                ratio(first[1], bare[1]),
                f"<= {BUDGET}x",
                verdict(first[1] <= BUDGET * bare[1]),
            ],
            ["  ... sandbox running", *map(ms, up), ratio(up[1], bare[1]), "-", ""],
            ["  ... runtime shown (API call)", *map(ms, rt), ratio(rt[1], bare[1]), "-", ""],
        ]
    if rows:
        print_table(
            f"--sandbox: first frame in tmux {args.width}x{args.height}, {runs} run(s) each (ms),"
            " same rotation as above",
            ["program", "min", "median", "max", "ratio to bare (median)", "budget", "verdict"],
            rows,
        )

    import_runs = 1 if args.quick else 5
    statements = dict(list(IMPORTS.items())[:2]) if args.quick else IMPORTS
    print_table(
        f"Import time in a fresh interpreter (median of {import_runs}, ms)",
        ["modules", "ms"],
        [[name, ms(import_time(stmt, import_runs))] for name, stmt in statements.items()],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
