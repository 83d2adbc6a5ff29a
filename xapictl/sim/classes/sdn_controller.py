"""``SDN_controller``: the OVS manager the pool's vswitches connect to (``xapi_sdn_controller.ml``).

``introduce`` asks networkd for the bridge backend of the host that runs the call (the master)
first, then ``db_introduce``'s checks in order: one controller per pool, ``pssl`` takes neither
address nor port, ``ssl`` needs an IPv4 address, a port must be 1-65535; ``ssl`` on port 0 is
stored as 6632. ``forget`` destroys the record (the vswitch update that follows is a host plugin
the simulator has no use for).
"""

from __future__ import annotations

from xapictl.sim.classes._addresses import is_ipv4
from xapictl.sim.errors import SimFailure
from xapictl.sim.registry import CallContext, handles
from xapictl.sim.state import SimState

SSL_DEFAULT_PORT = 6632


def assert_vswitch(ctx: CallContext) -> None:
    """``Net.Bridge.get_kind`` on the master must say openvswitch."""
    if ctx.state.get("host", ctx.master())["software_version"].get(
            "network_backend") != "openvswitch":
        raise SimFailure("OPERATION_NOT_ALLOWED", "host not configured for vswitch operation")


def db_introduce(state: SimState, protocol: str, address: str, port: int) -> str:
    if state.refs("SDN_controller"):
        raise SimFailure("OPERATION_NOT_ALLOWED",
                         "SDN controller has been configured. Please forget it first.")
    if protocol == "pssl":
        if address != "":
            raise SimFailure("INVALID_VALUE", "address", address)
        if port != 0:
            raise SimFailure("INVALID_VALUE", "port", str(port))
    if protocol == "ssl":
        if address == "":
            raise SimFailure("INVALID_VALUE", "address", address)
        if not is_ipv4(address):
            raise SimFailure("INVALID_IP_ADDRESS_SPECIFIED", "address")
    if port != 0 and not 1 <= port <= 65535:
        raise SimFailure("VALUE_NOT_SUPPORTED", "port", str(port), "Port out of range")
    stored = SSL_DEFAULT_PORT if protocol == "ssl" and port == 0 else port
    return state.create("SDN_controller", {"protocol": protocol, "address": address,
                                           "port": stored})


@handles("SDN_controller.introduce")
def introduce(ctx: CallContext, protocol: str = "ssl", address: str = "", port: int = 0) -> str:
    assert_vswitch(ctx)
    return db_introduce(ctx.state, str(protocol), str(address), int(port))


@handles("SDN_controller.forget")
def forget(ctx: CallContext, self: str) -> None:
    ctx.state.get("SDN_controller", self)
    ctx.state.destroy("SDN_controller", self)


__all__ = ["SSL_DEFAULT_PORT", "assert_vswitch", "db_introduce", "forget", "introduce"]
