"""The pool recipe format as typed models: one pydantic model per section entry.

The models are the single definition of a recipe entry: the loader validates with them
(``xapictl.plan.desired.load_text``), the ``ensure_*`` builders construct them from their
arguments (no YAML in between), and the published JSON Schema (``docs/recipe.schema.json``)
and the field tables of ``docs/recipes.md`` are generated from them::

    python -m xapictl.plan.recipe_model > docs/recipe.schema.json

A field's type says how it is checked (``int`` bounds from ``Field(ge=, le=)``, ``Literal``
choices, device and MAC patterns, byte limits of names); one before-validator turns the value
as written (a YAML scalar with its text and tag, or a Python argument) into that type with the
house messages, so a 0x10 in a file and ``mtu="0x10"`` in Python get the same sentence.
Adding a recipe field is adding a model field here, a field of the ``*Spec`` it produces
(``xapictl.plan.desired``) and, if several fields are involved, a rule in ``desired.check``.

Imported only when a recipe is read or built (pydantic is not loaded by ``xapictl --help``).
"""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic.json_schema import SkipJsonSchema

from xapictl._frozen import Frozen, frozen
from xapictl.errors import DesiredStateError, FieldRef, Problem
from xapictl.plan.specs import (
    ASCII_DIGITS,
    DEVICE_PATTERN,
    MAC_PATTERN,
    NAME_MAX_BYTES,
    RECIPE_VERSION,
    TEXT_MAX_BYTES,
    BondSpec,
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
    import yaml

_PLAIN_INT = re.compile(r"[+-]?(0|[1-9][0-9]*)")
"""Integers as written: decimal ASCII digits, no YAML 1.1 ``0x10``, ``010`` (octal),
``1_000`` or ``1:30`` (sexagesimal) forms that would quietly mean another number."""


# --- values as written ---------------------------------------------------------------------


@frozen
class Raw(Frozen):
    """One value as the user wrote it: a YAML node's value, text and tag, or a Python
    argument described the same way, so both are checked (and worded) alike."""

    shape: str
    """``str`` ``int`` ``float`` ``bool`` ``null`` (scalars; ``other`` for other YAML tags,
    ``bad`` for a scalar that cannot be built), ``seq`` or ``map``."""
    value: Any = None
    """The scalar's Python value; a ``seq``'s list of ``Raw``; a ``map``'s (key, value) list."""
    text: str = ""
    """A scalar as written (``0x10``, ``true``)."""


class NotPlain(ValueError):
    """A Python argument that is not a plain string, number, boolean, list or mapping."""


def from_node(node: yaml.Node) -> Raw:
    import yaml  # a YAML recipe is being read: the parser is loaded already

    from xapictl.plan import yaml_input

    if isinstance(node, yaml.SequenceNode):
        return Raw("seq", [from_node(n) for n in node.value])
    if isinstance(node, yaml.MappingNode):
        return Raw("map", [(from_node(k), from_node(v)) for k, v in node.value])
    tag = str(node.tag)
    shape = tag.rsplit(":", 1)[-1] if tag.startswith("tag:yaml.org,2002:") else "other"
    if shape not in ("str", "int", "float", "bool", "null"):
        shape = "other"
    try:
        value = yaml_input.scalar_value(node)
    except ValueError:
        return Raw("bad", None, str(node.value))
    return Raw(shape, value, str(node.value))


def from_python(value: object) -> Raw:
    """A Python argument as a ``Raw``. Raises ``NotPlain`` for other objects (and for an
    integer of more than 4300 digits, which Python cannot write out)."""
    if isinstance(value, Raw):
        return value
    if value is None:
        return Raw("null", None, "null")
    if isinstance(value, bool):
        return Raw("bool", value, "true" if value else "false")
    if isinstance(value, int):
        try:
            return Raw("int", value, str(value))
        except ValueError:
            raise NotPlain("integer too long") from None
    if isinstance(value, float):
        return Raw("float", value, repr(value))
    if isinstance(value, str):
        return Raw("str", value, value)
    if isinstance(value, Mapping):
        return Raw("map", [(from_python(k), from_python(v)) for k, v in value.items()])
    if isinstance(value, list | tuple | set | frozenset):
        return Raw("seq", [from_python(v) for v in value])
    raise NotPlain(type(value).__name__)


# --- field types ---------------------------------------------------------------------------


@frozen
class Text(Frozen):
    """A name or text field: its limit in UTF-8 bytes; newlines and tabs allowed or not."""

    max_bytes: int = NAME_MAX_BYTES
    multiline: bool = False


@frozen
class VifDevice(Frozen):
    """A VIF device number 0-15 (written as a number or a string) or ``"auto"``."""


Name = Annotated[str, Field(min_length=1), Text()]
LongText = Annotated[str, Field(min_length=1), Text(TEXT_MAX_BYTES, multiline=True)]
Device = Annotated[str, Field(pattern=DEVICE_PATTERN.pattern)]
Mac = Annotated[str, Field(pattern=MAC_PATTERN.pattern)]
VlanTag = Annotated[int, Field(ge=0, le=4094)]
Mtu = Annotated[int, Field(ge=68, le=65535)]
Kbps = Annotated[int, Field(ge=0, le=100_000_000)]
Port = Annotated[int, Field(ge=1, le=65535)]
Devices = tuple[Annotated[str, Text()], ...]
Strings = tuple[Annotated[str, Text()], ...]
Purposes = tuple[Literal["nbd", "insecure_nbd"], ...]
StrMap = dict[str, str]
VifNumber = Annotated[str, VifDevice(), WithJsonSchema({
    "oneOf": [{"type": "integer", "minimum": 0, "maximum": 15},
              {"type": "string", "pattern": "^(auto|[0-9]|1[0-5])$"}]})]
Unset = SkipJsonSchema[None]
"""Not stated: the field is left alone (not part of the published schema)."""


def _f(help: str, example: str, default: Any = None) -> Any:
    """A field's help text and the example the schema, docs and messages show."""
    return Field(default, description=help, json_schema_extra={"x-example": example})


def _r(help: str, example: str) -> Any:
    """A required field."""
    return Field(description=help, json_schema_extra={"x-example": example})


_PRESENT = ("false removes the object; true (default) ensures it", "true")


class Entry(BaseModel):
    """What every recipe entry shares: unknown fields refused, each field checked by type."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True,
                              defer_build=True)
    section: ClassVar[str] = ""

    @field_validator("*", mode="before")
    @classmethod
    def _as_written(cls, value: object, info: ValidationInfo) -> object:
        if info.field_name is None:  # pragma: no cover - pydantic always names the field
            raise TypeError("a field validator without a field")
        try:
            raw = from_python(value)
        except NotPlain:
            raise  # pydantic keeps it as the error's ``ctx["error"]``
        field = cls.model_fields[info.field_name]  # Annotated metadata is kept aside here
        return _check(field.annotation, raw, list(field.metadata))

    def spec(self, where: Where) -> (NetworkSpec | BondSpec | VIFSpec | TunnelSpec | PoolSpec
                                     | SdnControllerSpec | InterfaceSpec | ManagementSpec):
        """The record the diff consumes, made from this entry."""
        raise NotImplementedError

    @classmethod
    def example(cls, name: str) -> str:
        extra = cls.model_fields[name].json_schema_extra
        return str(extra.get("x-example", "")) if isinstance(extra, dict) else ""


class TunnelEntry(Entry):
    """A private network's tunnels: one per host, over that host's PIF on ``transport``."""

    protocol: Literal["gre", "vxlan"] = _f("tunnel protocol (XAPI's default: gre)", "vxlan",
                                           "gre")
    transport: Name = _r("the network whose PIFs carry the tunnels (they need an IP)",
                         '"Pool-wide network 2"')

    def spec(self, where: Where) -> TunnelSpec:
        return TunnelSpec(transport=self.transport, protocol=self.protocol)


class NetworkEntry(Entry):
    """A network: plain (internal), the network of a NIC, or a VLAN trunked on every host."""

    section: ClassVar[str] = "networks"
    name: Name = _r("the network's name label", '"VLAN 105"')
    present: bool = _f(*_PRESENT, default=True)
    description: LongText | Unset = _f("the network's description", '"web tier"')
    vlan: VlanTag | Unset = _f("VLAN tag: makes this a trunked VLAN network on every host",
                               "105")
    device: Device | Unset = _f("trunk NIC of the VLAN, or the NIC of an external network",
                                "eth1")
    bond: Name | Unset = _f("trunk bond of the VLAN: the network name of a bond",
                            '"Bond eth2+eth3"')
    mtu: Mtu | Unset = _f("MTU in octets", "9000")
    managed: bool | Unset = _f("false: xapi does not create the bridge (new networks only)",
                               "true")
    automatic: bool | Unset = _f("add this network to new VMs automatically", "false")
    default_locking_mode: Literal["unlocked", "disabled"] | Unset = _f(
        "locking mode of VIFs left at network_default", "unlocked")
    purpose: Purposes | Unset = _f("network purposes", "[nbd]")
    other_config: StrMap | Unset = _f("keys to set in other_config (others are left alone)",
                                      "{folder: /lab}")
    tags: Strings | Unset = _f("the network's tags (the whole set)", "[prod]")
    adopt: bool = _f("take over a matching network not made by xapictl", "true", False)
    replug: bool = _f("after an MTU change, re-plug PIFs and VIFs with the old MTU", "true",
                      False)
    replug_management: bool = _f(
        "also re-plug the management interface (a separate, explicit confirmation)", "false",
        False)
    raise_trunk_mtu: bool = _f(
        "VLAN networks: when `mtu` is above the trunk's, raise the trunk's network to it "
        "first (its PIFs, then its VIFs re-plugged); otherwise that is refused", "true", False)
    rename: bool = _f("rename the network that carries this VLAN tag or NIC to `name` "
                      "(otherwise another name there is refused)", "true", False)
    tunnel: TunnelEntry | Unset = _f(
        "makes this a private network: a GRE or VXLAN tunnel on every host whose PIF on "
        "`transport` has an IP (openvswitch backend)", "{protocol: vxlan, transport: storage}")
    sriov: bool | Unset = _f("with `device`: an SR-IOV network on that NIC of every host "
                             "(NICs with capability sriov)", "true")
    rediscover: bool = _f("VLAN and NIC networks: a live host that lacks `device` gets a "
                          "PIF.scan first (the NIC is looked for)", "true", False)

    def spec(self, where: Where) -> NetworkSpec:
        values = dict(self)
        tunnel = values.pop("tunnel")
        return NetworkSpec(where=where, tunnel=tunnel.spec(where) if isinstance(
            tunnel, TunnelEntry) else None, **values)


class BondEntry(Entry):
    """A pool-wide bond: the same member NICs on every host."""

    section: ClassVar[str] = "bonds"
    network: Name = _r("name of the bond's network", '"Bond eth2+eth3"')
    present: bool = _f(*_PRESENT, default=True)
    members: Devices = _r("member NICs by device, the same on every host", "[eth2, eth3]")
    mode: Literal["balance-slb", "active-backup", "lacp"] | Unset = _f("bond mode", "lacp")
    hashing_algorithm: Literal["src_mac", "tcpudp_ports"] | Unset = _f(
        "LACP hashing (lacp mode only)", "tcpudp_ports")
    lacp_time: Literal["fast", "slow"] | Unset = _f(
        "LACP rate (lacp mode only; XAPI's default slow)", "fast")
    lacp_aggregation_key: Annotated[int, Field(ge=0, le=65535)] | Unset = _f(
        "LACP aggregation key (lacp mode only)", "42")
    lacp_fallback_ab: bool | Unset = _f(
        "fall back to active-backup without a LACP partner (lacp mode only; XAPI's default "
        "true)", "false")
    mtu: Mtu | Unset = _f("MTU of the bond network", "9000")
    adopt: bool = _f("take over a matching network not made by xapictl", "true", False)
    on_failure: Literal["rollback", "stop"] = _f(
        "when the bond cannot be made on one host: rollback destroys the bonds this run "
        "made on the others; stop leaves them for a re-run (resume)", "stop", "rollback")

    def spec(self, where: Where) -> BondSpec:
        return BondSpec(where=where, **dict(self))


class VIFEntry(Entry):
    """A VM's attachment: (VM, device) -> network."""

    section: ClassVar[str] = "vifs"
    vm: Name = _r("the VM, by name label or uuid", "web01")
    network: Name = _r("the network, by name (in this recipe or on the pool)", '"VLAN 101"')
    present: bool = _f(*_PRESENT, default=True)
    device: VifNumber = _f('VIF device number 0-15, or "auto" for the next free one', "1",
                           "auto")
    mac: Mac | Unset = _f("fixed MAC address (default: generated by XAPI)",
                          '"02:00:00:00:01:01"')
    mtu: Mtu | Unset = _f("MTU of the VIF", "1500")
    locking_mode: Literal["network_default", "locked", "unlocked", "disabled"] | Unset = _f(
        "VIF locking mode", "locked")
    ipv4_allowed: Strings | Unset = _f("IPv4 addresses allowed when locked", "[172.21.0.10]")
    ipv6_allowed: Strings | Unset = _f("IPv6 addresses allowed when locked", "[]")
    qos_kbps: Kbps | Unset = _f("rate limit in kB/s (0 removes the limit)", "10240")
    replug: bool = _f("re-plug the VIF when it is plugged in a running VM, so a QoS change "
                      "applies now (disruptive); otherwise a warning says it applies at the "
                      "next plug", "true", False)

    def spec(self, where: Where) -> VIFSpec:
        return VIFSpec(where=where, **dict(self))


class SdnControllerEntry(Entry):
    """The pool's SDN controller (OVS manager), as ``SDN_controller.introduce`` takes it."""

    protocol: Literal["ssl", "pssl"] = _f(
        "ssl: the hosts connect to the controller; pssl: it connects to them", "ssl", "ssl")
    address: Name | Unset = _f("the controller's IPv4 address (ssl only)", "192.0.2.200")
    port: Port | Unset = _f("the controller's TCP port (ssl; default 6632)", "6632")
    present: bool = _f("false removes the pool's controller (SDN_controller.forget)", "true",
                       True)

    def spec(self, where: Where) -> SdnControllerSpec:
        return SdnControllerSpec(protocol=self.protocol, address=self.address, port=self.port,
                                 present=self.present)


class PoolEntry(Entry):
    """The pool-wide network settings (a mapping, not a list)."""

    section: ClassVar[str] = "pool"
    igmp_snooping: bool | Unset = _f("IGMP snooping on every bridge of the pool "
                                     "(pool.set_igmp_snooping_enabled; openvswitch)", "true")
    sdn_controller: SdnControllerEntry | Unset = _f(
        "the SDN controller the pool's vswitches use (openvswitch)",
        "{protocol: ssl, address: 192.0.2.200}")

    def spec(self, where: Where) -> PoolSpec:
        sdn = self.sdn_controller
        return PoolSpec(igmp_snooping=self.igmp_snooping, where=where,
                        sdn_controller=sdn.spec(where) if isinstance(
                            sdn, SdnControllerEntry) else None)


class InterfaceEntry(Entry):
    """The IP configuration of the PIF of each host on a network (``PIF.reconfigure_ip``,
    ``PIF.reconfigure_ipv6``, ``PIF.set_primary_address_type``), optionally a dedicated
    storage interface."""

    section: ClassVar[str] = "interfaces"
    network: Name | Unset = _f("the network whose PIF on each host is configured", "Storage")
    device: Device | Unset = _f("or: the NIC (its untagged PIF on each host)", "eth1")
    hosts: Strings | Unset = _f("only these hosts (names or uuids; default every host)",
                                "[xcp-host-01]")
    ipv4: Literal["none", "dhcp", "static"] | Unset = _f(
        "IPv4 configuration mode (XAPI's None, DHCP, Static)", "static")
    addresses: StrMap | Unset = _f("static: host name -> address/prefix",
                                   "{xcp-host-01: 198.51.100.11/24}")
    address_range: Annotated[str, Text()] | Unset = _f(
        "static: first-last/prefix, one address per host in host-name order",
        "198.51.100.11-198.51.100.13/24")
    gateway: Annotated[str, Text()] | Unset = _f("static: the IPv4 gateway (in the subnet)",
                                                 "198.51.100.1")
    dns: Strings | Unset = _f("static: DNS servers", "[198.51.100.2]")
    ipv6: Literal["none", "dhcp", "autoconf", "static"] | Unset = _f(
        "IPv6 configuration mode (XAPI's None, DHCP, Autoconf, Static)", "static")
    addresses6: StrMap | Unset = _f("ipv6 static: host name -> IPv6 address/prefix",
                                    "{xcp-host-01: 2001:db8:5::11/64}")
    address6_range: Annotated[str, Text()] | Unset = _f(
        "ipv6 static: first-last/prefix, one address per host in host-name order",
        "2001:db8:5::11-2001:db8:5::13/64")
    gateway6: Annotated[str, Text()] | Unset = _f(
        "ipv6 static: the IPv6 gateway (in the prefix)", "2001:db8:5::1")
    dns6: Strings | Unset = _f("ipv6 static: IPv6 DNS servers", "[2001:db8:5::2]")
    primary_address_type: Literal["ipv4", "ipv6"] | Unset = _f(
        "the address family XAPI uses on the PIF when it is the management interface",
        "ipv6")
    purpose: Literal["storage"] | Unset = _f(
        "storage: a dedicated storage interface (disallow_unplug, and the management_purpose "
        "XenCenter records)", "storage")

    def spec(self, where: Where) -> InterfaceSpec:
        return InterfaceSpec(where=where, **dict(self))


SECTIONS: dict[str, type[NetworkEntry] | type[BondEntry] | type[VIFEntry]
               | type[InterfaceEntry]] = {
    "networks": NetworkEntry,
    "bonds": BondEntry,
    "vifs": VIFEntry,
    "interfaces": InterfaceEntry,
}


class ManagementEntry(Entry):
    """Where the management interface of every host is (a mapping, not a list)."""

    section: ClassVar[str] = "management"
    network: Name = _r("the network whose PIF on each host carries the management interface "
                       "(each needs an address this client reaches; always disruptive)",
                       "Storage")
    hosts: Strings | Unset = _f("only these hosts (names or uuids; default every host)",
                                "[xcp-host-02]")

    def spec(self, where: Where) -> ManagementSpec:
        return ManagementSpec(network=self.network, hosts=self.hosts, where=where)


class Recipe(BaseModel):
    """A pool recipe: three lists, each optional. Published as the schema's root."""

    model_config = ConfigDict(extra="forbid", title="xapictl recipe", defer_build=True)
    version: Literal[1] = Field(description="the recipe format version")
    networks: list[NetworkEntry] | None = Field(None, description="networks to ensure")
    bonds: list[BondEntry] | None = Field(None, description="bonds to ensure")
    vifs: list[VIFEntry] | None = Field(None, description="VM attachments to ensure")
    pool: PoolEntry | None = Field(None, description="pool-wide network settings to ensure")
    interfaces: list[InterfaceEntry] | None = Field(
        None, description="IP configuration of PIFs to ensure")
    management: ManagementEntry | None = Field(
        None, description="the network the management interface is on")


# --- checking one value --------------------------------------------------------------------


class _Bad(ValueError):
    """What is wrong with one value, in the house words (pydantic keeps it in ``ctx``)."""


def _parts(annotation: Any) -> tuple[Any, list[Any]]:
    """``Annotated[T, m1, m2] | None`` -> (T, [m1, m2, and constraints of Field()s])."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, type(int | None)):
        annotation = next(a for a in args if a is not type(None) and not (
            typing.get_origin(a) is Annotated and typing.get_args(a)[0] is type(None)))
        args = typing.get_args(annotation)
    meta: list[Any] = []
    if typing.get_origin(annotation) is Annotated:
        annotation, *extra = args
        for m in extra:
            meta += getattr(m, "metadata", [m])
            if getattr(m, "pattern", None) is not None:  # Field(pattern=) keeps it aside
                meta.append(m)
    return annotation, meta


def _bounds(meta: list[Any]) -> tuple[int, int]:
    low = next(m.ge for m in meta if isinstance(getattr(m, "ge", None), int))
    high = next(m.le for m in meta if isinstance(getattr(m, "le", None), int))
    return int(low), int(high)


def _check(annotation: Any, raw: Raw, field_meta: list[Any]) -> object:
    """``raw`` as the type ``annotation`` (and ``field_meta``, the constraints pydantic keeps
    beside it) says, or ``_Bad`` naming what is wrong."""
    base, meta = _parts(annotation)
    meta += field_meta
    origin = typing.get_origin(base)
    if origin is tuple:
        item, item_meta = _parts(typing.get_args(base)[0])
        choices = typing.get_args(item) if typing.get_origin(item) is Literal else ()
        limit = next((m.max_bytes for m in item_meta if isinstance(m, Text)), NAME_MAX_BYTES)
        if raw.shape != "seq":
            raise _Bad("must be a list")
        items: list[str] = []
        for child in raw.value:
            if child.shape != "str":
                raise _Bad("must be a list of plain strings")
            if choices and child.value not in choices:
                raise _Bad(f"{shown(child.value)} is not one of {', '.join(choices)}")
            wrong = text_problem(child.value, limit)
            if wrong:
                raise _Bad(wrong)
            if child.value not in items:
                items.append(child.value)
        return tuple(items)
    if origin is dict:
        if raw.shape != "map":
            raise _Bad("must be a mapping of string keys to string values")
        mapping: dict[str, str] = {}
        for k, v in raw.value:
            if k.shape != "str" or v.shape not in ("str", "int", "float") or not k.value:
                raise _Bad("keys and values must be plain strings (quote numbers)")
            value = v.value if v.shape == "str" else v.text
            wrong = (text_problem(k.value, NAME_MAX_BYTES)
                     or text_problem(value, TEXT_MAX_BYTES, multiline=True))
            if wrong:
                raise _Bad(wrong)
            mapping[k.value] = value
        return mapping
    if isinstance(base, type) and issubclass(base, Entry):
        if raw.shape != "map":
            raise _Bad("must be a mapping of field: value")
        nested: dict[str, Raw] = {}
        for k, v in raw.value:
            if k.shape != "str":
                raise _Bad("keys must be plain strings")
            nested[k.value] = v
        return nested
    if raw.shape in ("seq", "map"):
        raise _Bad("must be a single value")
    if raw.shape == "bad":
        raise _Bad(f"cannot be read as a value: {shown(raw.text)}")
    value = raw.value
    if base is bool:
        if not isinstance(value, bool):
            raise _Bad(f"must be true or false, not {raw.text!r}")
        return value
    if base is int:
        if raw.shape != "int" or not _PLAIN_INT.fullmatch(raw.text):
            raise _Bad(f"must be a whole number in decimal digits, not {shown(raw.text)}")
        low, high = _bounds(meta)
        if value < low or value > high:
            number = raw.text if len(raw.text) <= 20 else shown(raw.text)
            raise _Bad(f"{number} is out of range {low}-{high}")
        return value
    if any(isinstance(m, VifDevice) for m in meta):
        if raw.shape == "int" and 0 <= value <= 15 and _PLAIN_INT.fullmatch(raw.text):
            return str(value)
        if isinstance(value, str) and (value == "auto" or (
                ASCII_DIGITS.fullmatch(value) is not None and int(value) <= 15)):
            return value if value == "auto" else str(int(value))
        raise _Bad(f'must be a device number 0-15 or "auto", not {shown(raw.text)}')
    if not isinstance(value, str) or value == "":
        raise _Bad(f"must be a non-empty string, not {shown(raw.text)}")
    if typing.get_origin(base) is Literal:
        choices = typing.get_args(base)
        if value not in choices:
            raise _Bad(f"{value!r} is not one of {', '.join(choices)}" +
                       suggest(value, choices))
        return value
    for m in meta:
        if isinstance(m, Text):
            wrong = text_problem(value, m.max_bytes, multiline=m.multiline)
            if wrong:
                raise _Bad(wrong)
        pattern = getattr(m, "pattern", None)
        if pattern == DEVICE_PATTERN.pattern and not DEVICE_PATTERN.match(value):
            raise _Bad(f"{value!r} is not a device name like eth1 or bond0")
        if pattern == MAC_PATTERN.pattern and not MAC_PATTERN.match(value):
            raise _Bad(f"{value!r} is not a MAC address like 02:00:00:00:01:01")
    return value


def suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean `{close[0]}`?)" if close else ""


# --- from a file's nodes, or from arguments, to specs ----------------------------------------


def problems_of(model: type[Entry], error: ValidationError, given: Sequence[str]
                ) -> list[tuple[str, tuple[str | FieldRef, ...]]]:
    """Each problem of ``error`` as (field, message parts), in the order the fields were
    written (``given``), required fields missing last."""
    out: list[tuple[int, str, tuple[str | FieldRef, ...]]] = []
    allowed = list(model.model_fields)
    for e in error.errors():
        loc = [str(part) for part in e["loc"]]
        if len(loc) > 1 and loc[1] == "none":
            continue  # a nested entry's "not stated" branch: the entry's own errors say it
        loc = [part for part in loc if part not in _NESTED_NAMES]
        top = loc[0] if loc else ""
        order = given.index(top) if top in given else len(given) + allowed.index(top) \
            if top in allowed else len(given)
        owner, field, name = _nested(model, loc)
        choices = list(owner.model_fields)
        if e["type"] == "extra_forbidden":
            parts: tuple[str | FieldRef, ...] = (
                "unknown field" + suggest(field, choices) + "; allowed: " + ", ".join(choices),)
        elif e["type"] == "missing":
            parts = ("required field missing; add ", FieldRef(field, owner.example(field)))
        elif isinstance(e.get("ctx", {}).get("error"), _Bad):
            parts = (str(e["ctx"]["error"]), "; e.g. ", FieldRef(field, owner.example(field)))
        else:
            parts = (e["msg"],)
        out.append((order, name, parts))
    return [(name, parts) for _, name, parts in sorted(out, key=lambda o: o[0])]


_NESTED_NAMES = frozenset({"TunnelEntry", "SdnControllerEntry"})
"""The union branch names pydantic puts in the location of a nested entry's errors."""


def _nested(model: type[Entry], loc: list[str]) -> tuple[type[Entry], str, str]:
    """The model that owns the field at ``loc`` (``tunnel.protocol`` is ``TunnelEntry``'s),
    the field's own name and its dotted path."""
    owner = model
    for part in loc[:-1]:
        field = owner.model_fields.get(part)
        inner = _parts(field.annotation)[0] if field is not None else None
        if not (isinstance(inner, type) and issubclass(inner, Entry)):
            break
        owner = inner
    return owner, loc[-1] if loc else "", ".".join(loc)


def entry_from_nodes(model: type[Entry], item: yaml.MappingNode, path: str, source: str,
                     problems: list[Problem]) -> Entry | None:
    """One recipe entry of a file: the model, or None with its problems added (FILE:LINE of
    the value, or of the key for an unknown field, or of the entry for a missing one)."""
    import yaml
    values: dict[str, Raw] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in item.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
        if key in values:
            problems.append(Problem(f"{source}:{key_node.start_mark.line + 1}",
                                    f"{path}.{key}", ("given twice; keep one",)))
            continue
        values[key] = from_node(value_node)
        node = value_node if key in model.model_fields else key_node
        lines[key] = node.start_mark.line + 1
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        line = item.start_mark.line + 1
        for name, parts in problems_of(model, exc, list(values)):
            problems.append(Problem(f"{source}:{lines.get(name.split('.')[0], line)}",
                                    f"{path}.{name}" if name else path, parts))
        return None


def entry_from_arguments(model: type[Entry], source: str, values: Mapping[str, object]
                         ) -> Entry:
    """One entry from an ``ensure_*`` call's arguments (``None``: not given). Raises
    ``DesiredStateError`` naming the argument (``source: vlan: …``)."""
    given = {k: v for k, v in values.items() if v is not None}
    try:
        return model.model_validate(given)
    except ValidationError as exc:
        if any(isinstance(e.get("ctx", {}).get("error"), NotPlain) for e in exc.errors()):
            raise DesiredStateError([f"{source}: arguments must be plain strings, numbers, "
                                     "booleans, lists and mappings"]) from None
        raise DesiredStateError([Problem(source, name, parts)
                                 for name, parts in problems_of(model, exc, list(given))]
                                ) from None


# --- the published schema and docs tables ---------------------------------------------------

SCHEMA_ID = "https://xapictl.example/recipe.schema.json"


def _tidy(node: Any) -> Any:
    """Pydantic's schema without its generated titles and ``null`` defaults."""
    if isinstance(node, dict):
        return {k: _tidy(v) for k, v in node.items()
                if not (k == "title" and isinstance(v, str)) and not (
                    k == "default" and v is None)}
    if isinstance(node, list):
        return [_tidy(v) for v in node]
    return node


def published_schema(root: type[BaseModel], *, schema_id: str, title: str,
                     description: str) -> dict[str, Any]:
    """A recipe format's JSON Schema (draft 2020-12) as published: generated from its root
    model, tidied, under its own id, title and description (pool and local recipes alike)."""
    schema = _tidy(root.model_json_schema(ref_template="#/$defs/{model}"))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id,
        "title": title,
        "description": description,
        **{k: v for k, v in schema.items() if k != "description"},
    }


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the recipe format, generated from the models."""
    return published_schema(
        Recipe, schema_id=SCHEMA_ID, title="xapictl recipe",
        description="Desired networking state of a XenServer / XCP-ng pool. Fields left out "
                    "are left alone; `present: false` removes the object.")


def _kind(prop: dict[str, Any]) -> str:
    bar = " \\| "  # a literal | inside a table cell
    if "$ref" in prop:
        return "mapping (table below)"
    if "oneOf" in prop:
        return "0-15 or auto"
    if "enum" in prop:
        return bar.join(prop["enum"])
    kind = prop.get("type")
    if kind == "array":
        items = prop.get("items", {})
        return f"list of {bar.join(items['enum'])}" if "enum" in items else "list of strings"
    if kind == "object":
        return "mapping string → string"
    if kind == "integer":
        return f"int {prop['minimum']}-{prop['maximum']}"
    if kind == "boolean":
        return "bool"
    if prop.get("pattern") == DEVICE_PATTERN.pattern:
        return "device"
    if prop.get("pattern") == MAC_PATTERN.pattern:
        return "mac"
    return "str"


def markdown_fields() -> str:
    """The field tables of docs/recipes.md (a test keeps the page equal to this)."""
    out = []
    tables: list[tuple[str, type[Entry]]] = [
        *SECTIONS.items(), ("networks[].tunnel", TunnelEntry), ("pool", PoolEntry),
        ("pool.sdn_controller", SdnControllerEntry), ("management", ManagementEntry)]
    for section, model in tables:
        schema = model.model_json_schema()
        required = set(schema.get("required", ()))
        out += [f"### `{section}:`", "", "| field | type | required | meaning | example |",
                "|---|---|---|---|---|"]
        for name, prop in schema["properties"].items():
            out.append(f"| `{name}` | {_kind(prop)} | {'yes' if name in required else ''} | "
                       f"{prop['description']} | `{prop['x-example']}` |")
        out.append("")
    return "\n".join(out)


__all__ = [
    "RECIPE_VERSION",
    "SCHEMA_ID",
    "SECTIONS",
    "BondEntry",
    "Entry",
    "NetworkEntry",
    "PoolEntry",
    "Raw",
    "Recipe",
    "SdnControllerEntry",
    "TunnelEntry",
    "VIFEntry",
    "entry_from_arguments",
    "entry_from_nodes",
    "from_node",
    "from_python",
    "json_schema",
    "markdown_fields",
]


if __name__ == "__main__":
    import json
    import sys

    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")
