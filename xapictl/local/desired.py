"""A plain-Xen host's desired network state, and the ``local:`` recipe loader.

Partial and declarative, like nmstate: bridges, bonds and vif attachments that are stated are
made to match; anything unstated is left alone; ``state: absent`` tears an object down (only
if xapictl made it). Every problem names the file, line and field and says how to fix it, and
is found before any netlink call.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from xapictl.errors import DesiredStateError, UsageError
from xapictl.local.observe import BOND_MODES
from xapictl.local.xl_vif import VifVlans, parse_vlan_spec
from xapictl.plan import yaml_input

__all__ = [
    "FROM_UPLINK",
    "BondSpec",
    "BridgeSpec",
    "HostNetwork",
    "VifSpec",
    "load_recipe",
    "parse_recipe",
]

FROM_UPLINK = "from-uplink"
IFNAMSIZ = 15
STP_FORWARD_DELAY = 15
"""Seconds, when a recipe turns STP on and states no forward delay (the kernel's default)."""
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


@dataclass(frozen=True)
class BridgeSpec:
    """A Linux bridge for guests; ``addresses`` is FROM_UPLINK, () for none, or CIDRs."""

    name: str
    uplink: str | None = None
    vlan: int | None = None
    vlan_filtering: bool = False
    trunk_vids: tuple[int, ...] = ()
    addresses: str | tuple[str, ...] = FROM_UPLINK
    mtu: int | None = None
    mac: str | None = FROM_UPLINK
    stp: bool = False
    forward_delay: int = 0
    present: bool = True

    @property
    def port(self) -> str | None:
        """The device enslaved to the bridge: the uplink, or ``UPLINK.VID`` per VLAN."""
        if self.uplink is None:
            return None
        return f"{self.uplink}.{self.vlan}" if self.vlan is not None else self.uplink


@dataclass(frozen=True)
class BondSpec:
    name: str
    slaves: tuple[str, ...] = ()
    mode: str = "active-backup"
    present: bool = True


@dataclass(frozen=True)
class VifSpec:
    """A guest's backend vif (``vifD.N``) attached to a bridge, as vif-bridge would."""

    name: str
    bridge: str = "xenbr0"
    vlans: VifVlans | None = None
    mtu: int | None = None
    present: bool = True


@dataclass(frozen=True)
class HostNetwork:
    bridges: tuple[BridgeSpec, ...] = ()
    bonds: tuple[BondSpec, ...] = ()
    vifs: tuple[VifSpec, ...] = ()
    probes: tuple[str, ...] | None = None
    """Connectivity targets; None means the default gateway(s), () means no probe."""
    allow_dhcp: bool = False


# --- YAML with line numbers ---------------------------------------------------------------


@dataclass
class _Ctx:
    file: str
    problems: list[str] = field(default_factory=list)

    def bad(self, node: yaml.Node, path: str, what: str) -> None:
        self.problems.append(f"{self.file}:{node.start_mark.line + 1}: {path}: {what}")


def _mapping(ctx: _Ctx, node: yaml.Node, path: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    """Key -> value node; unknown keys are problems that list the allowed ones."""
    if not isinstance(node, yaml.MappingNode):
        ctx.bad(node, path, "must be a mapping")
        return {}
    out: dict[str, Any] = {}
    for k, v in node.value:
        key = str(k.value)
        if allowed and key not in allowed:
            ctx.bad(k, f"{path}.{key}", f"unknown field; allowed: {', '.join(allowed)}")
            continue
        out[key] = v
    return out


_PLAIN_INT = re.compile(r"(0|[1-9][0-9]*)")
"""Decimal ASCII digits only: no "٣", "0x10", "010" (YAML 1.1 octal) or "1_000"."""


def _scalar(node: yaml.Node) -> Any:
    """The Python value of a scalar node (None for mappings, lists and unreadable scalars
    such as a 5000-digit number: every caller then reports the value as wrong)."""
    try:
        return yaml_input.scalar_value(node)
    except ValueError:
        return None


def _short(name: str) -> str:
    return name if len(name) <= 20 else f"{name[:16]}..."


def _shown(node: yaml.Node) -> str:
    text = repr(node.value) if isinstance(node, yaml.ScalarNode) else "a list or mapping"
    return text if len(text) <= 40 else f"{text[:32]}...{text[-3:]} ({len(text)} characters)"


def _int(ctx: _Ctx, node: yaml.Node, path: str, lo: int, hi: int) -> int | None:
    value = _scalar(node)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi \
            or not _PLAIN_INT.fullmatch(str(node.value)):
        ctx.bad(node, path, f"must be an integer {lo}-{hi}, got {_shown(node)}")
        return None
    return value


def _bool(ctx: _Ctx, node: yaml.Node, path: str) -> bool:
    value = _scalar(node)
    if not isinstance(value, bool):
        ctx.bad(node, path, f"must be true or false, got {node.value!r}")
        return False
    return value


def _ifname(ctx: _Ctx, node: yaml.Node, path: str) -> str | None:
    value = _scalar(node)
    if not isinstance(value, str) or not _ifname_ok(value):
        ctx.bad(node, path, f"must be an interface name of 1-{IFNAMSIZ} characters")
        return None
    return value


def _ifname_ok(name: str) -> bool:
    """Linux's rules for an interface name (dev_valid_name): 1-15 bytes, not . or .., no
    slash, colon or whitespace; we also keep it printable ASCII, as every tool expects."""
    return (0 < len(name.encode("utf-8", "surrogatepass")) <= IFNAMSIZ and name not in (".", "..")
            and _IFNAME.fullmatch(name) is not None)


_IFNAME = re.compile(r"[!-.0-9;-~]+")  # printable ASCII but '/' and ':'; no space


def _present(ctx: _Ctx, fields: dict[str, Any], path: str) -> bool:
    if "state" not in fields:
        return True
    value = _scalar(fields["state"])
    if value not in ("present", "absent"):
        ctx.bad(fields["state"], f"{path}.state", "must be 'present' or 'absent'")
    return bool(value != "absent")


def _vid_list(ctx: _Ctx, node: yaml.Node, path: str) -> tuple[int, ...]:
    if not isinstance(node, yaml.SequenceNode):
        ctx.bad(node, path, "must be a list of VLAN IDs or 'A-B' ranges, e.g. [101, '103-105']")
        return ()
    vids: list[int] = []
    for item in node.value:
        value = _scalar(item)
        if isinstance(value, str) and re.fullmatch(r"[0-9]{1,4}-[0-9]{1,4}", value):
            a, b = (int(x) for x in value.split("-"))
            if 1 <= a <= b <= 4094:
                vids += range(a, b + 1)
                continue
        elif isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 4094:
            vids.append(value)
            continue
        ctx.bad(item, path, f"{item.value!r} is not a VLAN ID 1-4094 or a range 'A-B'")
    return tuple(sorted(set(vids)))


_BRIDGE_FIELDS = (
    "uplink",
    "vlan",
    "vlan_filtering",
    "trunk_vids",
    "addresses",
    "mtu",
    "mac",
    "stp",
    "forward_delay",
    "state",
)


def _bridge(ctx: _Ctx, name: str, node: yaml.Node, path: str) -> BridgeSpec:
    empty = isinstance(node, yaml.ScalarNode) and _scalar(node) is None  # "xenbr0:" alone
    f = {} if empty else _mapping(ctx, node, path, _BRIDGE_FIELDS)
    kw: dict[str, Any] = {"name": name, "present": _present(ctx, f, path)}
    if "uplink" in f:
        kw["uplink"] = _ifname(ctx, f["uplink"], f"{path}.uplink")
    if "vlan" in f:
        kw["vlan"] = _int(ctx, f["vlan"], f"{path}.vlan", 1, 4094)
        if kw.get("uplink") is None:
            ctx.bad(f["vlan"], f"{path}.vlan", "a bridge per VLAN needs 'uplink:' (the trunk NIC)")
        elif len(f"{kw['uplink']}.{kw['vlan']}") > IFNAMSIZ:
            ctx.bad(f["vlan"], f"{path}.vlan", "UPLINK.VID is longer than 15 characters")
    if "vlan_filtering" in f:
        kw["vlan_filtering"] = _bool(ctx, f["vlan_filtering"], f"{path}.vlan_filtering")
    if "trunk_vids" in f:
        kw["trunk_vids"] = _vid_list(ctx, f["trunk_vids"], f"{path}.trunk_vids")
        if not kw.get("vlan_filtering"):
            ctx.bad(f["trunk_vids"], f"{path}.trunk_vids", "needs 'vlan_filtering: true'")
    if kw.get("vlan") and kw.get("vlan_filtering"):
        ctx.bad(node, path, "choose either 'vlan:' (bridge per VLAN) or 'vlan_filtering: true'")
    if "addresses" in f:
        kw["addresses"] = _addresses(ctx, f["addresses"], f"{path}.addresses")
    elif kw.get("uplink") is None or kw.get("vlan") is not None:
        kw["addresses"] = ()
    if "mtu" in f:
        kw["mtu"] = _int(ctx, f["mtu"], f"{path}.mtu", 68, 65535)
    if "mac" in f:
        mac = _scalar(f["mac"])
        mac = mac.lower() if isinstance(mac, str) else mac
        if mac != FROM_UPLINK and not (isinstance(mac, str) and _MAC.match(mac)):
            ctx.bad(f["mac"], f"{path}.mac",
                    "must be 'from-uplink' or a MAC like 00:16:3e:00:00:01")
        kw["mac"] = mac
    elif kw.get("uplink") is None:
        kw["mac"] = None
    if "stp" in f:
        kw["stp"] = _bool(ctx, f["stp"], f"{path}.stp")
    if "forward_delay" in f:
        kw["forward_delay"] = _int(ctx, f["forward_delay"], f"{path}.forward_delay", 0, 30)
    if kw.get("stp"):
        # the kernel's STP needs 2-30 s and raises anything lower to 2, which would never
        # match the recipe; unstated, it is the kernel's (and 802.1D's) 15 s
        kw.setdefault("forward_delay", STP_FORWARD_DELAY)
        if kw["forward_delay"] is not None and kw["forward_delay"] < 2:
            ctx.bad(f.get("forward_delay", node), f"{path}.forward_delay",
                    f"with stp: true it must be 2-30 (the kernel raises {kw['forward_delay']}"
                    f" to 2); leave it out for {STP_FORWARD_DELAY}")
    if kw.get("mac") == FROM_UPLINK and kw.get("uplink") is None:
        ctx.bad(node, path, "mac: from-uplink needs an 'uplink:'")
    if kw.get("addresses") == FROM_UPLINK and kw.get("uplink") is None:
        ctx.bad(node, path, "addresses: from-uplink needs an 'uplink:'; list the CIDRs instead")
    return BridgeSpec(**kw)


def _addresses(ctx: _Ctx, node: yaml.Node, path: str) -> str | tuple[str, ...]:
    value = _scalar(node) if isinstance(node, yaml.ScalarNode) else None
    if value == FROM_UPLINK:
        return FROM_UPLINK
    if value in ("none", None) and isinstance(node, yaml.ScalarNode):
        return ()
    if not isinstance(node, yaml.SequenceNode):
        ctx.bad(node, path, "must be 'from-uplink', 'none' or a list of CIDRs like 192.0.2.10/24")
        return ()
    out = []
    for item in node.value:
        try:
            out.append(str(ipaddress.ip_interface(str(item.value))))
            if "/" not in str(item.value):
                raise ValueError
        except ValueError:
            ctx.bad(item, path, f"{item.value!r} is not an address with prefix, e.g. 192.0.2.10/24")
    return tuple(out)


def _bond(ctx: _Ctx, name: str, node: yaml.Node, path: str) -> BondSpec:
    f = _mapping(ctx, node, path, ("slaves", "mode", "state"))
    kw: dict[str, Any] = {"name": name, "present": _present(ctx, f, path)}
    if "slaves" in f:
        if isinstance(f["slaves"], yaml.SequenceNode) and f["slaves"].value:
            kw["slaves"] = tuple(
                s for s in (_ifname(ctx, n, f"{path}.slaves") for n in f["slaves"].value) if s
            )
        else:
            ctx.bad(f["slaves"], f"{path}.slaves", "must be a non-empty list of NIC names")
    elif kw["present"]:
        ctx.bad(node, path, "a bond needs 'slaves: [eth1, eth2]'")
    if "mode" in f:
        mode = _scalar(f["mode"])
        if mode not in BOND_MODES:
            ctx.bad(f["mode"], f"{path}.mode", f"must be one of {', '.join(BOND_MODES)}")
        kw["mode"] = str(mode)
    return BondSpec(**kw)


def _vif(ctx: _Ctx, name: str, node: yaml.Node, path: str) -> VifSpec:
    f = _mapping(ctx, node, path, ("bridge", "vlan", "mtu", "state"))
    kw: dict[str, Any] = {"name": name, "present": _present(ctx, f, path)}
    if "bridge" in f:
        kw["bridge"] = _ifname(ctx, f["bridge"], f"{path}.bridge")
    if "vlan" in f:
        try:
            kw["vlans"] = parse_vlan_spec(str(f["vlan"].value))
        except UsageError as exc:
            ctx.bad(f["vlan"], f"{path}.vlan", str(exc))
    if "mtu" in f:
        kw["mtu"] = _int(ctx, f["mtu"], f"{path}.mtu", 68, 65535)
    return VifSpec(**kw)


def parse_recipe(text: str, file: str = "<recipe>") -> HostNetwork:
    """Validate a ``local:`` recipe; raise DesiredStateError listing every problem."""
    ctx = _Ctx(file)
    root = yaml_input.compose(text, file)
    if root is None or not isinstance(root, yaml.MappingNode):
        raise DesiredStateError([f"{file}:1: top level must be a mapping with a 'local:' key"])
    top = {str(k.value): v for k, v in root.value}
    if "local" not in top:
        raise DesiredStateError(
            [f"{file}:1: no 'local:' key; plain-Xen recipes put bridges/bonds/vifs under local:"]
        )
    allowed = ("bridges", "bonds", "vifs", "probes", "allow_dhcp")
    local = _mapping(ctx, top["local"], "local", allowed)
    bridges = tuple(
        _bridge(ctx, str(k.value), v, f"local.bridges.{k.value}")
        for k, v in _items(ctx, local.get("bridges"), "local.bridges")
    )
    bonds = tuple(
        _bond(ctx, str(k.value), v, f"local.bonds.{k.value}")
        for k, v in _items(ctx, local.get("bonds"), "local.bonds")
    )
    vifs = tuple(
        _vif(ctx, str(k.value), v, f"local.vifs.{k.value}")
        for k, v in _items(ctx, local.get("vifs"), "local.vifs")
    )
    owners: dict[str, tuple[str, int]] = {}
    for key in ("bridges", "bonds", "vifs"):
        for k, _ in _items(_Ctx(file), local.get(key), ""):
            name, line = str(k.value), k.start_mark.line + 1
            if len(name.encode("utf-8", "surrogatepass")) > IFNAMSIZ:
                ctx.bad(k, f"local.{key}.{_short(name)}",
                        f"names are at most {IFNAMSIZ} characters")
            elif not _ifname_ok(name):
                ctx.bad(k, f"local.{key}.{_short(name)}", "names are interface names: "
                        "printable ASCII, no '/', ':' or spaces")
            elif name in owners:
                other, at = owners[name]
                ctx.bad(k, f"local.{key}.{name}", f"{name} is also stated as "
                        f"local.{other}.{name} at {file}:{at}; one interface, one entry")
            owners.setdefault(name, (key, line))
    _present_on_absent(ctx, local, bridges, bonds, vifs)
    probes: tuple[str, ...] | None = None
    if "probes" in local:
        node = local["probes"]
        if isinstance(node, yaml.SequenceNode):
            probes = tuple(str(n.value) for n in node.value)
            for n in node.value:
                try:
                    ipaddress.ip_address(str(n.value))
                except ValueError:
                    ctx.bad(n, "local.probes", f"{n.value!r} is not an IP address")
        else:
            ctx.bad(node, "local.probes", "must be a list of IP addresses ([] for no probe)")
    allow_dhcp = "allow_dhcp" in local and _bool(ctx, local["allow_dhcp"], "local.allow_dhcp")
    _cross_check(ctx, local, bridges, bonds, vifs)
    if ctx.problems:
        raise DesiredStateError(sorted(ctx.problems, key=_line_of))
    return HostNetwork(bridges, bonds, vifs, probes, allow_dhcp)


def _present_on_absent(ctx: _Ctx, local: dict[str, Any], bridges: tuple[BridgeSpec, ...],
                       bonds: tuple[BondSpec, ...], vifs: tuple[VifSpec, ...]) -> None:
    """A vif on a bridge, or a bridge on a bond, that the same recipe tears down: both
    places named (applying it would build on what it removes)."""
    keys = {(section, str(k.value)): k for section in ("bridges", "bonds", "vifs")
            for k, _ in _items(_Ctx(ctx.file), local.get(section), "")}

    def line(section: str, name: str) -> str:
        key = keys.get((section, name))
        return f"{ctx.file}:{key.start_mark.line + 1}" if key is not None else ctx.file

    absent_bridges = {b.name for b in bridges if not b.present}
    absent_bonds = {b.name for b in bonds if not b.present}
    for v in vifs:
        if v.present and v.bridge in absent_bridges and ("vifs", v.name) in keys:
            ctx.bad(keys[("vifs", v.name)], f"local.vifs.{v.name}.bridge",
                    f"bridge {v.bridge} is torn down at {line('bridges', v.bridge)} "
                    "(state: absent); attach the vif elsewhere or keep the bridge")
    for b in bridges:
        if b.present and b.uplink in absent_bonds and ("bridges", b.name) in keys:
            ctx.bad(keys[("bridges", b.name)], f"local.bridges.{b.name}.uplink",
                    f"bond {b.uplink} is torn down at {line('bonds', b.uplink)} "
                    "(state: absent); keep the bond or choose another uplink")


def _line_of(problem: str) -> int:
    parts = problem.split(":", 2)
    return int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else 0


def _items(ctx: _Ctx, node: yaml.Node | None, path: str) -> list[tuple[yaml.Node, yaml.Node]]:
    if node is None:
        return []
    if not isinstance(node, yaml.MappingNode):
        ctx.bad(node, path, "must be a mapping of name -> settings")
        return []
    return list(node.value)


def _cross_check(
    ctx: _Ctx,
    local: dict[str, Any],
    bridges: tuple[BridgeSpec, ...],
    bonds: tuple[BondSpec, ...],
    vifs: tuple[VifSpec, ...],
) -> None:
    """Rules across objects: one master per uplink, VLAN specs need VLAN-aware bridges."""
    node = local.get("bridges") or local.get("vifs") or next(iter(local.values()), None)
    ports: dict[str, str] = {}
    for b in bridges:
        if b.present and b.port:
            if b.port in ports and node is not None:
                ctx.bad(node, f"local.bridges.{b.name}.uplink",
                        f"{b.port} is already the uplink of bridge {ports[b.port]}")
            ports[b.port] = b.name
    by_name = {b.name: b for b in bridges}
    for v in vifs:
        vb = by_name.get(v.bridge)
        if v.present and v.vlans and vb is not None and vb.present and not vb.vlan_filtering \
                and node:
            ctx.bad(node, f"local.vifs.{v.name}.vlan",
                    f"bridge {vb.name} is not VLAN-aware; set 'vlan_filtering: true' on it")
    slaves = [s for bond in bonds if bond.present for s in bond.slaves]
    for s in {s for s in slaves if slaves.count(s) > 1}:
        if node is not None:
            ctx.bad(node, "local.bonds", f"{s} is a slave of more than one bond")


def load_recipe(path: Path) -> HostNetwork:
    """Read and validate a recipe file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DesiredStateError([f"{path}: cannot read: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise DesiredStateError([f"{path}: cannot read: not UTF-8 text; a recipe is a UTF-8 "
                                 "YAML file"]) from None
    return parse_recipe(text, str(path))
