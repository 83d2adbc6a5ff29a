"""One XAPI session per pool: login, the master, failover, re-login, logout.

``XapiSession.call(method, params)`` is the only way calls reach the wire. Around every call:

* the session is opened on first use (``originator`` = ``xapictl/<version>``), and closed by
  ``close()`` (the ``Connection`` context manager calls it on exit, on error and on Ctrl-C).
  The pool's facts (its ref, the master's ref and API version, every member's address) are
  read with ``pool``/``host.get_all_records`` right after the login (two dependent round
  trips), or, with ``learn_pool_at_login=False``, *beside the first call* after it (one:
  the facts cost no round trip of their own, but a master lost before that first call is
  answered cannot be failed over from, as no member is known yet; asking for a fact before
  any call — ``pool_ref``, ``members`` … — reads them there and then);
* ``HOST_IS_SLAVE [address]`` re-targets the pool to that address, keeping scheme and port,
  and the call goes again (it was not executed);
* ``SESSION_INVALID`` logs in again once and the call goes again (it was not executed);
* a master that does not answer (nothing sent) makes the session ask the other members it
  learnt: a member answers ``HOST_IS_SLAVE`` naming the new master once one is designated, or
  answers itself if it became the master;
* a lost answer is retried for reads and raised as ``OutcomeUnknown`` for writes; backoff and
  deadline come from ``xapictl.xapi.retry``;
* when the pool's management interface moves, ``reaches(address)`` says whether this client
  can get to an address (before the move), ``answers_at(address)`` waits, within the retry
  policy's deadline, until XAPI answers there, and ``follow_master(address)`` sends the calls
  to the master's new address (its old one kept among the members for failover).

Protocol ``auto`` speaks JSON-RPC and falls back to XML-RPC for good when the first answer
shows ``/jsonrpc`` unusable; a first JSON answer settles on JSON-RPC. The password lives in a
``Secret``, which goes to the wire as the login parameter and is revealed only by the wire's
encoder, so no frame of a failed login's traceback holds the text.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from xapictl._batch import unannounced
from xapictl._log import logger
from xapictl.errors import (
    ConnectError,
    OutcomeUnknown,
    ProtocolError,
    RequestTimeout,
    TLSError,
    TransportError,
    UsageError,
    XapiFailure,
)
from xapictl.xapi.credentials import Secret
from xapictl.xapi.endpoint import is_loopback_address
from xapictl.xapi.jsonrpc import JsonRpcUnavailable, JsonRpcWire
from xapictl.xapi.parallel import run_beside, start_beside
from xapictl.xapi.retry import RetryPolicy, is_read
from xapictl.xapi.transport import ConnectionLost, Endpoint, HttpChannel, HttpSettings

if TYPE_CHECKING:
    from xapictl.xapi.xmlrpc import XmlRpcWire

log = logger("xapictl.session")

Protocol = Literal["auto", "jsonrpc", "xmlrpc"]
LOGIN_VERSION = "2.21"
MAX_REDIRECTS = 5
LOGOUT_TIMEOUT = 5.0
PROBE_TIMEOUT = 10.0
# Calls that do not take a session as their first parameter.
SESSIONLESS = frozenset({
    "session.login_with_password", "session.slave_local_login",
    "session.slave_local_login_with_password", "system.listMethods", "system.isAlive",
})


def originator() -> str:
    from xapictl._version import __version__

    return f"xapictl/{__version__}"


class XapiSession:
    """The session of one pool. Thread safe: parallel calls share one session."""

    def __init__(
        self, url: str, *, username: str, password: Secret, protocol: Protocol = "auto",
        http: HttpSettings | None = None, retry: RetryPolicy | None = None,
        learn_pool_at_login: bool = True,
    ) -> None:
        if protocol not in ("auto", "jsonrpc", "xmlrpc"):
            raise UsageError(f"protocol must be auto, jsonrpc or xmlrpc, not {protocol!r}")
        self.username = username
        self._password = password
        self._endpoint = Endpoint.parse(url)
        self.retry = retry or RetryPolicy()
        self._channel = HttpChannel(self._endpoint, http or HttpSettings())
        # A dom0's local socket speaks XML-RPC (XenAPI.xapi_local).
        if protocol == "auto" and self._endpoint.socket is not None:
            protocol = "xmlrpc"
        self.protocol: Protocol = protocol
        self._json = JsonRpcWire(self._channel)
        self._lock = threading.RLock()
        self._ref: str | None = None
        self._members: list[str] = []
        self.moved_to: str | None = None
        """The address ``follow_master`` last sent the calls to (a management move)."""
        self._pool_ref = ""
        self._master_ref = ""
        self._api_version: tuple[int, int] | None = None
        self._learnt = False
        self._learning = False
        self._learn_done = threading.Condition()
        self._learn_at_login = learn_pool_at_login
        self._contacted = False
        self.closed = False
        self._ahead = False
        """``login_ahead`` started a login that has not begun yet."""
        self._failed_ahead: Exception | None = None

    # --- state ------------------------------------------------------------------------------

    @property
    def endpoint(self) -> Endpoint:
        """Where the master answers now."""
        return self._endpoint

    @property
    def ref(self) -> str | None:
        """The session ref (an opaque handle; not a secret on its own)."""
        return self._ref

    @property
    def members(self) -> list[str]:
        """Addresses of every host of the pool (for failover), learnt beside the first call."""
        self._know_pool()
        return self._members

    @members.setter
    def members(self, addresses: list[str]) -> None:
        self._members = addresses

    @property
    def pool_ref(self) -> str:
        self._know_pool()
        return self._pool_ref

    @property
    def master_ref(self) -> str:
        self._know_pool()
        return self._master_ref

    @property
    def api_version(self) -> tuple[int, int] | None:
        """The master's API version (``None`` until a login)."""
        self._know_pool()
        return self._api_version

    @property
    def wire_protocol(self) -> str:
        """``jsonrpc`` or ``xmlrpc``: what is actually spoken now."""
        return "xmlrpc" if self.protocol == "xmlrpc" else "jsonrpc"

    def __repr__(self) -> str:
        return (f"XapiSession({str(self._endpoint)!r}, user={self.username!r}, "
                f"protocol={self.wire_protocol!r}, open={self._ref is not None})")

    # --- one request on the wire ------------------------------------------------------------

    @functools.cached_property
    def _xml(self) -> XmlRpcWire:
        # Made on first use: XML-RPC (the XenAPI package, xmlrpc.client, expat) is loaded only
        # by a pool that speaks it, not by every start-up.
        from xapictl.xapi.xmlrpc import XmlRpcWire

        return XmlRpcWire(self._channel)

    def _send(self, endpoint: Endpoint, method: str, params: Sequence[Any],
              read_timeout: float | None = None) -> Any:
        if self.protocol == "xmlrpc":
            return self._xml.call(endpoint, method, params, read_timeout=read_timeout)
        try:
            answer = self._json.call(endpoint, method, params, read_timeout=read_timeout)
        except JsonRpcUnavailable:
            if self.protocol != "auto":
                raise
            log.info("%s has no usable /jsonrpc: using XML-RPC", endpoint)
            self.protocol = "xmlrpc"
            return self._xml.call(endpoint, method, params, read_timeout=read_timeout)
        except XapiFailure:
            self._speaks_jsonrpc()
            raise
        self._speaks_jsonrpc()
        return answer

    def _speaks_jsonrpc(self) -> None:
        # The first JSON answer settles it: a later odd answer (a proxy's error page) is an
        # error, never a reason to send the call again over XML-RPC.
        if self.protocol == "auto":
            self.protocol = "jsonrpc"

    # --- login / logout ---------------------------------------------------------------------

    def login_ahead(self) -> None:
        """Send the login now, from a thread beside the caller, so that it travels while the
        caller does other work (a CLI loading the modules of its command). A call waits for
        it as for any login in progress; a login that failed there is raised by the next
        ``login`` (it is not sent again). No-op once logged in."""
        with self._lock:
            if self._ref is not None or self.closed or self._ahead:
                return
            self._ahead = True
        start_beside(self._login_ahead)

    def _login_ahead(self) -> None:
        with self._lock:
            if not self._ahead:  # a call logged in (or tried) first
                return
            try:
                self.login()
            except Exception as exc:  # kept for the caller's next login
                self._failed_ahead = exc

    def login(self) -> str:
        """Open the session if it is not open (following ``HOST_IS_SLAVE``)."""
        with self._lock:
            self._ahead = False
            failed, self._failed_ahead = self._failed_ahead, None
            if failed is not None and self._ref is None:
                raise failed
            if self._ref is None:
                if self.closed:
                    raise UsageError("this connection is closed")
                log.info("logging in to %s as %s", self._endpoint, self.username)
                with unannounced():  # siblings wait on it: not the request that joins them
                    self.retry.run(self._login_once, read=True,
                                   first_contact=not self._contacted)
                self._contacted = True
            if self._ref is None:  # pragma: no cover - run() returns only after a login
                raise ConnectError("login did not complete", url=str(self._endpoint))
            return self._ref

    def _login_once(self) -> None:
        # A retry after the login itself succeeded (the pool reads failed) must not open a
        # second session: only the reads are done again.
        if self._ref is None:
            self._ref = self._login_following_redirects()
            log.debug("logged in to %s as %s", self._endpoint, self.username)
        if self._learn_at_login and not self._learnt:
            self._learn_pool(self._ref)
            self._learnt = True

    def _login_following_redirects(self) -> str:
        params = [self.username, self._password, LOGIN_VERSION, originator()]
        for _ in range(MAX_REDIRECTS):
            endpoint = self._endpoint
            try:
                return str(self._send(endpoint, "session.login_with_password", params))
            except ConnectError:
                if self._members and self._failover(endpoint):
                    continue
                raise
            except XapiFailure as failure:
                if failure.code == "HOST_IS_SLAVE" and failure.params:
                    self._retarget(failure.params[0])
                    continue
                raise
        raise ProtocolError(f"too many HOST_IS_SLAVE redirects from {self._endpoint}",
                            url=str(self._endpoint))

    # --- the pool's facts, learnt beside the first call --------------------------------------

    def _claim_learning(self, *, wait: bool) -> bool:
        """Whether this thread is to read the pool's facts now. ``wait``: if another thread
        is reading them, wait for it (then it is done, or failed and this one tries)."""
        with self._learn_done:
            while wait and self._learning:
                self._learn_done.wait()
            if self._learnt or self._learning:
                return False
            self._learning = True
            return True

    def _learnt_or_not(self, learnt: bool) -> None:
        with self._learn_done:
            self._learning = False
            self._learnt = self._learnt or learnt
            self._learn_done.notify_all()

    def _know_pool(self) -> None:
        """Read the pool's facts now unless they are known (asked before any call)."""
        if self._learnt or (self._ref is None and self.closed):
            return
        ref = self.login()
        if not self._claim_learning(wait=True):
            return
        learnt = False
        try:
            self.retry.run(lambda: self._learn_pool(ref), read=True)
            learnt = True
        finally:
            self._learnt_or_not(learnt)

    def learn_from_reads(self) -> bool:
        """Claim the reading of the pool's facts for the caller's own reads of ``pool`` and
        ``host`` (whole ``get_all_records``), sent instead of the two reads the session
        would send beside the first call. True: the caller must then call ``learnt_from``
        (with its answers, or ``None`` if they failed); False: the facts are known or being
        read already."""
        return not self._learnt and self._claim_learning(wait=False)

    def learnt_from(self, pools: Any, hosts: Any) -> None:
        """The pool's facts from the caller's reads (``learn_from_reads``); ``None`` for
        reads that failed: the facts are read when next needed."""
        learnt = False
        try:
            if pools is not None and hosts is not None:
                self._learn_records(pools, hosts)
                learnt = True
        finally:
            self._learnt_or_not(learnt)

    def _learn_beside(self, ref: str) -> None:
        """Read the pool's facts beside a call (claimed by the caller); never raises: a
        failed read is left for the next call, or for whoever asks for a fact."""
        learnt = False
        try:
            self._learn_pool(ref)
            learnt = True
        except Exception as exc:
            log.debug("reading the pool's members beside a call failed: %s", exc)
        finally:
            self._learnt_or_not(learnt)

    def _learn_pool(self, ref: str) -> None:
        """Read once: the pool, its master's API version, and every member's address.

        Both reads go at once: right after the login, or beside the first call after it
        (``_call_once``); pipelined on one connection where the session pipelines."""
        endpoint = self._endpoint
        if self.pipelines:  # the login settled the protocol
            # one connection, no thread: what a fleet's hundreds of logins each pay
            pools, hosts = self._json.call_in_order(
                endpoint, [(f"{name}.get_all_records", [ref]) for name in ("pool", "host")])
            for answer in (pools, hosts):
                if isinstance(answer, Exception):
                    raise answer
        else:
            pools, hosts = run_beside([
                functools.partial(self._send, endpoint, f"{name}.get_all_records", [ref])
                for name in ("pool", "host")])
        self._learn_records(pools, hosts)

    def _learn_records(self, pools: Any, hosts: Any) -> None:
        """The facts from the wire answers of ``pool.get_all_records`` and
        ``host.get_all_records``."""
        if isinstance(pools, dict) and pools:
            self._pool_ref, pool = next(iter(pools.items()))
            self._master_ref = str(pool.get("master", ""))
        version = (0, 0)
        if isinstance(hosts, dict):
            self._members = [str(h.get("address", "")) for h in hosts.values()
                             if h.get("address")]
            master = hosts.get(self._master_ref, {})
            try:
                version = (int(master.get("API_version_major", 0)),
                           int(master.get("API_version_minor", 0)))
            except (TypeError, ValueError):
                version = (0, 0)
        self._api_version = version

    def _relogin(self, stale: str) -> str:
        with self._lock:
            if self._ref == stale:
                log.info("session expired on %s: logging in again", self._endpoint)
                self._ref = None
            return self.login()

    def close(self) -> None:
        """Log out and close the connections. Idempotent.

        The logout goes the way calls go (``HOST_IS_SLAVE`` followed, failover through the
        members, a dropped request sent again) within the policy's short logout deadline."""
        with self._lock:
            ref = self._ref
            self.closed = True
            try:
                if ref is not None:
                    self.retry.for_logout().run(lambda: self._logout_once(ref), read=True)
            except (TransportError, XapiFailure) as exc:
                log.info("logout from %s failed: %s", self._endpoint, exc)
            finally:
                self._ref = None
                self._channel.close()

    def _logout_once(self, ref: str) -> None:
        try:
            self._on_master("session.logout", [], ref, read=True, read_timeout=LOGOUT_TIMEOUT)
        except XapiFailure as failure:
            if failure.code != "SESSION_INVALID":  # already gone (a lost answer): done
                raise

    # --- calls ------------------------------------------------------------------------------

    def call(self, method: str, params: Sequence[Any] = (), *,
             read_timeout: float | None = None) -> Any:
        """Call ``method`` (the session is added first unless the method takes none)."""
        read = is_read(method)
        return self.retry.run(lambda: self._call_once(method, params, read, read_timeout),
                              read=read)

    @property
    def pipelines(self) -> bool:
        """Whether ``call_in_order`` sends its calls in one round trip (JSON-RPC over a
        channel that pipelines), as far as known now (before the login: JSON-RPC assumed)."""
        return self.protocol != "xmlrpc" and self._channel.pipelines

    def call_in_order(self, calls: Sequence[tuple[str, Sequence[Any]]], *,
                      read_timeout: float | None = None, then_logout: bool = False
                      ) -> list[Any]:
        """Send ``calls`` back to back on one connection to the master, without waiting for
        each answer (HTTP pipelining). XAPI serves a connection's requests one after the
        other, so each call sees what the ones before it did, and all of them take one
        round trip. Each call's result, or its ``XapiFailure`` (returned, not raised).

        A call the pipeline could not complete is sent again the way ``call`` sends it (the
        master followed, the session renewed, a read retried), and so are the ones after it;
        a write whose answer was lost raises ``OutcomeUnknown``, as in ``call``. Over
        XML-RPC, or a channel that does not pipeline (httpx's path), every call goes that
        way, one at a time, in order.

        ``then_logout``: the session's logout goes last in the same round trip (the run's
        last requests), when the calls are pipelined; a later call logs in again, and
        ``close`` has nothing left to log out. Without pipelining, ``close`` logs out."""
        ref = self.login()  # settles the protocol, which ``pipelines`` then tells exactly
        done: list[Any] = []
        if self.pipelines:
            endpoint = self._endpoint
            sent = [(method, [ref, *params]) for method, params in calls]
            if then_logout:
                sent.append(("session.logout", [ref]))
            answers = self._json.call_in_order(endpoint, sent, read_timeout=read_timeout)
            if then_logout:
                self._logged_out(ref, answers.pop())
            for index, answer in enumerate(answers):
                if isinstance(answer, XapiFailure) and answer.code == "HOST_IS_SLAVE" \
                        and answer.params:
                    self._retarget(answer.params[0])  # none of the rest ran either
                    break
                if isinstance(answer, XapiFailure) and answer.code == "SESSION_INVALID":
                    break  # none of the rest ran either; ``call`` logs in again
                if isinstance(answer, ConnectError):
                    break  # nothing was sent
                if isinstance(answer, (RequestTimeout, ConnectionLost)):
                    # sent: the rest may have run. Reads are sent again; a write is unknown.
                    unknown = next((m for m, _ in calls[index:] if not is_read(m)), None)
                    if unknown is None:
                        break
                    raise OutcomeUnknown(
                        f"{unknown} was sent to {endpoint} but the answer was lost "
                        f"({type(answer).__name__}): it may or may not have happened. Re-read "
                        "the state before deciding what to do.", url=str(endpoint),
                        method=unknown)
                if isinstance(answer, TransportError):
                    raise answer  # an answer that is not XAPI's (a proxy's page …)
                done.append(answer)
        for method, params in calls[len(done):]:
            try:
                done.append(self.call(method, params, read_timeout=read_timeout))
            except XapiFailure as failure:
                done.append(failure)
        return done

    def _logged_out(self, ref: str, answer: Any) -> None:
        """A pipelined logout of ``ref`` answered ``answer``: the session is gone (a later
        call logs in again), or the logout failed and ``close`` tries it again."""
        if isinstance(answer, Exception) and not (
                isinstance(answer, XapiFailure) and answer.code == "SESSION_INVALID"):
            log.info("logout from %s failed: %s", self._endpoint, answer)
            return
        with self._lock:
            if self._ref == ref:
                self._ref = None

    def _call_once(self, method: str, params: Sequence[Any], read: bool,
                   read_timeout: float | None) -> Any:
        if method in SESSIONLESS:
            return self._send(self._endpoint, method, params, read_timeout)
        ref = self.login()
        if not self._learnt and self._claim_learning(wait=False):
            answer, _ = run_beside([
                functools.partial(self._on_master, method, params, ref, read=read,
                                  read_timeout=read_timeout, relogin=True),
                functools.partial(self._learn_beside, ref)])
            return answer
        return self._on_master(method, params, ref, read=read, read_timeout=read_timeout,
                               relogin=True)

    def _on_master(self, method: str, params: Sequence[Any], ref: str, *, read: bool,
                   read_timeout: float | None, relogin: bool = False) -> Any:
        """One attempt of ``method`` with ``ref``, following the master wherever it went."""
        relogged = not relogin
        for _ in range(MAX_REDIRECTS):
            endpoint = self._endpoint
            try:
                return self._send(endpoint, method, [ref, *params], read_timeout)
            except XapiFailure as failure:
                if failure.code == "HOST_IS_SLAVE" and failure.params:
                    self._retarget(failure.params[0])
                elif (failure.code == "SESSION_INVALID" and not relogged
                      and (not failure.params or failure.params[0] == ref)):
                    relogged = True
                    ref = self._relogin(ref)
                else:
                    raise
            except ConnectError:
                if not self._failover(endpoint, ref, read_timeout):
                    raise
            except (RequestTimeout, ConnectionLost) as exc:
                if read:
                    raise
                raise OutcomeUnknown(
                    f"{method} was sent to {endpoint} but the answer was lost "
                    f"({type(exc).__name__}): it may or may not have happened. Re-read the "
                    "state before deciding what to do.", url=str(endpoint),
                    method=method) from None
        raise ProtocolError(f"too many redirects calling {method}", url=str(self._endpoint))

    # --- the management interface moves -----------------------------------------------------

    def reaches(self, address: str) -> str | None:
        """``None`` when this client can get to XAPI's port at ``address`` (scheme and port
        kept): XAPI answers there, or the host refuses the connection (it is there, XAPI does
        not listen on that address yet); else why not, in words. A pool reached on loopback
        (a tunnel, a local simulator) never probes beyond it: such an address is unreachable
        from here by definition."""
        if not address:
            return "it has no address"
        if is_loopback_address(self._endpoint.host) and not is_loopback_address(address):
            return (f"this client reaches the pool on loopback ({self._endpoint.host}) and "
                    f"{address} is not a loopback address")
        try:
            self._probe(address)
        except ConnectError as exc:
            if exc.kind == "refused":
                return None
            return f"connecting to {address} failed ({exc})"
        except TransportError as exc:
            return f"connecting to {address} failed ({type(exc).__name__}: {exc})"
        return None

    def answers_at(self, address: str) -> str | None:
        """Wait until XAPI answers at ``address`` (any answer, ``HOST_IS_SLAVE`` included),
        retrying within the retry policy's deadline: ``None`` once it does, else why not."""
        try:
            self.retry.run(lambda: self._probe(address), read=True)
        except TransportError as exc:
            return f"XAPI did not answer at {address} ({type(exc).__name__}: {exc})"
        return None

    def _probe(self, address: str) -> None:
        with contextlib.suppress(XapiFailure):  # an answer: XAPI is there (HOST_IS_SLAVE …)
            self._send(self._endpoint.with_host(address), "pool.get_all",
                       [self._ref or "OpaqueRef:NULL"], read_timeout=PROBE_TIMEOUT)

    def follow_master(self, address: str) -> None:
        """The master's management interface moved to ``address``: calls go there from now
        on; the old address stays a member, so a move that did not happen is found by
        failover."""
        with self._lock:
            old = self._endpoint.host
            self._members = [*dict.fromkeys([address, old, *self._members])]
            self._retarget(address)
            self.moved_to = address

    # --- the master moves -------------------------------------------------------------------

    def _retarget(self, address: str) -> None:
        with self._lock:
            moved = self._endpoint.with_host(address)
            if moved != self._endpoint:
                log.info("pool master is %s (HOST_IS_SLAVE from %s)", address,
                         self._endpoint.host)
                self._endpoint = moved

    def _failover(self, failed: Endpoint, ref: str | None = None,
                  read_timeout: float | None = None) -> bool:
        """The master did not answer: find the one that does among the members.

        Returns True when a (possibly new) master answered, so the call can go again."""
        with self._lock:
            if self._endpoint != failed:
                return True  # another thread already moved on
            dead = {failed.host}
            queue = [m for m in self._members if m not in dead]
            probe = [ref or self._ref or "OpaqueRef:NULL"]
            refused: TLSError | None = None
            while queue:
                address = queue.pop(0)
                if address in dead:
                    continue
                candidate = failed.with_host(address)
                try:
                    self._send(candidate, "pool.get_all", probe,
                               read_timeout=min(read_timeout or PROBE_TIMEOUT, PROBE_TIMEOUT))
                except XapiFailure as failure:
                    if failure.code == "HOST_IS_SLAVE" and failure.params:
                        hint = failure.params[0]
                        if hint not in dead:
                            queue.insert(0, hint)
                        dead.add(address)
                        continue
                    if failure.code != "SESSION_INVALID":
                        dead.add(address)
                        continue
                except TLSError as exc:  # an untrusted member: say so if nobody answers
                    refused = exc
                    dead.add(address)
                    continue
                except TransportError:
                    dead.add(address)
                    continue
                log.warning("master %s did not answer; %s is the master now", failed.host,
                            address)
                self._endpoint = candidate
                return True
            if refused is not None:
                raise refused
            return False


__all__ = ["SESSIONLESS", "Protocol", "XapiSession", "originator"]
