"""xapictl: typed, idempotent, plan-before-apply networking for XenServer / XCP-ng and plain Xen.

The library entry point is ``xapictl.connect`` (``xapictl.connect_profile`` for a named pool
profile); the CLI is ``xapictl``. Nothing heavy is imported here so that ``xapictl --help``
stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from xapictl._version import __version__

if TYPE_CHECKING:
    from xapictl.state.collect import connect as connect
    from xapictl.state.collect import connect_profile as connect_profile
else:

    def connect(url: str, **options: Any) -> Any:
        """Log in to a pool and return the open ``PoolConnection`` (a context manager whose
        ``snapshot()`` is a ``PoolSnapshot``).

        The options are those of ``xapictl.client.connection.connect``: ``username``,
        ``password``, ``transport``, ``protocol``, ``ca``, ``fingerprint``, ``known_hosts``,
        ``insecure``, ``timeout``… The client is imported only when this is called, so
        ``import xapictl`` stays cheap.
        """
        from xapictl.state.collect import connect as _connect
        from xapictl.xapi.credentials import Secret

        if isinstance(options.get("password"), str):  # out of this frame, which a traceback
            options["password"] = Secret(options["password"])  # of a failed login keeps
        return _connect(url, **options)

    def connect_profile(name: str, **options: Any) -> Any:
        """``connect`` with a named profile of ``pools.toml`` (``config=`` another file;
        other options override the profile's)."""
        from xapictl.state.collect import connect_profile as _connect_profile

        return _connect_profile(name, **options)


__all__ = ["__version__", "connect", "connect_profile"]
