"""A local Ethereum wallet: a private key from the environment or an encrypted keystore.

``eth_account`` costs about 0.6 s to import, so it is imported only when a key is used
(signing, decrypting, creating), never at start-up, and always through
:func:`tui.limits.import_eth_account`, which keeps the interpreter's recursion limit sane.
The key never leaves this object: it is not logged, printed or written unless encrypted
into a keystore.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from tui import limits
from tui.jsontypes import JsonObject
from tui.limits import encode_defunct, eth_account_class

_HEX_KEY_RE = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


class WalletError(ValueError):
    """A key or keystore that cannot be used; the message is safe to show (no secrets)."""


class Wallet:
    """A signing key held in memory. ``repr`` never shows the key."""

    def __init__(self, private_key: bytes, address: str) -> None:
        self._key = private_key
        self.address = address
        """EIP-55 checksummed address."""

    def __repr__(self) -> str:
        return f"Wallet({self.address})"

    @classmethod
    def from_private_key(cls, key: str) -> Wallet:
        """Load a hex private key (with or without ``0x``)."""
        text = key.strip()
        if not _HEX_KEY_RE.match(text):
            raise WalletError("the private key must be 64 hex characters (optionally 0x-prefixed)")
        accounts = eth_account_class()

        raw = bytes.fromhex(text[2:] if text.startswith("0x") else text)
        try:
            account = accounts.from_key(raw)
        except Exception as exc:  # invalid scalar (zero, above the curve order)
            raise WalletError("the private key is not a valid secp256k1 key") from exc
        return cls(raw, account.address)

    @classmethod
    def generate(cls) -> Wallet:
        """A fresh random wallet (the sandbox's throwaway identity)."""
        accounts = eth_account_class()

        account = accounts.create()
        return cls(bytes(account.key), account.address)

    @classmethod
    def from_keystore(cls, path: Path, password: str) -> Wallet:
        """Decrypt a Web3 Secret Storage (v3) keystore file."""
        data = read_keystore(path)
        accounts = eth_account_class()

        try:
            raw = accounts.decrypt(data, password)
        except ValueError as exc:
            if "MAC mismatch" not in str(exc):
                raise WalletError(
                    f"cannot decrypt {path}: the keystore is damaged ({exc})"
                ) from exc
            raise WalletError(f"cannot decrypt {path}: wrong password?") from exc
        except Exception as exc:  # a damaged keystore: KeyError, TypeError... from eth-account
            raise WalletError(
                f"cannot decrypt {path}: the keystore is damaged or of an unsupported kind "
                f"({type(exc).__name__} {str(exc)[:60]})"
            ) from exc
        try:
            account = accounts.from_key(raw)
        except Exception as exc:  # a keystore holding something that is not a valid key
            raise WalletError(f"{path} does not hold a valid secp256k1 key") from exc
        return cls(bytes(raw), account.address)

    def sign_message(self, text: str) -> str:
        """EIP-191 ``personal_sign`` of UTF-8 ``text``; hex signature with ``0x``."""
        signed = eth_account_class().sign_message(encode_defunct(text), private_key=self._key)
        sig = signed.signature.hex()
        return sig if sig.startswith("0x") else "0x" + sig

    def write_keystore(self, path: Path, password: str) -> None:
        """Encrypt the key into a keystore file with mode 0600 (refuses to overwrite)."""
        if not password:
            raise WalletError("a keystore needs a non-empty password")
        accounts = eth_account_class()

        from tui.files import FileRefused, create_private_dirs

        data = accounts.encrypt(self._key, password)
        try:
            create_private_dirs(path.parent)
        except FileRefused as exc:
            raise WalletError(str(exc)) from exc
        try:
            fd = os.open(
                path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600
            )
        except FileExistsError as exc:
            raise WalletError(f"{path} already exists: not overwriting a keystore") from exc
        except OSError as exc:
            raise WalletError(f"cannot write {path}: {exc.strerror}") from exc
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)


def read_keystore(path: Path) -> JsonObject:
    """Read a keystore's JSON (no decryption)."""
    from tui.files import MAX_SMALL_FILE, FileRefused, read_bounded

    try:
        data = limits.loads(read_bounded(path, MAX_SMALL_FILE, what="keystore"))
    except FileNotFoundError as exc:
        raise WalletError(f"keystore {path} does not exist") from exc
    except FileRefused as exc:
        raise WalletError(str(exc)) from exc
    except ValueError as exc:
        raise WalletError(f"keystore {path} is not readable JSON") from exc
    crypto = data.get("crypto", data.get("Crypto")) if isinstance(data, dict) else None
    if not isinstance(crypto, dict):
        raise WalletError(f"{path} is not an Ethereum keystore file")
    missing = [
        k
        for k in ("cipher", "cipherparams", "ciphertext", "kdf", "kdfparams", "mac")
        if k not in crypto
    ]
    if missing:
        raise WalletError(f"keystore {path} is damaged: crypto.{missing[0]} is missing")
    return data


def keystore_address(path: Path) -> str | None:
    """The address stored in a keystore, readable without the password (None if absent)."""
    data = read_keystore(path)
    address = data.get("address")
    if isinstance(address, str) and re.fullmatch(r"(0x)?[0-9a-fA-F]{40}", address):
        return address if address.startswith("0x") else "0x" + address
    return None
