"""The fleet file: the pools a rollout, an export or a drift check acts on.

YAML::

    version: 1
    defaults:                      # optional; every pool inherits these
      username: root
      credentials: env:XAPI_PASSWORD
    pools:
      - name: par1                 # unique; what selections and the journal call the pool
        url: https://10.1.0.1      # or: profile: par1 (a profile the CLI knows)
        credentials: keyring:xapictl  # prompt, file:PATH, env:NAME, keyring[:SERVICE],
                                      # command:CMD (xapictl.xapi.credentials)
        fingerprint: "AB:CD:..."   # optional TLS pin (or ca: PATH, or insecure: true)
        tags: [prod, eu]

A ``password`` key anywhere is refused: fleet files get committed and shared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import field
from pathlib import Path
from typing import Any

from xapictl._frozen import Frozen, frozen
from xapictl.errors import ConfigError, DesiredStateError, UsageError
from xapictl.fleet.select import parse_selection
from xapictl.plan import yaml_input
from xapictl.plan.desired import text_problem
from xapictl.xapi.credentials import PasswordSource

FLEET_VERSION = 1
_POOL_KEYS = {"name", "url", "profile", "username", "credentials", "tags", "fingerprint", "ca",
              "insecure", "protocol"}
_SECRET_KEYS = {"password", "passwd", "secret"}
_PROTOCOLS = ("auto", "jsonrpc", "xmlrpc")


@frozen
class FleetPool(Frozen):
    """One pool of the fleet. ``url`` or ``profile`` says where; ``credentials`` how to log in."""

    name: str
    url: str | None = None
    profile: str | None = None
    username: str = "root"
    credentials: PasswordSource | None = None
    tags: tuple[str, ...] = ()
    fingerprint: str | None = None
    ca: str | None = None
    insecure: bool = False
    protocol: str = "auto"

    @property
    def where(self) -> str:
        """Where the pool is, in words safe to log."""
        return self.url if self.url is not None else f"profile {self.profile}"


@frozen
class Fleet(Frozen):
    pools: tuple[FleetPool, ...] = ()
    source: str = "<fleet>"
    extra: Mapping[str, Any] = field(default_factory=dict)

    def named(self, name: str) -> FleetPool:
        for p in self.pools:
            if p.name == name:
                return p
        raise UsageError(f"no pool named {name!r} in {self.source}")

    def select(self, expr: str | None) -> tuple[FleetPool, ...]:
        """Pools matching the selection (all with ``None``), in fleet-file order."""
        if expr is None:
            chosen = self.pools
        else:
            pred = parse_selection(expr)
            chosen = tuple(p for p in self.pools if pred(p.name, p.tags))
        if not chosen:
            raise UsageError(f"selection {expr!r} matches no pool of {self.source} "
                             f"(pools: {', '.join(p.name for p in self.pools)})")
        return chosen


def _secret_keys(node: Any, path: str = "") -> list[str]:
    if isinstance(node, Mapping):
        found = [f"{path}{k}" for k in node if str(k).lower() in _SECRET_KEYS]
        for k, v in node.items():
            found += _secret_keys(v, f"{path}{k}.")
        return found
    if isinstance(node, list):
        return [x for i, v in enumerate(node) for x in _secret_keys(v, f"{path}{i}.")]
    return []


def parse_fleet(data: Any, source: str = "<fleet>") -> Fleet:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: a fleet file is a mapping with 'version' and 'pools'")
    secrets = _secret_keys(data)
    if secrets:
        raise ConfigError(f"{source}: {', '.join(secrets)}: a fleet file never holds a "
                          "password; use 'credentials: env:NAME', 'file:PATH', "
                          "'keyring[:SERVICE]', 'command:CMD' or 'prompt'")
    version = data.get("version", FLEET_VERSION)
    if isinstance(version, bool) or version != FLEET_VERSION:
        raise ConfigError(f"{source}: fleet file version {data.get('version')!r} is not "
                          f"supported (this xapictl reads version {FLEET_VERSION})")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, Mapping):
        raise ConfigError(f"{source}: 'defaults' must be a mapping of pool keys")
    raw_pools = data.get("pools")
    if not isinstance(raw_pools, Sequence) or not raw_pools:
        raise ConfigError(f"{source}: 'pools' must be a non-empty list")
    pools: list[FleetPool] = []
    for i, raw in enumerate(raw_pools):
        pools.append(_pool({**defaults, **raw} if isinstance(raw, Mapping) else raw,
                           f"{source}: pools[{i}]"))
    names = [p.name for p in pools]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"{source}: pool names must be unique: {', '.join(dupes)}")
    return Fleet(tuple(pools), source)


def _pool(raw: Any, where: str) -> FleetPool:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: each pool is a mapping")
    unknown = sorted({str(k) for k in raw} - _POOL_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} "
                          f"(known: {', '.join(sorted(_POOL_KEYS))})")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: 'name' is required")
    wrong = text_problem(name)
    if wrong:
        raise ConfigError(f"{where}: 'name' {wrong}")
    for key in ("url", "profile", "username", "fingerprint", "ca", "protocol", "credentials"):
        if key in raw and not isinstance(raw[key], str):
            raise ConfigError(f"{where} ({name}): '{key}' must be a string (quote it)")
    if not isinstance(raw.get("insecure", False), bool):
        raise ConfigError(f"{where} ({name}): 'insecure' must be true or false")
    if ("url" in raw) == ("profile" in raw):
        raise ConfigError(f"{where} ({name}): give exactly one of 'url' or 'profile'")
    tags = raw.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ConfigError(f"{where} ({name}): 'tags' is a list of strings")
    if raw.get("protocol", "auto") not in _PROTOCOLS:
        raise ConfigError(f"{where} ({name}): 'protocol' is one of {', '.join(_PROTOCOLS)}")
    cred = raw.get("credentials")
    try:
        credentials = PasswordSource.parse(str(cred)) if cred is not None else None
    except UsageError as exc:
        raise ConfigError(f"{where} ({name}): 'credentials': {exc}") from None
    return FleetPool(
        name=name, url=raw.get("url"), profile=raw.get("profile"),
        username=str(raw.get("username", "root")),
        credentials=credentials,
        tags=tuple(tags), fingerprint=raw.get("fingerprint"), ca=raw.get("ca"),
        insecure=bool(raw.get("insecure", False)), protocol=str(raw.get("protocol", "auto")))


def load_fleet(path: str | Path) -> Fleet:
    """Read and check a fleet file; every problem is a ``ConfigError`` naming the file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read fleet file {p}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"cannot read fleet file {p}: not UTF-8 text") from None
    try:
        # aliases, deep nesting, big files, odd tags and duplicate keys are refused
        data = yaml_input.load(text, str(p))
    except DesiredStateError as exc:
        raise ConfigError(str(exc)) from None
    return parse_fleet(data, str(p))


__all__ = ["FLEET_VERSION", "Fleet", "FleetPool", "load_fleet", "parse_fleet"]
