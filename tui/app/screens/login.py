"""Login screen: API base, the service's runtime, the wallet; enter signs in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Button, Input, Static

from tui.app.first_resume import StyledOnce
from tui.app.messages import RuntimeLoaded, SignedIn
from tui.app.widgets.key_footer import KeyFooter
from tui.core.sanitize import clean

if TYPE_CHECKING:
    from tui.app.app import MailagentsApp


class LoginScreen(StyledOnce, Screen[None]):
    """Shows where and as whom the app will sign in; signs in on enter."""

    BINDINGS = [
        Binding(
            "enter", "sign_in", "Sign in", id="login.sign_in", tooltip="Sign in with the wallet"
        ),
        Binding(
            "r", "reload_runtime", "Reload", id="login.reload", tooltip="Fetch the runtime again"
        ),
    ]

    AUTO_FOCUS = "#login-button"
    """Focused from the first frame (``on_mount`` moves it to the password field when one is
    needed). Textual's default, the first focusable widget (the scrolling box), restyled the
    whole box twice: focused before the first frame, blurred after it."""

    USES_SCREEN_STYLES = False
    """Its rules are in ``app.tcss``: showing it does not load the other screens' styles
    (``MailagentsApp.load_screen_styles``), which its first frame does not need."""

    app: MailagentsApp  # type: ignore[assignment]

    signing_in = False
    """A sign-in is under way: keys typed meanwhile are kept for the lease list."""

    def on_key(self, event: events.Key) -> None:
        """While signing in, keep the keys typed ahead (``n`` right after enter) for the next
        screen instead of dropping them (escape still goes through)."""
        if self.signing_in and event.key not in ("escape", "enter", "ctrl+q", "ctrl+c"):
            self.app.type_ahead.append((event.key, event.character))
            event.stop()
            event.prevent_default()

    def compose(self) -> ComposeResult:
        """Layout. The sandbox's line only with a sandbox, the password field only when the
        keystore needs one: widgets never shown are not built (the first frame styles, lays
        out and renders every widget composed, shown or not)."""
        rows = [
            ("API", "login-api", Text()),
            ("Sandbox", "login-sandbox", Text()),
            ("Runtime", "login-runtime", Text("loading…", style="dim")),
            ("Wallet", "login-wallet", Text()),
        ]
        if self.app.sandbox is None:
            del rows[1]
        with VerticalScroll(id="login-box"):
            title = Text("mailagents", style="bold")
            if self.app.settings.profile:
                title.append(f"  profile {self.app.settings.profile}", style="dim")
            yield Static(title, id="login-title")
            for label, widget_id, initial in rows:
                # Label and value side by side: a long value wraps in its own column.
                with Horizontal(classes="login-row", id=f"{widget_id}-row"):
                    yield Static(Text(label), classes="login-label")
                    yield Static(initial, id=widget_id, classes="login-value")
            if self.app.wallet_source.needs_password:
                yield Input(placeholder="keystore password", password=True, id="login-password")
            yield Button("Sign in", variant="primary", id="login-button")
            yield Static(Text("Press enter to sign in.", style="dim"), id="login-hint")
            yield Static(id="login-error")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Fill in what is known and fetch the runtime."""
        # Only settings and the wallet source here: ``app.services`` (the API client, session,
        # ledger) is built on first use, after the first frame (``load_runtime``).
        app = self.app
        api = Text(clean(app.settings.api_base), style="bold")
        self.query_one("#login-api", Static).update(api)
        sandbox = self.app.sandbox
        if sandbox is not None:
            self.show_sandbox()
            if not getattr(sandbox, "ready", True):
                self.watch_sandbox()
        self.update_wallet()
        source = app.wallet_source
        password = self.password_box()
        if password is not None:
            password.focus()
        else:
            self.query_one("#login-button", Button).focus()
        self.call_after_refresh(self.load_runtime)  # the network after the first paint
        if source.address is None and source.kind in ("env", "generate"):
            # Loading a key imports eth-account (~0.6 s of CPU): let the first frame paint.
            self.call_after_refresh(self.load_wallet)

    def show_sandbox(self) -> None:
        """The embedded sandbox's line: starting, running (and its SMTP port), or failed."""
        sandbox = self.app.sandbox
        widget = self.query_one("#login-sandbox", Static)
        if not getattr(sandbox, "ready", True):
            widget.update(Text("starting sandbox…", style="yellow"))
            return
        error = getattr(sandbox, "error", None)
        if error is not None:
            widget.update(Text(f"failed to start: {clean(str(error), 300)}", style="bold red"))
            return
        local = Text("local, on this machine", style="green")
        smtp = getattr(sandbox, "smtp_port", None)
        if smtp:
            local.append(f"\nmail in: SMTP 127.0.0.1:{smtp}", style="green")
        widget.update(local)

    @work(exclusive=True, group="sandbox", exit_on_error=False)
    async def watch_sandbox(self) -> None:
        """Wait for the sandbox started after the first frame, then say how it went."""
        import asyncio

        sandbox = self.app.sandbox
        if sandbox is None:  # only started with one
            return
        while not sandbox.ready:  # in short waits: never a thread blocked past the app's end
            await asyncio.to_thread(sandbox.wait_ready, 0.5)
        self.show_sandbox()

    @work(exclusive=True, group="wallet", exit_on_error=False)
    async def load_wallet(self) -> None:
        """Load the key off the UI thread to show its address and find a saved session."""
        import asyncio

        from tui.auth.wallet import WalletError

        session = self.app.services.session
        try:
            await asyncio.to_thread(session.wallet_source.load)
        except WalletError as exc:
            self.show_error(str(exc))
            return
        self.update_wallet()
        if session.load_saved() is not None:
            self.post_message(SignedIn(session.info()))

    @on(Button.Pressed, "#login-button")
    def button_pressed(self) -> None:
        """The sign-in button."""
        self.action_sign_in()

    def update_wallet(self) -> None:
        """Show the wallet's address and where it comes from."""
        source = self.app.wallet_source
        text = Text()
        if source.address:
            text.append(source.address, style="bold")
            text.append(f"\n{clean(source.description)}", style="dim")
        elif source.kind == "none":
            text.append("none configured", style="bold red")
            text.append(
                "\nset MAILAGENTS_PRIVATE_KEY, pass --keystore PATH, "
                "or run `mailagents-tui wallet new`",
                style="dim",
            )
        else:
            text.append(clean(source.description), style="bold")
            text.append("\n(address shown after loading)", style="dim")
        self.query_one("#login-wallet", Static).update(text)

    @work(exclusive=True, group="runtime", exit_on_error=False)
    async def load_runtime(self) -> None:
        """Fetch ``/v2/meta/runtime``."""
        from tui.api.errors import MailagentsError

        try:
            runtime = await self.app.services.session.get_runtime(refresh=True)
        except MailagentsError as exc:
            self.post_message(RuntimeLoaded(None, exc.user_message()))
            return
        self.post_message(RuntimeLoaded(runtime))

    @on(RuntimeLoaded)
    def show_runtime(self, event: RuntimeLoaded) -> None:
        """Display chain, auth mode and mailbox domain."""
        widget = self.query_one("#login-runtime", Static)
        if event.runtime is None:
            widget.update(Text(f"unavailable: {clean(event.error)}", style="red"))
            return
        rt = event.runtime
        text = Text()
        text.append(f"{clean(rt.chain_name)} (chain {rt.chain_id})", style="bold")
        text.append(f" · SIWE {clean(rt.siwe_mode)} · payments {clean(rt.payment_mode)}")
        text.append(f"\nmailboxes @{clean(rt.mailbox_domain)}")
        if rt.overage_charge_usdc is not None:
            text.append(f" · {rt.overage_charge_usdc:g} USDC per paid call", style="dim")
        widget.update(text)

    def action_reload_runtime(self) -> None:
        """Fetch the runtime again (saying so at once: the answer may take a while)."""
        self.query_one("#login-runtime", Static).update(Text("loading…", style="dim"))
        self.load_runtime()

    def password_box(self) -> Input | None:
        """The keystore password field (composed only when the keystore needs a password)."""
        try:
            return self.query_one("#login-password", Input)
        except NoMatches:
            return None

    @on(Input.Submitted, "#login-password")
    def password_submitted(self) -> None:
        """Enter in the password field signs in."""
        self.action_sign_in()

    def action_sign_in(self) -> None:
        """Start signing in."""
        self.query_one("#login-error", Static).update("")
        self.query_one("#login-hint", Static).update(Text("Signing in…", style="yellow"))
        box = self.password_box()
        password = (box.value or None) if box is not None else None
        self.signing_in = True
        self.app.type_ahead.clear()
        if box is not None:
            box.disabled = True  # keys typed ahead are not the password
        self.sign_in(password)

    @work(exclusive=True, group="sign-in", exit_on_error=False)
    async def sign_in(self, password: str | None) -> None:
        """Challenge, check, sign, verify (signing runs in a thread)."""
        from tui.api.errors import MailagentsError
        from tui.auth.wallet import WalletError

        try:
            await self.app.services.session.sign_in(password)
        except (MailagentsError, WalletError) as exc:
            message = exc.user_message() if isinstance(exc, MailagentsError) else str(exc)
            self.show_error(message)
            return
        self.post_message(SignedIn(self.app.services.session.info()))

    def show_error(self, message: str) -> None:
        """Show a sign-in failure in place (keys typed ahead are dropped: nothing to run
        them on)."""
        self.signing_in = False
        self.app.type_ahead.clear()
        box = self.password_box()
        if box is not None and box.disabled:
            box.disabled = False
            box.focus()
        self.query_one("#login-hint", Static).update(Text("Press enter to try again.", style="dim"))
        self.query_one("#login-error", Static).update(Text(clean(message, 500), style="bold red"))
        self.update_wallet()

    @on(SignedIn)
    def signed_in(self, event: SignedIn) -> None:
        """Go to the lease list."""
        self.app.after_sign_in()
