"""``--sandbox`` starts its server after the TUI's first frame (issue 16): the port is bound
first, a request sent before the server runs waits for it, a failed start closes the port."""

from __future__ import annotations

import threading

import httpx
import pytest

from tui.sandbox.config import SandboxConfig
from tui.sandbox.embedded import DeferredSandbox


def config(**overrides):
    return SandboxConfig(**{"db_path": ":memory:", "port": 0, "smtp_port": 0, **overrides})


def test_the_port_is_known_first_and_an_early_request_waits_for_the_server():
    sandbox = DeferredSandbox(config())
    try:
        assert sandbox.base_url == f"http://127.0.0.1:{sandbox.port}"
        assert not sandbox.ready and sandbox.smtp_port is None and sandbox.server is None
        answers: list[int] = []
        early = threading.Thread(
            target=lambda: answers.append(
                httpx.get(f"{sandbox.base_url}/healthz", timeout=60).status_code
            )
        )
        early.start()  # connects now: waits in the listen backlog
        sandbox.start_in_background()
        assert sandbox.wait_ready(60)
        early.join(60)
        assert answers == [200]
        assert sandbox.ready and sandbox.error is None
        assert sandbox.server is not None and sandbox.server.port == sandbox.port
        assert sandbox.smtp_port == sandbox.server.smtp_port is not None
        sandbox.start()  # once only
        assert httpx.get(f"{sandbox.base_url}/healthz").json()["status"] == "ok"
    finally:
        sandbox.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{sandbox.base_url}/healthz", timeout=5)


def test_stopped_before_it_started_closes_the_port():
    sandbox = DeferredSandbox(config())
    sandbox.stop()
    assert sandbox.ready and sandbox.server is None
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{sandbox.base_url}/healthz", timeout=5)
    sandbox.start()  # after stop: nothing starts
    assert sandbox.server is None


def test_a_failed_start_is_reported_and_closes_the_port(tmp_path):
    # a database path that cannot be opened makes the server fail to build
    sandbox = DeferredSandbox(config(db_path=str(tmp_path)))  # a directory
    sandbox.start_in_background()
    assert sandbox.wait_ready(60) is False
    assert sandbox.error is not None
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{sandbox.base_url}/healthz", timeout=5)
    sandbox.stop()


async def test_the_login_screen_paints_before_the_sandbox_runs(tmp_path, monkeypatch):
    """The first frame says "starting sandbox…"; the server starts after it; then the line
    shows the running sandbox and its SMTP port, and the runtime comes from it."""
    from textual.widgets import Static

    from tests.support import make_settings, until
    from tui.app.app import make_app
    from tui.core.wallets import throwaway_wallet_source

    sandbox = DeferredSandbox(config())
    seen_at_start: list[tuple[bool, str]] = []
    real_start = sandbox.start_in_background
    app = make_app(
        make_settings(sandbox.base_url, tmp_path / "home"),
        wallet_source=throwaway_wallet_source(),
        sandbox=sandbox,
    )

    def start_in_background() -> None:
        line = app.screen.query_one("#login-sandbox", Static)
        seen_at_start.append((sandbox.ready, str(line.render())))
        real_start()

    monkeypatch.setattr(sandbox, "start_in_background", start_in_background)
    try:
        async with app.run_test() as pilot:
            line = lambda: str(app.screen.query_one("#login-sandbox", Static).render())  # noqa: E731
            runtime = lambda: str(app.screen.query_one("#login-runtime", Static).render())  # noqa: E731
            await until(pilot, lambda: seen_at_start, timeout=30)
            assert seen_at_start == [(False, "starting sandbox…")]
            await until(pilot, lambda: "local, on this machine" in line(), timeout=60)
            assert f"SMTP 127.0.0.1:{sandbox.smtp_port}" in line()
            await until(pilot, lambda: "Base Sepolia" in runtime(), timeout=60)
    finally:
        sandbox.stop()
