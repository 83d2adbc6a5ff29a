"""With HA on, the management interface's bond status is frozen (REFERENCE §3.7 step 9 and
Bond.destroy): ``HA_CANNOT_CHANGE_BOND_STATUS_OF_MGMT_IFACE []``."""

from __future__ import annotations

from sim_network_helpers import api_fixture  # noqa: F401 - the "api" fixture


def _ha(api, on=True):
    api.sim.state.set_field("pool", api.sim.state.refs("pool")[0], "ha_enabled", on)


def test_create_with_the_management_pif_as_member_under_ha_is_refused(api):
    host = api.hosts()[0]
    eth0, eth1 = api.pif(host, "eth0"), api.pif(host, "eth1")
    _ha(api)
    assert api.fails("Bond.create", api.new_network("bond"), [eth0, eth1], "",
                     "active-backup", {}) == ["HA_CANNOT_CHANGE_BOND_STATUS_OF_MGMT_IFACE"]


def test_create_without_the_management_pif_under_ha_is_allowed(api):
    host = api.hosts()[0]
    eth1, eth2 = api.pif(host, "eth1"), api.pif(host, "eth2")
    api("PIF.reconfigure_ip", eth2, "None", "", "", "", "")
    _ha(api)
    api("Bond.create", api.new_network("bond"), [eth1, eth2], "", "active-backup", {})


def test_destroy_of_the_management_bond_under_ha_is_refused(api):
    host = api.hosts()[0]
    eth0, eth1 = api.pif(host, "eth0"), api.pif(host, "eth1")
    bond = api("Bond.create", api.new_network("bond"), [eth0, eth1], "", "active-backup", {})
    assert api.record("PIF", api.record("Bond", bond).master).management is True
    _ha(api)
    assert api.fails("Bond.destroy", bond) == ["HA_CANNOT_CHANGE_BOND_STATUS_OF_MGMT_IFACE"]
    _ha(api, False)
    api("Bond.destroy", bond)
    assert api.record("PIF", eth0).management is True
