"""How xapictl decides to trust a host's TLS certificate.

Verified by default (system CAs, or the CA bundle given); a SHA-256 fingerprint can be pinned
(the way to trust a pool's self-signed certificate), or learnt on first use and remembered in a
known-hosts file, as XenCenter does; a changed fingerprint is refused, loudly. ``insecure``
turns every check off and warns every time it is used.

The fingerprint check runs inside the TLS handshake, before a single byte of the request (and
so of any password) is written to the socket.
"""

from __future__ import annotations

import sys
import threading
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

from xapictl._files import open_private
from xapictl._frozen import Frozen, frozen
from xapictl._log import logger
from xapictl.errors import UsageError

log = logger("xapictl.tls")


class InsecureTLSWarning(UserWarning):
    """A connection was made with certificate checks turned off (``insecure=True``)."""


INSECURE_MESSAGE = ("TLS certificate checks are OFF (insecure): anyone on the path can read "
                    "the password and change what you send. Pin a fingerprint or give a CA "
                    "instead.")


def warn_insecure() -> None:
    """Warn at the caller's first frame outside xapictl, every time.

    ``warnings.warn`` shows a UserWarning once per place under Python's default filters; a
    fresh registry per call defeats that de-duplication, while the user's own ``ignore`` or
    ``error`` filters still apply (``logging.captureWarnings`` routes it to a log)."""
    frame = sys._getframe(1)
    while frame.f_back is not None and _inside_xapictl(frame.f_globals.get("__name__", "")):
        frame = frame.f_back
    warnings.warn_explicit(INSECURE_MESSAGE, InsecureTLSWarning, frame.f_code.co_filename,
                           frame.f_lineno, module=frame.f_globals.get("__name__"),
                           registry=None)


def _inside_xapictl(module: str) -> bool:
    return module == "xapictl" or module.startswith("xapictl.")


def normalize_fingerprint(text: str) -> str:
    """Accept ``ab:cd…``, ``ABCD…`` or ``sha256:…`` and return the ``AB:CD:…`` form."""
    raw = text.strip().removeprefix("sha256:").removeprefix("SHA256:")
    hexdigits = raw.replace(":", "").replace(" ", "").upper()
    if len(hexdigits) != 64 or any(c not in "0123456789ABCDEF" for c in hexdigits):
        raise ValueError(f"not a SHA-256 fingerprint: {text!r}")
    return ":".join(hexdigits[i:i + 2] for i in range(0, 64, 2))


PinSpec = str | Mapping[str, str] | Sequence[str]
"""How pins are given: the named host's fingerprint; a ``{host: fingerprint}`` mapping; or a
list of ``FINGERPRINT`` (the named host, at most one) and ``HOST=FINGERPRINT`` (the CLI's
repeated ``--fingerprint``)."""


def parse_pins(spec: PinSpec | None) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """``(pin of the named host, ((host, pin), …))`` from any ``PinSpec``; checked here, so a
    bad value is refused before anything connects."""
    if spec is None or spec == "":
        return None, ()
    if isinstance(spec, str):
        spec = [spec]
    items = (list(spec.items()) if isinstance(spec, Mapping)
             else [(h if s else None, f if s else h) for h, s, f in
                   (text.partition("=") for text in spec)])
    named = [fp for host, fp in items if host is None]
    if len(named) > 1:
        raise UsageError("only one fingerprint may omit its host (it pins the host you named); "
                         "give the others as --fingerprint HOST=SHA256")
    pins: list[tuple[str, str]] = []
    for host, fp in items:
        try:
            checked = normalize_fingerprint(str(fp))
        except ValueError as exc:
            raise UsageError(f"fingerprint {exc}: give 64 hex digits, e.g. AB:CD:…") from None
        if host is not None:
            if not str(host).strip():
                raise UsageError(f"fingerprint {fp!r} has an empty host: write HOST=SHA256")
            pins.append((str(host).strip(), checked))
    return (normalize_fingerprint(str(named[0])) if named else None), tuple(pins)


class KnownHosts:
    """A known-hosts file: one ``host:port FINGERPRINT`` line per host, learnt on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _read(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        out: dict[str, str] = {}
        for line in self.path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2 and not line.startswith("#"):
                out[parts[0]] = parts[1]
        return out

    def get(self, hostport: str) -> str | None:
        with self._lock:
            return self._read().get(hostport)

    def remember(self, hostport: str, fingerprint: str) -> None:
        with self._lock, open_private(self.path) as out:
            out.write(f"{hostport} {fingerprint}\n")

    def forget(self, hostport: str) -> None:
        """Drop a host (after its certificate was legitimately replaced)."""
        with self._lock:
            kept = {h: f for h, f in self._read().items() if h != hostport}
            with open_private(self.path, "w") as out:
                out.write("".join(f"{h} {f}\n" for h, f in kept.items()))


@frozen
class TLSSettings(Frozen):
    """Trust settings of one pool. With none set, the system CAs verify the certificate."""

    ca: Path | None = None
    """A CA bundle (PEM) to verify against instead of the system store."""
    fingerprint: str | None = None
    """A pinned SHA-256 fingerprint of the host the user named (CA checks then skipped unless
    ``ca`` is also given). Other members each have their own certificate: ``pins``,
    ``known_hosts`` or ``ca`` must vouch for them, or they are refused."""
    pins: tuple[tuple[str, str], ...] = ()
    """``(host or host:port, fingerprint)`` pairs: the pinned certificates of other members."""
    known_hosts: Path | None = None
    """Trust on first use: remember each host's fingerprint here and refuse a changed one."""
    insecure: bool = False
    """No checks at all. Warns every time. (The ``ssl`` context these settings make is
    ``xapictl.xapi.pinning.context_for``'s.)"""


__all__ = [
    "InsecureTLSWarning",
    "KnownHosts",
    "TLSSettings",
    "normalize_fingerprint",
    "parse_pins",
]
