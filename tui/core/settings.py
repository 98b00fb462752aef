"""Settings: one typed object from a TOML file, overridden by ``MAILAGENTS_*`` variables.

``MAILAGENTS_HOME`` relocates every file the app reads or writes (tests and the sandbox use
it). Nothing is created at import time; directories appear when something is written.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeAlias

DEFAULT_API_BASE = "https://api.mailagents.net"
APP_NAME = "mailagents-tui"
PAYMENT_POLICIES = ("auto", "always", "never")

ConfigTable: TypeAlias = dict[str, Any]
"""A ``config.toml`` table (or the environment values beside it) as read, before its values
are checked (:func:`check_config_table`, then the ``_apply_*`` steps)."""


class SettingsError(ValueError):
    """A setting with an unusable value; the message names it."""


@dataclass(frozen=True)
class PollSettings:
    """Poll intervals in seconds (used by :mod:`tui.core.poller`, which re-exports it)."""

    fast: float = 1.0
    """Just after the user acted (``u``, copying a code...), for :attr:`acted_window`."""
    waiting: float = 4.0
    """While a fresh lease waits for its first mail (30 calls in its first two minutes; a
    mail shows within about 4 s), and while ``wait-otp`` waits."""
    normal: float = 5.0
    """While mail arrived recently."""
    idle: float = 20.0
    """After :attr:`idle_after` seconds without new mail (3 calls a minute)."""
    idle_after: float = 120.0
    """Quiet time before :attr:`idle`."""
    waiting_window: float = 120.0
    """A lease younger than this with no mail yet is polled every :attr:`waiting` seconds
    (and ``wait-otp`` polls at that pace for this long)."""
    acted_window: float = 10.0
    """How long a user action keeps polling :attr:`fast`."""
    confirm: float = 120.0
    """While IMAP is live (IDLE does the waiting): the API is asked only this often, to
    confirm what IMAP shows (at most 5 calls in ten minutes)."""
    backoff_base: float = 2.0
    """First retry delay after a failure."""
    backoff_max: float = 60.0
    """Longest retry delay."""
    page_limit: int = 100
    """``limit`` of each request (the API allows 1..100)."""


@dataclass(frozen=True)
class Settings:
    """Everything configurable, resolved."""

    api_base: str = DEFAULT_API_BASE
    """API base URL (``MAILAGENTS_API_BASE`` / ``--api-base``)."""
    home: Path | None = None
    """``MAILAGENTS_HOME``: when set, config and state live under it."""
    keystore: Path | None = None
    """Encrypted keystore to sign with (``MAILAGENTS_KEYSTORE`` / ``--keystore``)."""
    payment: str = "auto"
    """Payment-proof policy: auto, always or never (``MAILAGENTS_PAYMENT``)."""
    timeout: float = 20.0
    """HTTP timeout in seconds."""
    bell: bool = False
    """Ring the terminal bell when a new code arrives."""
    keymap: dict[str, str] = field(default_factory=dict)
    """Binding id -> keys, passed to ``App.set_keymap``."""
    release_timeout: float = 10.0
    """Seconds allowed to release this run's leases on exit."""
    poll: PollSettings = field(default_factory=PollSettings)
    """Inbox poll intervals (``[poll]`` table: fast, normal, idle, idle_after...)."""
    download_dir: Path | None = None
    """Folder first offered for saving attachments (``MAILAGENTS_DOWNLOAD_DIR``; default
    ``~/Downloads`` when it exists, else the home folder)."""
    mail_cache: bool = True
    """Keep the mail read over IMAP on disk (0600) until the lease is released, so a reopened
    inbox fetches only what is new (``mail_cache = false`` keeps nothing)."""
    profile: str | None = None
    """The active profile (``--profile`` / ``MAILAGENTS_PROFILE``, a ``[profiles.NAME]`` table
    of ``config.toml``): its settings over the file's, and its own session, ledger, mail cache
    and default keystore."""
    private_key_env: str | None = None
    """The environment variable holding the signing key instead of ``MAILAGENTS_PRIVATE_KEY``
    (``private_key_env``, typically in a profile)."""

    @property
    def config_dir(self) -> Path:
        """Where ``config.toml`` lives."""
        if self.home is not None:
            return self.home / "config"
        from platformdirs import user_config_path

        return user_config_path(APP_NAME)

    @property
    def state_dir(self) -> Path:
        """Where the session, ledger and drafts live (0700); a profile's under ``profiles/``."""
        if self.home is not None:
            root = self.home / "state"
        else:
            from platformdirs import user_state_path

            root = user_state_path(APP_NAME)
        return root / "profiles" / self.profile if self.profile else root

    @property
    def sessions_path(self) -> Path:
        """``sessions.json``: the saved sign-ins (``SessionManager`` reads and writes it)."""
        return self.state_dir / "sessions.json"

    @property
    def default_keystore(self) -> Path:
        """Where ``wallet new`` writes and the app looks when no keystore is named."""
        if self.profile:
            return self.config_dir / "profiles" / self.profile / "keystore.json"
        return self.config_dir / "keystore.json"

    def with_overrides(self, **values: Any) -> Settings:
        """A copy with some fields replaced (``None`` values are ignored)."""
        clean = {k: v for k, v in values.items() if v is not None}
        if "api_base" in clean:
            clean["api_base"] = normalize_api_base(clean["api_base"])
        return replace(self, **clean)

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, profile: str | None = None) -> Settings:
        """Read the TOML file (if any) and apply environment overrides.

        With a profile (``profile``, else ``MAILAGENTS_PROFILE``), its ``[profiles.NAME]``
        table overrides the file's top-level settings; environment variables override both.
        """
        env = os.environ if env is None else env
        home = Path(env["MAILAGENTS_HOME"]).expanduser() if env.get("MAILAGENTS_HOME") else None
        base = cls(home=home)
        path = base.config_dir / "config.toml"
        values = read_config(path)
        name = profile or env.get("MAILAGENTS_PROFILE") or None
        profiles = values.pop("profiles", None)
        if name is not None:
            values = {**values, **_profile_table(profiles, name, path)}
            base = replace(base, profile=name)
        mapping: ConfigTable = {  # raw TOML and environment values, checked below
            "api_base": env.get("MAILAGENTS_API_BASE") or values.get("api_base"),
            "keystore": env.get("MAILAGENTS_KEYSTORE") or values.get("keystore"),
            "payment": env.get("MAILAGENTS_PAYMENT") or values.get("payment"),
            "timeout": values.get("timeout"),
            "bell": values.get("bell"),
            "keymap": values.get("keymap"),
            "release_timeout": values.get("release_timeout"),
            "poll": values.get("poll"),
            "download_dir": env.get("MAILAGENTS_DOWNLOAD_DIR") or values.get("download_dir"),
            "mail_cache": values.get("mail_cache"),
            "private_key_env": values.get("private_key_env"),
        }
        return _apply_preferences(_apply_connection(base, mapping), mapping)


def _profile_table(profiles: object, name: str, path: Path) -> ConfigTable:
    """The ``[profiles.NAME]`` table of the config file at ``path``; SettingsError without."""
    table = profiles.get(name) if isinstance(profiles, dict) else None
    if not PROFILE_NAME.fullmatch(name) or not isinstance(table, dict):
        known = ", ".join(sorted(profiles)) if isinstance(profiles, dict) else ""
        raise SettingsError(
            f"no profile {name!r}: add a [profiles.{name}] table to {path}"
            + (f" (profiles: {known})" if known else "")
        )
    return table


def _apply_connection(settings: Settings, mapping: ConfigTable) -> Settings:
    """``settings`` with the raw API base, keystore, payment policy and timeouts applied
    (checked: a bad value raises SettingsError)."""
    if mapping["api_base"] is not None:
        settings = settings.with_overrides(api_base=str(mapping["api_base"]))
    if mapping["keystore"]:
        settings = replace(settings, keystore=Path(str(mapping["keystore"])).expanduser())
    if mapping["payment"] is not None:
        payment = str(mapping["payment"]).strip().lower()
        if payment not in PAYMENT_POLICIES:
            raise SettingsError(f"payment must be one of {', '.join(PAYMENT_POLICIES)}")
        settings = replace(settings, payment=payment)
    for key in ("timeout", "release_timeout"):
        if mapping[key] is not None:
            try:
                number = float(mapping[key])
            except (TypeError, ValueError) as exc:
                raise SettingsError(f"{key} must be a number") from exc
            if not 0 < number < float("inf"):
                raise SettingsError(f"{key} must be a positive number of seconds")
            if key == "timeout":
                settings = replace(settings, timeout=number)
            else:
                settings = replace(settings, release_timeout=number)
    return settings


def _apply_preferences(settings: Settings, mapping: ConfigTable) -> Settings:
    """``settings`` with the raw bell, mail cache, download folder, poll table, key variable
    and keymap applied (checked: a bad value raises SettingsError)."""
    if mapping["bell"] is not None:
        settings = replace(settings, bell=mapping["bell"])
    if mapping["mail_cache"] is not None:
        settings = replace(settings, mail_cache=mapping["mail_cache"])
    if mapping["download_dir"]:
        folder = Path(str(mapping["download_dir"])).expanduser()
        settings = replace(settings, download_dir=folder)
    if mapping["poll"] is not None:
        settings = replace(settings, poll=poll_settings(mapping["poll"]))
    if mapping["private_key_env"] is not None:
        variable = str(mapping["private_key_env"]).strip()
        if not ENV_NAME.fullmatch(variable):
            raise SettingsError("private_key_env must name an environment variable")
        settings = replace(settings, private_key_env=variable)
    if mapping["keymap"] is not None:
        settings = replace(settings, keymap=dict(mapping["keymap"]))
    return settings


PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
"""A profile name: it names a folder, so no separators and no leading dot."""
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


CONFIG_TYPES: dict[str, tuple[type, ...]] = {
    "api_base": (str,),
    "keystore": (str,),
    "payment": (str,),
    "timeout": (int, float),
    "release_timeout": (int, float),
    "bell": (bool,),
    "mail_cache": (bool,),
    "download_dir": (str,),
    "poll": (dict,),
    "keymap": (dict,),
    "private_key_env": (str,),
    "profiles": (dict,),
}
"""The type each ``config.toml`` key must have (a new setting adds its line here)."""

_TYPE_NAMES = {str: "a string", int: "a number", float: "a number", bool: "true or false"}


def read_config(path: Path) -> ConfigTable:
    """``config.toml`` as a table, every key checked by name and type ({} without a file).

    Raises :class:`SettingsError` naming the file, the key and what it must be.
    """
    from tui.files import MAX_SMALL_FILE, FileRefused, read_bounded

    try:
        raw = read_bounded(path, MAX_SMALL_FILE, what="config file")
    except FileNotFoundError:
        return {}
    except FileRefused as exc:
        raise SettingsError(str(exc)) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SettingsError(f"cannot read {path}: not UTF-8 text (byte {exc.start})") from exc
    import tomllib  # only when there is a file (the TUI's start often has none)

    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"cannot read {path}: {exc}") from exc
    check_config_table(path, values, "")
    for name, table in values.get("profiles", {}).items():
        if not isinstance(table, dict):
            raise SettingsError(f"{path}: profiles.{name} must be a table")
        if "profiles" in table:
            raise SettingsError(f"{path}: profiles.{name} cannot hold profiles")
        check_config_table(path, table, f"profiles.{name}.")
    return values


def check_config_table(path: Path, values: ConfigTable, prefix: str) -> None:
    """Every key of a ``config.toml`` table known and of its type (:data:`CONFIG_TYPES`)."""
    for key, value in values.items():
        kinds = CONFIG_TYPES.get(key)
        if kinds is None:
            known = ", ".join(sorted(CONFIG_TYPES))
            raise SettingsError(f"{path}: unknown setting {prefix}{key!r} (known: {known})")
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            what = "a table" if dict in kinds else _TYPE_NAMES[kinds[0]]
            raise SettingsError(
                f"{path}: {prefix}{key} must be {what}, not {type(value).__name__} {value!r:.40}"
            )
    for binding, keys in values.get("keymap", {}).items():
        if not isinstance(keys, str):
            raise SettingsError(f"{path}: {prefix}keymap {binding!r} must be a string of keys")


def list_profiles(env: Mapping[str, str] | None = None) -> dict[str, ConfigTable]:
    """The ``[profiles.NAME]`` tables of ``config.toml``, by name."""
    env = os.environ if env is None else env
    home = Path(env["MAILAGENTS_HOME"]).expanduser() if env.get("MAILAGENTS_HOME") else None
    profiles = read_config(Settings(home=home).config_dir / "config.toml").get("profiles")
    if not isinstance(profiles, dict):
        return {}
    return {str(k): v for k, v in profiles.items() if isinstance(v, dict)}


def poll_settings(values: ConfigTable) -> PollSettings:
    """``[poll]`` from the TOML file, validated (seconds, positive)."""
    known = {f.name for f in fields(PollSettings)}
    unknown = set(values) - known
    if unknown:
        raise SettingsError(f"unknown [poll] setting(s): {', '.join(sorted(unknown))}")
    clean: dict[str, Any] = {}  # checked numbers, splatted into PollSettings
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise SettingsError(f"[poll] {key} must be a positive number")
        clean[key] = int(value) if key == "page_limit" else float(value)
    if "page_limit" in clean and not 1 <= clean["page_limit"] <= 100:
        raise SettingsError("[poll] page_limit must be 1..100")
    return PollSettings(**clean)


def normalize_api_base(value: str) -> str:
    """Validate an API base URL and drop its trailing slash."""
    text = value.strip().rstrip("/")
    if not (text.startswith("http://") or text.startswith("https://")) or len(text) < 10:
        raise SettingsError(f"API base must be an http(s) URL, got {value!r}")
    return text
