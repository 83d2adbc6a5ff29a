"""``connect()`` and the ``Connection`` facade: one pool, one session, typed clients.

    with xapictl.connect("https://pool.example", password=secret) as conn:
        net = conn.networks.create(name_label="storage", mtu=9000)
        conn.pools.create_vlan_from_pif(pif, net, 105)
        snap = conn.snapshot()

``conn.call`` is the raw door (results decoded by the datamodel, so ints are ints);
``conn.networks``, ``.pifs``, ``.vlans``, ``.vifs``, ``.bonds``, ``.tunnels``, ``.vms``,
``.hosts``, ``.pools``, ``.tasks`` are the typed clients, and ``conn.client("SR")`` is typed
access to any other class (``SRClient``: the overloads of ``client`` name each class). The
session is logged out when the ``with`` block ends, however it ends (error, Ctrl-C included).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar, overload

from xapictl._log import logger
from xapictl.client.base import ClassClient
from xapictl.client.generated import ClientsByName, client_type
from xapictl.client.values import plain_decoder, plain_result
from xapictl.errors import UsageError, XapiFailure
from xapictl.model.schema import datamodel, message_wire_names
from xapictl.xapi.credentials import PasswordSource, Secret
from xapictl.xapi.events import EventBatch, EventFeed, adds_by_class, parse_batch
from xapictl.xapi.parallel import DEFAULT_LIMIT, WorkerPool
from xapictl.xapi.retry import RetryPolicy
from xapictl.xapi.session import Protocol, XapiSession
from xapictl.xapi.tasks import TaskHandle, start_task
from xapictl.xapi.tls import PinSpec, TLSSettings, parse_pins
from xapictl.xapi.transport import HttpSettings

if TYPE_CHECKING:
    from xapictl.client.bonds import BondsClient
    from xapictl.client.hosts import HostsClient
    from xapictl.client.lease import PoolLease
    from xapictl.client.networks import NetworksClient
    from xapictl.client.pifs import PIFsClient
    from xapictl.client.pools import PoolsClient
    from xapictl.client.tasks import TasksClient
    from xapictl.client.tunnels import TunnelsClient
    from xapictl.client.vifs import VIFsClient
    from xapictl.client.vlans import VLANsClient
    from xapictl.client.vms import VMsClient
    from xapictl.xapi.transport import HttpTransport  # httpx's, loaded only when one is given

log = logger("xapictl.client")

SnapshotBuilder = Callable[["Connection"], Any]


C = TypeVar("C")


class _TypedClient(Generic[C]):
    """A typed client of a connection (``conn.networks``), made when first asked for and kept
    on the connection: a run loads the modules of the clients it uses, not all ten."""

    def __init__(self, module: str, name: str) -> None:
        self.module = f"xapictl.client.{module}"
        self.name = name
        self.attr = module

    def __set_name__(self, owner: type, attr: str) -> None:
        self.attr = attr

    @overload
    def __get__(self, conn: None, owner: type) -> _TypedClient[C]: ...
    @overload
    def __get__(self, conn: Connection, owner: type) -> C: ...

    def __get__(self, conn: Connection | None, owner: type) -> _TypedClient[C] | C:
        if conn is None:
            return self
        import importlib

        made: C = getattr(importlib.import_module(self.module), self.name)(conn)
        conn.__dict__[self.attr] = made  # the instance's attribute answers from now on
        return made


class Connection(ClientsByName):
    """An open session to one pool. Use it as a context manager, or call ``close()``."""

    snapshot_builder: ClassVar[SnapshotBuilder | None] = None
    """Set by ``xapictl.state.collect`` (the state layer builds snapshots on top of us)."""

    def __init__(self, session: XapiSession, *, parallel: int = DEFAULT_LIMIT) -> None:
        self.session = session
        self.parallel = parallel
        self._workers = WorkerPool(parallel)
        self._generic: dict[str, ClassClient[Any, Any]] = {}
        self._token_ahead: str | None = None
        self._permissions: frozenset[str] | None = None

    def __repr__(self) -> str:
        return f"<Connection {self.session!r}>"

    # --- the typed clients, each made (and its module loaded) when first used ----------------

    networks: _TypedClient[NetworksClient] = _TypedClient("networks", "NetworksClient")
    pifs: _TypedClient[PIFsClient] = _TypedClient("pifs", "PIFsClient")
    vlans: _TypedClient[VLANsClient] = _TypedClient("vlans", "VLANsClient")
    vifs: _TypedClient[VIFsClient] = _TypedClient("vifs", "VIFsClient")
    bonds: _TypedClient[BondsClient] = _TypedClient("bonds", "BondsClient")
    tunnels: _TypedClient[TunnelsClient] = _TypedClient("tunnels", "TunnelsClient")
    vms: _TypedClient[VMsClient] = _TypedClient("vms", "VMsClient")
    hosts: _TypedClient[HostsClient] = _TypedClient("hosts", "HostsClient")
    pools: _TypedClient[PoolsClient] = _TypedClient("pools", "PoolsClient")
    tasks: _TypedClient[TasksClient] = _TypedClient("tasks", "TasksClient")

    @classmethod
    def open(
        cls, url: str, *, username: str = "root",
        password: str | Secret | PasswordSource = "",
        transport: HttpTransport | None = None, protocol: Protocol = "auto",
        ca: str | Path | None = None, fingerprint: PinSpec | None = None,
        known_hosts: str | Path | None = None, insecure: bool = False,
        timeout: float = 60.0, connect_timeout: float = 10.0,
        retry: RetryPolicy | None = None, parallel: int = DEFAULT_LIMIT,
        learn_pool_at_login: bool = True,
    ) -> Self:
        """Log in and return an open connection of this class (the options: see
        ``connect``). The state layer's ``PoolConnection`` uses it to type ``snapshot()``."""
        if isinstance(password, PasswordSource):
            password = password.resolve(username=username, pool=url)
        secret = password if isinstance(password, Secret) else Secret(password)
        del password  # the text lives in the Secret only (a traceback keeps this frame)
        named, pins = parse_pins(fingerprint)
        tls = TLSSettings(ca=Path(ca) if ca else None, fingerprint=named, pins=pins,
                          known_hosts=Path(known_hosts) if known_hosts else None,
                          insecure=insecure)
        http = HttpSettings(connect_timeout=connect_timeout, read_timeout=timeout, tls=tls,
                            transport=transport, max_connections=max(parallel, 4) * 2)
        session = XapiSession(url, username=username, password=secret, protocol=protocol,
                              http=http, retry=retry, learn_pool_at_login=learn_pool_at_login)
        try:
            session.login()
        except BaseException:
            session.close()
            raise
        return cls(session, parallel=parallel)

    @classmethod
    def open_profile(cls, name: str, *, config: Path | None = None,
                     **overrides: Any) -> Self:
        """``open`` with a named profile of the config file (see ``connect_profile``)."""
        from xapictl.xapi.profiles import get_profile

        profile = get_profile(name, config)
        options = profile.connect_options()
        options.update(overrides)
        return cls.open(profile.url, **options)

    # --- life cycle -------------------------------------------------------------------------

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Log out and close the HTTP connections (idempotent)."""
        try:
            self.session.close()
        finally:
            self._workers.close()

    @property
    def url(self) -> str:
        """The master's URL now (it changes when the pool's master moves)."""
        return str(self.session.endpoint)

    @property
    def api_version(self) -> tuple[int, int] | None:
        """The master's API version, read once (at login, or beside the first call)."""
        return self.session.api_version

    @property
    def pool_ref(self) -> str:
        return self.session.pool_ref

    # --- the management interface moves -----------------------------------------------------

    def reaches(self, address: str) -> str | None:
        """``None`` when this client can get to ``address`` (a new management address), else
        why not (``XapiSession.reaches``)."""
        return self.session.reaches(address)

    def answers_at(self, address: str) -> str | None:
        """``None`` once XAPI answers at ``address``, within the retry policy's deadline."""
        return self.session.answers_at(address)

    def follow_master(self, address: str) -> None:
        """The master's management interface moved to ``address``: calls go there now."""
        self.session.follow_master(address)

    # --- calls ------------------------------------------------------------------------------

    def raw_call(self, method: str, *args: Any, read_timeout: float | None = None) -> Any:
        """Call as the wire answers (XML-RPC ints still strings): for the typed layers."""
        return self.session.call(method, list(args), read_timeout=read_timeout)

    def call(self, method: str, *args: Any) -> Any:
        """Call any XAPI method (``"VLAN.create"``); the session is added for you and the
        result is decoded by the datamodel (ints are ints, records are wire-keyed dicts)."""
        return plain_result(method, self.raw_call(method, *args))

    def call_many(self, calls: Sequence[tuple[str, Sequence[Any]]], *,
                  raw: bool = False) -> list[Any]:
        """Send several calls at once (bounded by ``parallel``); results in order."""
        work = [functools.partial(self.raw_call if raw else self.call, method, *args)
                for method, args in calls]
        return self._workers.run_all(work)

    def call_async(self, method: str, *args: Any) -> TaskHandle:
        """``Async.<method>``: a handle whose ``wait(timeout=)`` gives the decoded result."""
        from xapictl.client.values import message_info

        info = message_info(method)
        spec = info.result_spec if info is not None else None
        decode = plain_decoder(spec) if spec is not None else (lambda value: value)
        return self.start_task(method, list(args), decode=decode)

    def start_task(self, method: str, args: list[Any], *,
                   decode: Callable[[Any], Any]) -> TaskHandle:
        return start_task(self.session, method, args, decode=decode)

    # --- the same from asyncio (one implementation: the sync calls on worker threads) --------

    async def acall(self, method: str, *args: Any) -> Any:
        """``call`` for asyncio code: runs on a worker thread, the event loop stays free."""
        import asyncio  # only asyncio code pays for it (a CLI start-up does not)

        return await asyncio.to_thread(self.call, method, *args)

    async def asnapshot(self) -> Any:
        """``snapshot`` for asyncio code."""
        import asyncio  # as in acall

        return await asyncio.to_thread(self.snapshot)

    # --- typed access to any class -----------------------------------------------------------

    def class_client(self, xapi_class: str) -> ClassClient[Any, Any]:
        """``client(name)``: the generated client of any datamodel class, one per connection
        (``conn.client("SR").get_all_records()``; typed by the overloads of ``client``)."""
        info = datamodel().find_class(xapi_class)
        if info is None:
            raise UsageError(f"the datamodel has no class named {xapi_class!r}")
        found = self._generic.get(info.name)
        if found is None:
            found = self._generic[info.name] = client_type(info.name)(self)
        return found

    # --- events, snapshots, permissions ------------------------------------------------------

    def events(self, classes: Sequence[str], token: str = "", timeout: float = 30.0
               ) -> EventBatch:
        """One ``event.from`` call (blocks until a change or ``timeout``)."""
        return EventFeed(self.session).next(classes, token, timeout)

    def event_token(self) -> str:
        """A token at the current database generation (``event.inject`` on the pool)."""
        self.session.login()
        return EventFeed(self.session).token_now(self.session.pool_ref)

    def read_all_since(self, classes: Sequence[str]
                       ) -> tuple[str, dict[str, Mapping[str, Mapping[str, Any]]]]:
        """``(token, records)`` where ``token`` was taken before any of the reads.

        The first time, that costs a round trip of its own (``event.inject``) before the
        reads. A fresh token is then fetched *alongside* the reads and kept for the next
        call: it is older than that call's reads, which is all a token must be (following
        from an older token only replays changes, it never misses one). So a connection's
        later snapshots take one round trip."""
        self.session.login()
        token = self._token_ahead or self.event_token()
        work: list[Callable[[], Any]] = [
            functools.partial(self.raw_call, f"{c}.get_all_records") for c in classes]
        work.append(self.event_token)
        *records, self._token_ahead = self._workers.run_all(work)
        return token, dict(zip(classes, records, strict=True))

    def read_all_at_once(self, classes: Sequence[str]
                         ) -> tuple[str, dict[str, Mapping[str, Mapping[str, Any]]]]:
        """``(token, records)`` of every class in *one* request, at one database generation.

        ``event.from`` with the empty token reports every existing object of the subscribed
        classes as an ``add`` whose snapshot is its ``get_record`` (REFERENCE §event.from), and
        returns at once when there is any. One request instead of one per class, and the
        records are consistent with each other (separate ``get_all_records`` calls are not);
        the token follows on from exactly that state."""
        token, records = adds_by_class(
            EventFeed(self.session).next_wire(classes, "", timeout=0.0), classes)
        return token, dict(records)

    def read_all(self, classes: Sequence[str], where: Mapping[str, str] | None = None
                 ) -> dict[str, Mapping[str, Mapping[str, Any]]]:
        """``get_all_records`` of every class, all sent at once: ``{class: {ref: wire}}``.
        ``where``: for the classes it names, only the records its expression selects
        (``get_all_records_where``, XAPI's filter language: REFERENCE §1.12)."""
        results = self._read_at_once(_reads(classes, where))
        return dict(zip(classes, results, strict=True))

    def _read_at_once(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """The raw results of read calls sent at once: pipelined on one connection where the
        session pipelines (one round trip, no thread per call), else in parallel; the first
        failure is raised."""
        self.session.login()  # settles the protocol (an XAPI without JSON-RPC: XML-RPC)
        if not self.session.pipelines:
            return self.call_many(calls, raw=True)
        results = self.session.call_in_order(calls)
        for result in results:
            if isinstance(result, XapiFailure):
                raise result
        return results

    def read_all_after(self, first: Sequence[tuple[str, Sequence[Any]]], classes: Sequence[str],
                       where: Mapping[str, str] | None = None
                       ) -> tuple[list[Any],
                                  dict[str, Mapping[str, Mapping[str, Any]]] | XapiFailure]:
        """``read_all`` made after the calls ``first``, all sent back to back on one
        connection (``XapiSession.call_in_order``: one round trip, and the reads see what
        ``first`` did): the raw results of ``first`` (a failure is returned as its
        ``XapiFailure``), and the records, or the failure of the first read that failed."""
        outcomes = self.session.call_in_order([*first, *_reads(classes, where)])
        answers, reads = outcomes[:len(first)], outcomes[len(first):]
        failed = next((r for r in reads if isinstance(r, XapiFailure)), None)
        return answers, failed if failed is not None else dict(zip(classes, reads, strict=True))

    def events_then_logout(self, classes: Sequence[str], token: str,
                           more: Sequence[tuple[str, Sequence[Any]]] = ()
                           ) -> tuple[EventBatch | XapiFailure, list[Any]]:
        """A run's last requests in one round trip, in this order on one connection
        (``XapiSession.call_in_order``): ``event.from`` of ``classes`` since ``token``
        (returning at once), the calls ``more`` (their raw results or failures), then the
        session's logout (when pipelined; else ``close`` logs out). A later call logs in
        again."""
        answers = self.session.call_in_order(
            [("event.from", ([*classes], token, 0.0)), *more], then_logout=True)
        first = answers[0]
        return (first if isinstance(first, XapiFailure) else parse_batch(first)), answers[1:]

    @property
    def pipelines(self) -> bool:
        """Whether ``read_all_after`` takes one round trip (JSON-RPC over the standard
        library's HTTP path; not over XML-RPC or httpx's path, where the calls go one by
        one)."""
        return self.session.pipelines

    def token_call(self) -> tuple[str, tuple[Any, ...]]:
        """The call ``event_token`` makes (``event.inject`` on the pool), to send in order
        with others (``read_all_after``); its raw result is the token."""
        return "event.inject", ("pool", self.session.pool_ref)

    def read_all_with_permissions(self, classes: Sequence[str],
                                  where: Mapping[str, str] | None = None
                                  ) -> tuple[dict[str, Mapping[str, Mapping[str, Any]]],
                                             frozenset[str]]:
        """``read_all`` with the session's record sent alongside (no round trip of its own):
        the records, and the permissions (``permissions`` answers from them from then on)."""
        ref = self.session.login()
        calls = _reads(classes, where)
        # Whole reads of pool and host are what the session reads to learn the pool's
        # facts (master, members): they serve for both, instead of being read twice.
        learning = (not {"pool", "host"} & set(where or ())
                    and {"pool", "host"} <= set(classes) and self.session.learn_from_reads())
        records: dict[str, Mapping[str, Mapping[str, Any]]] = {}
        try:
            *results, session = self._read_at_once([*calls, ("session.get_record", (ref,))])
            records = dict(zip(classes, results, strict=True))
        finally:
            if learning:
                self.session.learnt_from(records.get("pool"), records.get("host"))
        self._permissions = self._permissions_of(plain_result("session.get_record", session))
        return records, self._permissions

    def snapshot(self) -> Any:
        """The pool's networking state (``xapictl.state.snapshot.PoolSnapshot``): every
        class's records at once, with an event token taken before them (two dependent round
        trips the first time, one afterwards: see ``read_all_since``)."""
        builder = type(self).snapshot_builder
        if builder is None:
            raise UsageError("snapshots are built by xapictl.state: use xapictl.connect(), or "
                             "import xapictl.state.collect first")
        return builder(self)

    def lease(self, *, timeout: float | None = None, command: str | None = None,
              **options: Any) -> PoolLease:
        """The pool's write lease for this run (``xapictl.client.lease``), not taken yet: use
        it as a context manager. ``timeout``: seconds to wait for another run's lease
        (default ``DEFAULT_LOCK_TIMEOUT``); ``command`` names this run in the holder record
        (default: this process's command line)."""
        from xapictl.client.lease import DEFAULT_LOCK_TIMEOUT, PoolLease

        self.session.login()
        return PoolLease(self, self.session.pool_ref,
                         timeout=DEFAULT_LOCK_TIMEOUT if timeout is None else timeout,
                         command=command, **options)

    def permissions(self) -> frozenset[str]:
        """The session's RBAC permissions, lower-cased (``vlan.create``…). The local superuser
        (root) may do everything: every message of the datamodel is listed."""
        if self._permissions is not None:
            return self._permissions
        ref = self.session.login()
        self._permissions = self._permissions_of(self.call("session.get_record", ref))
        return self._permissions

    def _permissions_of(self, record: Mapping[str, Any]) -> frozenset[str]:
        perms = frozenset(str(p).lower() for p in record.get("rbac_permissions", []))
        if record.get("is_local_superuser") or (not perms and self.session.username == "root"):
            return perms | _every_permission()
        return perms


def _reads(classes: Sequence[str], where: Mapping[str, str] | None
           ) -> list[tuple[str, Sequence[Any]]]:
    """The read of each class: ``get_all_records``, or ``get_all_records_where`` with the
    class's expression in ``where``."""
    where = where or {}
    return [(f"{c}.get_all_records_where", (where[c],)) if c in where
            else (f"{c}.get_all_records", ()) for c in classes]


def _every_permission() -> frozenset[str]:
    return message_wire_names()


def connect(
    url: str, *, username: str = "root", password: str | Secret | PasswordSource = "",
    transport: HttpTransport | None = None, protocol: Protocol = "auto",
    ca: str | Path | None = None, fingerprint: PinSpec | None = None,
    known_hosts: str | Path | None = None, insecure: bool = False,
    timeout: float = 60.0, connect_timeout: float = 10.0, retry: RetryPolicy | None = None,
    parallel: int = DEFAULT_LIMIT, learn_pool_at_login: bool = True,
) -> Connection:
    """Log in to the pool at ``url`` and return the open ``Connection``.

    ``url``: ``https://host``, ``http://host:port`` or ``unix:///var/lib/xcp/xapi``; a pool
    member's address works too (the client follows ``HOST_IS_SLAVE``). ``password`` is a
    string, a ``Secret`` or a ``PasswordSource`` (``PasswordSource.parse("env:POOL_PW")``),
    never a command-line argument. TLS: verified by default; ``ca`` a CA bundle;
    ``fingerprint`` the pinned SHA-256 of the host named in ``url``, or a ``{host: SHA-256}``
    mapping, or a list of ``SHA-256`` / ``HOST=SHA-256`` (``PinSpec``) pinning members too;
    ``known_hosts`` a trust-on-first-use file (also for members no pin covers); ``insecure``
    no checks (warns). ``transport`` replaces the network (tests, the embedded simulator).
    ``protocol`` is ``auto`` (JSON-RPC, XML-RPC when ``/jsonrpc`` is unusable), ``jsonrpc`` or
    ``xmlrpc``.
    ``timeout`` is the read timeout of one call.
    ``learn_pool_at_login=False`` reads the pool's members beside the first call instead of
    right after the login: one dependent round trip less, for a run that calls at once (the
    CLI); a master lost before that first call is answered is then not failed over from.

    ``xapictl.connect`` is the same with a ``PoolConnection`` (``xapictl.state.collect``)
    whose ``snapshot()`` is typed ``PoolSnapshot``.
    """
    if isinstance(password, str):
        password = Secret(password)  # the text stays out of this frame (a traceback keeps it)
    return Connection.open(url, username=username, password=password, transport=transport,
                           protocol=protocol, ca=ca, fingerprint=fingerprint,
                           known_hosts=known_hosts, insecure=insecure, timeout=timeout,
                           connect_timeout=connect_timeout, retry=retry, parallel=parallel,
                           learn_pool_at_login=learn_pool_at_login)


def connect_profile(name: str, *, config: Path | None = None, **overrides: Any) -> Connection:
    """Connect with a named profile of the config file (``xapictl.xapi.profiles``); the
    password comes from the profile's source. ``overrides`` replace profile settings (and
    ``transport=`` injects one)."""
    return Connection.open_profile(name, config=config, **overrides)


__all__ = ["Connection", "connect", "connect_profile"]
