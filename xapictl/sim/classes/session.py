"""Sessions (REFERENCE §1.8): login, logout, and who a session is.

Sessions are ``session`` records in the state, so they survive with a state file and are
valid whichever protocol uses them. The record holds no password; the session's user is
``auth_user_name`` and its role is looked up from the simulator's accounts at each call.

A session unused for ``Accounts.idle_timeout`` seconds (24 h, XAPI's
``inactive_session_timeout``) ends: its next use is ``SESSION_INVALID``. The last use is
kept in memory (falling back to the record's ``last_active``), because writing
``last_active`` on every call would turn every read into a database change and an event.
"""

from __future__ import annotations

import datetime as _dt
import hmac
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field

from xapictl.sim import rbac
from xapictl.sim.classes import event as events
from xapictl.sim.errors import SimFailure
from xapictl.sim.registry import CallContext, SessionInfo, handles
from xapictl.sim.state import NULL_REF, SimState

AUTH_FAILED_TEXT = "Authentication failure"
SESSION_LIMIT = 500
IDLE_TIMEOUT = 24 * 3600.0
"""Seconds an unused session lives (XAPI's ``inactive_session_timeout``)."""


@dataclass(slots=True)
class Accounts:
    """Who may log in: one shared password, and each user's role (``root`` is the local
    superuser whatever the mapping says); and how long an idle session lives."""

    password: str = "xapictl"  # noqa: S105 - the documented sandbox default
    users: dict[str, str] = field(default_factory=dict)
    changed_passwords: dict[str, str] = field(default_factory=dict)
    """Passwords set with ``session.change_password`` (root's), overriding ``password``."""
    idle_timeout: float = IDLE_TIMEOUT
    last_use: dict[str, float] = field(default_factory=dict)
    """Session ref → Unix time of its last call (in memory only)."""

    @classmethod
    def build(cls, password: str, users: Mapping[str, str] | None) -> Accounts:
        table = {rbac.SUPERUSER: rbac.DEFAULT_ROLE, **dict(users or {})}
        for name, role in table.items():
            rbac.roles_for(role)  # reject unknown roles up front
            if not name:
                raise ValueError("a user name cannot be empty")
        return cls(password, table)

    def authenticate(self, uname: str, pwd: str) -> bool:
        known = uname in self.users
        expected = self.changed_passwords.get(uname, self.password)
        # Compare in constant time whether or not the user exists.
        ok = hmac.compare_digest(pwd.encode("utf-8", "surrogatepass"),
                                 expected.encode("utf-8", "surrogatepass"))
        return known and ok

    def idle_too_long(self, ref: str, record: Mapping[str, object], now: float) -> bool:
        """Whether the session was last used more than ``idle_timeout`` seconds ago."""
        last = self.last_use.get(ref)
        if last is None:
            active = record.get("last_active")
            last = active.timestamp() if isinstance(active, _dt.datetime) else now
        return now - last > self.idle_timeout

    def touch(self, ref: str, now: float, live: Mapping[str, object]) -> None:
        """Note a use of ``ref``; now and then forget the sessions that are no longer in
        ``live`` (the session table), ended some other way than logout."""
        self.last_use[ref] = now
        if len(self.last_use) > 2 * len(live) + 1024:
            self.last_use = {r: t for r, t in self.last_use.items() if r in live}


# The accounts of each simulated pool, for the handlers that need them (change_password).
_accounts: weakref.WeakKeyDictionary[SimState, Accounts] = weakref.WeakKeyDictionary()


def attach(state: SimState, accounts: Accounts) -> None:
    """Make ``accounts`` the ones the handlers of ``state``'s pool see."""
    _accounts[state] = accounts


def login(state: SimState, accounts: Accounts, host: str, uname: str, pwd: str,
          originator: str = "", *, preauth: bool = False) -> str:
    """``session.login_with_password`` once the member check passed: a new session ref.

    Unlike XAPI there is no 5 s delay on failure: the simulator serves tests. ``preauth``
    (the local unix socket): no password check, and the session is the local superuser's
    whatever the name, as XAPI trusts a local root connection.
    """
    if not preauth and not accounts.authenticate(uname, pwd):
        raise SimFailure("SESSION_AUTHENTICATION_FAILED", uname, AUTH_FAILED_TEXT)
    superuser = preauth or uname == rbac.SUPERUSER
    role = accounts.users.get(uname, rbac.DEFAULT_ROLE)
    now = _dt.datetime.now(_dt.UTC).replace(microsecond=0)
    _enforce_limit(state, uname, originator)
    ref = state.create("session", {
        "this_host": host,
        "this_user": NULL_REF,
        "last_active": now,
        "validation_time": now,
        "pool": False,
        "is_local_superuser": superuser,
        "auth_user_name": uname,
        "rbac_permissions": list(rbac.permissions_of(rbac.DEFAULT_ROLE if superuser else role)),
        "originator": originator,
    })
    accounts.touch(ref, time.time(), state.all("session"))
    return ref


def _enforce_limit(state: SimState, uname: str, originator: str) -> None:
    """XAPI keeps at most 500 sessions per originator (or per user name for sessions without
    one) and destroys the oldest beyond that; a leaky client cannot grow the pool forever."""
    key, value = ("originator", originator) if originator else ("auth_user_name", uname)
    mine = [ref for ref, r in state.all("session").items()
            if r.get(key) == value and (originator or not r.get("originator"))]
    for ref in mine[: max(0, len(mine) - SESSION_LIMIT + 1)]:  # oldest first (insertion order)
        state.destroy("session", ref)


def session_info(state: SimState, accounts: Accounts, ref: str) -> SessionInfo | None:
    """The live session behind ``ref``, or None when it is unknown, logged out or expired.
    A session idle for too long is destroyed here, as XAPI's periodic GC would have done;
    any other use counts as activity. Call under the state lock."""
    sessions = state.all("session")
    record = sessions.get(ref)
    if record is None:
        return None
    now = time.time()
    if accounts.idle_too_long(ref, record, now):
        state.destroy("session", ref)
        accounts.last_use.pop(ref, None)
        return None
    accounts.touch(ref, now, sessions)
    user = str(record.get("auth_user_name", ""))
    superuser = bool(record.get("is_local_superuser"))
    role = accounts.users.get(user)
    if role is None and not superuser:
        return None  # the user was removed since: the session no longer authenticates
    return SessionInfo(
        ref=ref,
        user=user,
        roles=rbac.roles_for(role or rbac.DEFAULT_ROLE, superuser=superuser),
        is_local_superuser=superuser,
        originator=str(record.get("originator", "")),
        host=str(record.get("this_host", NULL_REF)),
    )


@handles("session.logout")
def logout(ctx: CallContext) -> None:
    if ctx.state.exists("session", ctx.session.ref):
        ctx.state.destroy("session", ctx.session.ref)
    events.forget_session(ctx.session.ref)
    accounts = _accounts.get(ctx.state)
    if accounts is not None:
        accounts.last_use.pop(ctx.session.ref, None)


@handles("session.local_logout")
def local_logout(ctx: CallContext) -> None:
    logout(ctx)


@handles("session.get_all_subject_identifiers")
def get_all_subject_identifiers(ctx: CallContext) -> list[str]:
    """The subject ids of externally authenticated sessions (every session but the local
    superuser's), without repeats."""
    found: dict[str, None] = {}
    for record in ctx.state.all("session").values():
        sid = str(record.get("auth_user_sid", ""))
        if not record.get("is_local_superuser") and sid:
            found[sid] = None
    return list(found)


@handles("session.logout_subject_identifier")
def logout_subject_identifier(ctx: CallContext, subject_identifier: str) -> None:
    """End the subject's sessions, never a local superuser's nor the caller's own."""
    for ref, record in list(ctx.state.all("session").items()):
        if (record.get("auth_user_sid") == subject_identifier and ref != ctx.session.ref
                and not record.get("is_local_superuser")):
            ctx.state.destroy("session", ref)


@handles("session.change_password")
def change_password(ctx: CallContext, old_pwd: str, new_pwd: str) -> None:
    """Set root's password, as XAPI does for a local-superuser session: ``old_pwd`` is not
    checked (CA-13567), open sessions stay valid. Other sessions never get here (the
    message has no role, so RBAC refuses them first); the check below is XAPI's own."""
    if not ctx.session.is_local_superuser:
        raise SimFailure("USER_IS_NOT_LOCAL_SUPERUSER",
                         f"Failed to change password for user {rbac.SUPERUSER}")
    accounts = _accounts.get(ctx.state)
    if accounts is None:
        raise SimFailure("CHANGE_PASSWORD_REJECTED", "no accounts to change")
    accounts.changed_passwords[rbac.SUPERUSER] = new_pwd


__all__ = ["AUTH_FAILED_TEXT", "IDLE_TIMEOUT", "SESSION_LIMIT", "Accounts", "attach", "login",
           "session_info"]
