"""A plain-Xen host's desired network state, and the ``local:`` recipe loader.

Partial and declarative, like nmstate: bridges, bonds and vif attachments that are stated are
made to match; anything unstated is left alone; ``state: absent`` tears an object down (only
if xapictl made it). Every problem names the file, line and field and says how to fix it, and
is found before any netlink call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xapictl._frozen import Frozen, frozen
from xapictl.errors import DesiredStateError
from xapictl.local.recipe_words import FROM_UPLINK, IFNAMSIZ
from xapictl.local.xl_vif import VifVlans

if TYPE_CHECKING:  # loaded where a recipe is read: the vif hotplug reads none
    import yaml

__all__ = [
    "FROM_UPLINK",
    "BondSpec",
    "BridgeSpec",
    "HostNetwork",
    "VifSpec",
    "load_recipe",
    "parse_recipe",
]

STP_FORWARD_DELAY = 15
"""Seconds, when a recipe turns STP on and states no forward delay (the kernel's default)."""


@frozen
class BridgeSpec(Frozen):
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


@frozen
class BondSpec(Frozen):
    name: str
    slaves: tuple[str, ...] = ()
    mode: str = "active-backup"
    present: bool = True


@frozen
class VifSpec(Frozen):
    """A guest's backend vif (``vifD.N``) attached to a bridge, as vif-bridge would."""

    name: str
    bridge: str = "xenbr0"
    vlans: VifVlans | None = None
    mtu: int | None = None
    present: bool = True


@frozen
class HostNetwork(Frozen):
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


def _short(name: str) -> str:
    return name if len(name) <= 20 else f"{name[:16]}..."


@dataclass
class _Given:
    """One entry as validated by its model: the values (None for a field whose value was
    refused), which fields were written, and their nodes (for lines)."""

    node: yaml.Node
    path: str
    values: dict[str, Any]
    nodes: dict[str, yaml.Node]
    entry: Any = None
    """The model instance (None if a field was refused)."""


def _validate(ctx: _Ctx, model: Any, node: yaml.Node | None, path: str, *,
              empty_ok: bool = False, apart: tuple[str, ...] = ()) -> _Given:
    """Validate one mapping of the recipe with its model; every problem goes to ``ctx``
    at the line of the value (an item's line for a list), or of the key if unknown."""
    import yaml
    from pydantic import ValidationError

    from xapictl.local.recipe_model import Bad, suggest

    nodes: dict[str, yaml.Node] = {}
    keys: dict[str, yaml.Node] = {}
    if node is not None and not (empty_ok and isinstance(node, yaml.ScalarNode)
                                 and _null(node)):  # "xenbr0:" alone
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                nodes[str(k.value)], keys[str(k.value)] = v, k
        else:
            ctx.bad(node, path, "must be a mapping")
    allowed = list(model.model_fields)
    unknown = [k for k in nodes if k not in allowed]
    for key in unknown:
        ctx.bad(keys[key], f"{path}.{key}",
                f"unknown field{suggest(key, allowed)}; allowed: {', '.join(allowed)}")
    given = {k: v for k, v in nodes.items() if k in allowed and k not in apart}
    refused: set[str] = set()
    try:
        entry = model.model_validate(given)
    except ValidationError as exc:
        entry = None
        for error in sorted(exc.errors(), key=lambda e: allowed.index(str(e["loc"][0]))):
            name = str(error["loc"][0])
            refused.add(name)
            bad = error.get("ctx", {}).get("error")
            for at, message in bad.problems if isinstance(bad, Bad) else \
                    [(given[name], error["msg"])]:
                ctx.bad(at, f"{path}.{name}", message)
    kept = entry or model.model_validate({k: v for k, v in given.items() if k not in refused})
    values = {k: None if k in refused else getattr(kept, k) for k in given}
    return _Given(node if node is not None else yaml.ScalarNode("", ""), path, values,
                  nodes, entry)


def _null(node: yaml.Node) -> bool:
    from xapictl.plan import yaml_input

    try:
        return yaml_input.scalar_value(node) is None
    except ValueError:
        return False


def _bridge(ctx: _Ctx, name: str, g: _Given) -> BridgeSpec:
    """Defaults that depend on other fields, and contradictions within one bridge."""
    f, node, path = g.values, g.node, g.path
    kw: dict[str, Any] = {"name": name, "present": f.get("state") != "absent"}
    if "uplink" in f:
        kw["uplink"] = f["uplink"]
    if "vlan" in f:
        kw["vlan"] = f["vlan"]
        if kw.get("uplink") is None:
            ctx.bad(g.nodes["vlan"], f"{path}.vlan",
                    "a bridge per VLAN needs 'uplink:' (the trunk NIC)")
        elif len(f"{kw['uplink']}.{kw['vlan']}") > IFNAMSIZ:
            ctx.bad(g.nodes["vlan"], f"{path}.vlan", "UPLINK.VID is longer than 15 characters")
    if "vlan_filtering" in f:
        kw["vlan_filtering"] = bool(f["vlan_filtering"])
    if "trunk_vids" in f:
        kw["trunk_vids"] = f["trunk_vids"] or ()
        if not kw.get("vlan_filtering"):
            ctx.bad(g.nodes["trunk_vids"], f"{path}.trunk_vids", "needs 'vlan_filtering: true'")
    if kw.get("vlan") and kw.get("vlan_filtering"):
        ctx.bad(node, path, "choose either 'vlan:' (bridge per VLAN) or 'vlan_filtering: true'")
    if "addresses" in f:
        kw["addresses"] = f["addresses"] if f["addresses"] is not None else ()
    elif kw.get("uplink") is None or kw.get("vlan") is not None:
        kw["addresses"] = ()
    if "mtu" in f:
        kw["mtu"] = f["mtu"]
    if "mac" in f:
        kw["mac"] = f["mac"]
    elif kw.get("uplink") is None:
        kw["mac"] = None
    if "stp" in f:
        kw["stp"] = bool(f["stp"])
    if "forward_delay" in f:
        kw["forward_delay"] = f["forward_delay"]
    if kw.get("stp"):
        # the kernel's STP needs 2-30 s and raises anything lower to 2, which would never
        # match the recipe; unstated, it is the kernel's (and 802.1D's) 15 s
        kw.setdefault("forward_delay", STP_FORWARD_DELAY)
        if kw["forward_delay"] is not None and kw["forward_delay"] < 2:
            ctx.bad(g.nodes.get("forward_delay", node), f"{path}.forward_delay",
                    f"with stp: true it must be 2-30 (the kernel raises {kw['forward_delay']}"
                    f" to 2); leave it out for {STP_FORWARD_DELAY}")
    if kw.get("mac") == FROM_UPLINK and kw.get("uplink") is None:
        ctx.bad(node, path, "mac: from-uplink needs an 'uplink:'")
    if kw.get("addresses") == FROM_UPLINK and kw.get("uplink") is None:
        ctx.bad(node, path, "addresses: from-uplink needs an 'uplink:'; list the CIDRs instead")
    return BridgeSpec(**kw)


def _bond(ctx: _Ctx, name: str, g: _Given) -> BondSpec:
    f = g.values
    kw: dict[str, Any] = {"name": name, "present": f.get("state") != "absent"}
    if "slaves" in f:
        kw["slaves"] = f["slaves"] or ()
    elif kw["present"]:
        ctx.bad(g.node, g.path, "a bond needs 'slaves: [eth1, eth2]'")
    if f.get("mode") is not None:
        kw["mode"] = f["mode"]
    return BondSpec(**kw)


def _vif(name: str, g: _Given) -> VifSpec:
    f = g.values
    kw: dict[str, Any] = {"name": name, "present": f.get("state") != "absent"}
    if "bridge" in f:
        kw["bridge"] = f["bridge"]
    if f.get("vlan") is not None:
        kw["vlans"] = f["vlan"]
    if "mtu" in f:
        kw["mtu"] = f["mtu"]
    return VifSpec(**kw)


def parse_recipe(text: str, file: str = "<recipe>") -> HostNetwork:
    """Validate a ``local:`` recipe; raise DesiredStateError listing every problem.

    Each entry and the ``local:`` settings are validated by their typed model
    (``xapictl.local.recipe_model``); then one pass checks what spans fields and entries."""
    import yaml

    from xapictl.local.recipe_model import (  # pydantic: loaded only when a recipe is read
        BondEntry,
        BridgeEntry,
        LocalSettings,
        VifEntry,
        ifname_ok,
    )
    from xapictl.plan import yaml_input

    ctx = _Ctx(file)
    root = yaml_input.compose(text, file)
    if root is None or not isinstance(root, yaml.MappingNode):
        raise DesiredStateError([f"{file}:1: top level must be a mapping with a 'local:' key"])
    top = {str(k.value): v for k, v in root.value}
    if "local" not in top:
        raise DesiredStateError(
            [f"{file}:1: no 'local:' key; plain-Xen recipes put bridges/bonds/vifs under local:"]
        )
    sections = ("bridges", "bonds", "vifs")
    settings = _validate(ctx, LocalSettings, top["local"], "local", apart=sections)
    local: dict[str, Any] = {k: v for k, v in settings.nodes.items() if k in sections}
    entries: dict[str, dict[str, _Given]] = {}
    for section, model in (("bridges", BridgeEntry), ("bonds", BondEntry), ("vifs", VifEntry)):
        entries[section] = {
            str(k.value): _validate(ctx, model, v, f"local.{section}.{k.value}",
                                    empty_ok=section == "bridges")
            for k, v in _items(ctx, local.get(section), f"local.{section}")
        }
    bridges = tuple(_bridge(ctx, name, g) for name, g in entries["bridges"].items())
    bonds = tuple(_bond(ctx, name, g) for name, g in entries["bonds"].items())
    vifs = tuple(_vif(name, g) for name, g in entries["vifs"].items())
    owners: dict[str, tuple[str, int]] = {}
    for key in sections:
        for k, _ in _items(_Ctx(file), local.get(key), ""):
            name, line = str(k.value), k.start_mark.line + 1
            if len(name.encode("utf-8", "surrogatepass")) > IFNAMSIZ:
                ctx.bad(k, f"local.{key}.{_short(name)}",
                        f"names are at most {IFNAMSIZ} characters")
            elif not ifname_ok(name):
                ctx.bad(k, f"local.{key}.{_short(name)}", "names are interface names: "
                        "printable ASCII, no '/', ':' or spaces")
            elif name in owners:
                other, at = owners[name]
                ctx.bad(k, f"local.{key}.{name}", f"{name} is also stated as "
                        f"local.{other}.{name} at {file}:{at}; one interface, one entry")
            owners.setdefault(name, (key, line))
    _present_on_absent(ctx, local, bridges, bonds, vifs)
    _cross_check(ctx, local, bridges, bonds, vifs)
    if ctx.problems:
        raise DesiredStateError(sorted(ctx.problems, key=_line_of))
    LocalSettings.model_validate({  # the whole section, typed (every part is valid by now)
        **{k: v for k, v in settings.nodes.items() if k not in sections},
        **{s: {n: g.entry for n, g in entries[s].items()} for s in sections if s in local},
    })
    probes = settings.values.get("probes")
    return HostNetwork(bridges, bonds, vifs, probes, bool(settings.values.get("allow_dhcp")))


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
    import yaml

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
