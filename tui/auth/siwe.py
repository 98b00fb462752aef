"""A compact EIP-4361 (Sign-In with Ethereum) module: build, parse and check messages.

Used by the client (check a challenge before signing it) and by the sandbox (issue and verify
challenges). Pure Python; the EIP-55 checksum comes from ``eth_utils`` and is imported lazily.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

HEADER_SUFFIX = " wants you to sign in with your Ethereum account:"

_ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
_NONCE_RE = re.compile(r"^[A-Za-z0-9]{8,}$")
_CHAIN_RE = re.compile(r"^[0-9]{1,20}$")
_DOMAIN_RE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://)?[^\s/?#]+$")
_FIELD_ORDER = (
    "URI",
    "Version",
    "Chain ID",
    "Nonce",
    "Issued At",
    "Expiration Time",
    "Not Before",
    "Request ID",
)
_REQUIRED = ("URI", "Version", "Chain ID", "Nonce", "Issued At")
EXPECTED_STATEMENTS: tuple[str | None, ...] = ("Sign in to Agent Mail Cloud", None)
"""The statement lines the client signs: the service's own (``SIWE_STATEMENT``'s default), or
none. Any other text is something the user was never asked to agree to."""


class SiweError(ValueError):
    """A message that is not valid EIP-4361 text, or that fails a check."""


@dataclass(frozen=True)
class SiweMessage:
    """The fields of an EIP-4361 message."""

    domain: str
    """The requesting domain, possibly with a scheme and a port (``localhost``, ``a.b:3000``)."""
    address: str
    """The EIP-55 (or any-case) address of the signer, with ``0x``."""
    uri: str
    """The URI the sign-in is for."""
    version: str
    """Always ``1``."""
    chain_id: int
    """The EIP-155 chain id."""
    nonce: str
    """The server's nonce, at least 8 alphanumeric characters."""
    issued_at: str
    """RFC 3339 time the message was issued."""
    statement: str | None = None
    """An optional human-readable line."""
    expiration_time: str | None = None
    """RFC 3339 time after which the message is no longer valid."""
    not_before: str | None = None
    """RFC 3339 time before which the message is not yet valid."""
    request_id: str | None = None
    """An optional opaque request id."""
    resources: tuple[str, ...] = field(default_factory=tuple)
    """Optional list of resource URIs."""

    @property
    def host(self) -> str:
        """The domain's host name, without scheme, user info or port, lowercased."""
        return domain_host(self.domain)

    def to_text(self) -> str:
        """Render the message exactly as EIP-4361 (and the ``siwe`` npm package) does."""
        lines = [f"{self.domain}{HEADER_SUFFIX}", self.address, ""]
        if self.statement is not None:
            lines += [self.statement, ""]
        else:
            lines += [""]
        lines += [
            f"URI: {self.uri}",
            f"Version: {self.version}",
            f"Chain ID: {self.chain_id}",
            f"Nonce: {self.nonce}",
            f"Issued At: {self.issued_at}",
        ]
        if self.expiration_time is not None:
            lines.append(f"Expiration Time: {self.expiration_time}")
        if self.not_before is not None:
            lines.append(f"Not Before: {self.not_before}")
        if self.request_id is not None:
            lines.append(f"Request ID: {self.request_id}")
        if self.resources:
            lines.append("Resources:")
            lines += [f"- {r}" for r in self.resources]
        return "\n".join(lines)


def domain_host(domain: str) -> str:
    """Return the bare lowercase host name of a SIWE domain or a URL."""
    text = domain.strip()
    if "://" not in text:
        text = "//" + text
    try:
        host = urlsplit(text).hostname
    except ValueError:
        host = None
    return (host or "").lower()


def parse_time(value: str) -> datetime:
    """Parse an RFC 3339 timestamp (``Z`` or an offset, optional fraction) to aware UTC."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise SiweError(f"invalid timestamp {value!r}") from exc
    if parsed.tzinfo is None:
        raise SiweError(f"timestamp without a time zone: {value!r}")
    return parsed.astimezone(UTC)


def is_checksum_address(address: str) -> bool:
    """True when ``address`` is a valid EIP-55 mixed-case (or all-lower/upper) address."""
    if not _ADDRESS_RE.match(address):
        return False
    body = address[2:]
    if body == body.lower() or body == body.upper():
        return True
    from eth_utils import to_checksum_address  # lazy: eth_utils is slow to import

    return to_checksum_address(address) == address


def parse(text: str) -> SiweMessage:
    """Parse EIP-4361 text strictly; raise :class:`SiweError` naming what is wrong."""
    if not isinstance(text, str) or not text:
        raise SiweError("empty message")
    if "\r" in text:
        raise SiweError("message lines must end with LF only")
    lines = text.split("\n")
    if len(lines) < 8:
        raise SiweError("message is too short to be EIP-4361")
    domain, address = _parse_head(lines)
    statement, idx = _parse_statement(lines)
    values, resources = _parse_fields(lines, idx)
    _check_values(values)
    return SiweMessage(
        domain=domain,
        address=address,
        uri=values["URI"],
        version="1",
        chain_id=int(values["Chain ID"]),
        nonce=values["Nonce"],
        issued_at=values["Issued At"],
        statement=statement,
        expiration_time=values.get("Expiration Time"),
        not_before=values.get("Not Before"),
        request_id=values.get("Request ID"),
        resources=tuple(resources),
    )


def _parse_head(lines: list[str]) -> tuple[str, str]:
    """(domain, address) from the header line, the address line and the empty line after."""
    header = lines[0]
    if not header.endswith(HEADER_SUFFIX):
        raise SiweError("first line is not an EIP-4361 header")
    domain = header[: -len(HEADER_SUFFIX)]
    if not domain or not _DOMAIN_RE.match(domain):
        raise SiweError(f"invalid domain {domain!r}")
    address = lines[1]
    if not _ADDRESS_RE.match(address):
        raise SiweError("second line is not an Ethereum address")
    if not is_checksum_address(address):
        raise SiweError("address fails its EIP-55 checksum")
    if lines[2] != "":
        raise SiweError("expected an empty line after the address")
    return domain, address


def _parse_statement(lines: list[str]) -> tuple[str | None, int]:
    """(statement or None, index of the first field line), from line 3 on."""
    idx = 3
    statement: str | None = None
    if lines[idx] == "":
        # No statement: EIP-4361 puts two empty lines here.
        idx += 1
    elif not lines[idx].startswith("URI: "):
        statement = lines[idx]
        if lines[idx + 1] != "":
            raise SiweError("expected an empty line after the statement")
        idx += 2
    return statement, idx


def _parse_fields(lines: list[str], idx: int) -> tuple[dict[str, str], list[str]]:
    """The ``Key: value`` fields from line ``idx`` on (each once, in EIP-4361's order), and
    the ``Resources:`` list that may end the message."""
    values: dict[str, str] = {}
    order_pos = 0
    resources: list[str] = []
    while idx < len(lines):
        line = lines[idx]
        idx += 1
        if line == "Resources:":
            for item in lines[idx:]:
                if not item.startswith("- ") or len(item) < 3:
                    raise SiweError(f"invalid resource line {item!r}")
                resources.append(item[2:])
            break
        key, sep, value = line.partition(": ")
        if not sep or key not in _FIELD_ORDER:
            raise SiweError(f"unexpected line {line[:60]!r}")
        pos = _FIELD_ORDER.index(key)
        if pos < order_pos or key in values:
            raise SiweError(f"field {key!r} is out of order or repeated")
        order_pos = pos
        values[key] = value
    return values, resources


def _check_values(values: dict[str, str]) -> None:
    """Every required field present, and each field's value of its shape."""
    for key in _REQUIRED:
        if key not in values:
            raise SiweError(f"missing field {key!r}")
    if values["Version"] != "1":
        raise SiweError(f"unsupported version {values['Version']!r}")
    if not _CHAIN_RE.match(values["Chain ID"]):
        raise SiweError("invalid chain id")
    if not _NONCE_RE.match(values["Nonce"]):
        raise SiweError("invalid nonce")
    uri = values["URI"]
    if ":" not in uri or any(c.isspace() for c in uri):
        raise SiweError("invalid URI")
    for key in ("Issued At", "Expiration Time", "Not Before"):
        if key in values:
            parse_time(values[key])


def check_challenge(
    text: str,
    *,
    api_base: str,
    address: str,
    chain_id: int | None,
    nonce: str | None,
    now: datetime | None = None,
    skew: timedelta = timedelta(minutes=5),
    statements: tuple[str | None, ...] = EXPECTED_STATEMENTS,
) -> SiweMessage:
    """Check a server's challenge before signing it; return it parsed or raise SiweError.

    Sign only what was asked: the domain and the URI must be the host of ``api_base`` (port
    ignored), the address ours, the chain id the runtime's, the nonce the challenge's, the
    statement one of ``statements``; a ``Resources`` list (a grant the client never asked
    for) or a ``Request ID`` is refused; the message must be neither expired nor issued
    implausibly far in the future.
    """
    msg = parse(text)
    _check_scope(msg, domain_host(api_base), statements)
    if msg.address.lower() != address.lower():
        raise SiweError("challenge names a different wallet address: refusing to sign")
    if chain_id is not None and msg.chain_id != int(chain_id):
        raise SiweError(
            f"challenge is for chain {msg.chain_id}, the service runs chain {chain_id}: "
            "refusing to sign"
        )
    if nonce is not None and msg.nonce != nonce:
        raise SiweError("challenge nonce does not match the one issued: refusing to sign")
    _check_times(msg, now or datetime.now(UTC), skew)
    return msg


def _check_scope(msg: SiweMessage, expected_host: str, statements: tuple[str | None, ...]) -> None:
    """What signing would grant: the API's host only, an expected statement, nothing more."""
    if msg.host != expected_host:
        raise SiweError(
            f"challenge is for domain {msg.host!r}, but the API is {expected_host!r}: "
            "refusing to sign"
        )
    if domain_host(msg.uri) != expected_host:
        raise SiweError(
            f"challenge signs in to {_shown(msg.uri)}, not to the API {expected_host!r}: "
            "refusing to sign"
        )
    if msg.statement not in statements:
        raise SiweError(
            f"challenge asks you to agree to {_shown(msg.statement or '')}, which this client "
            "does not expect: refusing to sign"
        )
    if msg.resources:
        more = f" and {len(msg.resources) - 1} more" if len(msg.resources) > 1 else ""
        raise SiweError(
            f"challenge grants access to resources the client never asked for "
            f"({_shown(msg.resources[0])}{more}): refusing to sign"
        )
    if msg.request_id is not None:
        raise SiweError(
            "challenge carries a Request ID the client did not ask for: refusing to sign"
        )


def _check_times(msg: SiweMessage, current: datetime, skew: timedelta) -> None:
    """Issued not in the future, not expired, already valid (within ``skew``)."""
    if parse_time(msg.issued_at) > current + skew:
        raise SiweError("challenge is issued in the future (check the clock): refusing to sign")
    if msg.expiration_time is not None and parse_time(msg.expiration_time) <= current:
        raise SiweError("challenge has expired: request a new one")
    if msg.not_before is not None and parse_time(msg.not_before) > current + skew:
        raise SiweError("challenge is not valid yet: refusing to sign")


def _shown(value: str, limit: int = 80) -> str:
    """A server's text quoted for an error message: control characters escaped, capped."""
    text = value if len(value) <= limit else value[:limit] + "..."
    return repr(text)


def iso_millis(moment: datetime) -> str:
    """Format an aware datetime as ISO-8601 UTC with milliseconds and ``Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
