"""The Textual application: screens, global keys, error routing, release on exit."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.worker import Worker, WorkerState

from tui.core.sanitize import clean
from tui.core.wallets import WalletSource, resolve_wallet_source

if TYPE_CHECKING:
    from textual.dom import DOMNode
    from textual.notifications import SeverityLevel
    from textual.screen import Screen

    from tui.api.client import MailagentsClient
    from tui.app.dialogs.progress import ProgressDialog
    from tui.core.leases import ReleaseResult
    from tui.core.services import Services
    from tui.core.settings import Settings

# The login screen paints before the API client, session, ledger and lease manager (and the
# models they import) are built: they load on first use, see ``MailagentsApp.services``.


HANGUP_MARGIN = 5.0
"""Seconds after the release timeout that a hung-up app is given to end on its own."""


def exit_after(seconds: float) -> None:
    """End the process after ``seconds`` (the watchdog of a hang-up): nothing left to draw on,
    and a loop that could not finish must not keep the process, and its leases, for ever."""
    time.sleep(seconds)
    os._exit(0)


class BackgroundServer(Protocol):
    """The embedded sandbox of ``--sandbox`` as the App and the login screen use it
    (:class:`tui.sandbox.embedded.DeferredSandbox`; the TUI never imports the sandbox). Read
    with ``getattr`` when present: ``start_in_background``, ``error``, ``smtp_port``."""

    @property
    def ready(self) -> bool:
        """True once its start is over (running, or failed)."""

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait at most ``timeout`` seconds for the start to end; whether it has."""

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving, waiting at most ``timeout`` seconds."""


class MailagentsApp(App[None]):
    """mailagents-tui."""

    CSS_PATH = "app.tcss"
    SCREEN_STYLES = Path(__file__).with_name("screens.tcss")
    """The other screens' and the dialogs' rules: added before the first of them is shown
    (:meth:`load_screen_styles`), so the login screen's first frame does not parse them."""
    TITLE = "mailagents"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Quit (releases this run's leases)"),
        Binding("question_mark", "help", "Help", id="app.help", tooltip="Show every key"),
        Binding(
            "f1",
            "help",
            "Help",
            show=False,
            priority=True,
            id="app.help_f1",
            tooltip="Show every key (also while typing)",
        ),
        Binding(
            "ctrl+q",
            "quit",
            "Quit",
            show=False,
            priority=True,
            id="app.force_quit",
            tooltip="Quit (releases this run's leases)",
        ),
    ]

    settings: Settings
    """Resolved settings (the same object as ``services.settings``)."""
    wallet_source: WalletSource
    """The signing wallet (the same object as ``services.session.wallet_source``)."""
    sandbox: BackgroundServer | None
    """The embedded sandbox server, when started with ``--sandbox``."""

    def __init__(
        self,
        services: Services | None = None,
        *,
        sandbox: BackgroundServer | None = None,
        settings: Settings | None = None,
        client: MailagentsClient | None = None,
        wallet_source: WalletSource | None = None,
        run_id: str | None = None,
    ) -> None:
        """Either given ``services``, or the arguments of ``Services.create`` (built lazily)."""
        super().__init__()
        if services is not None:
            self.services = services
            settings = services.settings
            wallet_source = services.session.wallet_source
        elif settings is None:
            raise TypeError("MailagentsApp needs services or settings")
        self.settings = settings
        self.wallet_source = wallet_source or resolve_wallet_source(settings)
        self._services_args = (client, run_id)
        self.sandbox = sandbox
        self.quitting = False
        self._previous_sighup: Callable[..., object] | int | None = None
        self._sighup_installed = False
        """True once quitting has begun (releases are running)."""
        self.release_results: list[ReleaseResult] = []
        """Outcome of the releases done on quit."""
        self.type_ahead: list[tuple[str, str | None]] = []
        """(key, character) typed while signing in, replayed on the lease list."""
        self.screen_styles_loaded = False
        """True once :data:`SCREEN_STYLES` is part of the stylesheet."""
        self.last_input = -math.inf
        """``time.monotonic()`` when the App last took a key, a mouse event or a paste off
        its queue (background work waits for a quiet moment: see :meth:`input_quiet_for`)."""

    @cached_property
    def services(self) -> Services:
        """Client, session, ledger and lease manager, built on first use.

        Building them imports the API models and the core (~20 ms): the login screen does not
        need them for its first frame (it reads ``settings`` and ``wallet_source``).
        """
        from tui.core.services import Services

        client, run_id = self._services_args
        return Services.create(self.settings, client, self.wallet_source, run_id)

    @property
    def services_built(self) -> bool:
        """True once ``services`` exists (nothing to release or close before)."""
        return "services" in self.__dict__

    # -- screens --------------------------------------------------------------------------------

    def _load_screen_css(self, screen: Screen[object]) -> None:
        """Textual's step before a screen is shown (pushed, switched to): the screens' styles
        first, unless the screen's are all in ``app.tcss`` (the login screen's first frame).
        (Textual 8's hook: ``tests/unit/test_screen_styles.py`` fails if it moves.)"""
        if getattr(screen, "USES_SCREEN_STYLES", True):
            self.load_screen_styles()
        super()._load_screen_css(screen)

    def load_screen_styles(self) -> None:
        """Add :data:`SCREEN_STYLES` to the stylesheet, once, and restyle what is shown.

        The same precedence as ``app.tcss`` (user CSS, after it); only the new file is parsed
        (Textual keeps what it parsed before), about 4 ms of CPU the first frame no longer has.
        """
        if self.screen_styles_loaded:
            return
        self.screen_styles_loaded = True
        stylesheet = self.stylesheet
        stylesheet.read(self.SCREEN_STYLES)
        stylesheet.parse()  # now: ``read`` leaves the old selector map in place
        for shown in self.screen_stack:
            stylesheet.update(shown)

    def open_screen(self, name: str, /, **args: object) -> None:
        """Push the screen registered as ``name`` (``tui.app.registry``), built with ``args``.

        Screens never import each other: they ask for one another by name here.
        """
        from tui.app.registry import make_screen

        self.push_screen(make_screen(name, **args))

    def switch_to(self, name: str, /, **args: object) -> None:
        """Replace the current screen with the one registered as ``name``."""
        from tui.app.registry import make_screen

        self.switch_screen(make_screen(name, **args))

    # -- start ----------------------------------------------------------------------------------

    def on_mount(self) -> None:
        """Apply the keymap, catch SIGTERM/SIGHUP, open the first screen once started."""
        if self.settings.keymap:
            self.set_keymap(self.settings.keymap)
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGTERM, self.signal_quit)
            # SIGHUP is handled by Python, not by the loop: it must work when the loop is stuck
            # (Textual's shutdown can block for ever writing to a terminal that is gone).
            self._previous_sighup = signal.signal(signal.SIGHUP, partial(self.on_sighup, loop))
            self._sighup_installed = True
        # Not now: Mount runs inside Textual's start-up batch, and a screen pushed here paints
        # its first full frame while that batch is still open, where ``App._display`` drops it
        # (and nothing redraws it): the terminal showed a partial login screen (a few lines of
        # text, no box, API, wallet or button) until the runtime's answer forced a relayout.
        # A callback on the app's queue runs after the batch, so the first frame is whole.
        self.call_later(self.open_first_screen)

    def open_first_screen(self) -> None:
        """The login screen, or the lease list when a saved session is still valid."""
        self.call_after_refresh(self.resume_collector)
        # A sandbox of ``--sandbox`` starts after this first frame (requests sent meanwhile
        # wait in its port's backlog; the login screen says "starting sandbox…").
        start_sandbox = getattr(self.sandbox, "start_in_background", None)
        if start_sandbox is not None:
            self.call_after_refresh(start_sandbox)
        # No address yet (a key still to load) or no sessions file: no saved session to look
        # up, so nothing to build before the login screen's first frame.
        if (
            self.wallet_source.address
            and self.settings.sessions_path.exists()
            and self.services.session.load_saved() is not None
        ):
            self.open_screen("login")
            self.after_sign_in()
        else:
            self.open_screen("login")

    @staticmethod
    def resume_collector() -> None:
        """After the first frame: turn the garbage collector back on if the launcher turned it
        off for the start (``tui.cli.opentui.launch_tui``), first freezing what the start
        allocated (modules, classes, the app: never garbage; a few hundred start-up cycles
        stay)."""
        if not gc.isenabled():
            gc.freeze()
            gc.enable()

    def signal_quit(self) -> None:
        """SIGTERM: release this run's leases (progress shown), then exit."""
        self.call_later(self.action_quit)

    def on_unmount(self) -> None:
        """Give SIGHUP back to whoever had it (a process that outlives this app, like a test
        run, must not keep a handler that ends it)."""
        if self._sighup_installed:
            previous = self._previous_sighup
            with contextlib.suppress(ValueError):
                signal.signal(signal.SIGHUP, signal.SIG_DFL if previous is None else previous)
            self._sighup_installed = False

    def on_sighup(self, loop: asyncio.AbstractEventLoop, *_signal: object) -> None:
        """SIGHUP (the terminal is gone), in the main thread whatever the loop is doing: ask
        the loop to release and leave, and make sure the process ends even if it never does
        (this run's leases stay in the ledger, offered again at the next start)."""
        grace = self.settings.release_timeout + HANGUP_MARGIN
        threading.Thread(
            target=exit_after, args=(grace,), name="mailagents-hangup", daemon=True
        ).start()
        with contextlib.suppress(RuntimeError):  # the loop is closed: the watchdog ends it
            loop.call_soon_threadsafe(self.hangup)

    def hangup(self) -> None:
        """SIGHUP: the terminal is gone. Release this run's leases without drawing, then end
        the process at once: restoring a terminal that no longer exists can hang forever."""
        if not self.quitting:
            self.quitting = True
            self.release_after_hangup()

    @work(exclusive=True, group="quit", exit_on_error=False)
    async def release_after_hangup(self) -> None:
        """Release, then leave without touching the terminal."""
        try:
            await self.services.leases.release_run_leases(self.services.settings.release_timeout)
        finally:
            if self.sandbox is not None:
                with contextlib.suppress(Exception):
                    self.sandbox.stop(timeout=2.0)
            os._exit(0)

    def after_sign_in(self) -> None:
        """Show the lease list and offer to release leases an earlier run left behind."""
        from tui.app.screens.leases import LeaseListScreen

        if any(isinstance(s, LeaseListScreen) for s in self.screen_stack[:-1]):
            self.pop_screen()  # signed in again after the session expired
            return
        self.switch_to("leases")
        self.check_leftovers()

    @work(exclusive=True, group="leftovers", exit_on_error=False)
    async def check_leftovers(self) -> None:
        """Reconcile the server's leases with the ledger; offer what no live run owns.

        The answer is awaited here (not a push callback): a callback belongs to the screen
        that pushed the dialog, and the login screen that signed in is gone by then, which
        made both answers do nothing.
        """
        try:
            found = await self.services.leases.reconcile()
        finally:  # a damaged ledger is reported even when the server cannot be asked
            for damage in self.services.ledger.take_damage():
                self.notify(damage.message(), severity="warning", markup=False, timeout=20)
        for damage in found.damage:
            self.notify(damage.message(), severity="warning", markup=False, timeout=20)
        if not found.leftovers:
            return
        from tui.app.dialogs.leftovers import LeftoversDialog

        answer = await self.push_screen(LeftoversDialog(found.leftovers), wait_for_dismiss=True)
        leases = self.services.leases
        if answer == "release":
            results = await leases.release_leftovers(
                found.leftovers, timeout=self.services.settings.release_timeout
            )
            for line in release_report(results, "Released"):
                self.notify(line, markup=False, timeout=12)
        elif answer == "keep":
            await leases.keep_leftovers(found.leftovers)
            self.notify(
                f"Kept {len(found.leftovers)} lease(s); they will not be offered again",
                markup=False,
            )
        screen = self.screen
        if hasattr(screen, "refresh_leases"):
            screen.refresh_leases()

    # -- keys -------------------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        """Note when input arrives (first stop of every key: nothing runs before it), then
        Textual's handling."""
        if isinstance(event, (events.InputEvent, events.Paste)):
            self.last_input = time.monotonic()
        await super().on_event(event)

    def input_quiet_for(self, seconds: float) -> float:
        """Seconds left until no input has arrived for ``seconds`` (0 once that is so): how
        long background work that would delay a key should still wait."""
        return max(0.0, self.last_input + seconds - time.monotonic())

    def action_help(self) -> None:
        """``?``: every key of the current screen."""
        from tui.app.dialogs.help import HelpDialog

        if isinstance(self.screen, HelpDialog):
            return
        self.push_screen(HelpDialog(self.screen))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The command palette: every labeled action of the screen (its own first, as in
        ``?``), then Textual's commands; each title once (no "Bottom" three times)."""
        from tui.app.dialogs.help import GROUPS, group_of

        titles: set[str] = set()
        actives = sorted(
            screen.active_bindings.values(),
            key=lambda active: GROUPS.index(group_of(active.node, active.binding)),
        )
        for active in actives:
            binding = active.binding
            if not binding.description or binding.description in titles:
                continue
            titles.add(binding.description)
            yield SystemCommand(
                binding.description,
                binding.tooltip or binding.description,
                partial(self.run_bound_action, active.node, binding.action),
            )
        for command in super().get_system_commands(screen):
            # Textual's "Keys" panel is our ``?`` (Help); its "Quit" skips releasing leases.
            if command.title in titles or command.title in ("Keys", "Quit"):
                continue
            titles.add(command.title)
            yield command

    def run_bound_action(self, node: DOMNode, action: str) -> None:
        """Run an action on the node that bound it."""
        self.call_later(self.run_action, action, node)

    async def action_quit(self) -> None:
        """Quit, releasing the leases this run allocated (bounded time, progress shown)."""
        if self.quitting:
            return
        run = self.services.leases.run_leases()
        if not run:
            self.exit()
            return
        self.quitting = True
        from tui.app.dialogs.progress import ProgressDialog

        dialog = ProgressDialog(f"Releasing {len(run)} lease(s) allocated in this run…")
        await self.push_screen(dialog)
        self.release_and_exit(dialog)

    @work(exclusive=True, group="quit", exit_on_error=False)
    async def release_and_exit(self, dialog: ProgressDialog) -> None:
        """Release, report failures briefly, exit."""
        try:
            results = await self.services.leases.release_run_leases(
                self.services.settings.release_timeout
            )
        except Exception as exc:  # never block quitting
            results = []
            dialog.update(f"Release failed: {exc}")
            await asyncio.sleep(1.5)
        self.release_results = results
        failed = [r for r in results if not r.released]
        if failed:
            dialog.update(
                f"{len(failed)} lease(s) could not be released ({failed[0].detail}).\n"
                "They stay in the ledger; the next start offers to release them."
            )
            await asyncio.sleep(2.0)
        self.exit()

    # -- errors -----------------------------------------------------------------------------------

    def route_error(self, error: BaseException, set_status: Callable[..., None] | None) -> None:
        """Explain a failed worker: sign-in, payment, limits, network, input, or a bug."""
        from tui.app.routing import describe

        kind, message = describe(error)
        if kind == "bug":
            from tui.app.dialogs.error import ErrorDialog

            self.push_screen(ErrorDialog(f"Unexpected error: {type(error).__name__}", message))
            return
        if set_status is not None:
            with contextlib.suppress(Exception):
                set_status(message, error=True)
        severity: SeverityLevel = "warning" if kind in ("network", "input") else "error"
        self.notify(message, severity=severity, markup=False, timeout=8)
        if kind == "auth":
            from tui.app.screens.login import LoginScreen

            if not any(isinstance(s, LoginScreen) for s in self.screen_stack):
                self.open_screen("login")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The app's own workers fail through the same router."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.route_error(event.worker.error, None)


def make_app(
    settings: Settings,
    client: MailagentsClient | None = None,
    *,
    wallet_source: WalletSource | None = None,
    sandbox: BackgroundServer | None = None,
    run_id: str | None = None,
) -> MailagentsApp:
    """The one factory for the App, used by the CLI and by tests.

    The services (``Services.create(settings, client, wallet_source, run_id)``) are built on
    first use of ``app.services``; the wallet source is resolved now, so its errors (an
    unreadable keystore...) still stop the CLI before the TUI starts.
    """
    return MailagentsApp(
        sandbox=sandbox,
        settings=settings,
        client=client,
        wallet_source=wallet_source,
        run_id=run_id,
    )


def release_report(results: list[ReleaseResult], done: str = "Released") -> list[str]:
    """One line for the leases released, one for those that could not be (if any)."""
    lines = []
    released = [r for r in results if r.released]
    failed = [r for r in results if not r.released]
    if released:
        names = ", ".join(clean(r.describe(), 120) for r in released)
        lines.append(f"{done} {len(released)} lease(s): {names}")
    if failed:
        names = ", ".join(clean(f"{r.describe()}: {r.detail}", 160) for r in failed)
        lines.append(
            f"Could not release {len(failed)} lease(s): {names}; the next start offers them again"
        )
    return lines


def run_app(
    settings: Settings,
    *,
    wallet_source: WalletSource | None = None,
    sandbox: BackgroundServer | None = None,
) -> None:
    """Run the TUI; whatever happens, release this run's leases before returning, then say
    on the terminal (stderr) which leases were released and which could not be."""
    app = make_app(settings, wallet_source=wallet_source, sandbox=sandbox)
    try:
        app.run()
    finally:
        leftovers = app.services.leases.run_leases() if app.services_built else []
        if leftovers:
            # The app ended without its normal quit (a crash): release synchronously.
            async def release() -> None:
                try:
                    app.release_results = await app.services.leases.release_run_leases(
                        settings.release_timeout
                    )
                finally:
                    await app.services.aclose()

            with contextlib.suppress(Exception):
                asyncio.run(release())
        for line in release_report(app.release_results, "Released on quit"):
            print(f"mailagents-tui: {line}", file=sys.stderr)
