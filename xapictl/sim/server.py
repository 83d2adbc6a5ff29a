"""The simulated pool on sockets: one listener per host address, same port, plus a unix socket.

The master listens on the bind address (``127.0.0.1`` by default) and every member on the next
loopback addresses (``127.0.0.2``, ``127.0.0.3`` …, which Linux routes to ``lo`` without any
set-up), all on one port, so a client that follows ``HOST_IS_SLAVE [127.0.0.1]`` keeps scheme
and port as xen-api does. Each request carries the address of the host that received it into
``Simulator.call(host_address=…)``.

One acceptor thread watches every listener and, a few times a second, reconciles them with the
pool: a host marked dead stops listening (clients get ``ECONNREFUSED``) and its open
connections are cut; hosts added by a scenario start listening. A call that changes a host's
address (``host.management_reconfigure``) reconciles before its answer is sent: the host
listens on its new address by the time the client reads the answer, and no longer on the old
one; that call's connection is closed after the answer, others on the old address at once
(XAPI's management server stops serving the old address). Each connection gets its own
thread (HTTP/1.1 keep-alive), so an ``event.from`` that waits never blocks other clients.

Safe to leave running (issue 14): a request's head must arrive within XAPI's header timeouts
(``xapi_globs.ml`` ``header_read_timeout_tcp`` 10 s per read, ``header_total_timeout_tcp``
60 s in all; ``http_svr.ml`` answers 408); a connection idle between requests is closed after
``idle_timeout`` (XAPI keeps it, see docs/simulator.md); at most ``max_connections`` are
served at once (XAPI's ``conn_limit_tcp`` is 800; the simulator also stays under its descriptor
limit) and the next one is answered ``503`` and closed; when ``accept`` fails for want of
descriptors the listeners are set aside until a connection ends, instead of spinning.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import ipaddress
import logging
import resource
import selectors
import socket
import ssl
import struct
import termios
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from xapictl.sim import tls as _tls
from xapictl.sim.app import handle_http, is_jsonrpc_path, live_by_address, malformed
from xapictl.sim.classes.host import is_loopback as is_loopback_address
from xapictl.sim.control import Control, DropConnection, SimulatorLike
from xapictl.sim.http1 import FastHeadHandler

log = logging.getLogger("xapictl.sim.server")

_RECONCILE_EVERY_S = 0.2
_PORT_ATTEMPTS = 20

HEADER_READ_TIMEOUT_S = 10.0
"""xapi_globs.ml ``header_read_timeout_tcp``: each read of a request head."""
HEADER_TOTAL_TIMEOUT_S = 60.0
"""xapi_globs.ml ``header_total_timeout_tcp``: the whole head."""
IDLE_TIMEOUT_S = 120.0
"""Seconds a keep-alive connection may wait for its next request (XAPI: no limit)."""
CONN_LIMIT = 800
"""xapi_globs.ml ``conn_limit_tcp``."""
_SPARE_DESCRIPTORS = 48
"""Descriptors kept for listeners, state files, logs and the refusal itself."""
_OUT_OF_DESCRIPTORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})

TOO_MANY_CONNECTIONS = ("<html><body><h1>HTTP 503 service unavailable</h1>The simulator "
                        "serves at most {limit} connections at once: close idle connections "
                        "or start it with a higher --max-connections.</body></html>")


DEFAULT_PASSWORD = "xapictl"  # noqa: S105 - the documented sandbox password, public by design


def is_loopback(bind: str) -> bool:
    """Whether ``--bind`` keeps the pool on this machine (``127.0.0.1``, ``::1``,
    ``localhost``); the empty address (all of them) is not loopback."""
    try:
        return ipaddress.ip_address(bind.strip("[]")).is_loopback
    except ValueError:
        return bind.lower() == "localhost"


def bind_refusal(bind: str, password: str) -> str | None:
    """Why ``sim serve --bind`` must not serve with this password (None: it may). Serving
    beyond loopback with the well-known default password hands the pool to anyone who can
    reach it; decided from the text alone, before any socket is opened."""
    if password != DEFAULT_PASSWORD or is_loopback(bind):
        return None
    return (f"--bind {bind or '(all addresses)'} is not a loopback address and the password is "
            f"the public default {DEFAULT_PASSWORD!r}: give --password (or set "
            "XAPICTL_SIM_PASSWORD) to serve beyond this machine. Nothing was opened.")


def default_max_connections() -> int:
    """XAPI's 800, or fewer when the descriptor limit (``ulimit -n``) would not allow it."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return CONN_LIMIT
    return max(1, min(CONN_LIMIT, soft - _SPARE_DESCRIPTORS))


@dataclass(eq=False)
class _Listener:
    sock: socket.socket
    address: str | None
    """The host address calls are attributed to; ``None`` for the unix socket (the master)."""


MAX_RPC_SIZE = 300 * 1024
"""constants.ml / db_globs.ml ``http_limit_max_rpc_size``: the largest RPC body xapi reads."""

# OCaml's Printexc.to_string of the Failure http_svr.ml read_body raises, HTML-escaped.
_FAILURE_NO_LENGTH = "Failure(&quot;We require a content-length: HTTP header&quot;)"


class _Refused(Exception):
    """A request xapi refuses before reading its body; the text is the exception shown."""


def internal_error_page(extra: str) -> bytes:
    """http_svr.ml ``response_internal_error`` with its "Additional information", as xapi
    answers an exception in a handler (``handle_one``)."""
    body = ("<html><body><h1>HTTP 500 internal server error</h1>An unexpected error occurred; "
            "please wait a while and try again. If the problem persists, please contact your "
            "support representative.<h1> Additional information </h1>"
            f"{extra}</body></html>").encode()
    head = ("HTTP/1.1 500 Internal Error\r\nContent-Type: text/html\r\nConnection: close\r\n"
            f"Cache-Control: no-cache, no-store\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


@dataclass(eq=False)
class _Origin:
    """What a connection's request handler needs (passed where http.server passes a server)."""

    sim: SimulatorLike
    control: Control
    address: str | None
    idle_timeout: float | None = IDLE_TIMEOUT_S
    header_read_timeout: float | None = HEADER_READ_TIMEOUT_S
    header_total_timeout: float | None = HEADER_TOTAL_TIMEOUT_S
    server: SimServer | None = None
    raw: socket.socket | None = None
    """The accepted socket (before TLS), as the server's connection table knows it."""


class _Handler(FastHeadHandler):
    protocol_version = "HTTP/1.1"
    server_version = "xapi"
    sys_version = ""
    server: _Origin  # type: ignore[assignment]

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.idle_timeout)
        self.rfile = self._counted = _CountingReader(self.rfile)  # type: ignore[assignment]
        self._arrived: list[tuple[int, float]] = []
        """``(offset, when)``: every byte of this connection before ``offset`` had arrived at
        ``when`` (``time.perf_counter()``), seen while serving an earlier request."""

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except TimeoutError:  # the request line or the head did not come in time
            self.close_connection = True
        self.connection.settimeout(self.server.idle_timeout)

    def header_timeouts(self) -> tuple[float | None, float | None]:
        origin = self.server
        return origin.header_read_timeout, origin.header_total_timeout

    def do_POST(self) -> None:
        self._serve()

    def do_OPTIONS(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _serve(self) -> None:
        origin = self.server
        address = origin.address if origin.address is not None else origin.sim.master_address()
        try:
            body = self._read_body()
        except _Refused as refused:
            self.close_connection = True
            self.wfile.write(internal_error_page(str(refused)))
            self.log_request(500)
            return
        except ValueError as exc:
            # Where the body ends is unknown, so nothing more can be read on this connection.
            self.close_connection = True
            protocol = "jsonrpc" if is_jsonrpc_path(self.path) else "xmlrpc"
            self._reply(*malformed(origin.control, address, protocol, str(exc)))
            return
        queued_since = self._queued_since()
        server = origin.server
        if server is not None:
            server.busy(origin.raw, True)
        try:
            status, headers, payload = handle_http(
                origin.sim, self.command, self.path, dict(self.headers.items()), body,
                host_address=address, control=origin.control,
                preauth=origin.address is None,  # the unix socket: local root is trusted
                queued_since=queued_since)
            if server is not None and server.after_call(origin.address):
                self.close_connection = True  # this host no longer serves that address
        except DropConnection as drop:
            log.debug("dropping connection: %s", drop)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        finally:
            if server is not None:
                server.busy(origin.raw, False)
        self._reply(status, headers, payload)

    def _queued_since(self) -> float | None:
        """When the request just read had wholly arrived, if that was while an earlier one
        on its connection was being served (HTTP pipelining: the client sent it without
        waiting for that answer), else ``None``. Such a request travelled beside the earlier
        one: its latency and its logged span run from then (``xapictl.sim.roundtrips``).
        Also notes how far this connection's bytes have arrived now, for the next ones."""
        end = self._counted.count
        since = next((when for offset, when in self._arrived if offset >= end), None)
        self._arrived = [mark for mark in self._arrived if mark[0] > end]
        waiting = self._bytes_waiting()
        if waiting:
            self._arrived.append((end + waiting, time.perf_counter()))
        return since

    def _bytes_waiting(self) -> int:
        """How many bytes the client has sent on this connection that are not read yet."""
        sock = self.connection
        timeout = sock.gettimeout()
        sock.setblocking(False)
        try:
            buffered = len(self._counted.peek())
        except (BlockingIOError, OSError, ValueError):
            buffered = 0
        finally:
            sock.settimeout(timeout)
        if isinstance(sock, ssl.SSLSocket):
            return buffered + sock.pending()
        try:
            unread: int = struct.unpack("i", fcntl.ioctl(sock, termios.FIONREAD, b"\0" * 4))[0]
        except OSError:
            unread = 0
        return buffered + unread

    def _reply(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
        # one write for head and body: no Nagle/delayed-ACK stall on keep-alive connections
        head = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}",
                f"Content-Length: {len(payload)}"]
        head += [f"{name}: {value}" for name, value in headers]
        if self.close_connection:
            head.append("Connection: close")
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)
        self.log_request(status, len(payload))

    def _read_body(self) -> bytes:
        """http_svr.ml ``read_body``: a POST needs a Content-Length (chunked bodies and
        bodies without one are refused) of at most ``MAX_RPC_SIZE``; either refusal is
        XAPI's 500 page, sent without reading the body, and the connection is closed."""
        text = self.headers.get("Content-Length")
        if text is None:
            if self.command == "POST":
                raise _Refused(_FAILURE_NO_LENGTH)
            return b""
        if not (text.strip().isascii() and text.strip().isdigit()):  # "-5", "²": no length
            raise ValueError(f"Content-Length {text!r} is not a length")
        if int(text) > MAX_RPC_SIZE and self.command == "POST":
            raise _Refused("Http_svr.Client_requested_size_over_limit")
        return self.rfile.read(int(text))

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class _CountingReader:
    """A connection's buffered reader that counts the bytes read of it (where each request
    ends, for ``_Handler._queued_since``)."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self.count = 0

    def readline(self, limit: int = -1) -> bytes:
        line: bytes = self._raw.readline(limit)
        self.count += len(line)
        return line

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._raw.read(size)
        self.count += len(data)
        return data

    def peek(self, size: int = 0) -> bytes:
        data: bytes = self._raw.peek(size)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


@functools.lru_cache(maxsize=1024)  # asked for every host at every accept (reconcile)
def _is_ipv4_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.version == 4 and ip.is_loopback


@functools.lru_cache(maxsize=1024)  # asked for every host at every accept (reconcile)
def _served(address: str) -> bool:
    """A host address the server listens on: loopback (``host.is_loopback``)."""
    return is_loopback_address(address)


def _open_listener(address: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)
    try:
        if ":" in address:  # an IPv4-mapped address is bound on a dual-stack socket only
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class SimServer:
    """Serve ``sim`` over HTTP(S) on loopback: ``with SimServer(sim) as server: server.url``.

    ``port=0`` picks a port free on every host address. ``tls=True`` serves HTTPS with a fresh
    self-signed certificate (``.fingerprint``, ``.cert_pem``); ``tls="per-host"`` gives every
    host address its own, as a real pool's hosts have (``.fingerprints``: address → SHA-256;
    ``.fingerprint`` is the master's). ``unix_socket`` also serves
    the master on that path (``XenAPI.UDSTransport``). ``control`` defaults to a new
    ``Control`` (``.control``) for latency, faults and the request log.
    """

    def __init__(self, sim: SimulatorLike, *, bind: str = "127.0.0.1", port: int = 0,
                 tls: bool | Literal["per-host"] = False, unix_socket: Path | str | None = None,
                 control: Control | None = None, max_connections: int | None = None,
                 idle_timeout: float | None = IDLE_TIMEOUT_S,
                 header_read_timeout: float | None = HEADER_READ_TIMEOUT_S,
                 header_total_timeout: float | None = HEADER_TOTAL_TIMEOUT_S,
                 poll_interval: float = _RECONCILE_EVERY_S) -> None:
        self.sim = sim
        self.control = control if control is not None else Control(sim)
        self.bind = bind
        self.port = port
        self.tls = tls
        self.unix_socket = Path(unix_socket) if unix_socket is not None else None
        self.fingerprint: str | None = None
        self.cert_pem: bytes | None = None
        self._context: ssl.SSLContext | None = None
        self._host_contexts: dict[str, ssl.SSLContext] = {}
        self.fingerprints: dict[str, str] = {}
        self._listeners: dict[str, _Listener] = {}
        self._connections: dict[socket.socket, str | None] = {}
        self._unbindable: set[str] = set()
        self._lock = threading.Lock()
        self._selector = selectors.DefaultSelector()
        self._stopping = threading.Event()
        # ``stop`` writes a byte here so the accept loop's select returns at once, instead of
        # at the end of its poll interval.
        self._wake, self._waker = socket.socketpair()
        self._wake.setblocking(False)
        self._selector.register(self._wake, selectors.EVENT_READ, None)
        self._thread: threading.Thread | None = None
        self.max_connections = (max_connections if max_connections is not None
                                else default_max_connections())
        self._timeouts = (idle_timeout, header_read_timeout, header_total_timeout)
        self._poll_interval = poll_interval
        self._slot_freed = threading.Event()
        self._paused = False
        self._busy: set[socket.socket] = set()
        self._retired: set[str] = set()
        """Addresses a host no longer has (its management interface moved)."""
        self._generation = -1
        self._reconciling = threading.Lock()
        self.stats = {"turns": 0, "accepted": 0, "refused": 0, "descriptor_stalls": 0}
        """Accept-loop counters: loop turns, connections accepted, refused over the limit,
        and times ``accept`` ran out of descriptors (the listeners were then set aside)."""

    # --- life cycle -------------------------------------------------------------------------

    def start(self) -> SimServer:
        """Bind every listener and start serving; returns self."""
        if self._thread is not None:
            raise RuntimeError("server already started")
        self._readdress_hosts()
        if self.tls:
            cert = _tls.generate([*self._wanted().values(), self.bind])
            self.fingerprint, self.cert_pem = cert.fingerprint, cert.cert_pem
            self._context = cert.server_context()
        if self.tls == "per-host":
            for address in self._wanted():
                own = _tls.generate([address])
                self.fingerprints[address] = own.fingerprint
                self._host_contexts[address] = own.server_context()
            self.fingerprint = self.fingerprints.get(self.sim.master_address(), self.fingerprint)
        self._bind_all()
        if self.unix_socket is not None:
            self.unix_socket.unlink(missing_ok=True)
            sock = socket.socket(socket.AF_UNIX)
            sock.bind(str(self.unix_socket))
            sock.listen(128)
            sock.setblocking(False)
            self._add_listener(_Listener(sock, None), key="unix")
        self._thread = threading.Thread(target=self._accept_loop, name="xapictl-sim-accept",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close every listener and connection; idempotent."""
        self._stopping.set()
        self._slot_freed.set()  # a loop paused for descriptors stops waiting, too
        with contextlib.suppress(OSError):  # closed: an earlier stop
            self._waker.send(b"\0")
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            for key in list(self._listeners):
                self._remove_listener(key)
            for conn in list(self._connections):
                _cut(conn)
            self._connections.clear()
        self._selector.close()
        self._wake.close()
        self._waker.close()
        if self.unix_socket is not None:
            self.unix_socket.unlink(missing_ok=True)
        self.control.close()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # --- addresses --------------------------------------------------------------------------

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    def _url(self, address: str) -> str:
        host = f"[{address}]" if ":" in address else address
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def url(self) -> str:
        """The master's URL (no trailing slash: XenAPI then posts to ``/RPC2``)."""
        return self._url(self._public_master_address())

    @property
    def urls(self) -> dict[str, str]:
        """Host ref → URL, for every host of the pool."""
        return {ref: self._url(address) for ref, address in self.sim.host_addresses().items()}

    def _public_master_address(self) -> str:
        if self.bind in ("0.0.0.0", "::", ""):  # noqa: S104 - a wildcard only when asked for
            return self.sim.master_address()
        return self.sim.master_address() if self._members_on_loopback() else self.bind

    def _members_on_loopback(self) -> bool:
        return _is_ipv4_loopback(self.bind)

    def _readdress_hosts(self) -> None:
        """Make ``host.address`` match where hosts listen, so HOST_IS_SLAVE names a reachable
        master: with ``--bind 127.0.0.9`` the master is 127.0.0.9 and members follow it; with
        a single non-loopback address only the master is served, at that address."""
        wildcard = self.bind in ("0.0.0.0", "::", "")  # noqa: S104 - never the default
        master_address = self.sim.master_address()
        state = getattr(self.sim, "state", None)
        if wildcard or master_address == self.bind or state is None:
            return
        addresses = self.sim.host_addresses()
        master = next((ref for ref, a in addresses.items() if a == master_address), None)
        if not self._members_on_loopback():
            if master is not None:
                with state.lock:
                    state.set_field("host", master, "address", self.bind)
            return
        ordered = ([master] if master else []) + [r for r in addresses if r != master]
        base = ipaddress.IPv4Address(self.bind)
        with state.lock:
            for offset, ref in enumerate(ordered):
                state.set_field("host", ref, "address", str(base + offset))

    def _wanted(self) -> dict[str, str]:
        """Listener address → host address attributed to its calls, for live hosts."""
        if not self._members_on_loopback():
            return {self.bind: self.sim.master_address()}
        # IPv6 too: a host whose management moved onto a PIF whose primary address is the
        # IPv6 loopback (one host at most: IPv6 has one loopback address) or an IPv4-mapped
        # loopback one (::ffff:127.0.2.11, any number of hosts) answers there
        return {address: address for address, live in live_by_address(self.sim).items()
                if live and _served(address)}

    def _bind_all(self) -> None:
        wanted = self._wanted() or {self.bind: self.bind}
        for _attempt in range(_PORT_ATTEMPTS):
            opened: list[_Listener] = []
            port = self.port
            try:
                for listen_on, attributed in wanted.items():
                    sock = _open_listener(listen_on, port)
                    port = sock.getsockname()[1]
                    opened.append(_Listener(sock, attributed))
            except OSError:
                for listener in opened:
                    listener.sock.close()
                if self.port:
                    raise
                continue
            self.port = port
            for listen_on, listener in zip(wanted, opened, strict=True):
                self._add_listener(listener, key=listen_on)
            return
        raise OSError(f"no port free on all of {sorted(wanted)}")

    # --- the acceptor -----------------------------------------------------------------------

    def _add_listener(self, listener: _Listener, *, key: str) -> None:
        self._listeners[key] = listener
        self._selector.register(listener.sock, selectors.EVENT_READ, listener)

    def _remove_listener(self, key: str) -> None:
        listener = self._listeners.pop(key, None)
        if listener is None:
            return
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(listener.sock)
        listener.sock.close()

    def busy(self, conn: socket.socket | None, serving: bool) -> None:
        """A connection starts (or ends) serving a request: a reconcile leaves it alone."""
        if conn is None:
            return
        with self._lock:
            (self._busy.add if serving else self._busy.discard)(conn)

    def after_call(self, address: str | None) -> bool:
        """After a call, before its answer: reconcile when the pool changed (a host's address
        may have moved). True when the call's own address is no longer served."""
        state = getattr(self.sim, "state", None)
        generation = getattr(state, "generation", None)
        if generation is not None and generation != self._generation:
            self._generation = generation
            self._reconcile()
        with self._lock:
            return address is not None and address in self._retired

    def _reconcile(self) -> None:
        """Listen for exactly the live hosts; cut the connections of dead ones and of
        addresses no host has any more (those busy with a request close after its answer)."""
        if not self._members_on_loopback():
            return
        with self._reconciling:  # the accept loop and a call's thread may both get here
            self._reconcile_now()

    def _reconcile_now(self) -> None:
        wanted = self._wanted()
        known = live_by_address(self.sim)
        with self._lock:
            for key in [k for k in self._listeners if k != "unix" and k not in wanted]:
                self._remove_listener(key)
                moved = key not in known
                if moved:
                    self._retired.add(key)
                for conn, address in list(self._connections.items()):
                    if address == key and not (moved and conn in self._busy):
                        _cut(conn)
            for address in wanted:
                self._retired.discard(address)
                if address not in self._listeners:
                    try:
                        self._add_listener(_Listener(_open_listener(address, self.port),
                                                     address), key=address)
                    except OSError as exc:
                        if address not in self._unbindable:  # warn once, retry quietly
                            self._unbindable.add(address)
                            log.warning("cannot listen on %s:%s: %s", address, self.port, exc)
                    else:
                        self._unbindable.discard(address)

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            self.stats["turns"] += 1
            if self._paused:
                # Out of descriptors: nothing to accept with until a connection ends (or the
                # next reconcile), so wait for that instead of selecting ready listeners.
                self._slot_freed.wait(self._poll_interval)
                self._resume_accepting()
                continue
            try:
                ready = self._selector.select(timeout=self._poll_interval)
            except (OSError, ValueError):
                if self._stopping.is_set():
                    return
                raise
            # Reconcile before accepting: a host marked dead since the last turn loses its
            # listener first (connections waiting in its backlog are reset, as a dead host's
            # would be), instead of being accepted and then cut in the middle of a handshake.
            try:
                self._reconcile()
            except Exception:  # a reconcile bug must not stop the server
                log.exception("listener reconcile failed")
            for key, _events in ready:
                if key.data is None:  # the wake-up: stopping
                    continue
                if key.data.sock.fileno() < 0:
                    continue  # closed by the reconcile just above
                if not self._accept(key.data):
                    break

    def _accept(self, listener: _Listener) -> bool:
        """Accept one connection; False when descriptors ran out (accepting is paused)."""
        try:
            conn, peer = listener.sock.accept()
        except BlockingIOError:
            return True
        except OSError as exc:
            if exc.errno in _OUT_OF_DESCRIPTORS:
                self._pause_accepting(exc)
                return False
            return True
        with self._lock:
            busy = len(self._connections)
        if busy >= self.max_connections:
            self.stats["refused"] += 1
            _refuse(conn, self.max_connections)
            return True
        self.stats["accepted"] += 1
        with self._lock:  # counted now, so a burst of accepts sees the bound
            self._connections[conn] = listener.address
        threading.Thread(target=self._serve_connection, args=(conn, peer, listener.address),
                         name="xapictl-sim-conn", daemon=True).start()
        return True

    def _pause_accepting(self, exc: OSError) -> None:
        self.stats["descriptor_stalls"] += 1
        if self.stats["descriptor_stalls"] == 1:
            log.warning("out of file descriptors (%s): not accepting until a connection "
                        "ends; raise `ulimit -n` or lower --max-connections", exc)
        self._slot_freed.clear()
        with self._lock:
            for listener in self._listeners.values():
                with contextlib.suppress(KeyError, ValueError):
                    self._selector.unregister(listener.sock)
        self._paused = True

    def _resume_accepting(self) -> None:
        with self._lock:
            for listener in self._listeners.values():
                with contextlib.suppress(KeyError, ValueError):
                    self._selector.register(listener.sock, selectors.EVENT_READ, listener)
        self._paused = False

    def _serve_connection(self, conn: socket.socket, peer: Any, address: str | None) -> None:
        raw = conn
        conn.setblocking(True)
        if conn.family != socket.AF_UNIX:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            peer_text = peer
        else:
            peer_text = ("unix", 0)
        idle, header_read, header_total = self._timeouts
        try:
            context = self._host_contexts.get(address or "", self._context)
            if context is not None and conn.family != socket.AF_UNIX:
                conn.settimeout(header_read)  # a TLS handshake is part of the head
                conn = context.wrap_socket(conn, server_side=True)
            origin = _Origin(self.sim, self.control, address, idle, header_read, header_total,
                             server=self, raw=raw)
            _Handler(conn, peer_text, origin)  # type: ignore[arg-type]
        except (OSError, ssl.SSLError) as exc:
            log.debug("connection from %s ended: %s", peer, exc)
        except Exception:
            log.exception("connection handler failed")
        finally:
            with self._lock:
                self._connections.pop(raw, None)
            with contextlib.suppress(OSError):
                conn.close()
            self._slot_freed.set()


def _refuse(conn: socket.socket, limit: int) -> None:
    """Answer a connection over the bound with 503 and close it (never blocks the loop)."""
    body = TOO_MANY_CONNECTIONS.format(limit=limit).encode()
    head = ("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n"
            "Cache-Control: no-cache, no-store\r\n\r\n").encode()
    try:
        conn.setblocking(False)
        conn.send(head + body)  # small: fits the socket's send buffer
        conn.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    finally:
        conn.close()


def _cut(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)


__all__ = [
    "CONN_LIMIT",
    "DEFAULT_PASSWORD",
    "HEADER_READ_TIMEOUT_S",
    "HEADER_TOTAL_TIMEOUT_S",
    "IDLE_TIMEOUT_S",
    "MAX_RPC_SIZE",
    "SimServer",
    "bind_refusal",
    "default_max_connections",
    "internal_error_page",
]
