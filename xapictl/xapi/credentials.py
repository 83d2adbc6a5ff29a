"""Passwords: where they come from, and how they are kept out of sight.

A ``Secret`` holds a password; its ``repr``/``str`` are a fixed mask and it refuses to be
pickled, so it cannot leak into logs, reprs, tracebacks or exception texts by accident. Only
``reveal()`` gives the text, and the wire encoders call it for one thing: the login parameter,
as the request body is built (so no caller's frame holds the text).

``PasswordSource`` says how to get one: ``prompt``, ``file:/path``, ``env:NAME``,
``keyring[:service]`` (the system keyring, username as the key) or ``command:…`` (its stdout,
first line). There is deliberately no "literal value" source: a password typed on a command
line ends up in shell history and ``ps``.
"""

from __future__ import annotations

import getpass
import os
import subprocess
from pathlib import Path
from typing import NoReturn

from xapictl._frozen import Frozen, frozen
from xapictl.errors import ConfigError

MASK = "********"


class Secret:
    """A password that does not show itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The password text. Call it only to put it on the wire."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK})"

    def __str__(self) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", len(self._value)))

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")


@frozen
class PasswordSource(Frozen):
    """How to obtain a password: ``kind`` is prompt, file, env, keyring or command."""

    kind: str
    arg: str = ""

    KINDS = ("prompt", "file", "env", "keyring", "command")

    @classmethod
    def parse(cls, text: str) -> PasswordSource:
        """``prompt``, ``file:/path``, ``env:NAME``, ``keyring`` / ``keyring:service``,
        ``command:pass show xapi/lab``."""
        kind, _, arg = text.partition(":")
        kind = kind.strip().lower()
        if kind not in cls.KINDS:
            # Not echoed: a misplaced literal password would land in the message.
            raise ConfigError(f"not a password source; use one of {', '.join(cls.KINDS)} "
                              "(prompt, file:PATH, env:NAME, keyring[:SERVICE], command:CMD); "
                              "a literal password is not accepted")
        if kind in ("file", "env", "command") and not arg:
            raise ConfigError(f"password source {kind!r} needs a value ({kind}:…)")
        return cls(kind, arg)

    def __str__(self) -> str:
        return f"{self.kind}:{self.arg}" if self.arg else self.kind

    def resolve(self, *, username: str = "", pool: str = "") -> Secret:
        """Get the password now. Errors name the source, never the value."""
        match self.kind:
            case "prompt":
                return Secret(getpass.getpass(f"Password for {username or 'root'}@"
                                              f"{pool or 'pool'}: "))
            case "file":
                return Secret(_from_file(Path(self.arg).expanduser()))
            case "env":
                value = os.environ.get(self.arg)
                if value is None:
                    raise ConfigError(f"environment variable {self.arg} is not set")
                return Secret(value)
            case "keyring":
                return Secret(_from_keyring(self.arg or "xapictl", username or "root", pool))
            case "command":
                return Secret(_from_command(self.arg))
        raise ConfigError(f"unknown password source {self.kind!r}")


def _from_file(path: Path) -> str:
    """The first line of a UTF-8 file. The errors name the file and the fix, never a byte of
    its content."""
    fix = "give a readable UTF-8 file whose first line is the password"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise ConfigError(f"password file {path} is not UTF-8 text: {fix}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read password file {path} "
                          f"({exc.strerror or type(exc).__name__}): {fix}") from None
    if not lines or not lines[0]:
        raise ConfigError(f"password file {path} is empty (or its first line is): {fix}")
    return lines[0]


def _from_keyring(service: str, username: str, pool: str) -> str:
    try:
        import keyring
    except ImportError:
        raise ConfigError("the keyring password source needs the 'keyring' package "
                          "(pip install 'xapictl[keyring]')") from None
    key = f"{username}@{pool}" if pool else username
    try:
        value = keyring.get_password(service, key)
    except Exception as exc:  # NoKeyringError, a locked or broken backend
        raise ConfigError(f"the keyring cannot be read ({type(exc).__name__}: no usable "
                          "backend?): set one up, or use another password source (file:PATH, "
                          "env:NAME, command:CMD, prompt)") from None
    if value is None:
        raise ConfigError(f"no password in the keyring for service {service!r}, key {key!r}")
    return str(value)


def _from_command(command: str) -> str:
    import shlex  # only for this password source

    try:
        done = subprocess.run(shlex.split(command), capture_output=True, text=True,  # noqa: S603 - the user's own configured command
                              timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"password command failed to run: {type(exc).__name__}") from None
    if done.returncode != 0:
        raise ConfigError(f"password command exited with status {done.returncode}")
    lines = done.stdout.splitlines()
    return lines[0] if lines else ""


__all__ = ["MASK", "PasswordSource", "Secret"]
