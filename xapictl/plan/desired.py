"""The desired state: what a recipe file (or an ``ensure_*`` call) asks the pool to look like.

A recipe is YAML with three lists, each optional::

    version: 1
    networks:   [...]   # plain, NIC, VLAN (trunked across the pool) and bond networks
    bonds:      [...]   # pool-wide bonds: members by device, created on every host
    vifs:       [...]   # VM attachments: (VM, device) -> network

Every field is optional except the identity ones; a field left out means "leave it alone"
(partial editing), ``present: false`` means "must not exist". Validation happens before any
call: every problem names the file, the line, the field, and says how to fix it.

The fields are defined once, by the typed models of ``xapictl.plan.recipe_model`` (which
validate each entry and generate ``docs/recipe.schema.json``); they produce the ``*Spec``
records (``xapictl.plan.specs``, re-exported here), which the diff consumes. ``check``
holds the rules across fields and entries.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xapictl.errors import DesiredStateError, FieldRef, Problem
from xapictl.plan.specs import (
    ASCII_DIGITS,
    DEVICE_PATTERN,
    IPV4_MODES,
    IPV6_MODES,
    LACP_FIELDS,
    MAC_PATTERN,
    NAME_MAX_BYTES,
    PRIMARY_ADDRESS_TYPES,
    RECIPE_VERSION,
    STORAGE_PURPOSE,
    TEXT_MAX_BYTES,
    BondSpec,
    DesiredState,
    InterfaceSpec,
    ManagementSpec,
    NetworkSpec,
    PoolSpec,
    SdnControllerSpec,
    TunnelSpec,
    VIFSpec,
    Where,
    shown,
    text_problem,
)

if TYPE_CHECKING:
    import ipaddress

    import yaml


# --- loading -------------------------------------------------------------------------------


def load_file(path: str | Path) -> DesiredState:
    """Read and validate a recipe file. Raises ``DesiredStateError`` listing every problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DesiredStateError([f"{p}: no such recipe file; check the path"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DesiredStateError([f"{p}: cannot read the recipe ({exc.__class__.__name__}); "
                                 "it must be a readable UTF-8 YAML file"]) from None
    return load_text(text, source=str(path))


def load_text(text: str, *, source: str = "<recipe>") -> DesiredState:
    """Validate recipe text with the recipe models (``xapictl.plan.recipe_model``), then the
    cross-field rules (``check``). Raises ``DesiredStateError`` listing every problem found."""
    import yaml  # read here only: a recipe built from arguments never loads the YAML parser

    from xapictl.plan import recipe_model, yaml_input

    problems: list[Problem] = []

    def add(node: yaml.Node, path: str, *message: str | FieldRef) -> None:
        problems.append(Problem(f"{source}:{node.start_mark.line + 1}", path, message))

    root = yaml_input.compose(text, source)
    if root is None:
        return DesiredState(source=source)
    if not isinstance(root, yaml.MappingNode):
        add(root, "", "a recipe is a mapping with keys version, networks, bonds, vifs, interfaces")
        raise DesiredStateError(problems)
    keys = {k.value: k for k, _ in root.value if isinstance(k, yaml.ScalarNode)}
    if "schema_version" in keys and "version" not in keys:
        # An inventory export or an output document (-o json): one line, not one per key.
        add(keys["schema_version"], "schema_version",
            "this is an xapictl inventory export or output document, not a recipe; "
            "a recipe has the keys version, networks, bonds, vifs, interfaces (docs/recipes.md)")
        raise DesiredStateError(problems)
    sections: dict[str, list[Any]] = {s: [] for s in recipe_model.SECTIONS}
    pool: PoolSpec | None = None
    management: ManagementSpec | None = None
    for key_node, value_node in root.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if key == "version":
            if not (isinstance(value_node, yaml.ScalarNode)
                    and value_node.value == str(RECIPE_VERSION)):
                add(value_node, "version", "unsupported recipe version; write ",
                    FieldRef("version", str(RECIPE_VERSION)))
        elif key in recipe_model.SECTIONS:
            model = recipe_model.SECTIONS[key]
            if isinstance(value_node, yaml.ScalarNode) and value_node.tag.endswith(":null"):
                continue
            if not isinstance(value_node, yaml.SequenceNode):
                add(value_node, key, "must be a list of entries, each starting with `- `")
                continue
            for index, item in enumerate(value_node.value):
                path = f"{key}[{index}]"
                if not isinstance(item, yaml.MappingNode):
                    add(item, path, "each entry must be a mapping of field: value")
                    continue
                entry = recipe_model.entry_from_nodes(model, item, path, source, problems)
                if entry is not None:
                    sections[key].append(entry.spec(Where(source, item.start_mark.line + 1)))
        elif key == "pool":
            if not isinstance(value_node, yaml.MappingNode):
                add(value_node, key, "must be a mapping of pool settings, e.g. ",
                    FieldRef("igmp_snooping", "true"))
                continue
            entry = recipe_model.entry_from_nodes(recipe_model.PoolEntry, value_node, key,
                                                  source, problems)
            if isinstance(entry, recipe_model.PoolEntry):
                pool = entry.spec(Where(source, value_node.start_mark.line + 1))
        elif key == "management":
            if not isinstance(value_node, yaml.MappingNode):
                add(value_node, key, "must be a mapping, e.g. ", FieldRef("network", "Storage"))
                continue
            entry = recipe_model.entry_from_nodes(recipe_model.ManagementEntry, value_node,
                                                  key, source, problems)
            if isinstance(entry, recipe_model.ManagementEntry):
                management = entry.spec(Where(source, value_node.start_mark.line + 1))
        elif key == "local":
            add(key_node, "local", "this is a plain-Xen recipe: run it with "
                "`xapictl local apply`, not against a pool")
        else:
            add(key_node, str(key), "unknown top-level key" +
                recipe_model.suggest(str(key), ["version", *recipe_model.SECTIONS, "pool",
                                                "management"]) +
                "; allowed: version, networks, bonds, vifs, interfaces, pool, management")
    if problems:
        raise DesiredStateError(problems)
    state = DesiredState(networks=tuple(sections["networks"]), bonds=tuple(sections["bonds"]),
                         vifs=tuple(sections["vifs"]), source=source, pool=pool,
                         management=management,
                         interfaces=tuple(sections["interfaces"]))
    check(state)
    return state


# --- cross-field rules (also applied to ensure_* results) -----------------------------------


def check(state: DesiredState) -> None:
    """The rules that involve several fields or entries. Raises ``DesiredStateError``."""
    problems: list[Problem] = []

    def say(where: Where, path: str, *message: str | FieldRef) -> None:
        problems.append(Problem(str(where), path, message))

    for path, where, value in _names(state):
        wrong = text_problem(value)
        if wrong:
            say(where, path, wrong)
    seen: dict[str, Where] = {}
    identities: dict[tuple[object, ...], Where] = {}
    for i, n in enumerate(state.networks):
        path = f"networks[{i}]"
        if n.name in seen:
            say(n.where, f"{path}.name", f"network {n.name!r} is already stated at "
                f"{seen[n.name]}; keep one entry per network")
        seen[n.name] = n.where
        if n.device is not None and n.bond is not None:
            say(n.where, path, "give either ", FieldRef("device"), " or ", FieldRef("bond"),
                " as the trunk, not both")
        if n.vlan is not None and n.device is None and n.bond is None:
            say(n.where, f"{path}.vlan", "a VLAN needs its trunk: add ",
                FieldRef("device", "eth1"), " or ", FieldRef("bond", "<bond network name>"))
        if n.vlan is None and n.bond is not None:
            say(n.where, f"{path}.bond", FieldRef("bond"), " names the trunk of a VLAN: add ",
                FieldRef("vlan", "<tag>"), ", or state the bond itself under `bonds:`")
        if n.kind == "nic" and not n.present:
            say(n.where, f"{path}.present", "the network of a NIC cannot be removed; drop ",
                FieldRef("present", "false"), " or remove the entry")
        if n.replug_management and not (n.replug or n.raise_trunk_mtu):
            say(n.where, f"{path}.replug_management", "only meaningful with ",
                FieldRef("replug", "true"), " or ", FieldRef("raise_trunk_mtu", "true"))
        if n.raise_trunk_mtu and (n.vlan is None or n.mtu is None):
            say(n.where, f"{path}.raise_trunk_mtu", "only meaningful on a VLAN network "
                "with an MTU: add ", FieldRef("vlan", "<tag>"), " and ",
                FieldRef("mtu", "9000"), ", or drop it")
        elif n.raise_trunk_mtu:
            trunk_net = next((t for t in state.networks if t.mtu is not None and (
                (n.device is not None and t.kind == "nic" and t.device == n.device)
                or (n.bond is not None and t.name == n.bond))), None)
            trunk_bond = state.bond_named(n.bond) if n.bond is not None else None
            stated_at = (trunk_net.where if trunk_net is not None else trunk_bond.where
                         if trunk_bond is not None and trunk_bond.mtu is not None else None)
            if stated_at is not None:
                say(n.where, f"{path}.raise_trunk_mtu", f"the recipe states the trunk's MTU "
                    f"at {stated_at}: drop ", FieldRef("raise_trunk_mtu"), " and give the trunk "
                    "the MTU it needs there")
        _check_private_and_sriov(n, path, say)
        if n.kind == "vlan":
            key: tuple[object, ...] = ("vlan", n.device or f"bond:{n.bond}", n.vlan)
            if key in identities:
                say(n.where, path, f"VLAN {n.vlan} on {n.device or n.bond} is already stated "
                    f"at {identities[key]}")
            identities[key] = n.where
        elif n.kind in ("nic", "sriov"):
            key = (n.kind, n.device)
            what = "the SR-IOV network" if n.kind == "sriov" else "the network"
            if key in identities:
                say(n.where, f"{path}.device", f"{what} of NIC {n.device} is already "
                    f"stated at {identities[key]}; a NIC has one {what.split()[-1]}: keep "
                    "one entry")
            identities.setdefault(key, n.where)
    if state.pool is not None and state.pool.sdn_controller is not None:
        _check_sdn(state.pool.sdn_controller, state.pool.where, say)
    bonds_seen: dict[str, Where] = {}
    members_seen: dict[str, tuple[str, Where]] = {}
    for i, b in enumerate(state.bonds):
        path = f"bonds[{i}]"
        if b.network in bonds_seen:
            say(b.where, f"{path}.network", f"the bond of network {b.network!r} is already "
                f"stated at {bonds_seen[b.network]}; keep one entry per bond")
        bonds_seen.setdefault(b.network, b.where)
        if b.present:
            for m in b.members:
                if m in members_seen and members_seen[m][0] != b.network:
                    other, at = members_seen[m]
                    say(b.where, f"{path}.members", f"{m} is already a member of the bond "
                        f"of {other!r} at {at}; a NIC is in one bond only")
                members_seen.setdefault(m, (b.network, b.where))
        if not b.members:
            say(b.where, f"{path}.members", "a bond needs at least one member device")
        for m in b.members:
            if not DEVICE_PATTERN.match(m):
                say(b.where, f"{path}.members", f"{m!r} is not a device name like eth2")
        for name in LACP_FIELDS:
            if getattr(b, name) is not None and b.mode != "lacp":
                say(b.where, f"{path}.{name}", "only for ", FieldRef("mode", "lacp"))
        net = state.network_named(b.network)
        if net is not None and net.kind != "named":
            say(b.where, f"{path}.network", f"{b.network!r} is stated as a "
                f"{net.kind.upper()} network under networks:; a bond needs its own network")
        elif net is not None and net.present != b.present:
            say(b.where, f"{path}.present", _both_ways(f"network {b.network!r}", b.present,
                                                       b.where, net.where))
    for i, n in enumerate(state.networks):
        trunk = state.bond_named(n.bond) if n.bond is not None else None
        if n.present and trunk is not None and not trunk.present:
            say(n.where, f"networks[{i}].bond", f"VLAN {n.vlan} rides on the bond of "
                f"{n.bond!r}, which {trunk.where} removes; keep the bond or drop the VLAN")
    pairs: dict[tuple[str, str], Where] = {}
    automatic: dict[tuple[str, str], Where] = {}
    on_network: dict[tuple[str, str], tuple[VIFSpec, Where]] = {}
    for v in state.vifs:
        if v.device != "auto":
            on_network.setdefault((v.vm, v.network), (v, v.where))
    for i, v in enumerate(state.vifs):
        path = f"vifs[{i}]"
        net = state.network_named(v.network)
        if v.present and net is not None and not net.present:
            say(v.where, f"{path}.network", f"network {v.network!r} is removed at "
                f"{net.where}; a VIF cannot be attached to it")
        if v.device == "auto" and v.present:
            key2 = (v.vm, v.network)
            if key2 in automatic:
                say(v.where, path, f"an automatic VIF of VM {v.vm!r} on {v.network!r} is "
                    f"already stated at {automatic[key2]}; keep one entry per VIF")
            automatic.setdefault(key2, v.where)
            if key2 in on_network:
                stated, at = on_network[key2]
                if stated.present:
                    say(v.where, f"{path}.device", f"VIF {stated.device} of VM {v.vm!r} on "
                        f"{v.network!r} is stated at {at}; an automatic VIF on the same "
                        "network is that VIF or a second one: drop this entry or give its "
                        "device number")
                else:
                    say(v.where, f"{path}.present", f"VIF {stated.device} of VM {v.vm!r} on "
                        f"{v.network!r} is removed at {at}, and this entry wants a VIF on "
                        "that network (the VIF would be destroyed and re-created on every "
                        "apply); keep one of the two")
        if v.device != "auto":
            pair = (v.vm, v.device)
            if pair in pairs:
                say(v.where, path, f"VIF {v.device} of VM {v.vm!r} is already stated at "
                    f"{pairs[pair]}")
            pairs[pair] = v.where
        elif not v.present:
            say(v.where, f"{path}.device", 'removing a VIF needs its device number, not "auto"')
        for attr, version, like in (("ipv4_allowed", 4, "172.21.0.10"),
                                    ("ipv6_allowed", 6, "fd00::10")):
            for address in getattr(v, attr) or ():
                if not _is_ip(address, version):
                    say(v.where, f"{path}.{attr}",
                        f"{address!r} is not an IPv{version} address like {like}")
        if (v.ipv4_allowed or v.ipv6_allowed) and v.locking_mode not in (None, "locked"):
            say(v.where, f"{path}.locking_mode", "allowed addresses only apply with ",
                FieldRef("locking_mode", "locked"))
    for i, spec in enumerate(state.interfaces):
        for path, message in interface_problems(spec):
            say(spec.where, f"interfaces[{i}]{path}", *message)
    entries: dict[str, Where] = {}
    for i, spec in enumerate(state.interfaces):
        on = spec.network if spec.network is not None else f"device {spec.device}"
        if on in entries and spec.hosts is None:
            say(spec.where, f"interfaces[{i}]", f"the interface on {on!r} is already stated "
                f"at {entries[on]}; keep one entry per network")
        entries.setdefault(on, spec.where)
    if problems:
        raise DesiredStateError(problems)


def _check_private_and_sriov(n: NetworkSpec, path: str,
                             say: Callable[..., None]) -> None:
    """A private network has no trunk; an SR-IOV network is one NIC's; rediscovery needs a
    NIC to look for."""
    if n.tunnel is not None:
        for name in ("vlan", "device", "bond"):
            if getattr(n, name) is not None:
                say(n.where, f"{path}.{name}", "a private network (", FieldRef("tunnel"),
                    ") rides on its transport network, not on a trunk: drop ",
                    FieldRef(name))
        if n.sriov:
            say(n.where, f"{path}.sriov", "a network is either private (", FieldRef("tunnel"),
                ") or SR-IOV, not both")
        if n.tunnel.transport == n.name:
            say(n.where, f"{path}.tunnel.transport", "a private network cannot carry its own "
                "tunnels: name another network (one whose PIFs have an IP)")
    if n.sriov is not None and n.tunnel is None:
        if n.device is None:
            say(n.where, f"{path}.sriov", "SR-IOV needs its NIC: add ",
                FieldRef("device", "eth1"))
        if n.vlan is not None:
            say(n.where, f"{path}.vlan", "a VLAN on SR-IOV is not supported by xapictl yet: "
                "drop ", FieldRef("vlan"), " or ", FieldRef("sriov"))
        if n.sriov is False:
            say(n.where, f"{path}.sriov", FieldRef("sriov", "true"), " is the only value: "
                "leave it out for the plain network of the NIC")
    if n.rediscover and n.device is None:
        say(n.where, f"{path}.rediscover", "only meaningful with ", FieldRef("device", "eth3"),
            " (the NIC to look for)")
    if n.rediscover and not n.present:
        say(n.where, f"{path}.rediscover", "only meaningful for a network wanted present")
    if n.rediscover and n.sriov:
        say(n.where, f"{path}.rediscover", "not for SR-IOV networks yet: scan first with "
            "`xapictl pif scan`, then apply")


def _check_sdn(sdn: SdnControllerSpec, where: Where, say: Callable[..., None]) -> None:
    """``xapi_sdn_controller.ml`` ``db_introduce``'s rules, as input errors."""
    path = "pool.sdn_controller"
    if not sdn.present:
        return
    if sdn.protocol == "pssl":
        for name in ("address", "port"):
            if getattr(sdn, name) is not None:
                say(where, f"{path}.{name}", "a passive (pssl) controller connects to the "
                    "hosts: drop ", FieldRef(name))
    elif sdn.address is None:
        say(where, f"{path}.address", "an ssl controller needs its address: add ",
            FieldRef("address", "192.0.2.200"))
    elif not _is_ip(sdn.address, 4):
        say(where, f"{path}.address", f"{sdn.address!r} is not an IPv4 address like "
            "192.0.2.200")


_FAMILY = {4: ("ipv4", "addresses", "address_range", "gateway", "dns", "198.51.100.11/24",
               "198.51.100.11-198.51.100.13/24", "198.51.100.1", "198.51.100.2"),
           6: ("ipv6", "addresses6", "address6_range", "gateway6", "dns6", "2001:db8:5::11/64",
               "2001:db8:5::11-2001:db8:5::13/64", "2001:db8:5::1", "2001:db8:5::2")}
"""Per address family: the mode field, its static fields and their examples."""


def interface_problems(spec: InterfaceSpec) -> list[tuple[str, tuple[str | FieldRef, ...]]]:
    """What is wrong inside one ``interfaces`` entry: (field path, message) pairs."""
    out: list[tuple[str, tuple[str | FieldRef, ...]]] = []
    if (spec.network is None) == (spec.device is None):
        out.append(("", ("give either ", FieldRef("network", "Storage"), " or ",
                         FieldRef("device", "eth1"), ", not both")))
    for version in (4, 6):
        out += _family_problems(spec, version)
    if spec.purpose is not None and spec.ipv4 in (None, "none") and spec.ipv6 in (None, "none"):
        out.append((".purpose", ("a storage interface needs an address: add ",
                                 FieldRef("ipv4", "static"), " or ", FieldRef("ipv4", "dhcp"),
                                 " (or an ", FieldRef("ipv6", "static"), ")")))
    if spec.primary_address_type is not None:
        mode_field = "ipv4" if spec.primary_address_type == "ipv4" else "ipv6"
        if getattr(spec, mode_field) == "none":
            out.append((".primary_address_type", (
                f"{spec.primary_address_type} is the primary address type but {mode_field} is "
                "none; give it an address (", FieldRef(mode_field, "static"), " or ",
                FieldRef(mode_field, "dhcp"), ") or keep the other type")))
    return out


def _family_problems(spec: InterfaceSpec, version: int
                     ) -> list[tuple[str, tuple[str | FieldRef, ...]]]:
    """The static fields of one address family (4 or 6): needed, allowed, well formed."""
    import ipaddress

    mode, addresses, ranged, gateway_f, dns_f, ex_address, ex_range, ex_gateway, ex_dns = \
        _FAMILY[version]
    out: list[tuple[str, tuple[str | FieldRef, ...]]] = []
    static = getattr(spec, mode) == "static"
    given, given_range = getattr(spec, addresses), getattr(spec, ranged)
    if static and (given is None) == (given_range is None):
        out.append((f".{addresses}", (FieldRef(mode, "static"), " needs ", FieldRef(
            addresses, f"{{xcp-host-01: {ex_address}}}"), " or ", FieldRef(ranged, ex_range),
            " (one of them)")))
    if not static:
        for name in (addresses, ranged, gateway_f, dns_f):
            if getattr(spec, name) is not None:
                out.append((f".{name}", ("only with ", FieldRef(mode, "static"))))
    interfaces: list[tuple[str, ipaddress.IPv4Interface | ipaddress.IPv6Interface]] = []
    for host, text in (given or {}).items():
        try:
            interfaces.append((host, ip_interface(text, version)))
        except ValueError:
            out.append((f".{addresses}.{host}", (f"{text!r} is not an IPv{version} address "
                                                 f"with its prefix like {ex_address}",)))
    if given_range is not None:
        try:
            interfaces += [(f"#{n}", a) for n, a in enumerate(allot(given_range, 256, version))]
        except ValueError as exc:
            out.append((f".{ranged}", (str(exc),)))
    seen: dict[str, str] = {}
    for host, iface in interfaces:
        address = str(iface.ip)
        if address in seen and not host.startswith("#"):
            out.append((f".{addresses}.{host}", (f"{address} is also given to {seen[address]}; "
                                                 "every host needs its own address",)))
        seen.setdefault(address, host)
    gateway_text = getattr(spec, gateway_f)
    if gateway_text is not None:
        if not _is_ip(gateway_text, version):
            out.append((f".{gateway_f}", (f"{gateway_text!r} is not an IPv{version} address "
                                          f"like {ex_gateway}",)))
        else:
            gateway = ipaddress.ip_address(gateway_text)
            outside = sorted({str(i.network) for _, i in interfaces if gateway not in i.network})
            if outside:
                out.append((f".{gateway_f}", (f"{gateway} is outside the subnet "
                                              f"{', '.join(outside)} of the addresses; give a "
                                              "gateway in that subnet, or none",)))
    for address in getattr(spec, dns_f) or ():
        if not _is_ip(address, version):
            out.append((f".{dns_f}", (f"{address!r} is not an IPv{version} address like "
                                      f"{ex_dns}",)))
    return out


def ip_interface(text: str, version: int = 4
                 ) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
    """``address/prefix`` of the family (``ValueError`` otherwise): an IPv4 address may not be
    its subnet's network or broadcast address; an IPv6 one takes no zone (``%eth0``), as
    XAPI's parser takes none."""
    import ipaddress

    if "/" not in text or "%" in text:
        raise ValueError(text)
    iface = ipaddress.IPv4Interface(text) if version == 4 else ipaddress.IPv6Interface(text)
    if isinstance(iface, ipaddress.IPv4Interface) and iface.network.prefixlen < 31 and \
            iface.ip in (iface.network.network_address, iface.network.broadcast_address):
        raise ValueError(text)
    return iface


def allot(text: str, count: int, version: int = 4
          ) -> list[ipaddress.IPv4Interface | ipaddress.IPv6Interface]:
    """``198.51.100.11-198.51.100.13/24`` (or IPv6 ``2001:db8::11-2001:db8::13/64``) -> up to
    ``count`` addresses from the first on, with the prefix; ``ValueError`` (in the house
    words) when the text is not such a range."""
    import ipaddress

    like = f"like {_FAMILY[version][6]}"
    first_text, _, rest = text.partition("-")
    last_text, slash, prefix = rest.partition("/")
    try:
        first = ip_interface(f"{first_text}/{prefix}", version)
        last = ip_interface(f"{last_text}/{prefix}", version)
    except ValueError:
        raise ValueError(f"{text!r} is not an address range {like}") from None
    if not slash or last.network != first.network or int(last.ip) < int(first.ip):
        raise ValueError(f"{text!r} is not an address range {like} (first to last, in "
                         "one subnet)")
    span = int(last.ip) - int(first.ip) + 1
    return [ipaddress.ip_interface(f"{first.ip + n}/{prefix}") for n in range(min(span, count))]


def _names(state: DesiredState) -> list[tuple[str, Where, str]]:
    """Every name the state gives (network, bond network, VM, network of a VIF)."""
    out = [(f"networks[{i}].name", n.where, n.name) for i, n in enumerate(state.networks)]
    out += [(f"networks[{i}].bond", n.where, n.bond) for i, n in enumerate(state.networks)
            if n.bond is not None]
    out += [(f"networks[{i}].tunnel.transport", n.where, n.tunnel.transport)
            for i, n in enumerate(state.networks) if n.tunnel is not None]
    out += [(f"bonds[{i}].network", b.where, b.network) for i, b in enumerate(state.bonds)]
    for i, v in enumerate(state.vifs):
        out += [(f"vifs[{i}].vm", v.where, v.vm), (f"vifs[{i}].network", v.where, v.network)]
    return out


def _both_ways(thing: str, present_here: bool, here: Where, there: Where) -> str:
    if present_here:
        return f"{thing} is removed at {there} and wanted here ({here}); keep one of the two"
    return f"{thing} is wanted at {there} and removed here ({here}); keep one of the two"


def _is_ip(text: str, version: int) -> bool:
    """An address of the family as XAPI parses one (``inet_pton``: no zone like ``%eth0``)."""
    import ipaddress

    if "%" in text:
        return False
    try:
        return ipaddress.ip_address(text).version == version
    except ValueError:
        return False


__all__ = [
    "ASCII_DIGITS",
    "DEVICE_PATTERN",
    "IPV4_MODES",
    "IPV6_MODES",
    "LACP_FIELDS",
    "MAC_PATTERN",
    "NAME_MAX_BYTES",
    "PRIMARY_ADDRESS_TYPES",
    "RECIPE_VERSION",
    "STORAGE_PURPOSE",
    "TEXT_MAX_BYTES",
    "BondSpec",
    "DesiredState",
    "InterfaceSpec",
    "ManagementSpec",
    "NetworkSpec",
    "PoolSpec",
    "SdnControllerSpec",
    "TunnelSpec",
    "VIFSpec",
    "Where",
    "allot",
    "check",
    "interface_problems",
    "ip_interface",
    "load_file",
    "load_text",
    "shown",
    "text_problem",
]

