"""IMAP settings: resolution order (env, sandbox hint, webmail_url, mailbox_domain), refusals."""

from __future__ import annotations

import pytest

from tui.imap import ImapConfigError, ImapReader, ImapSettings, resolve_imap_settings
from tui.imap.settings import is_loopback

HINT = {"imap": {"host": "127.0.0.1", "port": 40143, "security": "plain"}}


def test_default_is_the_webmail_host_on_993_with_tls():
    s = resolve_imap_settings(
        webmail_url="https://mail.example.net/webmail/?x=1",
        runtime_raw={"mailbox_domain": "agents.example"},
        env={},
    )
    assert (s.host, s.port, s.security, s.source) == ("mail.example.net", 993, "tls", "webmail_url")
    assert s.describe() == "mail.example.net:993 (TLS)"


def test_without_webmail_url_the_mailbox_domain():
    s = resolve_imap_settings(
        webmail_url=None, runtime_raw={"mailbox_domain": "agents.example"}, env={}
    )
    assert (s.host, s.port, s.security, s.source) == (
        "agents.example",
        993,
        "tls",
        "mailbox_domain",
    )
    s = resolve_imap_settings(
        webmail_url="",
        runtime_raw={"mailbox_domain": "x.example"},
        mailbox_domain="y.example",
        env={},
    )
    assert s.host == "y.example"


def test_the_sandbox_hint_beats_webmail_url():
    s = resolve_imap_settings(webmail_url="https://mail.example.net", runtime_raw=HINT, env={})
    assert (s.host, s.port, s.security, s.source) == ("127.0.0.1", 40143, "plain", "sandbox")


def test_env_wins_each_value_on_its_own():
    env = {"MAILAGENTS_IMAP_HOST": "imap.example.org"}
    s = resolve_imap_settings(webmail_url="https://mail.example.net", runtime_raw=HINT, env=env)
    assert (s.host, s.port, s.security, s.source) == ("imap.example.org", 993, "tls", "env")
    env = {**env, "MAILAGENTS_IMAP_SECURITY": "STARTTLS"}
    s = resolve_imap_settings(webmail_url=None, runtime_raw={}, env=env)
    assert (s.port, s.security) == (143, "starttls")
    env = {**env, "MAILAGENTS_IMAP_PORT": "1143"}
    assert resolve_imap_settings(runtime_raw={}, env=env).port == 1143
    # port or security alone adjust the hint / the webmail host
    s = resolve_imap_settings(runtime_raw=HINT, env={"MAILAGENTS_IMAP_PORT": "2143"})
    assert (s.host, s.port, s.security) == ("127.0.0.1", 2143, "plain")
    s = resolve_imap_settings(
        webmail_url="https://mail.example.net", env={"MAILAGENTS_IMAP_SECURITY": "starttls"}
    )
    assert (s.host, s.port, s.security) == ("mail.example.net", 143, "starttls")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.9.9.9", "localhost", "::1", "[::1]"])
def test_plain_is_allowed_to_loopback(host):
    env = {"MAILAGENTS_IMAP_HOST": host, "MAILAGENTS_IMAP_SECURITY": "plain"}
    s = resolve_imap_settings(env=env)
    assert s.security == "plain" and s.port == 143 and is_loopback(s.host)


@pytest.mark.parametrize(
    "host", ["mail.example.net", "10.0.0.1", "192.168.1.2", "localhost.evil.com"]
)
def test_plain_is_refused_for_other_hosts(host):
    env = {"MAILAGENTS_IMAP_HOST": host, "MAILAGENTS_IMAP_SECURITY": "plain"}
    with pytest.raises(ImapConfigError) as info:
        resolve_imap_settings(env=env)
    assert "loopback" in str(info.value) and host in str(info.value)
    with pytest.raises(ImapConfigError):
        ImapSettings(host=host, port=143, security="plain")
    # a hint from a (hostile) server cannot turn plaintext on for a public host either
    with pytest.raises(ImapConfigError):
        resolve_imap_settings(
            runtime_raw={"imap": {"host": host, "port": 143, "security": "plain"}}
        )


def test_reader_refuses_plain_to_a_public_host_even_when_built_by_hand():
    settings = ImapSettings(host="127.0.0.1", port=143, security="plain")
    object.__setattr__(settings, "host", "mail.example.net")
    with pytest.raises(ImapConfigError):
        ImapReader(settings, "a@b", "pw")


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"env": {}}, "no host"),
        ({"env": {"MAILAGENTS_IMAP_HOST": "h.example", "MAILAGENTS_IMAP_PORT": "x"}}, "port"),
        ({"env": {"MAILAGENTS_IMAP_HOST": "h.example", "MAILAGENTS_IMAP_PORT": "70000"}}, "range"),
        ({"env": {"MAILAGENTS_IMAP_HOST": "h.example", "MAILAGENTS_IMAP_SECURITY": "ssl"}}, "tls"),
    ],
)
def test_unusable_values_are_clear_errors(kwargs, words):
    with pytest.raises(ImapConfigError) as info:
        resolve_imap_settings(**kwargs)
    assert words in str(info.value)


def test_env_defaults_to_os_environ(monkeypatch):
    monkeypatch.setenv("MAILAGENTS_IMAP_HOST", "imap.from-env.example")
    assert (
        resolve_imap_settings(webmail_url="https://mail.example.net").host
        == "imap.from-env.example"
    )
