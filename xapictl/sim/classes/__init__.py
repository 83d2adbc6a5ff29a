"""The simulator's per-class semantics: importing this package registers every handler.

One module per XAPI class (``vlan.py`` holds ``VLAN.*``). Messages without a handler get the
generic behaviour from the datamodel (``xapictl.sim.generic``).
"""

from __future__ import annotations

from xapictl.sim.classes import (
    bond,
    event,
    host,
    network,
    network_sriov,
    pif,
    pool,
    sdn_controller,
    session,
    task,
    tunnel,
    vif,
    vlan,
    vm,
)

__all__ = ["bond", "event", "host", "network", "network_sriov", "pif", "pool", "sdn_controller",
           "session", "task", "tunnel", "vif", "vlan", "vm"]
