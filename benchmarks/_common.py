"""Helpers shared by the benchmark scripts: statistics, tables, a sandbox, a frame probe, tmux.

Nothing here is product code: the scripts import the product (``tui``) the way tests do.
"""

from __future__ import annotations

import asyncio
import bisect
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BIN = Path(sys.executable).parent
"""The venv's ``bin`` (the scripts are run with ``.venv/bin/python``)."""
COMMAND = str(BIN / "mailagents-tui")
"""The installed console script."""


# -- numbers -------------------------------------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (``pct`` in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def spread(values: Sequence[float]) -> tuple[float, float, float]:
    """(min, median, max)."""
    if not values:
        return (float("nan"),) * 3  # type: ignore[return-value]
    return min(values), statistics.median(values), max(values)


def ms(seconds: float) -> str:
    """Seconds as milliseconds, one decimal."""
    return f"{seconds * 1000:.1f}"


def ratio(value: float, baseline: float) -> str:
    """``value / baseline`` as ``1.23x`` (``-`` when the baseline is zero)."""
    if not baseline or baseline != baseline:
        return "-"
    return f"{value / baseline:.2f}x"


def verdict(ok: bool) -> str:
    """``ok`` or ``MISSED``."""
    return "ok" if ok else "MISSED"


def print_table(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A plain-text table (also valid Markdown)."""
    body = [[str(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in body:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=False)]
    print(f"\n{title}")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("| " + " | ".join("-" * w for w in widths) + " |")
    for row in body:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + " |")
    sys.stdout.flush()


def machine_line() -> str:
    """Python, CPUs and the load average, printed at the top of every benchmark."""
    try:
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    return (
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs,"
        f" load average {load}"
    )


def rss_mb(pid: int | str = "self") -> tuple[float, float]:
    """(current RSS, peak RSS) in MB from ``/proc/<pid>/status``."""
    now = peak = 0.0
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                now = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    return now, peak


# -- the sandbox and signed-in services ---------------------------------------------------------


def start_sandbox(**overrides: Any) -> Any:
    """An in-process sandbox on free loopback ports (``:memory:`` unless ``db_path`` is given)."""
    from tui.sandbox.config import SandboxConfig
    from tui.sandbox.runner import SandboxServer

    config = SandboxConfig(**{"db_path": ":memory:", "port": 0, **overrides})
    return SandboxServer(config).start()


def new_account() -> Any:
    """A random eth-account ``LocalAccount`` (imports eth-account: slow the first time)."""
    from tui.limits import eth_account_class

    return eth_account_class().create()


def make_services(base_url: str, home: Path, account: Any, **overrides: Any) -> Any:
    """Services for ``account`` against ``base_url`` with every file under ``home``."""
    from tui.auth.wallet import Wallet
    from tui.core.services import Services
    from tui.core.settings import Settings
    from tui.core.wallets import WalletSource

    settings = Settings(home=home).with_overrides(api_base=base_url, **overrides)
    wallet = Wallet(bytes(account.key), account.address)
    return Services.create(settings, wallet_source=WalletSource.of(wallet))


def make_signed_in_app(base_url: str, home: Path, account: Any, **overrides: Any) -> Any:
    """The product's App (``make_app``) for an account whose session is already saved, so it
    opens on the lease list."""
    from tui.app import make_app
    from tui.auth.wallet import Wallet
    from tui.core.settings import Settings
    from tui.core.wallets import WalletSource

    settings = Settings(home=home).with_overrides(api_base=base_url, **overrides)
    wallet = Wallet(bytes(account.key), account.address)
    return make_app(settings, wallet_source=WalletSource.of(wallet))


async def sign_in_and_allocate(base_url: str, home: Path, account: Any, count: int) -> list[Any]:
    """Sign in (the session is saved under ``home``) and allocate ``count`` leases (kept)."""
    services = make_services(base_url, home, account)
    try:
        await services.session.sign_in()
        leases = []
        for _ in range(count):
            allocated = await services.leases.allocate("bench", 1, release_on_exit=False)
            leases.append(allocated.lease)
        return leases
    finally:
        await services.aclose()


# -- frames ------------------------------------------------------------------------------------


class FrameProbe:
    """Timestamps every frame an App composes.

    Textual renders a frame in ``Screen._refresh_layout`` / ``_on_timer_update`` (the
    compositor renders the changed widget lines) and hands it to ``App._display``, which in a
    real terminal turns it into escape sequences and writes them. Headless (``run_test``),
    ``_display`` skips that last step; the probe wraps ``_display``, does the conversion to
    terminal bytes itself (so its cost is counted) and records ``perf_counter()`` after it.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.frames: list[float] = []
        """perf_counter() of each frame."""
        self._event = asyncio.Event()
        self._watch: list[tuple[Callable[[], bool], list[float]]] = []
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is None or app._batch_count:
                return
            render = getattr(renderable, "render_segments", None)
            if render is not None:
                render(app.console)
            now = time.perf_counter()
            self.frames.append(now)
            for condition, seen in self._watch:
                if not seen and condition():
                    seen.append(now)
            self._event.set()

        app._display = display

    async def frame_after(self, t0: float, timeout: float = 2.0) -> float | None:
        """The time of the first frame at or after ``t0`` (None if none came in time)."""
        deadline = time.perf_counter() + timeout
        while True:
            index = bisect.bisect_left(self.frames, t0)
            if index < len(self.frames):
                return self.frames[index]
            left = deadline - time.perf_counter()
            if left <= 0:
                return None
            self._event.clear()
            try:
                await asyncio.wait_for(self._event.wait(), left)
            except TimeoutError:
                return None

    def watch(self, condition: Callable[[], bool], timeout: float = 10.0) -> Awaitable[float]:
        """Start watching now; await the result for the time of the first frame composed while
        ``condition()`` holds (evaluated right after each frame). Call it *before* the action
        whose effect is awaited: frames before the call are not seen."""
        seen: list[float] = []
        entry = (condition, seen)
        self._watch.append(entry)

        async def result() -> float:
            try:
                await wait_until(lambda: bool(seen), timeout)
            finally:
                self._watch.remove(entry)
            return seen[0]

        return result()

    async def frame_when(self, condition: Callable[[], bool], timeout: float = 10.0) -> float:
        """``await watch(condition)``: only frames from now on count."""
        return await self.watch(condition, timeout)


class LoopLag:
    """The longest time the event loop was blocked (a 5 ms sleep that overslept), between
    :meth:`reset` calls: what a user would feel as a stall. Also the longest garbage
    collection pause in the same span (``gc.callbacks``), a usual cause of long stalls."""

    def __init__(self) -> None:
        self.worst = 0.0
        """Longest stall, seconds."""
        self.worst_gc = 0.0
        """Longest single garbage collection, seconds."""
        self.gc_total = 0.0
        """Time spent collecting garbage, seconds."""
        self._task: asyncio.Task[None] | None = None
        self._gc_start = 0.0
        self._since = 0.0

    async def _run(self) -> None:
        while True:
            t = time.perf_counter()
            await asyncio.sleep(0.005)
            if t >= self._since:  # a sleep begun before reset() belongs to the previous span
                self.worst = max(self.worst, time.perf_counter() - t - 0.005)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            pause = time.perf_counter() - self._gc_start
            self.worst_gc = max(self.worst_gc, pause)
            self.gc_total += pause

    def start(self) -> LoopLag:
        """Start watching (on the running loop)."""
        import gc

        gc.callbacks.append(self._on_gc)
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def reset(self) -> None:
        """Forget what was seen so far."""
        self.worst = self.worst_gc = self.gc_total = 0.0
        self._since = time.perf_counter()

    def stop(self) -> None:
        """Stop watching."""
        import gc

        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._task is not None:
            self._task.cancel()


async def key_to_frame(pilot: Any, probe: FrameProbe, key: str, timeout: float = 2.0) -> float:
    """Seconds from sending ``key`` to the first frame composed after it."""
    t0 = time.perf_counter()
    await pilot.press(key)
    t1 = await probe.frame_after(t0, timeout)
    if t1 is None:
        raise RuntimeError(f"no frame after pressing {key!r}")
    return t1 - t0


async def wait_until(condition: Callable[[], bool], timeout: float = 10.0, step: float = 0.005):
    """Poll ``condition`` on the running loop."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(step)


# -- a real terminal ---------------------------------------------------------------------------


class Tmux:
    """One pane of a private tmux server (``-L``) of fixed size, where commands are respawned."""

    def __init__(self, width: int = 110, height: int = 30) -> None:
        self.socket = f"bench-{uuid.uuid4().hex[:8]}"
        self.target = "bench"
        self.tmux(
            "new-session", "-d", "-s", self.target, "-x", str(width), "-y", str(height),
            "sleep 3600",
        )  # fmt: skip
        self.tmux("set-option", "-t", self.target, "remain-on-exit", "on")

    def tmux(self, *args: str) -> str:
        """Run a tmux command on the private server."""
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
        return result.stdout

    def start(self, command: Sequence[str], env: dict[str, str]) -> float:
        """Replace whatever runs in the pane with ``command``; return perf_counter() just
        before tmux was asked to start it."""
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        line = f"exec env -i {exports} {shlex.join(command)}"
        t0 = time.perf_counter()
        self.tmux("respawn-pane", "-k", "-t", self.target, line)
        return t0

    def screen(self) -> str:
        """The visible text."""
        return self.tmux("capture-pane", "-p", "-t", self.target)

    def wait_for(self, text: str, timeout: float = 30.0, step: float = 0.005) -> float:
        """perf_counter() when ``text`` was first seen on the screen."""
        deadline = time.perf_counter() + timeout
        screen = ""
        while time.perf_counter() < deadline:
            screen = self.screen()
            if text in screen:
                return time.perf_counter()
            time.sleep(step)
        raise TimeoutError(f"{text!r} did not appear; the screen was:\n{screen}")

    def stop(self) -> None:
        """Kill what runs in the pane (SIGHUP, as when a terminal closes)."""
        self.tmux("respawn-pane", "-k", "-t", self.target, "sleep 3600")

    def close(self) -> None:
        """Kill the private tmux server and remove its socket file."""
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
        folder = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}"
        (folder / self.socket).unlink(missing_ok=True)


# -- fake mail ---------------------------------------------------------------------------------


def fake_messages(count: int, mailbox_id: str = "mbx-bench", after: Any = None) -> list[Any]:
    """``count`` API messages (``tui.api.models.Message``), newest first, received between
    ``after`` (a lease's start; default an hour ago) and now; every third has a code in its
    subject, every fifth a link."""
    from datetime import UTC, datetime, timedelta

    from tui.api.models import Message

    now = datetime.now(UTC)
    start = after or now - timedelta(hours=1)
    span_us = max(int((now - start) / timedelta(microseconds=1)), count + 1)
    out = []
    for i in range(count):
        code = f"{(100000 + i * 7919) % 900000 + 100000}"
        subject = (
            f"Your verification code is {code}"
            if i % 3 == 0
            else f"Weekly digest #{i}: news from service {i % 11}"
        )
        out.append(
            Message(
                message_id=f"msg-{i:06d}",
                sender=f"no-reply{i % 37}@service{i % 11}.example",
                subject=subject,
                received_at=start + timedelta(microseconds=span_us * (count - i) // (count + 1)),
                otp_code=code if i % 3 == 0 else None,
                verification_link=f"https://service{i % 11}.example/verify?t={i}"
                if i % 5 == 0
                else None,
                parsed_status="parsed",
                sender_domain=f"service{i % 11}.example",
                mailbox_id=mailbox_id,
            )
        )
    return out


def inbox_update(messages: list[Any]) -> Any:
    """An ``InboxUpdated`` holding ``messages`` (none of them announced as new)."""
    from tui.app.screens.inbox import InboxUpdated
    from tui.core.poller import PollStatus, PollUpdate

    status = PollStatus(state="ok", last_checked=time.time(), calls=1)
    return InboxUpdated(PollUpdate(messages=messages, new=[], status=status))


def table_rows(table: Any) -> list[tuple[Any, ...]]:
    """The rows of a DataTable, cell objects as they are."""
    return [tuple(table.get_row_at(i)) for i in range(table.row_count)]


def table_columns(table: Any) -> list[tuple[str, int | None]]:
    """(label, width) of a DataTable's or the inbox MessageList's columns (None: automatic)."""
    if hasattr(table, "ordered_columns"):  # DataTable
        return [(str(c.label), None if c.auto_width else c.width) for c in table.ordered_columns]
    return [(str(c.label), c.width) for c in table.columns]


def run_child_with_home(
    script: str,
    spec: dict[str, Any],
    pythonpath: str | None,
    *,
    timeout: float,
    skip: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Run ``script --child SPEC`` in a fresh process on a fresh copy of ``spec["home"]``
    (without the entries named in ``skip``), with ``PYTHONPATH`` set for an older tree, and
    return the JSON it prints on its ``RESULT`` line."""
    import json
    import shutil
    import tempfile
    from pathlib import Path

    home = Path(tempfile.mkdtemp(prefix="bench-child-home-"))
    shutil.rmtree(home)
    shutil.copytree(spec["home"], home, ignore=shutil.ignore_patterns(*skip))
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    try:
        proc = subprocess.run(
            [sys.executable, script, "--child", json.dumps({**spec, "home": str(home)})],
            capture_output=True, text=True, env=env, timeout=timeout,
        )  # fmt: skip
    finally:
        shutil.rmtree(home, ignore_errors=True)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line[len("RESULT ") :]))
    raise RuntimeError(f"child failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
