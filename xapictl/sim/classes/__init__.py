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
    pif,
    pool,
    session,
    task,
    tunnel,
    vif,
    vlan,
    vm,
)

# --- sim-network: extend this list with your modules (network, pif, vlan, bond, tunnel, vif,
# vm, host, pool) as they land; every module named here must exist. -----------------------
__all__ = ["bond", "event", "host", "network", "pif", "pool", "session", "task", "tunnel",
           "vif", "vlan", "vm"]
