"""The vif hotplug script with xl's ``vlan=`` on a real VLAN-aware bridge (UML kernel)."""

from __future__ import annotations

import pytest
from fake_xenstore import FakeXenStore, vif_backend
from local_netns_helpers import snapshot_of
from test_uml_local_vlans import guest, trunk
from typer.testing import CliRunner

from xapictl.cli.local import app
from xapictl.local import probe
from xapictl.local.apply import apply
from xapictl.local.desired import parse_recipe
from xapictl.local.observe import BridgeVlan

pytestmark = [pytest.mark.uml, pytest.mark.requires_root]

TRUNK = """
local:
  bridges:
    xenbr1:
      uplink: eth1
      vlan_filtering: true
      trunk_vids: ["101-105"]
      addresses: none
"""


def test_hotplug_vlan_setting_lands_the_vif_on_its_vlan(tmp_path, namespaces):
    dom0, _ = trunk(namespaces)
    g = guest(namespaces, dom0, "g5", "vif5.0", "10.105.0.50/24")
    apply(parse_recipe(TRUNK), netns=dom0, run_probe=False)
    store = FakeXenStore(tmp_path, vif_backend(5, 0, bridge="xenbr1", vlan="105"))
    env = store.env(XENBUS_PATH="backend/vif/5/0", vif="vif5.0",
                    XAPICTL_HOTPLUG_LOG=str(tmp_path / "vif.log"))
    result = CliRunner().invoke(app, ["vif-hotplug", "online", "type_if=vif", "--netns", dom0],
                                env=env)
    assert result.exit_code == 0, result.output
    assert store.data["backend/vif/5/0/hotplug-status"] == "connected"
    snap = snapshot_of(dom0)
    assert snap.links["vif5.0"].master == "xenbr1"
    assert list(snap.bridge_vlans["vif5.0"]) == [BridgeVlan(105, pvid=True, untagged=True)]
    assert probe.reachable("10.105.0.1", netns=g)
    result = CliRunner().invoke(app, ["vif-hotplug", "offline", "type_if=vif", "--netns", dom0],
                                env=env)
    assert result.exit_code == 0
    assert snapshot_of(dom0).links["vif5.0"].master is None
