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
(e.g. an older checkout: ``"env PYTHONPATH=/old/tree .venv/bin/python -P -m tui"``), measured in
the same rotation; ``--also "CMD ..."`` does the same for the plain launch (``--api-base``);
``--also-tree DIR`` is both for an older checkout (e.g. a ``git worktree``): ``python -P -m tui``
with ``PYTHONPATH=DIR``. ``--no-sandbox`` leaves the sandbox rows out.

``--cpu`` also reports the CPU time each program spent until its first frame, read inside the
process (``_first_frame_probe/sitecustomize.py`` on ``PYTHONPATH``: ``getrusage`` when
``App.run`` is called and when Textual hands the first frame to the terminal): the work a frame
costs, which other programs on a busy machine barely change, unlike the wall time. Commands
given as ``--also``/``--also-sandbox`` get no probe (``--also-tree`` does).
"""

from __future__ import annotations

import argparse
import json
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
PROBE = str(Path(__file__).resolve().parent / "_first_frame_probe")

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


def read_probe(path: Path, timeout: float = 2.0) -> dict[str, float] | None:
    """What the probe wrote at the first frame (None if nothing came)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            time.sleep(0.01)
    return None


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


def print_cpu_table(
    cpu_times: dict[str, list[dict[str, float]]], args: argparse.Namespace, runs: int
) -> None:
    """Median CPU time (all threads) until ``App.run`` and until the first frame."""

    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    bare = cpu_times.get("bare", [])
    bare_total = median([m["frame"] for m in bare]) if bare else 0.0
    labels = {
        "bare": "bare Textual app (one Label)",
        "app": "mailagents-tui login screen",
        "also_plain": f"{args.also}: login screen",
        "sandbox": "mailagents-tui --sandbox: login screen",
        "also": f"{args.also_sandbox} --sandbox: login screen",
    }
    rows = []
    for which, label in labels.items():
        marks = cpu_times.get(which)
        if not marks:
            continue
        start = median([m["run"] for m in marks])
        loop = median([m["frame"] - m["run"] for m in marks])
        total = median([m["frame"] for m in marks])
        collector = median([m["gc"] for m in marks])
        rows.append(
            [
                label,
                f"{start:.0f}",
                f"{loop:.0f}",
                f"{total:.0f}",
                ratio(total, bare_total) if bare_total else "-",
                f"{collector:.0f}",
            ]
        )
    print_table(
        f"CPU time to the first frame, all threads (ms, median of {runs}; in-process probe)",
        [
            "program",
            "start to App.run (interpreter, imports)",
            "App.run to first frame",
            "total",
            "ratio to bare",
            "of which garbage collection",
        ],
        rows,
    )


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
    ap.add_argument(
        "--also",
        default=None,
        metavar="CMD",
        help="another command to start with --api-base in the same rotation (e.g. old code)",
    )
    ap.add_argument(
        "--also-tree",
        default=None,
        metavar="DIR",
        help="an older checkout: `python -P -m tui` with PYTHONPATH=DIR, plain and --sandbox",
    )
    ap.add_argument("--cpu", action="store_true", help="also the CPU time to the first frame")
    args = ap.parse_args(argv)
    runs = 1 if args.quick else args.runs
    tree_command = None
    if args.also_tree:
        path = args.also_tree + (f":{PROBE}" if args.cpu else "")
        tree_command = ["env", f"PYTHONPATH={path}", sys.executable, "-P", "-m", "tui"]
        args.also = args.also or f"tree {args.also_tree}"
        args.also_sandbox = args.also_sandbox or f"tree {args.also_tree}"

    def command_of(which: str) -> list[str]:
        if which in ("app", "sandbox"):
            return [COMMAND]
        if tree_command is not None:
            return tree_command
        return shlex.split(args.also if which == "also_plain" else args.also_sandbox)

    print(machine_line())
    print(f"command: {COMMAND}")

    server = start_sandbox()
    term = Tmux(args.width, args.height)
    tmp = Path(tempfile.mkdtemp(prefix="bench-first-frame-"))
    bare_times: list[float] = []
    plain_times: dict[str, tuple[list[float], list[float], list[float]]] = {
        "app": ([], [], []),
        "also_plain": ([], [], []),
    }
    sandbox_times: dict[str, list[tuple[float, float, float]]] = {"sandbox": [], "also": []}
    cpu_times: dict[str, list[dict[str, float]]] = {}
    try:
        programs = ["bare", "app"]
        if args.also:
            programs.append("also_plain")
        if not args.no_sandbox:
            programs.append("sandbox")
        if args.also_sandbox:
            programs.append("also")
        order = programs * (runs + (0 if args.quick else 1))
        for i, which in enumerate(order):
            warmup = not args.quick and i < len(programs)
            probe = tmp / f"probe{i}.json"
            extra = {}
            if args.cpu:
                extra = {
                    "PYTHONPATH": PROBE,
                    "FIRST_FRAME_PROBE": str(probe),
                    "FIRST_FRAME_SCREEN": "Screen" if which == "bare" else "LoginScreen",
                }
            if which == "bare":
                env = {**base_env(tmp), **extra}
                t0 = term.start([sys.executable, BARE, "label"], env)
                t1 = term.wait_for(BARE_MARK)
                if not warmup:
                    bare_times.append(t1 - t0)
            elif which in ("sandbox", "also"):
                home = tmp / f"home{i}"
                env = {**base_env(home), "MAILAGENTS_HOME": str(home), **extra}
                t0 = term.start([*command_of(which), "--sandbox"], env)
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
                    **extra,
                }
                t0 = term.start([*command_of(which), "--api-base", server.base_url], env)
                t1 = term.wait_for(APP_MARK)
                t2 = term.wait_for(RUNTIME_MARK)
                t3 = term.wait_for(WALLET_MARK)
                if not warmup:
                    for times, t in zip(plain_times[which], (t1, t2, t3), strict=True):
                        times.append(t - t0)
            if args.cpu and not warmup:
                found = read_probe(probe)
                if found is not None:
                    cpu_times.setdefault(which, []).append(found)
            term.stop()
            time.sleep(0.3)  # let the killed program go before the next start
    finally:
        term.close()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    bare = spread(bare_times)
    plain_rows = [["bare Textual app (one Label)", *map(ms, bare), "1.00x", "baseline", ""]]
    for which, label in (("app", "mailagents-tui login screen"), ("also_plain", args.also)):
        first_times, shown_times, address_times = plain_times[which]
        if not first_times:
            continue
        first = spread(first_times)
        plain_rows += [
            [
                label if which == "app" else f"{label}: login screen",
                *map(ms, first),
                ratio(first[1], bare[1]),
                f"<= {BUDGET}x",
                verdict(first[1] <= BUDGET * bare[1]),
            ],
            [
                "  ... runtime shown (API call)",
                *map(ms, spread(shown_times)),
                ratio(spread(shown_times)[1], bare[1]),
                "-",
                "",
            ],
            [
                "  ... wallet address shown",
                *map(ms, spread(address_times)),
                ratio(spread(address_times)[1], bare[1]),
                "-",
                "",
            ],
        ]
    print_table(
        f"First frame in tmux {args.width}x{args.height}, {runs} run(s) each (ms)",
        ["program", "min", "median", "max", "ratio (median)", "budget", "verdict"],
        plain_rows,
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

    if args.cpu:
        print_cpu_table(cpu_times, args, runs)

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
