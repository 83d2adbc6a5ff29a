"""Bonds reconciled, not just created: a mode change, a slave dropped from the recipe, and
the mode surviving a remove-then-rollback. Canned snapshots and fake sockets; no kernel."""

from __future__ import annotations

from xapictl.local import netlink
from xapictl.local.desired import parse_recipe
from xapictl.local.observe import HostSnapshot, Link, _link
from xapictl.local.ops import CreateLink, DeleteLink, SetBondMode
from xapictl.local.planner import inverse_plan, plan


def bonded(mode: str = "active-backup", up: bool = True) -> HostSnapshot:
    """bond0 (ours) with slaves eth1 and eth2; eth3 a spare NIC."""
    return HostSnapshot({
        "bond0": Link("bond0", 5, "bond", mac="00:16:3e:00:00:21", up=up,
                      alias="xapictl:bond", bond_mode=mode),
        "eth1": Link("eth1", 2, "veth", master="bond0", mac="00:16:3e:00:00:21", up=True),
        "eth2": Link("eth2", 3, "veth", master="bond0", mac="00:16:3e:00:00:21", up=True),
        "eth3": Link("eth3", 4, "veth", mac="00:16:3e:00:00:23", up=True),
    })


def recipe(slaves: str, mode: str) -> str:
    return f"local:\n  bonds:\n    bond0: {{slaves: [{slaves}], mode: {mode}}}\n"


def described(p) -> list[str]:
    return [s.describe() for s in p.steps]


def test_a_converged_bond_plans_nothing():
    p = plan(parse_recipe(recipe("eth1, eth2", "active-backup")), bonded())
    assert p.is_empty and [n.describe() for n in p.noops] == ["bond bond0: already as desired"]


def test_a_mode_change_releases_the_slaves_sets_the_mode_down_and_re_enslaves():
    p = plan(parse_recipe(recipe("eth1, eth2", "802.3ad")), bonded())
    assert described(p) == [
        "detach NIC eth1: mode active-backup -> 802.3ad needs a bond without slaves",
        "detach NIC eth2: mode active-backup -> 802.3ad needs a bond without slaves",
        "bring down bond bond0: a bond changes mode only while down",
        "set mode 802.3ad on bond bond0: mode active-backup -> 802.3ad",
        "bring down NIC eth1: a bond slave must be down to join",
        "enslave NIC eth1: joins bond0",
        "bring up NIC eth1: carry traffic",
        "bring down NIC eth2: a bond slave must be down to join",
        "enslave NIC eth2: joins bond0",
        "bring up NIC eth2: carry traffic",
        "bring up bond bond0: carry traffic",
    ]
    assert plan(parse_recipe(recipe("eth1, eth2", "802.3ad")), bonded("802.3ad")).is_empty


def test_a_mode_change_with_a_slave_swapped_brings_the_dropped_one_back_as_a_nic():
    p = plan(parse_recipe(recipe("eth1, eth3", "balance-rr")), bonded())
    steps = described(p)
    assert steps[:4] == [
        "detach NIC eth1: mode active-backup -> balance-rr needs a bond without slaves",
        "detach NIC eth2: mode active-backup -> balance-rr needs a bond without slaves",
        "bring down bond bond0: a bond changes mode only while down",
        "set mode balance-rr on bond bond0: mode active-backup -> balance-rr",
    ]
    assert "enslave NIC eth3: joins bond0" in steps and "enslave NIC eth2: joins bond0" not in steps
    assert steps[-2:] == ["bring up NIC eth2: a host NIC again",
                          "bring up bond bond0: carry traffic"]


def test_a_slave_dropped_from_the_recipe_is_released_and_comes_back_up():
    p = plan(parse_recipe(recipe("eth1", "active-backup")), bonded())
    assert described(p) == ["detach NIC eth2: not a slave in the recipe",
                            "bring up NIC eth2: a host NIC again"]
    undo = inverse_plan(p.steps, bonded())
    assert [s.describe() for s in undo] == ["bring up NIC eth2: undo", "enslave NIC eth2: undo"]


def test_the_mode_change_is_undone_to_the_old_mode():
    before = bonded()
    p = plan(parse_recipe(recipe("eth1, eth2", "802.3ad")), before)
    undo = [s for s in inverse_plan(p.steps, before) if isinstance(s, SetBondMode)]
    assert [(s.ifname, s.mode) for s in undo] == [("bond0", "active-backup")]


def test_observe_names_the_kernel_mode_number():
    msg = {"ifname": "bond0", "index": 5, "flags": 1, ("linkinfo", "kind"): "bond",
           ("linkinfo", "data", "bond_mode"): 4}
    assert _link(msg, {5: "bond0"}).bond_mode == "802.3ad"


def test_undo_files_written_with_mode_numbers_still_load_as_names():
    raw = bonded().to_dict()
    raw["links"][0]["bond_mode"] = "4"  # what observe stored before modes were named
    assert HostSnapshot.from_dict(raw).links["bond0"].bond_mode == "802.3ad"


class RecordingIPRoute:
    """Enough of IPRoute for _create and _set_bond_mode: records every link() call."""

    def __init__(self, links: dict[str, dict]) -> None:
        self.links = links
        self.calls: list[tuple] = []

    def link_lookup(self, ifname: str) -> list[int]:
        return [m["index"] for m in self.links.values() if m["ifname"] == ifname]

    def get_links(self) -> list[dict]:
        return list(self.links.values())

    def link(self, cmd: str, **kw):
        self.calls.append((cmd, kw))
        if cmd == "get":
            return [next(m for m in self.links.values() if m["index"] == kw["index"])]
        return []


def test_a_removed_802_3ad_bond_is_recreated_as_802_3ad_on_rollback():
    before = bonded("802.3ad")
    undo = DeleteLink("bond bond0", "state: absent", "bond0").inverse(before)
    create = undo[0]
    assert isinstance(create, CreateLink) and create.bond_mode == "802.3ad"
    ipr = RecordingIPRoute({"bond0": {"ifname": "bond0", "index": 5, "flags": 0}})
    netlink.execute(ipr, create)
    assert ipr.calls[0] == ("add", {"ifname": "bond0", "kind": "bond", "bond_mode": 4,
                                    "address": "00:16:3e:00:00:21", "mtu": 1500})


def test_setting_a_mode_on_a_bond_with_slaves_releases_and_re_enslaves_them():
    ipr = RecordingIPRoute({
        "bond0": {"ifname": "bond0", "index": 5, "flags": 1},
        "eth1": {"ifname": "eth1", "index": 2, "flags": 1, "master": 5},
        "eth3": {"ifname": "eth3", "index": 4, "flags": 1},
    })
    netlink.execute(ipr, SetBondMode("bond bond0", "undo", "bond0", "balance-alb"))
    assert [c for c in ipr.calls if c[0] == "set"] == [
        ("set", {"index": 2, "master": 0}),
        ("set", {"index": 5, "state": "down"}),
        ("set", {"index": 5, "kind": "bond", "bond_mode": 6}),
        ("set", {"index": 2, "state": "down"}),
        ("set", {"index": 2, "master": 5}),
        ("set", {"index": 2, "state": "up"}),
        ("set", {"index": 5, "state": "up"}),
    ]
