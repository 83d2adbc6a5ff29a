"""The mapping and the plan without a NetBox: pure functions (these run in `nox -s tests`)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import xapictl
from xapictl.netbox import FIELDS, NetBoxApi, OrphanPolicy, plan_sync, wanted_objects
from xapictl.netbox.disks import read_disks
from xapictl.netbox.mapping import KIND, MappingOptions, interface_type, prefix_length
from xapictl.netbox.model import Action, GuestDisk, ObjectKey, Ref, Wanted
from xapictl.netbox.sync import NetBoxState, _payload
from xapictl.sim.engine import Simulator
from xapictl.sim.server import SimServer
from xapictl.xapi.credentials import Secret

DOC = Path(__file__).resolve().parents[2] / "docs" / "cmdb.md"


@pytest.fixture(scope="module")
def seed_pool() -> Iterator[tuple[Any, tuple[GuestDisk, ...]]]:
    """The seed pool's snapshot and its VMs' disks; web-01's VIF rate-limited and locked,
    db-01's system disk renamed like its data disk."""
    sim = Simulator(password="xapictl")
    sim.reset(scenario="seed")
    with SimServer(sim) as server, xapictl.connect(server.url, password="xapictl") as conn:
        vms = conn.call("VM.get_all_records")
        web = next(r for r, v in vms.items() if v["name_label"] == "web-01")
        vif = vms[web]["VIFs"][0]
        conn.call("VIF.set_qos_algorithm_type", vif, "ratelimit")
        conn.call("VIF.set_qos_algorithm_params", vif, {"kbps": "10240"})
        conn.call("VIF.set_locking_mode", vif, "locked")
        conn.call("VIF.set_ipv4_allowed", vif, ["192.0.2.101"])
        db = next(r for r, v in vms.items() if v["name_label"] == "db-01")
        for vbd in vms[db]["VBDs"]:
            conn.call("VDI.set_name_label", conn.call("VBD.get_VDI", vbd), "db-01 disk")
        snap = conn.snapshot()
        yield snap, read_disks(conn, snap)
    sim.close()


@pytest.fixture(scope="module")
def seed(seed_pool: tuple[Any, tuple[GuestDisk, ...]]) -> Any:
    return seed_pool[0]


def test_the_docs_mapping_table_is_the_codes() -> None:
    rows = re.findall(r"^\| `([a-z-]+)` \| `([a-z_0-9]+)` \| (.+) \|$", DOC.read_text(),
                      flags=re.M)
    documented = [(kind, name, source.replace("\\|", "|")) for kind, name, source in rows]
    assert documented == [(k, f, s) for k, fields in FIELDS.items() for f, s in fields]


def test_every_owned_object_sets_exactly_the_tables_fields(
        seed_pool: tuple[Any, tuple[GuestDisk, ...]]) -> None:
    wanted, _ = wanted_objects(*seed_pool[:1], disks=seed_pool[1])
    seen: dict[str, set[str]] = defaultdict(set)
    for w in wanted:
        if KIND[w.kind].owned:
            assert set(w.fields) <= {f for f, _ in FIELDS[w.kind]}, w
            seen[w.kind] |= set(w.fields)
    assert {k: {f for f, _ in FIELDS[k]} for k in seen} == dict(seen)
    assert set(seen) == set(FIELDS) - {"vlan-group", "vlan"}  # the seed pool has no VLAN


def test_the_seed_pool_maps_hosts_vms_and_addresses(seed: Any) -> None:
    wanted, noops = wanted_objects(seed, MappingOptions(prefixes=["192.0.2.0/25"]))
    by_kind: dict[str, list[Wanted]] = defaultdict(list)
    for w in wanted:
        by_kind[w.kind].append(w)
    assert len(by_kind["device"]) == 3 and len(by_kind["virtual-machine"]) == 6
    assert len(by_kind["interface"]) == 9 and len(by_kind["vm-interface"]) == 6
    web = next(w for w in by_kind["virtual-machine"] if w.fields["name"] == "web-01")
    assert (web.fields["vcpus"], web.fields["memory"], web.fields["status"]) == (2, 4096,
                                                                               "active")
    primary = web.fields["primary_ip4"]
    assert isinstance(primary, Ref) and primary.key.endswith("/192.0.2.101")
    address = next(w for w in by_kind["ip-address"] if w.key == primary.key)
    assert address.fields["address"] == "192.0.2.101/25"  # the NetBox prefix's length
    assert not noops


@pytest.mark.parametrize(("speed", "kind"), [(1000, "1000base-t"), (10000, "10gbase-x-sfpp"),
                                              (25000, "25gbase-x-sfp28"), (None, "other"),
                                              (1234, "other")])
def test_interface_types_come_from_the_speed(speed: int | None, kind: str) -> None:
    assert interface_type(speed) == kind


def test_prefix_length_takes_the_longest_matching_prefix() -> None:
    prefixes = ["10.0.0.0/8", "10.1.0.0/16", "2001:db8::/32"]
    assert prefix_length("10.1.2.3", prefixes) == "10.1.2.3/16"
    assert prefix_length("10.9.2.3", prefixes) == "10.9.2.3/8"
    assert prefix_length("192.0.2.1", prefixes) == "192.0.2.1/32"
    assert prefix_length("2001:db8::5", prefixes) == "2001:db8::5/32"
    assert prefix_length("fe80::1", prefixes) == "fe80::1/128"


def _as_netbox(wanted: list[Wanted]) -> NetBoxState:
    """What NetBox would hold after a perfect sync, in its JSON shapes."""
    state = NetBoxState()
    ids = {(w.kind, w.key): i for i, w in enumerate(wanted, start=1)}

    def shape(value: Any) -> Any:
        if isinstance(value, Ref):
            return {"id": ids[(value.kind, value.key)], "display": value.key}
        if isinstance(value, list):
            return [shape(v) for v in value]
        if isinstance(value, str) and value in {"active", "offline", "tagged", "access"}:
            return {"value": value, "label": value.title()}
        return value

    for w in wanted:
        custom = KIND[w.kind].custom
        obj = {"id": ids[(w.kind, w.key)],
               **{k: shape(v) for k, v in w.fields.items() if k not in custom},
               "custom_fields": {k: v for k, v in w.fields.items() if k in custom}}
        state.objects.setdefault(w.kind, {})[w.key] = obj
    return state


def test_the_plan_creates_everything_then_nothing(seed: Any) -> None:
    wanted, _ = wanted_objects(seed)
    first = plan_sync("seed", wanted, NetBoxState())
    assert {s.action for s in first.steps} == {Action.CREATE}
    assert len(first.steps) == len(wanted) and all(s.reason for s in first.steps)
    again = plan_sync("seed", wanted, _as_netbox(wanted))
    assert again.empty and len(again.noops) == len(wanted)


def test_orphans_follow_the_policy_in_the_plan(seed: Any) -> None:
    wanted, _ = wanted_objects(seed)
    state = _as_netbox(wanted)
    gone = next(w for w in wanted if w.kind == "virtual-machine"
                and w.fields["status"] == "active")
    rest = [w for w in wanted if w.key != gone.key]
    deleted = plan_sync("seed", rest, state, OrphanPolicy.DELETE)
    assert [(s.action, s.key) for s in deleted.steps] == [(Action.DELETE, gone.key)]
    marked = plan_sync("seed", rest, state, OrphanPolicy.MARK_OFFLINE)
    assert [(s.action, dict(s.changes)) for s in marked.steps] == [
        (Action.MARK_OFFLINE, {"status": "offline"})]
    ignored = plan_sync("seed", rest, state, OrphanPolicy.IGNORE)
    assert ignored.empty
    assert any(n.key == gone.key and "ignore" in n.reason for n in ignored.noops)


def test_an_update_sends_only_the_fields_that_differ(seed: Any) -> None:
    wanted, _ = wanted_objects(seed)
    state = _as_netbox(wanted)
    web = next(w for w in wanted if w.kind == "virtual-machine")
    state.objects["virtual-machine"][web.key] |= {"memory": 1, "comments": "users' own"}
    plan = plan_sync("seed", wanted, state)
    assert [(s.action, dict(s.changes), dict(s.before)) for s in plan.steps] == [
        (Action.UPDATE, {"memory": 4096}, {"memory": 1})]
    assert "memory 1 → 4096" in plan.steps[0].reason
    assert ObjectKey(web.key) == plan.steps[0].key


def test_the_token_goes_only_into_the_authorization_header() -> None:
    seen: list[httpx.Request] = []
    token = "nbt_abc123.s3cr3t-value"

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"results": [], "next": None})

    with NetBoxApi("http://127.0.0.1:9", Secret(token),
                   transport=httpx.MockTransport(record)) as client:
        assert client.all("dcim/sites", "sites") == []
    assert seen[0].headers["Authorization"] == f"Bearer {token}"
    assert token not in str(seen[0].url)
    with NetBoxApi("http://127.0.0.1:9", Secret("0123456789abcdef"),
                   transport=httpx.MockTransport(record)) as v1:
        v1.all("dcim/sites", "sites")
    assert seen[1].headers["Authorization"] == "Token 0123456789abcdef"


def test_a_bulk_refusal_names_the_failing_object() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json=[{}, {"name": ["Virtual machine with this name "
                                                       "already exists."]}])

    from xapictl.errors import NetBoxError

    with NetBoxApi("http://127.0.0.1:9", Secret("t"),
                   transport=httpx.MockTransport(refuse)) as client, \
            pytest.raises(NetBoxError) as refused:
        client.create("virtualization/virtual-machines", [{"name": "a"}, {"name": "b"}],
                      ["virtual machine a", "virtual machine b"])
    assert str(refused.value) == ("NetBox refused to create virtual machine b: 400 name: "
                                  "Virtual machine with this name already exists.")


def test_a_netbox_47_bulk_refusal_names_the_failing_object() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={
            "detail": "1 of 2 objects could not be created.",
            "errors": [{"index": 1, "errors": {"address": [
                "Duplicate IP address found in global table: 192.0.2.11/24"]}}]})

    from xapictl.errors import NetBoxError

    with NetBoxApi("http://127.0.0.1:9", Secret("t"),
                   transport=httpx.MockTransport(refuse)) as client, \
            pytest.raises(NetBoxError) as refused:
        client.create("ipam/ip-addresses", [{}, {}], ["IP address a", "IP address b"])
    assert str(refused.value) == ("NetBox refused to create IP address b: 400 address: "
                                  "Duplicate IP address found in global table: 192.0.2.11/24")


def test_parallel_bulk_writes_keep_the_order_and_name_a_refused_object() -> None:
    """``parallel=3``: 250 objects go in 3 chunks, all three in flight at once (a barrier
    that 3 requests must reach together), and the created objects come back in order; a
    refusal in one chunk names its object once the chunks in flight have answered."""
    import json
    import threading

    from xapictl.errors import NetBoxError

    together = threading.Barrier(3, timeout=60)  # a safety net only: the barrier decides
    sizes: list[int] = []

    def create(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        sizes.append(len(body))
        together.wait()
        if any(item["name"] == "vm 200" for item in body) and request.method == "PATCH":
            index = next(i for i, item in enumerate(body) if item["name"] == "vm 200")
            return httpx.Response(400, json={"detail": "1 of n", "errors": [
                {"index": index, "errors": {"name": ["taken"]}}]})
        return httpx.Response(201, json=[{"id": int(i["name"].split()[1]), **i} for i in body])

    items = [{"name": f"vm {i}"} for i in range(250)]
    labels = [f"virtual machine vm {i}" for i in range(250)]
    with NetBoxApi("http://127.0.0.1:9", Secret("t"), parallel=3,
                   transport=httpx.MockTransport(create)) as client:
        made = client.create("virtualization/virtual-machines", items, labels)
        assert [m["id"] for m in made] == list(range(250))
        assert sorted(sizes) == [82, 84, 84] and (client.requests, client.writes) == (3, 3)
        with pytest.raises(NetBoxError) as refused:
            client.update("virtualization/virtual-machines", items, labels)
    assert str(refused.value) == ("NetBox refused to update virtual machine vm 200: 400 "
                                  "name: taken")
    assert client.writes == 6  # every chunk was sent: the others were written


def test_one_at_a_time_the_chunks_are_as_big_as_netbox_takes() -> None:
    import json

    sizes: list[int] = []

    def create(request: httpx.Request) -> httpx.Response:
        sizes.append(len(json.loads(request.content)))
        return httpx.Response(201, json=[{} for _ in range(sizes[-1])])

    with NetBoxApi("http://127.0.0.1:9", Secret("t"),
                   transport=httpx.MockTransport(create)) as client:
        client.create("dcim/interfaces", [{}] * 450, ["interface"] * 450)
    assert sizes == [200, 200, 50]


def test_disks_prefixes_qos_and_locking_are_mapped(
        seed_pool: tuple[Any, tuple[GuestDisk, ...]]) -> None:
    snap, disks = seed_pool
    wanted, noops = wanted_objects(snap, disks=disks)
    by_kind: dict[str, list[Wanted]] = defaultdict(list)
    for w in wanted:
        by_kind[w.kind].append(w)
    vms = {w.fields["name"]: w for w in by_kind["virtual-machine"]}
    vdisks = sorted((w.fields["virtual_machine"].key, w.fields["name"], w.fields["size"])
                    for w in by_kind["virtual-disk"])
    # One system disk per VM (20 GiB), db-01 a data disk of 100 GiB; the HVM guests' CD
    # drives are not disks; two disks of one VM with one name get their userdevice.
    assert len(vdisks) == 7
    assert [(n, size) for key, n, size in vdisks if key == vms["db-01"].key] == [
        ("db-01 disk (0)", 20480), ("db-01 disk (1)", 102400)]
    assert (vms["web-01"].fields["disk"], vms["db-01"].fields["disk"]) == (20480, 122880)
    # A prefix per subnet the pool's networks carry (management and storage), with the site.
    assert sorted(w.fields["prefix"] for w in by_kind["prefix"]) == ["192.0.2.0/24",
                                                                     "198.51.100.0/24"]
    # Guest addresses take their length from those prefixes, with no NetBox prefix at all.
    assert "192.0.2.101/24" in {w.fields["address"] for w in by_kind["ip-address"]}
    web_vif = next(w for w in by_kind["vm-interface"]
                   if w.fields["virtual_machine"].key == vms["web-01"].key)
    assert (web_vif.fields["xapi_qos_kbps"], web_vif.fields["xapi_locking"]) == (
        10240, "locked: 192.0.2.101")
    other = next(w for w in by_kind["vm-interface"] if w is not web_vif)
    assert (other.fields["xapi_qos_kbps"], other.fields["xapi_locking"]) == (
        None, "network_default")
    assert not noops


def test_custom_and_derived_fields_are_compared_but_sent_as_netbox_wants(
        seed_pool: tuple[Any, tuple[GuestDisk, ...]]) -> None:
    snap, disks = seed_pool
    wanted, _ = wanted_objects(snap, disks=disks)
    state = _as_netbox(wanted)
    vif = next(w for w in wanted if w.kind == "vm-interface"
               and w.fields["xapi_locking"] != "network_default")
    vm = next(w for w in wanted if w.kind == "virtual-machine" and w.fields["disk"])
    state.objects["vm-interface"][vif.key]["custom_fields"]["xapi_locking"] = "unlocked"
    state.objects["virtual-machine"][vm.key]["disk"] = 1
    plan = plan_sync("seed", wanted, state)
    assert sorted((s.kind, tuple(s.changes)) for s in plan.steps) == [
        ("virtual-machine", ("disk",)), ("vm-interface", ("xapi_locking",))]
    step = next(s for s in plan.steps if s.kind == "vm-interface")
    assert _payload("vm-interface", step.changes, state, create=False)[0] == {
        "custom_fields": {"xapi_locking": "locked: 192.0.2.101"}}
    # NetBox sums a VM's virtual disks itself: the VM's disk is never sent.
    step = next(s for s in plan.steps if s.kind == "virtual-machine")
    assert _payload("virtual-machine", step.changes, state, create=False)[0] == {}


def test_without_disks_virtual_disks_are_neither_mapped_nor_compared(
        seed_pool: tuple[Any, tuple[GuestDisk, ...]]) -> None:
    """`sync(api, snap)` without the disks leaves NetBox's virtual disks alone: no object,
    no VM disk total to compare (so no orphan and no update either)."""
    snap, disks = seed_pool
    without, _ = wanted_objects(snap)
    assert not [w for w in without if w.kind == "virtual-disk"]
    assert all("disk" not in w.fields for w in without if w.kind == "virtual-machine")
    with_disks, _ = wanted_objects(snap, disks=disks)
    assert len(with_disks) == len(without) + len(disks)


def test_a_fleet_entry_names_the_cluster_group_and_site() -> None:
    from xapictl.netbox.mapping import MappingOptions as Options

    sim = Simulator(password="xapictl")
    sim.reset(scenario="single")
    with SimServer(sim) as server, xapictl.connect(server.url, password="xapictl") as conn:
        snap = conn.snapshot()
    sim.close()
    wanted, _ = wanted_objects(snap, Options(pool_name="par1"))
    names = {w.kind: w.fields.get("name") for w in wanted
             if w.kind in ("cluster", "site", "vlan-group")}
    assert names == {"cluster": "par1", "site": "par1"}  # the single pool has no VLAN


def test_prefixes_carry_the_networks_vlan_and_leave_link_local_out() -> None:
    sim = Simulator(password="xapictl")
    sim.reset(scenario="seed")
    with SimServer(sim) as server, xapictl.connect(server.url, password="xapictl") as conn:
        pifs = conn.call("PIF.get_all_records")
        eth1 = next(r for r, p in sorted(pifs.items()) if p["device"] == "eth1")
        net = conn.call("network.create", {"name_label": "storage 30", "name_description": "",
                                           "MTU": 1500, "other_config": {}})
        vlan_pif = conn.call("VLAN.get_untagged_PIF", conn.call("VLAN.create", eth1, 30, net))
        conn.call("PIF.reconfigure_ip", vlan_pif, "Static", "203.0.113.11", "255.255.255.0",
                  "", "")
        vm = next(r for r, v in conn.call("VM.get_all_records").items()
                  if v["name_label"] == "build-01")
        vif = conn.call("VIF.create", {
            "device": "1", "network": net, "VM": vm, "MAC": "", "MTU": 1500,
            "other_config": {}, "qos_algorithm_type": "", "qos_algorithm_params": {}})
        conn.call("VIF.configure_ipv6", vif, "Static", "2001:db8:30::5/64", "")
        snap = conn.snapshot()
        conn.call("VIF.configure_ipv6", vif, "Static", "fe80::5/64", "")
        link_local = conn.snapshot()
    sim.close()
    wanted, _ = wanted_objects(snap)
    vlan = next(w for w in wanted if w.kind == "vlan" and w.fields["vid"] == 30)
    prefixes = {w.fields["prefix"]: w.fields["vlan"] for w in wanted if w.kind == "prefix"}
    assert prefixes == {"192.0.2.0/24": None, "198.51.100.0/24": None,
                        "203.0.113.0/24": Ref("vlan", vlan.key),
                        "2001:db8:30::/64": Ref("vlan", vlan.key)}
    wanted, _ = wanted_objects(link_local)
    assert "fe80::/64" not in {w.fields["prefix"] for w in wanted if w.kind == "prefix"}
