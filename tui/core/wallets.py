"""Where the signing wallet comes from: environment key, keystore, or a throwaway one."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tui.auth.wallet import Wallet, WalletError, keystore_address

if TYPE_CHECKING:
    from tui.core.settings import Settings

ENV_KEY = "MAILAGENTS_PRIVATE_KEY"
ENV_PASSWORD = "MAILAGENTS_KEYSTORE_PASSWORD"


@dataclass
class WalletSource:
    """A wallet that can be loaded on demand (loading imports eth-account: do it off the UI)."""

    kind: str
    """``env``, ``keystore``, ``memory``, ``generate`` (a throwaway key) or ``none``."""
    description: str
    """Human description for the login screen (never the key)."""
    address: str | None = None
    """The address when known before loading (keystore files carry it)."""
    keystore: Path | None = None
    """The keystore file, for ``keystore``."""
    password: str | None = None
    """Keystore password from the environment, if given."""
    _key: str | None = None
    _wallet: Wallet | None = None

    def __repr__(self) -> str:
        return f"WalletSource({self.kind}, {self.address})"

    @property
    def needs_password(self) -> bool:
        """True when loading needs a password that was not given."""
        return self.kind == "keystore" and self._wallet is None and not self.password

    @property
    def loaded(self) -> Wallet | None:
        """The wallet once loaded."""
        return self._wallet

    def load(self, password: str | None = None) -> Wallet:
        """Load (once) and return the wallet. Slow the first time: call it in a thread."""
        if self._wallet is not None:
            return self._wallet
        if self.kind == "env" and self._key is not None:
            wallet = Wallet.from_private_key(self._key)
        elif self.kind == "generate":
            wallet = Wallet.generate()
        elif self.kind == "keystore" and self.keystore is not None:
            secret = password if password is not None else self.password
            if not secret:
                raise WalletError(f"the keystore {self.keystore} needs its password")
            wallet = Wallet.from_keystore(self.keystore, secret)
        elif self.description.endswith(" is not set"):
            raise WalletError(f"no wallet: {self.description} (private_key_env of the profile)")
        else:
            raise WalletError(
                "no wallet: set MAILAGENTS_PRIVATE_KEY, pass --keystore PATH, "
                "or create one with `mailagents-tui wallet new`"
            )
        self._key = None
        self._wallet = wallet
        self.address = wallet.address
        return wallet

    @classmethod
    def of(cls, wallet: Wallet, description: str = "in-memory wallet") -> WalletSource:
        """Wrap an already loaded wallet."""
        return cls(kind="memory", description=description, address=wallet.address, _wallet=wallet)


def throwaway_wallet_source() -> WalletSource:
    """A new random wallet, created when first used (the sandbox's identity)."""
    return WalletSource(kind="generate", description="throwaway sandbox wallet")


def resolve_wallet_source(settings: Settings, env: Mapping[str, str] | None = None) -> WalletSource:
    """Pick the wallet: ``MAILAGENTS_PRIVATE_KEY`` (or the variable ``private_key_env`` names:
    then only it), else the keystore setting, else the default keystore if it exists, else
    none."""
    env = os.environ if env is None else env
    variable = settings.private_key_env or ENV_KEY
    key = env.get(variable, "").strip()
    if key:
        return WalletSource(kind="env", description=f"private key from ${variable}", _key=key)
    if settings.private_key_env:  # never another identity's key or keystore instead
        return WalletSource(kind="none", description=f"${variable} is not set")
    path = settings.keystore
    if path is None and settings.default_keystore.exists():
        path = settings.default_keystore
    if path is not None:
        address = keystore_address(path)
        return WalletSource(
            kind="keystore",
            description=f"keystore {path}",
            address=address,
            keystore=path,
            password=env.get(ENV_PASSWORD) or None,
        )
    return WalletSource(kind="none", description="no wallet configured")
