"""Sessions (REFERENCE §1.8): login, logout, and who a session is.

Sessions are ``session`` records in the state, so they survive with a state file and are
valid whichever protocol uses them. The record holds no password; the session's user is
``auth_user_name`` and its role is looked up from the simulator's accounts at each call.
"""

from __future__ import annotations

import datetime as _dt
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field

from xapictl.sim import rbac
from xapictl.sim.classes import event as events
from xapictl.sim.errors import SimFailure
from xapictl.sim.registry import CallContext, SessionInfo, handles
from xapictl.sim.state import NULL_REF, SimState

AUTH_FAILED_TEXT = "Authentication failure"
SESSION_LIMIT = 500


@dataclass(slots=True)
class Accounts:
    """Who may log in: one shared password, and each user's role (``root`` is the local
    superuser whatever the mapping says)."""

    password: str = "xapictl"  # noqa: S105 - the documented sandbox default
    users: dict[str, str] = field(default_factory=dict)

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
        # Compare in constant time whether or not the user exists.
        ok = hmac.compare_digest(pwd.encode("utf-8", "surrogatepass"),
                                 self.password.encode("utf-8"))
        return known and ok


def login(state: SimState, accounts: Accounts, host: str, uname: str, pwd: str,
          originator: str = "") -> str:
    """``session.login_with_password`` once the member check passed: a new session ref.

    Unlike XAPI there is no 5 s delay on failure: the simulator serves tests.
    """
    if not accounts.authenticate(uname, pwd):
        raise SimFailure("SESSION_AUTHENTICATION_FAILED", uname, AUTH_FAILED_TEXT)
    superuser = uname == rbac.SUPERUSER
    role = accounts.users[uname]
    now = _dt.datetime.now(_dt.UTC).replace(microsecond=0)
    _enforce_limit(state, uname, originator)
    return state.create("session", {
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


def _enforce_limit(state: SimState, uname: str, originator: str) -> None:
    """XAPI keeps at most 500 sessions per originator (or per user name for sessions without
    one) and destroys the oldest beyond that; a leaky client cannot grow the pool forever."""
    key, value = ("originator", originator) if originator else ("auth_user_name", uname)
    mine = [ref for ref, r in state.all("session").items()
            if r.get(key) == value and (originator or not r.get("originator"))]
    for ref in mine[: max(0, len(mine) - SESSION_LIMIT + 1)]:  # oldest first (insertion order)
        state.destroy("session", ref)


def session_info(state: SimState, accounts: Accounts, ref: str) -> SessionInfo | None:
    """The live session behind ``ref``, or None when it is unknown, logged out or expired."""
    record = state.all("session").get(ref)
    if record is None:
        return None
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


@handles("session.local_logout")
def local_logout(ctx: CallContext) -> None:
    logout(ctx)


@handles("session.get_all_subject_identifiers")
def get_all_subject_identifiers(ctx: CallContext) -> list[str]:
    """No external authentication is configured, so there are no subjects."""
    return [str(r["subject_identifier"]) for r in ctx.state.all("subject").values()]


@handles("session.logout_subject_identifier")
def logout_subject_identifier(ctx: CallContext, subject_identifier: str) -> None:
    for ref, record in list(ctx.state.all("session").items()):
        if record.get("auth_user_sid") == subject_identifier:
            ctx.state.destroy("session", ref)


@handles("session.change_password")
def change_password(ctx: CallContext, old_pwd: str, new_pwd: str) -> None:
    """Not modelled: the simulator's password is set by whoever runs it."""
    raise SimFailure("NOT_IMPLEMENTED", "session.change_password")


__all__ = ["AUTH_FAILED_TEXT", "Accounts", "login", "session_info"]
