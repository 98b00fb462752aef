"""The login screen's first frame parses only ``app.tcss``; every other screen's and dialog's
rules (``screens.tcss``) join the stylesheet before the first of them is shown, however it is
shown (issue 16, first frame). The snapshot tests check that nothing looks different."""

from __future__ import annotations

from pathlib import Path

from support import until
from textual.screen import ModalScreen

from tui.app import make_app
from tui.app.app import MailagentsApp
from tui.app.dialogs.confirm import ConfirmDialog
from tui.app.screens.login import LoginScreen
from tui.core.settings import Settings
from tui.core.wallets import WalletSource

SCREENS_TCSS = str(MailagentsApp.SCREEN_STYLES)


def new_app(tmp_path: Path) -> MailagentsApp:
    settings = Settings(home=tmp_path).with_overrides(api_base="http://127.0.0.1:9")
    return make_app(settings, wallet_source=WalletSource(kind="generate", description="test"))


def sources(app: MailagentsApp) -> list[str]:
    return [path for path, _ in app.stylesheet.source]


async def test_the_login_screen_is_shown_without_the_other_screens_styles(tmp_path):
    app = new_app(tmp_path)
    async with app.run_test(size=(110, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        await pilot.pause()
        assert not app.screen_styles_loaded
        assert SCREENS_TCSS not in sources(app)
        assert any(path.endswith("app.tcss") for path in sources(app))
        box = app.screen.query_one("#login-box")
        assert box.styles.width is not None and box.styles.width.value == 96  # app.tcss
        # Nor widgets it would not show: no sandbox line without a sandbox, no password
        # field for a key that needs none (the first frame styles every widget composed).
        assert not app.screen.query("#login-sandbox-row, #login-password")


async def test_a_dialog_pushed_at_once_has_its_rules(tmp_path):
    """Pushed before anything else loaded them (a key typed during the start, a test)."""
    app = new_app(tmp_path)
    async with app.run_test(size=(110, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        assert not app.screen_styles_loaded
        await app.push_screen(ConfirmDialog("Release it?"))
        await pilot.pause()
        assert app.screen_styles_loaded and SCREENS_TCSS in sources(app)
        dialog = app.screen
        assert isinstance(dialog, ModalScreen)
        assert (dialog.styles.align_horizontal, dialog.styles.align_vertical) == (
            "center",
            "middle",
        )
        box = dialog.query_one(".dialog")
        assert box.styles.width is not None and box.styles.width.value == 72
        assert dialog.query_one(".dialog-buttons").styles.align_horizontal == "right"
        # Once: the next dialog finds them in place.
        count = len(app.stylesheet.rules)
        app.pop_screen()
        await app.push_screen(ConfirmDialog("Again?"))
        await pilot.pause()
        assert len(app.stylesheet.rules) == count


async def test_the_screens_rules_keep_their_precedence_over_widget_defaults(tmp_path):
    """``screens.tcss`` is the app's CSS as ``app.tcss`` is: its rules beat a widget's
    DEFAULT_CSS (``.dialog Input`` sets the margin Input's defaults leave at 0)."""
    from textual.containers import Vertical
    from textual.widgets import Input

    class WithInput(ModalScreen[None]):
        def compose(self):
            with Vertical(classes="dialog"):
                yield Input(id="field")

    app = new_app(tmp_path)
    async with app.run_test(size=(110, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        await app.push_screen(WithInput())
        await pilot.pause()
        assert app.screen.query_one("#field").styles.margin.bottom == 1


async def test_a_screen_shown_the_first_time_is_styled_once(tmp_path):
    """Textual styles each widget as it mounts and, when a screen is first shown, every node
    again (most of opening the inbox under load, issue 16): that second pass is skipped the
    first time (tui.app.first_resume), and kept when a screen is shown again."""
    from textual import events

    app = new_app(tmp_path)
    async with app.run_test(size=(110, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        app.load_screen_styles()  # (which restyles the login screen, once)
        await pilot.pause()
        restyled: list[int] = []
        real = app.stylesheet.update_nodes

        def counting(nodes, animate=False):
            nodes = list(nodes)
            restyled.append(len(nodes))
            return real(nodes, animate=animate)

        app.stylesheet.update_nodes = counting  # type: ignore[method-assign]
        await app.push_screen(ConfirmDialog("Release it?"))
        await pilot.pause()
        dialog = app.screen
        nodes = len(list(dialog.walk_children(with_self=True)))
        assert nodes > 5 and all(count < nodes for count in restyled)
        restyled.clear()
        dialog.post_message(events.ScreenResume())  # (as Textual sends on a switch of screens)
        await pilot.pause()
        assert max(restyled) >= nodes  # shown again: restyled whole, as Textual does


def test_every_screen_and_dialog_is_styled_once():
    """Each screen and dialog of the app has StyledOnce ahead of Textual's Screen in its
    bases (docs/ARCHITECTURE.md), so its handler runs before Textual's."""
    import importlib
    import inspect
    import pkgutil

    from textual.screen import Screen

    import tui.app
    from tui.app.first_resume import StyledOnce

    found = []
    for info in pkgutil.walk_packages(tui.app.__path__, "tui.app."):
        module = importlib.import_module(info.name)
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == info.name and issubclass(cls, Screen):
                found.append(cls)
                mro = cls.__mro__
                assert StyledOnce in mro and mro.index(StyledOnce) < mro.index(Screen), cls
    assert len(found) >= 20
