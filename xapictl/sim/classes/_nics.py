"""The physical NICs each simulated host has, which ``PIF.introduce`` and ``PIF.scan`` look up.

XAPI asks networkd; the simulator keeps an inventory per state, filled by the scenarios. After a
state is reloaded from a file the inventory is rebuilt from the physical PIFs that exist.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from xapictl.sim.state import SimState


@dataclass(frozen=True, slots=True)
class Nic:
    device: str
    mac: str
    position: int
    """The NIC's position as networkd reports it: bridge ``xenbr<position>``."""
    speed: int = 1000
    carrier: bool = True
    vendor_name: str = "Intel Corporation"
    device_name: str = "82599ES 10-Gigabit SFI/SFP+ Network Connection"


_inventory: weakref.WeakKeyDictionary[SimState, dict[str, list[Nic]]] = (
    weakref.WeakKeyDictionary())


def add(state: SimState, host: str, nic: Nic) -> None:
    nics = _inventory.setdefault(state, {}).setdefault(host, [])
    if all(n.device != nic.device for n in nics):
        nics.append(nic)


def forget_all(state: SimState) -> None:
    """Drop the inventory (the state is about to be rebuilt)."""
    _inventory.pop(state, None)


def of_host(state: SimState, host: str) -> list[Nic]:
    """The host's NICs: the inventory, plus any physical PIF it does not know (reloaded state)."""
    nics = list(_inventory.get(state, {}).get(host, []))
    known = {n.device for n in nics}
    for pif in state.all("PIF").values():
        if pif["host"] == host and pif["physical"] and pif["device"] not in known:
            position = _position_from_bridge(state, pif["network"], len(nics))
            nics.append(Nic(pif["device"], str(pif["MAC"]).lower(), position))
            known.add(pif["device"])
    return nics


def _position_from_bridge(state: SimState, network: str, fallback: int) -> int:
    if state.exists("network", network):
        bridge = str(state.get("network", network)["bridge"])
        if bridge.startswith("xenbr") and bridge[5:].isdigit():
            return int(bridge[5:])
    return fallback


__all__ = ["Nic", "add", "forget_all", "of_host"]
