"""The plain-Xen (``local:``) recipe format as typed models: one pydantic model per entry.

The models are the single definition of a local recipe entry: ``xapictl.local.desired``
validates each ``bridges:``, ``bonds:`` and ``vifs:`` entry and the ``local:`` settings with
them, and the published JSON Schema (``docs/local-recipe.schema.json``) is generated from them::

    python -m xapictl.local.recipe_model > docs/local-recipe.schema.json

Each field carries its type (bounds, choices, patterns) and a ``Check``: the one
before-validator turns the value as written (a YAML node, or a Python value represented as one)
into that type with the house message, naming the node of every problem so the loader reports
``FILE:LINE: FIELD: message``. Rules across fields and entries (defaults that depend on other
fields, contradictions) are one pass after validation, in ``xapictl.local.desired``.

Imported only when a recipe is read (pydantic is not loaded by ``xapictl --help``).
"""

from __future__ import annotations

import difflib
import ipaddress
import re
import typing
from collections.abc import Callable, Sequence
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, WithJsonSchema, field_validator
from pydantic.json_schema import SkipJsonSchema

from xapictl._frozen import Frozen, frozen
from xapictl.errors import UsageError
from xapictl.local.observe import BOND_MODES
from xapictl.local.recipe_words import FROM_UPLINK, IFNAMSIZ
from xapictl.local.xl_vif import VifVlans, parse_vlan_spec
from xapictl.plan import yaml_input
from xapictl.plan.recipe_model import published_schema

__all__ = [
    "SCHEMA_ID",
    "Bad",
    "BondEntry",
    "BridgeEntry",
    "Entry",
    "LocalRecipe",
    "LocalSettings",
    "VifEntry",
    "ifname_ok",
    "json_schema",
    "suggest",
]

_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_PLAIN_INT = re.compile(r"(0|[1-9][0-9]*)")
"""Decimal ASCII digits only: no "٣", "0x10", "010" (YAML 1.1 octal) or "1_000"."""
_IFNAME = re.compile(r"[!-.0-9;-~]+")  # printable ASCII but '/' and ':'; no space
IFNAME_PATTERN = r"^[!-.0-9;-~]{1,15}$"
"""The schema's form of an interface name (``.`` and ``..`` are refused besides)."""


class Bad(ValueError):
    """What is wrong with one value: (node, message) per problem, the node giving the line
    (an item of a list, or the value itself). Pydantic keeps it in the error's ``ctx``."""

    def __init__(self, problems: list[tuple[yaml.Node, str]]) -> None:
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems


Checker = Callable[[yaml.Node], Any]


@frozen
class Check(Frozen):
    """How a field's value as written becomes its type (raising ``Bad``)."""

    convert: Checker


# --- values as written ---------------------------------------------------------------------


def as_node(value: object) -> yaml.Node:
    """A YAML node as given, or a Python value represented as the node YAML would make."""
    if isinstance(value, yaml.Node):
        return value
    node: yaml.Node = yaml.representer.SafeRepresenter().represent_data(value)
    return node


def _scalar(node: yaml.Node) -> Any:
    """The Python value of a scalar node (None for mappings, lists and unreadable scalars
    such as a 5000-digit number: every caller then reports the value as wrong)."""
    try:
        return yaml_input.scalar_value(node)
    except ValueError:
        return None


def _shown(node: yaml.Node) -> str:
    text = repr(node.value) if isinstance(node, yaml.ScalarNode) else "a list or mapping"
    return text if len(text) <= 40 else f"{text[:32]}...{text[-3:]} ({len(text)} characters)"


def ifname_ok(name: str) -> bool:
    """Linux's rules for an interface name (dev_valid_name): 1-15 bytes, not . or .., no
    slash, colon or whitespace; we also keep it printable ASCII, as every tool expects."""
    return (0 < len(name.encode("utf-8", "surrogatepass")) <= IFNAMSIZ and name not in (".", "..")
            and _IFNAME.fullmatch(name) is not None)


def suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean `{close[0]}`?)" if close else ""


# --- one checker per kind of value -----------------------------------------------------------


def _int(lo: int, hi: int) -> Checker:
    def check(node: yaml.Node) -> int:
        value = _scalar(node)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi \
                or not _PLAIN_INT.fullmatch(str(node.value)):
            raise Bad([(node, f"must be an integer {lo}-{hi}, got {_shown(node)}")])
        return value
    return check


def _bool(node: yaml.Node) -> bool:
    value = _scalar(node)
    if not isinstance(value, bool):
        raise Bad([(node, f"must be true or false, got {node.value!r}")])
    return value


def _ifname(node: yaml.Node) -> str:
    value = _scalar(node)
    if not isinstance(value, str) or not ifname_ok(value):
        raise Bad([(node, f"must be an interface name of 1-{IFNAMSIZ} characters")])
    return value


def _state(node: yaml.Node) -> str:
    value = _scalar(node)
    if value not in ("present", "absent"):
        raise Bad([(node, "must be 'present' or 'absent'")])
    return str(value)


def _vids(node: yaml.Node) -> tuple[int, ...]:
    if not isinstance(node, yaml.SequenceNode):
        raise Bad([(node, "must be a list of VLAN IDs or 'A-B' ranges, e.g. [101, '103-105']")])
    vids: list[int] = []
    bad: list[tuple[yaml.Node, str]] = []
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
        bad.append((item, f"{item.value!r} is not a VLAN ID 1-4094 or a range 'A-B'"))
    if bad:
        raise Bad(bad)
    return tuple(sorted(set(vids)))


def _addresses(node: yaml.Node) -> str | tuple[str, ...]:
    value = _scalar(node) if isinstance(node, yaml.ScalarNode) else None
    if value == FROM_UPLINK:
        return FROM_UPLINK
    if value in ("none", None) and isinstance(node, yaml.ScalarNode):
        return ()
    if not isinstance(node, yaml.SequenceNode):
        raise Bad([(node, "must be 'from-uplink', 'none' or a list of CIDRs like "
                          "192.0.2.10/24")])
    out: list[str] = []
    bad: list[tuple[yaml.Node, str]] = []
    for item in node.value:
        try:
            out.append(str(ipaddress.ip_interface(str(item.value))))
            if "/" not in str(item.value):
                raise ValueError
        except ValueError:
            bad.append((item, f"{item.value!r} is not an address with prefix, e.g. "
                              "192.0.2.10/24"))
    if bad:
        raise Bad(bad)
    return tuple(out)


def _mac(node: yaml.Node) -> str:
    mac = _scalar(node)
    mac = mac.lower() if isinstance(mac, str) else mac
    if mac != FROM_UPLINK and not (isinstance(mac, str) and _MAC.match(mac)):
        raise Bad([(node, "must be 'from-uplink' or a MAC like 00:16:3e:00:00:01")])
    return str(mac)


def _slaves(node: yaml.Node) -> tuple[str, ...]:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise Bad([(node, "must be a non-empty list of NIC names")])
    names: list[str] = []
    bad: list[tuple[yaml.Node, str]] = []
    for item in node.value:
        try:
            names.append(_ifname(item))
        except Bad as exc:
            bad += exc.problems
    if bad:
        raise Bad(bad)
    return tuple(names)


def _mode(node: yaml.Node) -> str:
    mode = _scalar(node)
    if mode not in BOND_MODES:
        raise Bad([(node, f"must be one of {', '.join(BOND_MODES)}")])
    return str(mode)


def _vif_vlans(node: yaml.Node) -> VifVlans:
    try:
        return parse_vlan_spec(str(node.value))
    except UsageError as exc:
        raise Bad([(node, str(exc))]) from None


def _probes(node: yaml.Node) -> tuple[str, ...]:
    if not isinstance(node, yaml.SequenceNode):
        raise Bad([(node, "must be a list of IP addresses ([] for no probe)")])
    bad: list[tuple[yaml.Node, str]] = []
    for n in node.value:
        try:
            ipaddress.ip_address(str(n.value))
        except ValueError:
            bad.append((n, f"{n.value!r} is not an IP address"))
    if bad:
        raise Bad(bad)
    return tuple(str(n.value) for n in node.value)


# --- field types ---------------------------------------------------------------------------

IfName = Annotated[str, Field(min_length=1, max_length=IFNAMSIZ, pattern=IFNAME_PATTERN),
                   Check(_ifname)]
Mtu = Annotated[int, Field(ge=68, le=65535), Check(_int(68, 65535))]
VlanId = Annotated[int, Field(ge=1, le=4094), Check(_int(1, 4094))]
Flag = Annotated[bool, Check(_bool)]
State = Annotated[Literal["present", "absent"], Check(_state)]
TrunkVids = Annotated[tuple[int, ...], Check(_vids), WithJsonSchema({
    "type": "array",
    "items": {"oneOf": [{"type": "integer", "minimum": 1, "maximum": 4094},
                        {"type": "string", "pattern": "^[0-9]{1,4}-[0-9]{1,4}$"}]}})]
Addresses = Annotated[str | tuple[str, ...], Check(_addresses), WithJsonSchema({
    "oneOf": [{"enum": [FROM_UPLINK, "none", None]},
              {"type": "array", "items": {"type": "string", "pattern": "/"}}]})]
Mac = Annotated[str, Check(_mac), WithJsonSchema({
    "type": "string",
    "pattern": "^(from-uplink|[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5})$"})]
ForwardDelay = Annotated[int, Field(ge=0, le=30), Check(_int(0, 30))]
Slaves = Annotated[tuple[str, ...], Check(_slaves), WithJsonSchema({
    "type": "array", "minItems": 1,
    "items": {"type": "string", "pattern": IFNAME_PATTERN}})]
BondMode = Annotated[str, Check(_mode), WithJsonSchema({"enum": list(BOND_MODES)})]
VifVlanSpec = Annotated[VifVlans, Check(_vif_vlans), WithJsonSchema({
    "type": ["string", "integer"],
    "description": "xl's vlan= syntax: VID[p|u], A-B[u] or V+STEPxCOUNT[u] terms joined by "
                   "'/', exactly one PVID (p)"})]
Probes = Annotated[tuple[str, ...], Check(_probes), WithJsonSchema({
    "type": "array", "items": {"type": "string"}})]


Unset = SkipJsonSchema[None]
"""Not stated (a default, or one that depends on other fields); not part of the published
schema: a YAML ``null`` there is refused like any other wrong value."""


def _f(help: str, example: str, default: Any = None) -> Any:
    """A field's help text and the example the schema shows."""
    return Field(default, description=help, json_schema_extra={"x-example": example})


_STATE = ("absent tears the object down (only if xapictl made it); present (default) "
          "ensures it", "absent")


class Entry(BaseModel):
    """What every local recipe entry shares: unknown fields refused, each field checked by
    its ``Check`` from the value as written."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True,
                              arbitrary_types_allowed=True)
    section: ClassVar[str] = ""

    @field_validator("*", mode="before")
    @classmethod
    def _as_written(cls, value: object, info: ValidationInfo) -> object:
        if info.field_name is None:  # pragma: no cover - pydantic always names the field
            raise TypeError("a field validator without a field")
        field = cls.model_fields[info.field_name]
        check = _check_of(field.annotation, list(field.metadata))
        if check is None or isinstance(value, BaseModel | dict):
            return value  # entries already validated one by one (LocalSettings)
        return check.convert(as_node(value))


def _check_of(annotation: Any, metadata: list[Any]) -> Check | None:
    """The ``Check`` of a field: in its metadata, or in the ``Annotated`` member of
    ``T | None``."""
    found = [m for m in metadata if isinstance(m, Check)]
    for member in typing.get_args(annotation) or (annotation,):
        if typing.get_origin(member) is Annotated:
            found += [m for m in typing.get_args(member)[1:] if isinstance(m, Check)]
    return found[0] if found else None


class BridgeEntry(Entry):
    """A Linux bridge for guests: local.bridges.NAME."""

    section: ClassVar[str] = "bridges"
    uplink: IfName | Unset = _f("the NIC or bond enslaved to the bridge (the trunk NIC with "
                               "vlan:)", "eth0")
    vlan: VlanId | Unset = _f("bridge per VLAN: enslave UPLINK.VID (needs uplink)", "105")
    vlan_filtering: Flag = _f("a VLAN-aware bridge (vifs choose their VLANs)", "true", False)
    trunk_vids: TrunkVids = _f("VLANs carried on the uplink of a VLAN-aware bridge (needs "
                               "vlan_filtering: true)", "[101, '103-105']", ())
    addresses: Addresses | Unset = _f(
        "from-uplink (default with a plain uplink) moves the uplink's addresses to the bridge; "
        "none, or a list of CIDRs", "[192.0.2.10/24]")
    mtu: Mtu | Unset = _f("MTU in octets", "9000")
    mac: Mac | Unset = _f("from-uplink (default with an uplink) or a MAC address",
                         "00:16:3e:00:00:01")
    stp: Flag = _f("spanning tree on", "true", False)
    forward_delay: ForwardDelay | Unset = _f("STP forward delay in seconds (2-30 with stp; "
                                            "default 15 with stp, else 0)", "4")
    state: State = _f(*_STATE, default="present")


class BondEntry(Entry):
    """A Linux bond: local.bonds.NAME."""

    section: ClassVar[str] = "bonds"
    slaves: Slaves | Unset = _f("member NICs (required unless state: absent)", "[eth1, eth2]")
    mode: BondMode = _f("bonding mode", "802.3ad", "active-backup")
    state: State = _f(*_STATE, default="present")


class VifEntry(Entry):
    """A guest's backend vif vifD.N attached to a bridge: local.vifs.NAME."""

    section: ClassVar[str] = "vifs"
    bridge: IfName = _f("the bridge to attach to", "xenbr1", "xenbr0")
    vlan: VifVlanSpec | Unset = _f("VLAN membership on a VLAN-aware bridge, in xl's syntax",
                                  "'10p/20'")
    mtu: Mtu | Unset = _f("MTU in octets", "1500")
    state: State = _f(*_STATE, default="present")


LocalName = Annotated[str, Field(min_length=1, max_length=IFNAMSIZ, pattern=IFNAME_PATTERN)]


def _section(help: str) -> Any:
    """Entries by interface name: a name that is not one is refused by the schema too."""
    return Field(None, description=help, json_schema_extra={"additionalProperties": False})


class LocalSettings(Entry):
    """The local: section: entries by interface name, probes and DHCP consent."""

    section: ClassVar[str] = "local"
    bridges: dict[LocalName, BridgeEntry | None] | Unset = _section(
        "bridges by name (an empty entry is a bridge without uplink)")
    bonds: dict[LocalName, BondEntry] | Unset = _section("bonds by name")
    vifs: dict[LocalName, VifEntry] | Unset = _section("guest vifs by name (vifDOMID.N)")
    probes: Probes | Unset = _f("connectivity targets after a change (default: the gateways; "
                               "[] for no probe)", "[192.0.2.1]")
    allow_dhcp: Flag = _f("allow changing a NIC whose address came from DHCP", "true", False)


class LocalRecipe(BaseModel):
    """A plain-Xen recipe: one local: section. Published as the schema's root."""

    model_config = ConfigDict(extra="forbid", title="xapictl local recipe")
    local: LocalSettings = Field(description="the plain-Xen host's desired networking")


# --- the published schema ------------------------------------------------------------------

SCHEMA_ID = "https://xapictl.example/local-recipe.schema.json"


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the local recipe format, generated from the models."""
    return published_schema(
        LocalRecipe, schema_id=SCHEMA_ID, title="xapictl local recipe",
        description="Desired networking of a plain Xen host (xapictl local). Objects left out "
                    "are left alone; `state: absent` tears an object down.")

if __name__ == "__main__":
    import json
    import sys

    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")
