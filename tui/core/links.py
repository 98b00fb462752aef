"""Inspect a link from a stranger before anyone opens it: real host, punycode, tricks."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tui.core.sanitize import clean
from tui.extract.links import host_warning

OPENABLE_SCHEMES = ("http", "https")


@dataclass(frozen=True)
class LinkInfo:
    """What a link really points to."""

    url: str
    """The link, cleaned of control characters."""
    scheme: str
    """Lowercased scheme."""
    host: str
    """The host as the browser will contact it (punycode kept)."""
    display_host: str
    """The host decoded from punycode, when it was punycode."""
    warnings: list[str] = field(default_factory=list)
    """Reasons to be careful, for the confirmation dialog."""

    @property
    def openable(self) -> bool:
        """Only http(s) links with a host may be opened."""
        return self.scheme in OPENABLE_SCHEMES and bool(self.host)


def _decode_idna(host: str) -> str:
    labels = []
    for label in host.split("."):
        if label.startswith("xn--"):
            try:
                labels.append(label.encode("ascii").decode("idna"))
            except UnicodeError:
                labels.append(label)
        else:
            labels.append(label)
    return ".".join(labels)


def inspect_link(url: str, anchor_text: str | None = None) -> LinkInfo:
    """Parse ``url`` and list what should make a user hesitate before opening it."""
    text = clean(url, 4000).strip()
    warnings: list[str] = []
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        scheme = parts.scheme.lower()
        userinfo = "@" in parts.netloc
        port = parts.port
    except ValueError:
        return LinkInfo(text, "", "", "", ["the link cannot be parsed"])
    if scheme not in OPENABLE_SCHEMES:
        warnings.append(f"not a web link ({scheme or 'no'} scheme): it will not be opened")
    if scheme == "http":
        warnings.append("unencrypted http")
    display = host
    if any(label.startswith("xn--") for label in host.split(".")):
        display = _decode_idna(host)
    spoof = host_warning(host)
    if spoof:
        warnings.append(spoof)
    if userinfo:
        warnings.append("the part before '@' is not the host: the real host is " + host)
    try:
        ipaddress.ip_address(host)
        warnings.append("the host is a bare IP address")
    except ValueError:
        pass
    if port is not None and port not in (80, 443):
        warnings.append(f"unusual port {port}")
    if anchor_text:
        shown = anchor_text.strip().lower()
        shown_host = ""
        if "." in shown and " " not in shown:
            try:
                shown_host = urlsplit(shown if "//" in shown else "//" + shown).hostname or ""
            except ValueError:
                shown_host = ""
        if shown_host and host and shown_host != host and not host.endswith("." + shown_host):
            warnings.append(f"the link text says {shown_host!r} but it goes to {host!r}")
    return LinkInfo(text, scheme, host, display, warnings)


TEXT_BROWSERS = frozenset({"www-browser", "links", "elinks", "lynx", "w3m", "links2", "browsh"})
"""Browsers that run in the terminal: started under the TUI they would fight it for the screen."""


def open_in_browser(url: str) -> str | None:
    """Open ``url`` in a graphical web browser; None when one took it, else why not.

    ``webbrowser.open`` says False (or raises) where no browser exists, over SSH or on a
    headless machine; a text-mode browser (lynx, w3m...) is not started under the TUI.
    Blocking (the browser may take a moment): call it in a thread.
    """
    import webbrowser

    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return "no web browser is available here (SSH or a headless machine?)"
    name = str(getattr(browser, "name", "") or "")
    if name.rsplit("/", 1)[-1] in TEXT_BROWSERS:
        return f"the only browser here is the text-mode {name}, which would take over the terminal"
    try:
        opened = browser.open(url)
    except Exception as exc:  # webbrowser raises what the launcher raises (OSError...)
        return f"the browser did not start ({type(exc).__name__})"
    return None if opened else "the browser did not start"
