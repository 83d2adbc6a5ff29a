"""Opening a session to a fleet pool: its URL or profile, its password source, its TLS trust.

A password source is resolved once per run and shared by every pool that names the same
source (one prompt for forty pools, not forty). ``transport_for`` lets tests and the embedded
simulator put an in-process transport under a pool; otherwise the pool's real URL is used.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from xapictl.errors import ConfigError
from xapictl.fleet.fleetfile import FleetPool
from xapictl.xapi.credentials import Secret
from xapictl.xapi.retry import RetryPolicy
from xapictl.xapi.transport import crosses_network_in_clear

if TYPE_CHECKING:
    from xapictl.xapi.transport import HttpTransport  # httpx's, loaded only when one is given

TransportFor = Callable[[FleetPool], "HttpTransport | None"]


class PoolConnector:
    """``connect(pool)`` → an open ``xapictl.client.Connection`` (a context manager)."""

    def __init__(self, *, transport_for: TransportFor | None = None, timeout: float = 60.0,
                 retry: RetryPolicy | None = None, parallel: int = 8,
                 connect_timeout: float | None = None,
                 on_plain_http: Callable[[str], None] | None = None) -> None:
        self.transport_for = transport_for or (lambda pool: None)
        self.on_plain_http = on_plain_http
        """Told each URL whose login would cross a network in clear text (the CLI warns)."""
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.retry = retry
        self.parallel = parallel
        self._secrets: dict[str, Secret] = {}
        self._lock = threading.Lock()

    def _secret(self, pool: FleetPool) -> Secret:
        source = pool.credentials
        if source is None:
            raise ConfigError(f"pool {pool.name}: no credentials; add 'credentials:' (env:NAME, "
                              "file:PATH, keyring, command:CMD or prompt) to the fleet file")
        key = f"{source}|{pool.username}"
        with self._lock:  # one prompt per source, even with pools connecting in parallel
            if key not in self._secrets:
                self._secrets[key] = source.resolve(username=pool.username, pool=pool.name)
            return self._secrets[key]

    def prime(self, pools: Sequence[FleetPool]) -> None:
        """Resolve every password source now (prompts included), before any progress display
        takes the terminal and before the first pool is touched."""
        for pool in pools:
            if pool.profile is None:
                self._secret(pool)

    def options(self, pool: FleetPool) -> tuple[str, dict[str, Any]]:
        """The URL and ``connect`` keyword arguments for the pool."""
        if pool.profile is not None:
            from xapictl.xapi.profiles import get_profile

            profile = get_profile(pool.profile)
            opts = profile.connect_options()
            url = profile.url
        else:
            assert pool.url is not None  # noqa: S101 - the fleet loader guarantees one of them
            url = pool.url
            opts = {"username": pool.username, "password": self._secret(pool),
                    "ca": pool.ca, "fingerprint": pool.fingerprint, "insecure": pool.insecure,
                    "protocol": pool.protocol, "timeout": self.timeout}
        transport = self.transport_for(pool)
        if (transport is None and self.on_plain_http is not None
                and crosses_network_in_clear(url)):
            self.on_plain_http(url)
        if transport is not None:
            opts["transport"] = transport
        if self.retry is not None:
            opts["retry"] = self.retry
        if self.connect_timeout is not None:
            opts["connect_timeout"] = self.connect_timeout
        opts["parallel"] = self.parallel
        return url, opts

    def connect(self, pool: FleetPool) -> Any:
        import xapictl.state.collect  # noqa: F401 - lets Connection.snapshot() build snapshots
        from xapictl.client.connection import connect

        url, opts = self.options(pool)
        return connect(url, **opts)


__all__ = ["PoolConnector", "TransportFor"]
