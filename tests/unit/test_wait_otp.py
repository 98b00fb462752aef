"""``wait-otp`` against the sandbox (real SMTP delivery, real HTTP and IMAP, click's runner):
which mail it returns, filters, a custom code shape, JSON, and server guesses it must not trust."""

from __future__ import annotations

import json
import smtplib
from email.message import EmailMessage

import pytest
from click.testing import CliRunner

from tui.cli.root import main

JSON_KEYS = {"code", "link", "message_id", "sender", "subject", "received_at", "source", "doubtful"}


def run(env, *args):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def send(
    port: int,
    to: str,
    subject: str,
    text: str | None = None,
    *,
    sender: str = "Acme <no-reply@acme.test>",
    html: str | None = None,
) -> None:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    if text is not None:
        msg.set_content(text)
        if html is not None:
            msg.add_alternative(html, subtype="html")
    else:
        msg.set_content(html or "", subtype="html")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(msg)


def env_for(server, wallet, tmp_path):
    return {
        "MAILAGENTS_HOME": str(tmp_path / "home"),
        "MAILAGENTS_API_BASE": server.base_url,
        "MAILAGENTS_PRIVATE_KEY": wallet.key.hex(),
        "MAILAGENTS_KEYSTORE_PASSWORD": "",
    }


@pytest.fixture
def api_only(sandbox_factory):
    """A sandbox with SMTP inbound and no IMAP: wait-otp reads the API's list only."""
    return sandbox_factory(smtp_port=0, allocate_hourly_limit=0)


@pytest.fixture(params=["api", "imap"])
def box(request, wallet, tmp_path):
    """(server, env, lease) on both paths: API only, and API + IMAP (the sandbox's Dovecot)."""
    if request.param == "api":
        server = request.getfixturevalue("api_only")
    else:
        server = request.getfixturevalue("imap_sandbox")
    env = env_for(server, wallet, tmp_path)
    lease = json.loads(run(env, "lease", "new", "--json").stdout)
    return server, env, lease, request.param


def wait(env, lease, *args, timeout="15"):
    return run(env, "wait-otp", "--lease", lease["lease_id"], "--timeout", timeout, *args)


def test_a_resent_code_in_the_same_minute_is_returned(box):
    server, env, lease, _path = box
    send(server.smtp_port, lease["address"], "Your code", "Your code is 583920.\n")
    first = wait(env, lease)
    assert first.exit_code == 0, first.output + first.stderr
    assert first.stdout == "583920\n"
    # The user pressed "resend": the same sender, the same subject, the same minute.
    send(server.smtp_port, lease["address"], "Your code", "Your code is 660913.\n")
    second = wait(env, lease)
    assert second.exit_code == 0, second.output + second.stderr
    assert second.stdout == "660913\n"


def test_a_later_call_never_returns_older_mail(box):
    server, env, lease, _path = box
    for code in ("583920", "660913", "804217"):
        send(server.smtp_port, lease["address"], f"Sign-in {code[:2]}", f"Your code is {code}.\n")
    newest = wait(env, lease)
    assert newest.stdout == "804217\n", newest.output + newest.stderr
    again = wait(env, lease, timeout="1")
    assert again.exit_code == 3, again.stdout  # today: 660913, then 583920
    assert "no new code" in again.stderr
    send(server.smtp_port, lease["address"], "Sign-in again", "Your code is 390571.\n")
    assert wait(env, lease).stdout == "390571\n"


def test_fresh_ignores_mail_that_was_there_before(box):
    server, env, lease, _path = box
    send(server.smtp_port, lease["address"], "Your code", "Your code is 583920.\n")
    # Mail present when the command starts is not waited for.
    assert wait(env, lease, "--fresh", timeout="1").exit_code == 3
    # Without --fresh, the mail since the lease began counts.
    assert wait(env, lease).stdout == "583920\n"


def test_filters_select_the_mail(box):
    server, env, lease, path = box
    port, to = server.smtp_port, lease["address"]
    send(port, to, "Acme: your code", "Your code is 111111.\n", sender="Acme <id@acme.test>")
    send(port, to, "Your Beta code", "Your code is 222222.\n", sender="Beta <no-reply@beta.test>")
    send(port, to, "Welcome", "Your code is 333333. ZEBRA\n", sender="Gamma <hi@gamma.test>")
    send(port, to, "Other", "Your code is 444444.\n", sender="Delta <x@delta.test>")
    # Each filter picks an older mail than the newest, oldest first (a later call returns
    # only newer mail than the last one it returned).
    assert wait(env, lease, "--from", "ACME.test").stdout == "111111\n"
    assert wait(env, lease, "--subject", "beta CODE").stdout == "222222\n"
    if path == "imap":  # the body is read over IMAP only
        assert wait(env, lease, "--match", r"\. Z[A-Z]+").stdout == "333333\n"
    last = wait(env, lease, "--match", "^Oth")
    assert last.stdout == "444444\n", last.output + last.stderr
    nothing = wait(env, lease, "--from", "nobody.test", timeout="1")
    assert nothing.exit_code == 3


def test_pattern_is_the_code_shape(box):
    server, env, lease, path = box
    send(
        server.smtp_port,
        lease["address"],
        "Ticket TK-48213 for you",
        "Your order 99812345 shipped. Verification: ab7-k2q\n",
    )
    assert wait(env, lease, "--pattern", r"TK-\d+").stdout == "TK-48213\n"
    if path == "imap":
        send(server.smtp_port, lease["address"], "Again", "Verification: xy4-m8r\n")
        got = wait(env, lease, "--pattern", r"Verification: ([a-z0-9]{3}-[a-z0-9]{3})")
        assert got.stdout == "xy4-m8r\n"


def test_a_bad_pattern_is_a_usage_error(api_only, wallet, tmp_path):
    env = env_for(api_only, wallet, tmp_path)
    for option in ("--pattern", "--match"):
        result = run(env, "wait-otp", "--lease", "x", option, "([a-z")
        assert result.exit_code == 2
        assert "not a valid regular expression" in result.stderr
    assert run(env, "wait-otp", "--lease", "x", "--pattern", "x*").exit_code == 2


def test_json_shape(box):
    server, env, lease, path = box
    send(
        server.smtp_port,
        lease["address"],
        "Your login code",
        "Enter 551234, or open https://acme.test/verify?t=abc\n",
    )
    result = wait(env, lease, "--json")
    assert result.exit_code == 0, result.output + result.stderr
    data = json.loads(result.stdout)
    assert set(data) == JSON_KEYS
    assert data["code"] == "551234"
    assert data["sender"] == "no-reply@acme.test"
    assert data["subject"] == "Your login code"
    assert data["source"] == path
    # Without IMAP the code is the service's reading of a body this client did not read.
    assert data["doubtful"] is (path == "api")
    assert data["received_at"].endswith("Z")
    listed = json.loads(run(env, "messages", "--lease", lease["lease_id"], "--json").stdout)
    assert data["message_id"] == listed[0]["message_id"]
    if path == "imap":
        assert data["link"] == "https://acme.test/verify?t=abc"


def test_a_year_guessed_by_the_server_is_never_returned(sandbox_factory, wallet, tmp_path):
    """The reference service's parser reads ``2026`` from the copyright footer of an HTML-only
    mail (the sandbox's ``parser="reference"``); without IMAP, only that guess reaches us."""
    server = sandbox_factory(smtp_port=0, allocate_hourly_limit=0, parser="reference")
    env = env_for(server, wallet, tmp_path)
    lease = json.loads(run(env, "lease", "new", "--json").stdout)
    html = (
        "<p>Use this code to sign in:</p><p><b>7Q4K9Z</b></p>"
        "<p>&copy; 2026 Shopify Inc., 151 O'Connor Street, Ottawa</p>"
    )
    send(server.smtp_port, lease["address"], "Verify your account", html=html)
    rows = json.loads(run(env, "messages", "--lease", lease["lease_id"], "--json").stdout)
    assert rows[0]["server_otp_code"] == "2026"  # the server's guess
    result = wait(env, lease, timeout="1")
    assert result.exit_code == 3, result.stdout  # today: 2026, exit 0
    assert "2026" not in result.stdout
    assert "ignored the server's guess '2026'" in result.stderr
    assert "year" in result.stderr
    # Nor with a pattern of its shape; and JSON says nothing either.
    assert wait(env, lease, "--pattern", r"\d{4}", "--json", timeout="1").exit_code == 3
    # A real code after it is returned.
    send(server.smtp_port, lease["address"], "Sign in to Acme", "Your code is 804217.\n")
    last = wait(env, lease)
    assert last.stdout == "804217\n", (
        last.stderr + run(env, "messages", "--lease", lease["lease_id"], "--json").stdout
    )


def test_fresh_returns_a_resend_that_arrives_while_it_waits(box, monkeypatch):
    """--fresh skips the mail of its first look only: a resend with the same sender and subject
    in the same minute, arriving after that look, is returned."""
    from tui.core.codepick import CodePicker

    server, env, lease, _path = box
    send(server.smtp_port, lease["address"], "Your code", "Your code is 583920.\n")
    looks = []
    real_pick = CodePicker.pick

    def pick(self, entries, uidvalidity=None):
        picked = real_pick(self, entries, uidvalidity)
        looks.append(len(entries))
        if len(looks) == 1:  # the first look is taken: the user presses "resend"
            send(server.smtp_port, lease["address"], "Your code", "Your code is 660913.\n")
        return picked

    monkeypatch.setattr(CodePicker, "pick", pick)
    result = wait(env, lease, "--fresh")
    assert result.exit_code == 0, result.output + result.stderr
    assert result.stdout == "660913\n"
    assert looks[0] == 1
