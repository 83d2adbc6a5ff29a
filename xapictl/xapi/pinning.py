"""The TLS half of ``xapictl.xapi.tls`` that needs ``ssl``: the contexts a ``TLSSettings``
makes, the fingerprint check inside the handshake and the errors it raises.

Loaded by the first TLS connection (``context_for``, which the transports call for an https
pool), never by a run that reaches its pool over plain HTTP: ``ssl`` is a few milliseconds of
every run's start-up otherwise (issue 12).
"""

from __future__ import annotations

import hashlib
import ssl
from pathlib import Path
from typing import Any

from xapictl.errors import UsageError
from xapictl.xapi.tls import KnownHosts, TLSSettings, log, normalize_fingerprint, warn_insecure


def context_for(settings: TLSSettings, named: str | None = None) -> ssl.SSLContext:
    """The context the transports use for a pool with ``settings``; ``named`` is the host of
    the URL given, which ``settings.fingerprint`` pins."""
    pins = {host: normalize_fingerprint(fp) for host, fp in settings.pins}
    if settings.fingerprint:
        pins[named or "*"] = normalize_fingerprint(settings.fingerprint)
    known = KnownHosts(settings.known_hosts) if settings.known_hosts else None
    if settings.insecure:
        # A pin still applies: it is what the user trusts; insecure drops the CA checks
        # (and lets unpinned members through), never the pin.
        warn_insecure()
        if not pins and known is None:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return ctx
    elif not pins and known is None:
        return _verifying_context(settings.ca)
    ctx = _PinningContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.pins = pins
    ctx.known = known
    ctx.ca_checked = settings.ca is not None or settings.insecure
    if settings.ca is not None and not settings.insecure:
        _load_ca(ctx, settings.ca)
    else:
        # The pin (or the remembered fingerprint) is the trust anchor.
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


class PinMismatchError(ssl.SSLError):
    """Raised inside the handshake; the transport turns it into ``FingerprintMismatch``."""

    def __init__(self, host: str, expected: str, actual: str) -> None:
        self.host = host
        self.expected = expected
        self.actual = actual
        super().__init__(f"certificate fingerprint of {host} is {actual}, expected {expected}")


class UnpinnedHostError(ssl.SSLError):
    """A pool member whose certificate nothing vouches for (no pin, known host or CA)."""

    def __init__(self, host: str, actual: str) -> None:
        self.host = host
        self.actual = actual
        super().__init__(f"certificate of {host} (SHA-256 {actual}) is not pinned")


def fingerprint_of(der: bytes) -> str:
    """SHA-256 of a DER certificate as ``AB:CD:…`` (the form XenCenter and openssl show)."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def _verifying_context(ca: Path | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if ca is not None:
        _load_ca(ctx, ca)
    return ctx


def _load_ca(ctx: ssl.SSLContext, ca: Path) -> None:
    """Load a CA bundle; a missing, unreadable or non-PEM file is bad input (nothing sent)."""
    try:
        ctx.load_verify_locations(cafile=str(ca))
    except FileNotFoundError:
        raise UsageError(f"CA bundle {ca} does not exist: give the pool's CA certificate(s) "
                         "as a PEM file (--ca PATH), or pin a fingerprint") from None
    except OSError as exc:
        if isinstance(exc, ssl.SSLError):
            raise UsageError(f"CA bundle {ca} holds no PEM certificate: give the pool's CA "
                             "certificate(s) as a PEM file (--ca PATH)") from None
        raise UsageError(f"cannot read CA bundle {ca} ({exc.strerror or type(exc).__name__})"
                         ": give a readable PEM file (--ca PATH)") from None


class _PinningContext(ssl.SSLContext):
    """Checks the peer's fingerprint right after the handshake, before anything is sent: its
    pin, else its known-hosts line (learnt on first use), else the CA; else refused."""

    pins: dict[str, str] = {}  # noqa: RUF012 - replaced per context in context_for()
    known: KnownHosts | None = None
    ca_checked = False

    def wrap_socket(self, sock: Any, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        wrapped = super().wrap_socket(sock, *args, **kwargs)
        try:
            return self._checked(wrapped, kwargs)
        except BaseException:
            # a refusal, or a peer gone right after the handshake (getpeername fails): the
            # socket is closed here, never left to the garbage collector
            wrapped.close()
            raise

    def _checked(self, wrapped: ssl.SSLSocket, kwargs: dict[str, Any]) -> ssl.SSLSocket:
        if not kwargs.get("do_handshake_on_connect", True):
            wrapped.do_handshake()
        der = wrapped.getpeercert(binary_form=True) or b""
        actual = fingerprint_of(der)
        host, port = wrapped.getpeername()[:2]
        name = kwargs.get("server_hostname") or host
        hostport = f"{name}:{port}"
        expected = self.pins.get(hostport) or self.pins.get(name) or self.pins.get("*")
        if expected is None and self.known is not None:
            expected = self.known.get(hostport)
            if expected is None:
                log.warning("trusting %s on first use: certificate SHA-256 %s", hostport, actual)
                self.known.remember(hostport, actual)
                return wrapped
        if expected is None and not self.ca_checked:
            raise UnpinnedHostError(hostport, actual)
        if expected is not None and expected != actual:
            raise PinMismatchError(hostport, expected, actual)
        return wrapped


__all__ = ["PinMismatchError", "UnpinnedHostError", "context_for", "fingerprint_of"]
