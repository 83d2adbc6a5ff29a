"""Credential references: how a fleet file says where a password is, without holding it.

``env:NAME`` (an environment variable), ``file:PATH`` (first line of a file, ``~`` expanded),
``keyring:SERVICE/USER`` (the system keyring), ``prompt`` (asked once on the terminal). A
password never appears in a fleet file, the journal, the audit log or an error message.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from xapictl.errors import ConfigError

SCHEMES = ("env", "file", "keyring", "prompt")


@dataclass(frozen=True)
class CredentialRef:
    """A parsed reference; ``str()`` gives it back as written (safe to log)."""

    scheme: str
    target: str = ""

    @classmethod
    def parse(cls, text: str) -> CredentialRef:
        text = text.strip()
        if text == "prompt":
            return cls("prompt")
        scheme, sep, target = text.partition(":")
        if not sep or scheme not in SCHEMES or not target:
            raise ConfigError(f"credentials reference {text!r} is not one of env:NAME, "
                              "file:PATH, keyring:SERVICE/USER or prompt")
        return cls(scheme, target)

    def __str__(self) -> str:
        return self.scheme if self.scheme == "prompt" else f"{self.scheme}:{self.target}"

    def resolve(self, username: str, *, ask: Callable[[str], str] = getpass.getpass) -> str:
        """The password. Errors say which reference failed, never what it held."""
        if self.scheme == "env":
            value = os.environ.get(self.target)
            if value is None:
                raise ConfigError(f"environment variable {self.target} is not set "
                                  f"(credentials {self})")
            return value
        if self.scheme == "file":
            path = Path(self.target).expanduser()
            try:
                text = path.read_text()
            except OSError as exc:
                raise ConfigError(f"cannot read password file {path}: {exc.strerror}") from None
            return text.splitlines()[0] if text else ""
        if self.scheme == "keyring":
            import keyring

            service, _, user = self.target.partition("/")
            value = keyring.get_password(service, user or username)
            if value is None:
                raise ConfigError(f"no password in the keyring for {self}")
            return value
        return ask(f"Password for {username}: ")


__all__ = ["SCHEMES", "CredentialRef"]
