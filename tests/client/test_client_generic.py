"""Typed access to every class of the datamodel, and the raw door with ints as ints."""

from __future__ import annotations

from typing import Any

import pytest

import xapictl
from xapictl.errors import UsageError
from xapictl.model._base import Record
from xapictl.model.enums import VIFIPv4ConfigurationMode, VMPowerState
from xapictl.model.schema import datamodel
from xapictl.xapi.failures import RbacPermissionDenied

_LISTABLE = sorted(name for name, c in datamodel().classes.items()
                   if "get_all_records" in c.messages
                   and c.messages["get_all_records"].state != "removed")


def test_every_listable_class_reads_as_its_generated_records(conn: Any) -> None:
    for name in _LISTABLE:
        client = conn.client(name)
        records = client.get_all_records()
        assert all(isinstance(r, client.record) and isinstance(r, Record)
                   for r in records.values()), name
        assert sorted(records) == sorted(client.get_all()), name


def test_any_message_is_reachable_by_its_lower_cased_name(conn: Any) -> None:
    vm = next(ref for ref, v in conn.vms.get_all_records().items()
              if not v.is_control_domain and v.power_state == VMPowerState.RUNNING)
    assert conn.vms.get_power_state(vm) is VMPowerState.RUNNING
    assert conn.vms.get_allowed_vif_devices(vm)
    assert isinstance(conn.client("VM").get_vcpus_max(vm), int)
    assert type(conn.client("vm")).__name__ == "VMClient"  # any case; the generated client
    assert conn.client("VM") is conn.client("vm")
    with pytest.raises(AttributeError):
        conn.vms.no_such_message()  # no __getattr__ fallback


def test_optional_parameters_are_left_out_from_the_end_only(conn: Any) -> None:
    net = conn.networks.create(name_label="opt")
    host = next(iter(conn.hosts.get_all()))
    # host.evacuate(host, network?, evacuate_batch_size?): only trailing ones may be missing
    with pytest.raises(UsageError, match="give network too"):
        conn.hosts.evacuate(host=host, evacuate_batch_size=2)
    pifs = conn.pifs.get_all_records()
    pif = next(ref for ref, p in pifs.items() if p.physical)
    vlan = conn.pools.create_vlan_from_pif(pif, net, 77)
    assert vlan and conn.client("PIF").get_vlan(vlan[0]) == 77
    # a trailing optional parameter left as None is not sent: XAPI takes its default
    vm = next(ref for ref, v in conn.vms.get_all_records().items() if not v.is_control_domain)
    vif = conn.vifs.create(vm=vm, network=net, device=conn.vms.get_allowed_vif_devices(vm)[0])
    conn.client("VIF").configure_ipv4(vif, mode=VIFIPv4ConfigurationMode.STATIC,
                                      address="10.0.0.2/24")
    record = conn.vifs.get_record(vif)
    assert record.ipv4_addresses == ("10.0.0.2/24",) and record.ipv4_gateway == ""


def test_an_event_batch_comes_back_as_the_wire_sends_it(conn: Any) -> None:
    batch = conn.client("event").from_(classes=["network"], token="", timeout=0.0)
    assert batch["token"] and {e["class"] for e in batch["events"]} == {"network"}


def test_raw_calls_decode_ints_by_the_datamodel_on_both_protocols(conn: Any) -> None:
    net = conn.networks.create(name_label="ints", mtu=9000)
    assert conn.call("network.get_MTU", net) == 9000
    record = conn.call("network.get_record", net)
    assert record["MTU"] == 9000 and record["name_label"] == "ints"
    pif = next(iter(conn.call("PIF.get_all_records").values()))
    assert isinstance(pif["VLAN"], int) and isinstance(pif["currently_attached"], bool)


def test_constructors_take_python_field_names_and_fill_defaults(conn: Any, sim: Any) -> None:
    net = conn.networks.create(name_label="ctor", mtu=1400, other_config={"k": "v"})
    assert sim.state.get("network", net)["other_config"] == {"k": "v"}
    vm = next(ref for ref, v in conn.vms.get_all_records().items() if not v.is_control_domain)
    device = conn.vms.get_allowed_vif_devices(vm)[0]
    vif = conn.vifs.create(vm=vm, network=net, device=device)
    record = conn.vifs.get_record(vif)
    assert record.mtu == 1400 and record.network == net and record.mac
    # typed keyword-only signatures: mypy reports these, and Python names the wrong field
    with pytest.raises(TypeError, match="unexpected keyword argument 'no_such_field'"):
        conn.networks.create(no_such_field=1)
    with pytest.raises(TypeError, match="'network'"):
        conn.vifs.create(vm=vm, device="9")
    with pytest.raises(UsageError, match="device="):
        conn.vifs.create(vm=vm, network=net)


def test_unknown_class_is_a_usage_error(conn: Any) -> None:
    with pytest.raises(UsageError):
        conn.client("NoSuchClass")


def test_permissions_are_lower_cased_rbac_names(conn: Any) -> None:
    perms = conn.permissions()
    assert {"vlan.create", "network.set_mtu", "pool.create_vlan_from_pif"} <= perms


def test_a_read_only_session_lists_reads_but_not_writes(sim: Any, protocol: str) -> None:
    from xapictl.sim.engine import Simulator
    from xapictl.sim.inprocess import InProcessTransport

    pool = Simulator(password="pw", users={"auditor": "read-only"}, scenario="seed")
    with xapictl.connect("http://127.0.0.1", username="auditor", password="pw",
                         transport=InProcessTransport(pool), protocol=protocol) as conn:
        perms = conn.permissions()
        assert "network.get_all_records" in perms and "vlan.create" not in perms
        with pytest.raises(RbacPermissionDenied) as caught:
            conn.networks.create(name_label="nope")
        assert caught.value.params[0] == "network.create"


def test_asyncio_callers_use_the_same_calls(conn: Any) -> None:
    import asyncio

    async def both() -> tuple[Any, Any]:
        return await asyncio.gather(conn.acall("network.get_all"), conn.asnapshot())

    refs, snap = asyncio.run(both())
    assert sorted(refs) == sorted(snap.networks)
