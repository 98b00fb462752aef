"""Settings: config.toml under MAILAGENTS_HOME, environment overrides, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.core.settings import DEFAULT_API_BASE, Settings, SettingsError


def write_config(home: Path, text: str) -> None:
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.toml").write_text(text)


def test_defaults_without_a_file(tmp_path):
    s = Settings.load({"MAILAGENTS_HOME": str(tmp_path)})
    assert s.api_base == DEFAULT_API_BASE and s.payment == "auto"
    assert s.state_dir == tmp_path / "state" and s.config_dir == tmp_path / "config"
    assert s.download_dir is None and s.mail_cache is True


def test_file_values_and_environment_overrides(tmp_path):
    write_config(
        tmp_path,
        'api_base = "http://127.0.0.1:9/"\npayment = "never"\ntimeout = 5\nbell = true\n'
        'download_dir = "~/files"\nmail_cache = false\n[poll]\nidle = 30\n'
        '[keymap]\n"inbox.save" = "S"\n',
    )
    s = Settings.load({"MAILAGENTS_HOME": str(tmp_path)})
    assert s.api_base == "http://127.0.0.1:9" and s.payment == "never" and s.timeout == 5.0
    assert s.bell and not s.mail_cache and s.poll.idle == 30.0
    assert s.download_dir == Path("~/files").expanduser()
    assert s.keymap == {"inbox.save": "S"}
    env = {
        "MAILAGENTS_HOME": str(tmp_path),
        "MAILAGENTS_PAYMENT": "ALWAYS",
        "MAILAGENTS_DOWNLOAD_DIR": str(tmp_path / "dl"),
    }
    s = Settings.load(env)
    assert s.payment == "always" and s.download_dir == tmp_path / "dl"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('payment = "sometimes"', "payment must be one of"),
        ('timeout = "soon"', "timeout must be a number"),
        ("this is = not toml =", "cannot read"),
    ],
)
def test_bad_values_are_named(tmp_path, text, needle):
    write_config(tmp_path, text)
    with pytest.raises(SettingsError, match=needle):
        Settings.load({"MAILAGENTS_HOME": str(tmp_path)})
