"""The installed ``mailagents-tui admin`` in a real 80x24 terminal (tmux): suspend a tenant
from the console, and that tenant's next allocation fails."""

from __future__ import annotations

import os
import shutil

import pytest
from terminal import COMMAND, Terminal, app_env

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def test_suspend_a_tenant_from_the_console(sandbox_factory, session_factory, tmp_path):
    server = sandbox_factory(allocate_hourly_limit=0)
    tenant = session_factory(server)
    assert tenant.allocate().status_code == 201
    token_file = tmp_path / "admin-token"
    token_file.write_text(server.config.admin_token)
    os.chmod(token_file, 0o600)
    env = app_env(tmp_path / "home")
    command = [
        COMMAND,
        "--api-base",
        server.base_url,
        "admin",
        "--admin-token-file",
        str(token_file),
    ]
    term = Terminal(command, env, width=80, height=24)
    try:
        term.wait_for("Active tenants 24 h")
        term.send("2")  # the Tenants tab
        screen = term.wait_for(tenant.tenant_id[:30])
        assert "active" in screen
        term.send("u")
        term.wait_for("Suspend tenant")
        term.send("y")
        term.wait_for("suspended")
        r = tenant.allocate()
        assert r.status_code == 403
        assert r.json() == {"error": "tenant_inactive", "message": "Tenant is suspended"}
        term.send("q")
        term.wait_for("EXITED:0")
    finally:
        term.close()
