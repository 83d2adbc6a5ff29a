"""Role-based access control as XAPI enforces it (REFERENCE §5).

A session's user has one static role; the datamodel lists, per message, every role allowed to
call it (the roles are nested, so the lists already include the stronger ones). The local
superuser (``root``) passes every check. A permission is the method name lower-cased
(``vlan.create``), or ``<method>/key:<key>`` for map mutators on the keys XAPI opens to weaker
roles (``network.add_to_other_config/key:folder``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from xapictl.model.schema import ROLE_ORDER, datamodel
from xapictl.sim.errors import SimFailure
from xapictl.sim.registry import SessionInfo

ROLES: tuple[str, ...] = ROLE_ORDER
"""The static roles, strongest first."""

DEFAULT_ROLE = "pool-admin"
SUPERUSER = "root"

# Unknown methods are treated as host extensions, which only pool-admin may call (§1.6).
CALL_EXTENSION_PERMISSION = "host.call_extension"
CALL_EXTENSION_ROLES = frozenset({"pool-admin"})

# other_config keys that XenCenter writes and XAPI opens to vm-operator and above (§5).
_OPEN_KEYS = ("folder", "XenCenterCreateInProgress")
_OPEN_KEY_PREFIXES = ("XenCenter.CustomFields.",)
_VM_OPERATOR_UP = frozenset(ROLES[: ROLES.index("vm-operator") + 1])


def permission_name(method: str) -> str:
    """``VLAN.create`` → ``vlan.create`` (the name XAPI checks and reports)."""
    return method.lower()


def roles_for(role: str, *, superuser: bool = False) -> frozenset[str]:
    """The role set a session carries: its one role, or every role for the superuser."""
    if superuser:
        return frozenset(ROLES)
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; known: {', '.join(ROLES)}")
    return frozenset({role})


def open_key_permission(method: str, key: str) -> tuple[str, frozenset[str]] | None:
    """The key-scoped permission for ``add_to_/remove_from_other_config`` on an open key."""
    name = method.rsplit(".", 1)[-1]
    if name not in ("add_to_other_config", "remove_from_other_config"):
        return None
    if key in _OPEN_KEYS or key.startswith(_OPEN_KEY_PREFIXES):
        return f"{permission_name(method)}/key:{key.lower()}", _VM_OPERATOR_UP
    return None


def denied(permission: str, allowed: Iterable[str]) -> SimFailure:
    """``RBAC_PERMISSION_DENIED`` with XAPI's exact message text."""
    names = ", ".join(r for r in ROLES if r in set(allowed))
    return SimFailure(
        "RBAC_PERMISSION_DENIED",
        permission,
        f"No permission in user session. (Roles with this permission: {names})",
    )


def check(session: SessionInfo, permission: str, allowed: frozenset[str]) -> None:
    """Raise ``RBAC_PERMISSION_DENIED`` unless the session may use ``permission``."""
    if session.is_local_superuser or session.roles & allowed:
        return
    raise denied(permission, allowed)


@functools.cache
def permissions_of(role: str) -> tuple[str, ...]:
    """Every permission name a role holds (``session.rbac_permissions``), sorted."""
    found: set[str] = set()
    for cls in datamodel().classes.values():
        for msg in cls.messages.values():
            if role in msg.roles:
                found.add(permission_name(msg.wire_name))
        if "get_all_records" in cls.messages and role in cls.messages["get_all_records"].roles:
            found.add(permission_name(f"{cls.name}.get_all_records_where"))
            found.add(permission_name(f"{cls.name}.get_all_where"))
    if role in CALL_EXTENSION_ROLES:
        found.add(CALL_EXTENSION_PERMISSION)
    return tuple(sorted(found))


__all__ = [
    "CALL_EXTENSION_PERMISSION",
    "CALL_EXTENSION_ROLES",
    "DEFAULT_ROLE",
    "ROLES",
    "SUPERUSER",
    "check",
    "denied",
    "open_key_permission",
    "permission_name",
    "permissions_of",
    "roles_for",
]
