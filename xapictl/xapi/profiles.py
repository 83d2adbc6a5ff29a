"""Named pool profiles in the user's config file.

The file is ``<user config dir>/xapictl/pools.toml`` (``XAPICTL_CONFIG`` overrides it)::

    embedded = "never"                   # optional, before any table: the CLI never falls
                                         # back to its embedded simulated pool ("auto")

    [pools.lab]
    url = "https://10.0.0.1"
    username = "root"
    password = "env:LAB_XAPI_PASSWORD"   # a password SOURCE: prompt, file:…, env:…,
                                         # keyring[:service], command:…; never the password
    fingerprint = "AB:CD:…"              # or ca = "/path/ca.pem", or tofu = true
    protocol = "auto"                    # auto | jsonrpc | xmlrpc
    timeout = 60

``load_profiles()`` reads it, ``save_profile()`` writes one profile back (the file is created
with mode 0600), ``Profile.connect_options()`` gives the keyword arguments of ``connect`` with
the password resolved from its source. Saving and removing edit the file with tomlkit: the
user's comments, layout, order and other settings stay as they were; only that profile's
table changes (a new one goes at the end).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import field
from pathlib import Path
from typing import Any

import platformdirs
import tomlkit
from tomlkit.items import Table

from xapictl._files import open_private
from xapictl._frozen import Frozen, frozen
from xapictl.errors import ConfigError
from xapictl.xapi.credentials import PasswordSource, Secret

PROTOCOLS = ("auto", "jsonrpc", "xmlrpc")
_KEYS = frozenset({"url", "username", "password", "ca", "fingerprint", "tofu", "known_hosts",
                   "insecure", "protocol", "timeout"})


def config_dir() -> Path:
    """The user's config directory for xapictl (platformdirs: XDG on Linux and the BSDs)."""
    return platformdirs.user_config_path("xapictl")


def config_path() -> Path:
    """Where profiles live (``XAPICTL_CONFIG`` wins)."""
    override = os.environ.get("XAPICTL_CONFIG")
    return Path(override) if override else config_dir() / "pools.toml"


@frozen
class Profile(Frozen):
    """How to reach one pool. Holds where the password comes from, never the password."""

    name: str
    url: str
    username: str = "root"
    password: PasswordSource = field(default_factory=lambda: PasswordSource("prompt"))
    ca: str | None = None
    fingerprint: str | dict[str, str] | None = None
    """The named host's pin, or a ``{host = "SHA-256"}`` table pinning each member."""
    tofu: bool = False
    known_hosts: str | None = None
    insecure: bool = False
    protocol: str = "auto"
    timeout: float = 60.0

    @classmethod
    def from_table(cls, name: str, table: dict[str, Any]) -> Profile:
        unknown = sorted(set(table) - _KEYS)
        if unknown:
            raise ConfigError(f"profile {name!r}: unknown key(s) {', '.join(unknown)}")
        if "url" not in table:
            raise ConfigError(f"profile {name!r} has no url")
        protocol = str(table.get("protocol", "auto"))
        if protocol not in PROTOCOLS:
            raise ConfigError(f"profile {name!r}: protocol must be one of {', '.join(PROTOCOLS)}")
        try:
            source = PasswordSource.parse(str(table.get("password", "prompt")))
        except ConfigError as exc:
            raise ConfigError(f"profile {name!r}: password: {exc}") from None
        return cls(
            name=name, url=str(table["url"]), username=str(table.get("username", "root")),
            password=source, ca=_opt(table.get("ca")),
            fingerprint=_pins(name, table.get("fingerprint")),
            tofu=bool(table.get("tofu", False)), known_hosts=_opt(table.get("known_hosts")),
            insecure=bool(table.get("insecure", False)), protocol=protocol,
            timeout=_timeout(name, table.get("timeout", 60.0)))

    def to_table(self) -> dict[str, Any]:
        out: dict[str, Any] = {"url": self.url, "username": self.username,
                               "password": str(self.password)}
        for key in ("ca", "fingerprint", "known_hosts"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.tofu:
            out["tofu"] = True
        if self.insecure:
            out["insecure"] = True
        if self.protocol != "auto":
            out["protocol"] = self.protocol
        if self.timeout != 60.0:
            out["timeout"] = self.timeout
        return out

    def resolve_password(self) -> Secret:
        return self.password.resolve(username=self.username, pool=self.name)

    def connect_options(self) -> dict[str, Any]:
        """Keyword arguments for ``xapictl.connect(profile.url, **options)``."""
        known = self.known_hosts or (str(config_dir() / "known_hosts") if self.tofu else None)
        return {"username": self.username, "password": self.resolve_password(),
                "ca": self.ca, "fingerprint": self.fingerprint, "known_hosts": known,
                "insecure": self.insecure, "protocol": self.protocol, "timeout": self.timeout}


def _timeout(name: str, value: Any) -> float:
    import math

    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if isinstance(value, bool) or not (math.isfinite(seconds) and 0.1 <= seconds <= 86400):
        raise ConfigError(f"profile {name!r}: timeout must be a number of seconds from 0.1 "
                          "to 86400, e.g. timeout = 60")
    return seconds


def _pins(name: str, value: Any) -> str | dict[str, str] | None:
    if isinstance(value, dict):
        return {str(host): str(fp) for host, fp in value.items()}
    if isinstance(value, list):
        raise ConfigError(f"profile {name!r}: fingerprint is a string or a table of "
                          "host = \"SHA-256\"")
    return _opt(value)


def _opt(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


MAX_DEPTH = 16
"""Tables and arrays nested deeper than this are refused (a profile needs two levels)."""


def _read_config(path: Path) -> dict[str, Any]:
    """The config file as TOML (empty if it does not exist); every problem a ``ConfigError``
    naming the file and the fix."""
    if not path.exists():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save it as UTF-8 TOML") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or type(exc).__name__} "
                          "(XAPICTL_CONFIG names another file)") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix or remove the file") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a pool profile file") from None
    if _depth(data) > MAX_DEPTH:
        raise ConfigError(f"{path}: nested too deeply to be a pool profile file")
    return data


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def config_setting(key: str, default: str, path: Path | None = None) -> tuple[str, str]:
    """``(value, the file)`` of a top-level setting of the config file (``embedded =
    "never"``), or ``(default, "default")``."""
    path = path or config_path()
    data = _read_config(path)
    if key not in data:
        return default, "default"
    value = data[key]
    if not isinstance(value, str):
        raise ConfigError(f"{path}: {key} must be a string, e.g. {key} = \"{default}\"")
    return value, str(path)


def load_profiles(path: Path | None = None) -> dict[str, Profile]:
    """Every profile of the config file (none if the file does not exist)."""
    path = path or config_path()
    data = _read_config(path)
    pools = data.get("pools", {})
    if not isinstance(pools, dict):
        raise ConfigError(f"{path}: [pools] must be a table of profiles")
    bad = sorted(name for name, table in pools.items() if not isinstance(table, dict))
    if bad:
        raise ConfigError(f"{path}: pools.{bad[0]} must be a table ([pools.{bad[0]}] with "
                          "url = \"https://…\")")
    return {name: Profile.from_table(name, dict(table)) for name, table in pools.items()}


def get_profile(name: str, path: Path | None = None) -> Profile:
    profiles = load_profiles(path)
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise ConfigError(f"no pool profile named {name!r} in {path or config_path()} "
                          f"(known: {known})")
    return profiles[name]


def save_profile(profile: Profile, path: Path | None = None) -> Path:
    """Add or replace one profile, leaving the rest of the file as the user wrote it; the
    file is written with mode 0600."""
    path = path or config_path()
    load_profiles(path)  # a file that does not read as profiles is refused, not rewritten
    doc = _document(path)
    pools = doc.get("pools")
    if pools is None:
        pools = doc["pools"] = tomlkit.table(is_super_table=True)
    values = profile.to_table()
    table = pools.get(profile.name)
    if isinstance(table, Table):
        for key in [k for k in table if k not in values]:
            del table[key]
    else:
        table = pools[profile.name] = tomlkit.table()
    for key, value in values.items():
        if table.get(key) != value:
            table[key] = _toml_value(value)
    _write(path, doc)
    return path


def remove_profile(name: str, path: Path | None = None) -> None:
    path = path or config_path()
    if name not in load_profiles(path):
        raise ConfigError(f"no pool profile named {name!r}")
    doc = _document(path)
    del doc["pools"][name]
    _write(path, doc)


def _document(path: Path) -> tomlkit.TOMLDocument:
    """The config file as an editable TOML document (checked by ``load_profiles`` first)."""
    return tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else tomlkit.document()


def _write(path: Path, doc: tomlkit.TOMLDocument) -> None:
    with open_private(path, "w") as out:
        out.write(tomlkit.dumps(doc).rstrip("\n") + "\n")  # no blank lines left at the end


def _toml_value(value: Any) -> Any:
    """A pin table as an inline table (``fingerprint = {host = "…"}``), the rest as is."""
    if isinstance(value, dict):
        inline = tomlkit.inline_table()
        inline.update(value)
        return inline
    return value


__all__ = ["Profile", "config_path", "config_setting", "get_profile", "load_profiles",
           "remove_profile", "save_profile"]
