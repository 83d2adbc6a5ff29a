"""The desired state: what a recipe file (or an ``ensure_*`` call) asks the pool to look like.

A recipe is YAML with three lists, each optional::

    version: 1
    networks:   [...]   # plain, NIC, VLAN (trunked across the pool) and bond networks
    bonds:      [...]   # pool-wide bonds: members by device, created on every host
    vifs:       [...]   # VM attachments: (VM, device) -> network

Every field is optional except the identity ones; a field left out means "leave it alone"
(partial editing), ``present: false`` means "must not exist". Validation happens here, before
any call: every problem names the file, the line, the field, and says how to fix it.

The field tables below are the single source of both the validator and the published JSON
Schema (``xapictl.plan.recipe_schema``, written to ``docs/recipe.schema.json``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from xapictl.errors import DesiredStateError, FieldRef, Problem
from xapictl.plan import yaml_input

RECIPE_VERSION = 1

DEVICE_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,14}$")
MAC_PATTERN = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")
ASCII_DIGITS = re.compile(r"[0-9]{1,2}")
"""Device numbers: ASCII digits only (``str.isdigit`` also accepts "²" and "٣")."""
_PLAIN_INT = re.compile(r"[+-]?(0|[1-9][0-9]*)")
"""Integers as written: decimal ASCII digits, no YAML 1.1 ``0x10``, ``010`` (octal),
``1_000`` or ``1:30`` (sexagesimal) forms that would quietly mean another number."""
NAME_MAX_BYTES = 255
"""XAPI puts no limit on ``name_label``; recipes bound names (and tags, other_config keys)
to 255 bytes of UTF-8, like a file name, so a runaway value is an input error."""
TEXT_MAX_BYTES = 4096
"""Descriptions and other_config values: 4 KiB of UTF-8."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def text_problem(value: str, max_bytes: int = NAME_MAX_BYTES, *, multiline: bool = False
                 ) -> str:
    """What is wrong with a name or text for the pool ("" if nothing): its length in UTF-8
    bytes and control characters (NUL, escape, ...; newline and tab only where ``multiline``)."""
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        return f"is {size} bytes long; at most {max_bytes} bytes (UTF-8)"
    bad = (_CONTROL_BUT_LINES if multiline else _CONTROL).search(value)
    if bad:
        return (f"holds the control character U+{ord(bad.group()):04X} at position "
                f"{bad.start() + 1}; remove it")
    return ""


def _shown(value: object, limit: int = 40) -> str:
    """A value quoted for a message, cut short: a 5000-digit number is not a message."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit - 8]}...{text[-3:]} ({len(text)} characters)"


@dataclass(frozen=True)
class Where:
    """Where a value came from: shown in every validation and planning message."""

    file: str = "<recipe>"
    line: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


# --- the field tables ----------------------------------------------------------------------


@dataclass(frozen=True)
class FieldRule:
    """One recipe field: its kind, limits and the help text the schema and errors show."""

    name: str
    kind: str
    """``str`` ``int`` ``bool`` ``enum`` ``strlist`` ``strmap`` ``device`` ``mac`` ``vifdevice``"""
    help: str
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    required: bool = False
    example: str = ""
    max_bytes: int = 255
    """``str`` fields: the longest value in UTF-8 bytes (``NAME_MAX_BYTES`` for names)."""
    multiline: bool = False
    """``str`` fields: newlines and tabs allowed (descriptions); never other controls."""


_PRESENT = FieldRule("present", "bool", "false removes the object; true (default) ensures it",
                     example="true")

NETWORK_FIELDS: tuple[FieldRule, ...] = (
    FieldRule("name", "str", "the network's name label", required=True, example='"VLAN 105"'),
    _PRESENT,
    FieldRule("description", "str", "the network's description", example='"web tier"',
              max_bytes=4096, multiline=True),
    FieldRule("vlan", "int", "VLAN tag: makes this a trunked VLAN network on every host",
              minimum=0, maximum=4094, example="105"),
    FieldRule("device", "device", "trunk NIC of the VLAN, or the NIC of an external network",
              example="eth1"),
    FieldRule("bond", "str", "trunk bond of the VLAN: the network name of a bond",
              example='"Bond eth2+eth3"'),
    FieldRule("mtu", "int", "MTU in octets", minimum=68, maximum=65535, example="9000"),
    FieldRule("managed", "bool", "false: xapi does not create the bridge (new networks only)",
              example="true"),
    FieldRule("automatic", "bool", "add this network to new VMs automatically", example="false"),
    FieldRule("default_locking_mode", "enum", "locking mode of VIFs left at network_default",
              choices=("unlocked", "disabled"), example="unlocked"),
    FieldRule("purpose", "strlist", "network purposes", choices=("nbd", "insecure_nbd"),
              example="[nbd]"),
    FieldRule("other_config", "strmap", "keys to set in other_config (others are left alone)",
              example="{folder: /lab}"),
    FieldRule("tags", "strlist", "the network's tags (the whole set)", example="[prod]"),
    FieldRule("adopt", "bool", "take over a matching network not made by xapictl",
              example="true"),
    FieldRule("replug", "bool", "after an MTU change, re-plug PIFs and VIFs with the old MTU",
              example="true"),
    FieldRule("replug_management", "bool",
              "also re-plug the management interface (a separate, explicit confirmation)",
              example="false"),
    FieldRule("rename", "bool", "rename the network that carries this VLAN tag or NIC to "
              "`name` (otherwise another name there is refused)", example="true"),
)

BOND_FIELDS: tuple[FieldRule, ...] = (
    FieldRule("network", "str", "name of the bond's network", required=True,
              example='"Bond eth2+eth3"'),
    _PRESENT,
    FieldRule("members", "strlist", "member NICs by device, the same on every host",
              required=True, example="[eth2, eth3]"),
    FieldRule("mode", "enum", "bond mode", choices=("balance-slb", "active-backup", "lacp"),
              example="lacp"),
    FieldRule("hashing_algorithm", "enum", "LACP hashing (lacp mode only)",
              choices=("src_mac", "tcpudp_ports"), example="tcpudp_ports"),
    FieldRule("mtu", "int", "MTU of the bond network", minimum=68, maximum=65535,
              example="9000"),
    FieldRule("adopt", "bool", "take over a matching network not made by xapictl",
              example="true"),
)

VIF_FIELDS: tuple[FieldRule, ...] = (
    FieldRule("vm", "str", "the VM, by name label or uuid", required=True, example="web01"),
    FieldRule("network", "str", "the network, by name (in this recipe or on the pool)",
              required=True, example='"VLAN 101"'),
    _PRESENT,
    FieldRule("device", "vifdevice", 'VIF device number 0-15, or "auto" for the next free one',
              example="1"),
    FieldRule("mac", "mac", "fixed MAC address (default: generated by XAPI)",
              example='"02:00:00:00:01:01"'),
    FieldRule("mtu", "int", "MTU of the VIF", minimum=68, maximum=65535, example="1500"),
    FieldRule("locking_mode", "enum", "VIF locking mode",
              choices=("network_default", "locked", "unlocked", "disabled"), example="locked"),
    FieldRule("ipv4_allowed", "strlist", "IPv4 addresses allowed when locked",
              example="[172.21.0.10]"),
    FieldRule("ipv6_allowed", "strlist", "IPv6 addresses allowed when locked", example="[]"),
    FieldRule("qos_kbps", "int", "rate limit in kB/s (0 removes the limit)", minimum=0,
              maximum=100_000_000, example="10240"),
)

SECTIONS: dict[str, tuple[FieldRule, ...]] = {
    "networks": NETWORK_FIELDS,
    "bonds": BOND_FIELDS,
    "vifs": VIF_FIELDS,
}

# --- the typed desired state ---------------------------------------------------------------


@dataclass(frozen=True)
class NetworkSpec:
    """A network as the recipe wants it. ``None`` means "not stated: leave alone"."""

    name: str
    present: bool = True
    description: str | None = None
    vlan: int | None = None
    device: str | None = None
    bond: str | None = None
    mtu: int | None = None
    managed: bool | None = None
    automatic: bool | None = None
    default_locking_mode: str | None = None
    purpose: tuple[str, ...] | None = None
    other_config: Mapping[str, str] | None = None
    tags: tuple[str, ...] | None = None
    adopt: bool = False
    replug: bool = False
    replug_management: bool = False
    rename: bool = False
    """A network found by what it carries (VLAN tag on a trunk, NIC) but named otherwise is
    refused, naming it; ``True`` renames it to ``name`` instead (a disruptive step). Never
    set by ``network create``: it does not rename or re-purpose a network."""
    where: Where = field(default_factory=Where, compare=False)

    @property
    def kind(self) -> str:
        """``vlan`` (trunked), ``nic`` (the network of a NIC), or ``internal``/named."""
        if self.vlan is not None:
            return "vlan"
        if self.device is not None:
            return "nic"
        return "named"


@dataclass(frozen=True)
class BondSpec:
    network: str
    members: tuple[str, ...]
    present: bool = True
    mode: str | None = None
    hashing_algorithm: str | None = None
    mtu: int | None = None
    adopt: bool = False
    where: Where = field(default_factory=Where, compare=False)

    @property
    def properties(self) -> dict[str, str]:
        """Bond.create properties the recipe states (only LACP takes any)."""
        if self.mode == "lacp" and self.hashing_algorithm:
            return {"hashing_algorithm": self.hashing_algorithm}
        return {}


@dataclass(frozen=True)
class VIFSpec:
    vm: str
    network: str
    present: bool = True
    device: str = "auto"
    mac: str | None = None
    mtu: int | None = None
    locking_mode: str | None = None
    ipv4_allowed: tuple[str, ...] | None = None
    ipv6_allowed: tuple[str, ...] | None = None
    qos_kbps: int | None = None
    where: Where = field(default_factory=Where, compare=False)


@dataclass(frozen=True)
class DesiredState:
    """Everything a recipe states. Order is kept: it is the order steps are planned in."""

    networks: tuple[NetworkSpec, ...] = ()
    bonds: tuple[BondSpec, ...] = ()
    vifs: tuple[VIFSpec, ...] = ()
    source: str = "<recipe>"

    def merged(self, other: DesiredState) -> DesiredState:
        return DesiredState(self.networks + other.networks, self.bonds + other.bonds,
                            self.vifs + other.vifs, self.source)

    def network_named(self, name: str) -> NetworkSpec | None:
        return next((n for n in self.networks if n.name == name), None)

    def bond_named(self, name: str) -> BondSpec | None:
        return next((b for b in self.bonds if b.network == name), None)


# --- loading -------------------------------------------------------------------------------


class _Problems:
    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: list[Problem] = []

    def add(self, node: yaml.Node | None, path: str, *message: str | FieldRef) -> None:
        line = node.start_mark.line + 1 if node is not None else 0
        where = f"{self.source}:{line}" if line else self.source
        self.lines.append(Problem(where, path, message))


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
    """Validate recipe text. Raises ``DesiredStateError`` listing every problem found."""
    problems = _Problems(source)
    root = yaml_input.compose(text, source)
    if root is None:
        return DesiredState(source=source)
    if not isinstance(root, yaml.MappingNode):
        problems.add(root, "", "a recipe is a mapping with keys version, networks, bonds, vifs")
        raise DesiredStateError(problems.lines)
    sections: dict[str, list[tuple[dict[str, Any], Where]]] = {s: [] for s in SECTIONS}
    for key_node, value_node in root.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if key == "version":
            _check_version(value_node, problems)
        elif key in SECTIONS:
            sections[key] = _load_section(key, value_node, problems)
        elif key == "local":
            problems.add(key_node, "local", "this is a plain-Xen recipe: run it with "
                         "`xapictl local apply`, not against a pool")
        else:
            problems.add(key_node, str(key), "unknown top-level key" +
                         _suggest(str(key), ["version", *SECTIONS]) +
                         "; allowed: version, networks, bonds, vifs")
    if problems.lines:
        raise DesiredStateError(problems.lines)
    state = DesiredState(
        networks=tuple(NetworkSpec(where=w, **_tuples(v)) for v, w in sections["networks"]),
        bonds=tuple(BondSpec(where=w, **_tuples(v)) for v, w in sections["bonds"]),
        vifs=tuple(VIFSpec(where=w, **_tuples(v)) for v, w in sections["vifs"]),
        source=source,
    )
    check(state)
    return state


def _tuples(values: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}


def _check_version(node: yaml.Node, problems: _Problems) -> None:
    if not (isinstance(node, yaml.ScalarNode) and node.value == str(RECIPE_VERSION)):
        problems.add(node, "version", "unsupported recipe version; write ",
                     FieldRef("version", str(RECIPE_VERSION)))


def _load_section(section: str, node: yaml.Node, problems: _Problems
                  ) -> list[tuple[dict[str, Any], Where]]:
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
        return []
    if not isinstance(node, yaml.SequenceNode):
        problems.add(node, section, "must be a list of entries, each starting with `- `")
        return []
    rules = {r.name: r for r in SECTIONS[section]}
    out = []
    for index, item in enumerate(node.value):
        path = f"{section}[{index}]"
        if not isinstance(item, yaml.MappingNode):
            problems.add(item, path, "each entry must be a mapping of field: value")
            continue
        values: dict[str, Any] = {}
        given: set[str] = set()
        for key_node, value_node in item.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            rule = rules.get(key)
            if rule is None:
                problems.add(key_node, f"{path}.{key}", "unknown field" +
                             _suggest(key, list(rules)) + "; allowed: " + ", ".join(rules))
                continue
            if key in given:
                problems.add(key_node, f"{path}.{key}", "given twice; keep one")
                continue
            given.add(key)
            ok, value = _convert(rule, value_node, f"{path}.{key}", problems)
            if ok:
                values[key] = value
        missing = [r.name for r in SECTIONS[section] if r.required and r.name not in given]
        for name in missing:
            problems.add(item, f"{path}.{name}", "required field missing; add ",
                         FieldRef(name, rules[name].example))
        out.append((values, Where(problems.source, item.start_mark.line + 1)))
    return out


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean `{close[0]}`?)" if close else ""


def _scalar(node: yaml.Node) -> Any:
    """The plain Python value of a scalar node, by YAML 1.1 core-schema resolution."""
    return yaml_input.scalar_value(node)


def _convert(rule: FieldRule, node: yaml.Node, path: str, problems: _Problems
             ) -> tuple[bool, Any]:
    def bad(message: str) -> tuple[bool, Any]:
        problems.add(node, path, message, "; e.g. ", FieldRef(rule.name, rule.example))
        return False, None

    kind = rule.kind
    if kind in ("strlist",):
        if not isinstance(node, yaml.SequenceNode):
            return bad("must be a list")
        items = []
        for child in node.value:
            ok, value = _plain_str(child)
            if not ok:
                return bad("must be a list of plain strings")
            if rule.choices and value not in rule.choices:
                return bad(f"{_shown(value)} is not one of {', '.join(rule.choices)}")
            wrong = text_problem(value, NAME_MAX_BYTES)
            if wrong:
                return bad(wrong)
            if value not in items:
                items.append(value)
        return True, items
    if kind == "strmap":
        if not isinstance(node, yaml.MappingNode):
            return bad("must be a mapping of string keys to string values")
        mapping: dict[str, str] = {}
        for k, v in node.value:
            ok_k, key = _plain_str(k)
            ok_v, value = _plain_str(v, numbers_ok=True)
            if not (ok_k and ok_v) or not key:
                return bad("keys and values must be plain strings (quote numbers)")
            wrong = (text_problem(key, NAME_MAX_BYTES)
                     or text_problem(value, TEXT_MAX_BYTES, multiline=True))
            if wrong:
                return bad(wrong)
            mapping[key] = value
        return True, mapping
    if not isinstance(node, yaml.ScalarNode):
        return bad("must be a single value")
    try:
        value = _scalar(node)
    except ValueError:
        return bad(f"cannot be read as a value: {_shown(node.value)}")
    if kind == "bool":
        if not isinstance(value, bool):
            return bad(f"must be true or false, not {node.value!r}")
        return True, value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or not _PLAIN_INT.fullmatch(
                node.value):
            return bad(f"must be a whole number in decimal digits, not {_shown(node.value)}")
        if (rule.minimum is not None and value < rule.minimum) or (
                rule.maximum is not None and value > rule.maximum):
            number = node.value if len(node.value) <= 20 else _shown(node.value)
            return bad(f"{number} is out of range {rule.minimum}-{rule.maximum}")
        return True, value
    if kind == "vifdevice":
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 15 \
                and _PLAIN_INT.fullmatch(node.value):
            return True, str(value)
        if isinstance(value, str) and (value == "auto" or (
                ASCII_DIGITS.fullmatch(value) is not None and int(value) <= 15)):
            return True, value if value == "auto" else str(int(value))
        return bad(f'must be a device number 0-15 or "auto", not {_shown(node.value)}')
    if not isinstance(value, str) or value == "":
        return bad(f"must be a non-empty string, not {_shown(node.value)}")
    if kind == "str":
        wrong = text_problem(value, rule.max_bytes, multiline=rule.multiline)
        if wrong:
            return bad(wrong)
    if kind == "enum" and value not in rule.choices:
        return bad(f"{value!r} is not one of {', '.join(rule.choices)}" +
                   _suggest(value, rule.choices))
    if kind == "device" and not DEVICE_PATTERN.match(value):
        return bad(f"{value!r} is not a device name like eth1 or bond0")
    if kind == "mac" and not MAC_PATTERN.match(value):
        return bad(f"{value!r} is not a MAC address like 02:00:00:00:01:01")
    return True, value


def _plain_str(node: yaml.Node, *, numbers_ok: bool = False) -> tuple[bool, str]:
    if not isinstance(node, yaml.ScalarNode):
        return False, ""
    if node.tag.endswith(":str"):
        return True, node.value
    if numbers_ok and (node.tag.endswith(":int") or node.tag.endswith(":float")):
        return True, node.value
    return False, ""


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
        if n.replug_management and not n.replug:
            say(n.where, f"{path}.replug_management", "only meaningful with ",
                FieldRef("replug", "true"))
        if n.kind == "vlan":
            key: tuple[object, ...] = ("vlan", n.device or f"bond:{n.bond}", n.vlan)
            if key in identities:
                say(n.where, path, f"VLAN {n.vlan} on {n.device or n.bond} is already stated "
                    f"at {identities[key]}")
            identities[key] = n.where
        elif n.kind == "nic":
            key = ("nic", n.device)
            if key in identities:
                say(n.where, f"{path}.device", f"the network of NIC {n.device} is already "
                    f"stated at {identities[key]}; a NIC has one network: keep one entry")
            identities.setdefault(key, n.where)
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
        if b.hashing_algorithm is not None and b.mode != "lacp":
            say(b.where, f"{path}.hashing_algorithm", "only for ", FieldRef("mode", "lacp"))
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
    if problems:
        raise DesiredStateError(problems)


def _names(state: DesiredState) -> list[tuple[str, Where, str]]:
    """Every name the state gives (network, bond network, VM, network of a VIF)."""
    out = [(f"networks[{i}].name", n.where, n.name) for i, n in enumerate(state.networks)]
    out += [(f"networks[{i}].bond", n.where, n.bond) for i, n in enumerate(state.networks)
            if n.bond is not None]
    out += [(f"bonds[{i}].network", b.where, b.network) for i, b in enumerate(state.bonds)]
    for i, v in enumerate(state.vifs):
        out += [(f"vifs[{i}].vm", v.where, v.vm), (f"vifs[{i}].network", v.where, v.network)]
    return out


def _both_ways(thing: str, present_here: bool, here: Where, there: Where) -> str:
    if present_here:
        return f"{thing} is removed at {there} and wanted here ({here}); keep one of the two"
    return f"{thing} is wanted at {there} and removed here ({here}); keep one of the two"


def _is_ip(text: str, version: int) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(text).version == version
    except ValueError:
        return False


__all__ = [
    "BOND_FIELDS",
    "DEVICE_PATTERN",
    "MAC_PATTERN",
    "NAME_MAX_BYTES",
    "NETWORK_FIELDS",
    "RECIPE_VERSION",
    "SECTIONS",
    "VIF_FIELDS",
    "BondSpec",
    "DesiredState",
    "FieldRule",
    "NetworkSpec",
    "VIFSpec",
    "Where",
    "check",
    "load_file",
    "load_text",
    "text_problem",
]

