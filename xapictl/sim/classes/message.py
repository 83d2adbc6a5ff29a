"""Messages: XAPI's alerts about an object (``HOST_OFFLINE`` on a host, …), as
``xapi_message.ml`` creates, lists and destroys them.

They are records of the ``message`` class like any other here, so the generated getters and
``get_all_records`` serve them; ``event.from`` reports their changes against the message
generation of its token (``xapictl.sim.classes.event``).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from xapictl.sim.errors import SimFailure
from xapictl.sim.generic import record_copy
from xapictl.sim.registry import CallContext, handles

# The ``cls`` enum value → the class whose uuid ``obj_uuid`` must name.
_CLASS_OF = {"VM": "VM", "Host": "host", "SR": "SR", "Pool": "pool", "VMPP": "VMPP",
             "VMSS": "VMSS", "PVS_proxy": "PVS_proxy", "VDI": "VDI",
             "Certificate": "Certificate"}


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0)


@handles("message.create")
def create(ctx: CallContext, name: str, priority: int, cls: str, obj_uuid: str,
           body: str) -> str:
    """A new message about the object ``obj_uuid`` of class ``cls``; ``UUID_INVALID
    [cls, uuid]`` when there is no such object."""
    target = _CLASS_OF.get(cls)
    if target is None or target not in ctx.state.dm.classes:
        raise SimFailure("UUID_INVALID", cls, obj_uuid)
    try:
        ctx.state.by_uuid(target, obj_uuid)
    except SimFailure:
        raise SimFailure("UUID_INVALID", cls, obj_uuid) from None
    return ctx.state.create("message", {
        "name": name, "priority": priority, "cls": cls, "obj_uuid": obj_uuid,
        "timestamp": _now(), "body": body})


@handles("message.destroy")
def destroy(ctx: CallContext, self: str) -> None:
    ctx.state.get("message", self)
    ctx.state.destroy("message", self)


@handles("message.destroy_many")
def destroy_many(ctx: CallContext, messages: list[str]) -> None:
    """Destroy every message named; unknown refs are skipped, as XAPI does."""
    for ref in messages:
        if ctx.state.exists("message", ref):
            ctx.state.destroy("message", ref)


@handles("message.get_since")
def get_since(ctx: CallContext, since: _dt.datetime) -> dict[str, Any]:
    """Every message newer than ``since``, by ref."""
    return {ref: record_copy(rec, "message") for ref, rec in ctx.state.all("message").items()
            if rec["timestamp"] > since}


@handles("message.get")
def get(ctx: CallContext, cls: str, obj_uuid: str, since: _dt.datetime) -> dict[str, Any]:
    """The messages about one object newer than ``since``, by ref."""
    return {ref: record_copy(rec, "message") for ref, rec in ctx.state.all("message").items()
            if rec["cls"] == cls and rec["obj_uuid"] == obj_uuid and rec["timestamp"] > since}


__all__ = ["create", "destroy", "destroy_many", "get", "get_since"]
