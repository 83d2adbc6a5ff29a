"""Pools to draw: the seed pool, and a richer one with a bond, a VLAN on the bond, a tunnel
and an SR-IOV network (built through XAPI calls on the simulator); Graphviz detection."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed "
                               "(apt-get install graphviz; .ci/run installs it)")


def docs_hook() -> Any:
    """docs/hooks/diagrams.py, the docs build's generator (its drift example too)."""
    spec = importlib.util.spec_from_file_location("docs_diagrams_hook",
                                                  ROOT / "docs" / "hooks" / "diagrams.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def connect(sim: Any) -> Any:
    import xapictl
    from xapictl.sim.inprocess import InProcessTransport

    return xapictl.connect("http://127.0.0.1", password="xapictl",
                           transport=InProcessTransport(sim))


def records(sim: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """Every class a diagram draws, as the simulator answers ``get_all_records``."""
    session = sim.call("session.login_with_password", ["root", "xapictl"])
    return {cls: sim.call(f"{cls}.get_all_records", [session])
            for cls in ("host", "PIF", "network", "Bond", "VLAN", "tunnel", "network_sriov",
                        "VIF", "VM")}


def build_rich(sim: Any) -> None:
    """On the seed pool: bond0 of eth1+eth2 on every host, VLAN 105 on the bonds, a GRE tunnel
    over xcp-host-01's eth0, and SR-IOV on xcp-host-02's eth0."""
    session = sim.call("session.login_with_password", ["root", "xapictl"])

    def call(method: str, *args: Any) -> Any:
        return sim.call(method, [session, *args])

    def net(name: str) -> str:
        return str(call("network.create", {"name_label": name, "other_config": {}}))

    hosts = {h["name_label"]: ref for ref, h in call("host.get_all_records").items()}
    pifs = call("PIF.get_all_records")

    def pif(host: str, device: str) -> str:
        return next(r for r, p in pifs.items() if p["host"] == hosts[host]
                    and p["device"] == device and int(p["VLAN"]) == -1)

    bonded = net("Bonded")
    bonds = [call("Bond.create", bonded, [pif(h, "eth1"), pif(h, "eth2")], "",
                  "active-backup", {}) for h in sorted(hosts)]
    master = call("Bond.get_master", bonds[0])
    call("pool.create_VLAN_from_PIF", master, net("VLAN 105"), 105)
    call("tunnel.create", pif("xcp-host-01", "eth0"), net("Overlay"), "gre")
    eth0 = pif("xcp-host-02", "eth0")
    with sim.state.lock:
        sim.state.set_field("PIF", eth0, "capabilities", ["sriov"])
        pci = sim.state.create("PCI", {"vendor_id": "8086", "device_id": "10ed",
                                       "host": hosts["xcp-host-02"]})
        sim.state.set_field("PIF", eth0, "PCI", pci)
    call("network_sriov.create", eth0, net("SR-IOV VFs"))
