"""xapictl: typed, idempotent, plan-before-apply networking for XenServer / XCP-ng and plain Xen.

The library entry point is ``xapictl.connect``; the CLI is ``xapictl``. Nothing heavy is imported
here so that ``xapictl --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from xapictl._version import __version__

if TYPE_CHECKING:
    from xapictl.client.connection import connect as connect
else:

    def connect(url: str, **options: Any) -> Any:
        """Log in to a pool and return the open ``Connection`` (a context manager).

        The options are those of ``xapictl.client.connection.connect``: ``username``,
        ``password``, ``transport``, ``protocol``, ``ca``, ``fingerprint``, ``known_hosts``,
        ``insecure``, ``timeout``… The client is imported only when this is called, so
        ``import xapictl`` stays cheap.
        """
        import xapictl.state.collect  # noqa: F401 - lets Connection.snapshot() build snapshots
        from xapictl.client.connection import connect as _connect

        return _connect(url, **options)


__all__ = ["__version__", "connect"]
