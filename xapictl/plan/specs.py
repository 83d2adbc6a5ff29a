"""The records a recipe is made of (``*Spec``, ``DesiredState``) and the patterns and limits
its fields obey: plain data, below both the recipe models (``xapictl.plan.recipe_model``,
which build them) and the loader (``xapictl.plan.desired``, which re-exports them). Kept apart
so that neither imports the other in a circle.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import field
from typing import TYPE_CHECKING

from xapictl._frozen import Frozen, frozen

if TYPE_CHECKING:
    pass

RECIPE_VERSION = 1

DEVICE_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,14}$")
MAC_PATTERN = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")
ASCII_DIGITS = re.compile(r"[0-9]{1,2}")
"""Device numbers: ASCII digits only (``str.isdigit`` also accepts "²" and "٣")."""
NAME_MAX_BYTES = 255
"""XAPI puts no limit on ``name_label``; recipes bound names (and tags, other_config keys)
to 255 bytes of UTF-8, like a file name, so a runaway value is an input error."""
TEXT_MAX_BYTES = 4096
"""Descriptions and other_config values: 4 KiB of UTF-8."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def text_problem(value: str, max_bytes: int = NAME_MAX_BYTES, *, multiline: bool = False
                 ) -> str:
    """What is wrong with a name or text for the pool ("" if nothing): its length in UTF-8
    bytes and control characters (NUL, escape, ...; newline and tab only where ``multiline``)."""
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        return f"is {size} bytes long; at most {max_bytes} bytes (UTF-8)"
    broken = _SURROGATE.search(value)
    if broken:  # undecodable bytes of a command-line argument (surrogateescape)
        return (f"holds U+{ord(broken.group()):04X} at position {broken.start() + 1}, which "
                "is not text (bytes that are not UTF-8?); write it in UTF-8")
    bad = (_CONTROL_BUT_LINES if multiline else _CONTROL).search(value)
    if bad:
        return (f"holds the control character U+{ord(bad.group()):04X} at position "
                f"{bad.start() + 1}; remove it")
    return ""


def shown(value: object, limit: int = 40) -> str:
    """A value quoted for a message, cut short: a 5000-digit number is not a message."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit - 8]}...{text[-3:]} ({len(text)} characters)"


@frozen
class Where(Frozen):
    """Where a value came from: shown in every validation and planning message."""

    file: str = "<recipe>"
    line: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


# --- the typed desired state ---------------------------------------------------------------


@frozen
class TunnelSpec(Frozen):
    """A private network's tunnels: ``protocol`` over the PIFs of the ``transport`` network."""

    transport: str
    protocol: str = "gre"


@frozen
class NetworkSpec(Frozen):
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
    raise_trunk_mtu: bool = False
    """A VLAN network whose ``mtu`` is above its trunk's: raise the trunk's network to it
    first, re-plugging its PIFs, then its VIFs (the management interface only with
    ``replug_management``); without it such a VLAN is refused, naming the fix."""
    rename: bool = False
    """A network found by what it carries (VLAN tag on a trunk, NIC) but named otherwise is
    refused, naming it; ``True`` renames it to ``name`` instead (a disruptive step). Never
    set by ``network create``: it does not rename or re-purpose a network."""
    tunnel: TunnelSpec | None = None
    """A private network: a tunnel on every host whose transport PIF has an IP."""
    sriov: bool | None = None
    """With ``device``: an SR-IOV network on that NIC of every host that can do it."""
    rediscover: bool = False
    """A live host that lacks ``device`` gets a ``PIF.scan`` first (the NIC is looked for)."""
    where: Where = field(default_factory=Where, compare=False)

    @property
    def kind(self) -> str:
        """``vlan`` (trunked), ``tunnel`` (private), ``sriov``, ``nic`` (the network of a
        NIC), or ``named`` (internal)."""
        if self.vlan is not None:
            return "vlan"
        if self.tunnel is not None:
            return "tunnel"
        if self.sriov:
            return "sriov"
        if self.device is not None:
            return "nic"
        return "named"


LACP_FIELDS = ("hashing_algorithm", "lacp_time", "lacp_aggregation_key", "lacp_fallback_ab")
"""The recipe's LACP fields (``Bond.properties`` keys with ``-`` for ``_``, and
``hashing_algorithm`` as it is): only for ``mode: lacp``."""


@frozen
class BondSpec(Frozen):
    """A bond a recipe states: its network, member devices and bond settings."""

    network: str
    members: tuple[str, ...]
    present: bool = True
    mode: str | None = None
    hashing_algorithm: str | None = None
    mtu: int | None = None
    adopt: bool = False
    lacp_time: str | None = None
    lacp_aggregation_key: int | None = None
    lacp_fallback_ab: bool | None = None
    on_failure: str = "rollback"
    """When creating the bond fails on one host: ``rollback`` destroys the bonds this run
    made on the other hosts (each a planned undo step); ``stop`` leaves them for a re-run
    to complete (``resume``)."""
    where: Where = field(default_factory=Where, compare=False)

    @property
    def properties(self) -> dict[str, str]:
        """Bond.create properties the recipe states (only LACP takes any), as XAPI keys."""
        if self.mode != "lacp":
            return {}
        out = {"hashing_algorithm": self.hashing_algorithm, "lacp-time": self.lacp_time,
               "lacp-aggregation-key": None if self.lacp_aggregation_key is None
               else str(self.lacp_aggregation_key),
               "lacp-fallback-ab": None if self.lacp_fallback_ab is None
               else str(self.lacp_fallback_ab).lower()}
        return {k: v for k, v in out.items() if v is not None}


@frozen
class VIFSpec(Frozen):
    """A VIF a recipe states: which VM, on which network, and its settings."""

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
    replug: bool = False
    """Re-plug the VIF when a QoS change meets it plugged in a running VM, so the new rate
    limit applies now (XAPI applies it at plug); otherwise a warning says it waits."""
    where: Where = field(default_factory=Where, compare=False)


@frozen
class SdnControllerSpec(Frozen):
    """The pool's SDN controller (OVS manager): ``ssl`` to ``address``:``port`` (6632 when
    not stated), or ``pssl`` (the controller connects to the hosts); ``present=False``: none."""

    protocol: str = "ssl"
    address: str | None = None
    port: int | None = None
    present: bool = True

    @property
    def effective_port(self) -> int:
        """The port XAPI stores: 6632 for ``ssl`` without one, 0 for ``pssl``."""
        if self.port is not None:
            return self.port
        return 6632 if self.protocol == "ssl" else 0


@frozen
class PoolSpec(Frozen):
    """The pool-wide network settings a recipe states (``None``: leave alone)."""

    igmp_snooping: bool | None = None
    sdn_controller: SdnControllerSpec | None = None
    where: Where = field(default_factory=Where, compare=False)


IPV4_MODES = {"none": "None", "dhcp": "DHCP", "static": "Static"}
"""The recipe's ``ipv4`` words -> XAPI's ``ip_configuration_mode``."""

IPV6_MODES = {"none": "None", "dhcp": "DHCP", "autoconf": "Autoconf", "static": "Static"}
"""The recipe's ``ipv6`` words -> XAPI's ``ipv6_configuration_mode``."""

PRIMARY_ADDRESS_TYPES = {"ipv4": "IPv4", "ipv6": "IPv6"}
"""The recipe's ``primary_address_type`` words -> XAPI's ``primary_address_type``."""

STORAGE_PURPOSE = ("management_purpose", "Storage")
"""The ``other_config`` key and value XenCenter records on a dedicated storage interface
(a secondary interface: ``PIF.other_config:management_purpose``)."""


@frozen
class InterfaceSpec(Frozen):
    """The IP configuration of the PIF of each host on one network (or NIC ``device``).
    ``None`` means "not stated: leave alone"."""

    network: str | None = None
    device: str | None = None
    hosts: tuple[str, ...] | None = None
    """Only these hosts (names or uuids); ``None``: every host of the pool."""
    ipv4: str | None = None
    addresses: Mapping[str, str] | None = None
    """Host name (or uuid) -> ``address/prefix`` for ``ipv4: static``."""
    address_range: str | None = None
    """``first-last/prefix``: one address per host, allotted in host-name order."""
    gateway: str | None = None
    dns: tuple[str, ...] | None = None
    ipv6: str | None = None
    addresses6: Mapping[str, str] | None = None
    """Host name (or uuid) -> ``address/prefix`` for ``ipv6: static``."""
    address6_range: str | None = None
    """``first-last/prefix`` (IPv6): one address per host, allotted in host-name order."""
    gateway6: str | None = None
    dns6: tuple[str, ...] | None = None
    primary_address_type: str | None = None
    """``ipv4`` or ``ipv6``: the address family the host uses on it as management."""
    purpose: str | None = None
    where: Where = field(default_factory=Where, compare=False)

    @property
    def subject(self) -> str:
        return f"interface on {self.network!r}" if self.network is not None else \
            f"interface {self.device}"


@frozen
class ManagementSpec(Frozen):
    """Where the management interface of every host is: the PIF of each host on ``network``
    (``host.management_reconfigure``, members first, the master last)."""

    network: str
    hosts: tuple[str, ...] | None = None
    """Only these hosts (names or uuids); ``None``: every host of the pool."""
    where: Where = field(default_factory=Where, compare=False)

    @property
    def subject(self) -> str:
        return f"management interface on {self.network!r}"


@frozen
class DesiredState(Frozen):
    """Everything a recipe states. Order is kept: it is the order steps are planned in."""

    networks: tuple[NetworkSpec, ...] = ()
    bonds: tuple[BondSpec, ...] = ()
    vifs: tuple[VIFSpec, ...] = ()
    source: str = "<recipe>"
    pool: PoolSpec | None = None
    interfaces: tuple[InterfaceSpec, ...] = ()
    management: ManagementSpec | None = None

    def merged(self, other: DesiredState) -> DesiredState:
        return DesiredState(self.networks + other.networks, self.bonds + other.bonds,
                            self.vifs + other.vifs, self.source, other.pool or self.pool,
                            self.interfaces + other.interfaces,
                            other.management or self.management)

    def network_named(self, name: str) -> NetworkSpec | None:
        return next((n for n in self.networks if n.name == name), None)

    def bond_named(self, name: str) -> BondSpec | None:
        return next((b for b in self.bonds if b.network == name), None)


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
    "shown",
    "text_problem",
]
