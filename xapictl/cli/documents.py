"""The documents the CLI prints with ``-o json|yaml``: one pydantic model per output shape.

The models are the single definition of every shape: the commands build them, the JSON/YAML
is their dump, and the JSON Schemas (Draft 2020-12) that ``xapictl schema NAME`` prints and
docs/output.md lists are generated from them — nothing is written by hand.

Every document carries ``kind``, ``schema_version`` and ``pool`` (the pool's URL,
``embedded`` for the embedded simulated pool, ``null`` when the document is about several
pools or none). Values are typed: integers, booleans, ``null`` for absent, lists for many
values, snake_case keys; a ``list`` and a ``show`` of one kind share their keys.

Imported inside commands only (pydantic is not on ``xapictl --help``'s path).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from xapictl.plan.document import ApplyDocument, PlanDocument

SCHEMA_VERSION = 1
SCHEMA_ID = "https://xapictl.example/schemas/{name}.schema.json"
DRAFT = "https://json-schema.org/draft/2020-12/schema"


class Item(BaseModel):
    """One object of a document; ``pool`` names the fleet pool it comes from (``--fleet``
    runs only; ``null`` on one pool)."""

    model_config = ConfigDict(extra="forbid")
    # Table layout: (header, field, wide-only). Wide-only columns are dropped first when the
    # terminal is too narrow, and shown by ``-o wide`` and when piped.
    columns: ClassVar[tuple[tuple[str, str, bool], ...]] = ()
    name_field: ClassVar[str] = "uuid"


class Document(BaseModel):
    """The envelope every document shares."""

    model_config = ConfigDict(extra="forbid")
    kind: str
    schema_version: Literal[1] = Field(default=1, description="Bumped on any incompatible "
                                                              "change of this kind's shape.")
    pool: str | None = Field(description="The pool: its URL, or `embedded`; null for "
                                         "documents about several pools (--fleet) or none.")


# --- pool objects ------------------------------------------------------------------------


class NetworkPif(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: str
    device: str
    vlan: int | None
    mtu: int
    plugged: bool
    tunnel: str | None = None
    """A tunnel access PIF: ``<protocol> over <transport device>`` (``vxlan over eth2``)."""
    sriov_mode: str | None = None
    """An SR-IOV logical PIF: the configuration mode (sysfs, modprobe, manual, unknown)."""
    requires_reboot: bool | None = None
    """An SR-IOV logical PIF: the host must reboot before the VFs exist."""
    vfs_free: int | None = None
    """An SR-IOV logical PIF: the NIC's virtual functions no VM holds
    (``network_sriov.get_remaining_capacity``); ``null`` when it could not be read."""
    vfs_total: int | None = None
    """An SR-IOV logical PIF: ``vfs_free`` plus the VFs held by the VIFs of VMs running on
    that host (XAPI keeps the NIC's VF list internal)."""

    def __str__(self) -> str:
        vlan = f" VLAN {self.vlan}" if self.vlan is not None else ""
        extra = f" tunnel {self.tunnel}" if self.tunnel else ""
        if self.sriov_mode is not None:
            extra += f" SR-IOV {self.sriov_mode}" + (
                ", reboot required" if self.requires_reboot else "")
            if self.vfs_free is not None:
                extra += f", {self.vfs_free} of {self.vfs_total} VFs free"
        return (f"{self.host} {self.device}{vlan} MTU {self.mtu}{extra}"
                + ("" if self.plugged else " (unplugged)"))


class NetworkVif(BaseModel):
    model_config = ConfigDict(extra="forbid")
    vm: str
    device: int | str = Field(description="The VIF's device number (text only if XAPI holds "
                                          "a non-number).")

    def __str__(self) -> str:
        return f"{self.vm}/{self.device}"


class NetworkItem(Item):
    columns = (("Name", "name", False), ("UUID", "uuid", True), ("Bridge", "bridge", False),
               ("MTU", "mtu", False), ("VLAN", "vlans", False), ("Hosts", "host_count", False),
               ("VIFs", "vif_count", False), ("Owner", "owner", False))
    pool: str | None = None
    name: str
    uuid: str
    bridge: str
    mtu: int
    vlans: list[int] = Field(description="VLAN tags carried by the network's PIFs.")
    host_count: int
    vif_count: int
    owner: Literal["xapictl"] | None = Field(description="`xapictl` when xapictl made it.")


class NetworkDetail(NetworkItem):
    description: str
    managed: bool
    default_locking_mode: str
    purpose: list[str]
    tags: list[str]
    other_config: dict[str, str]
    pifs: list[NetworkPif]
    vifs: list[NetworkVif]


class VlanItem(Item):
    columns = (("Host", "host", False), ("Device", "device", False), ("Tag", "tag", False),
               ("Network", "network", False), ("Plugged", "plugged", False),
               ("UUID", "uuid", True))
    pool: str | None = None
    uuid: str
    host: str | None
    device: str | None
    tag: int
    network: str | None
    plugged: bool


PifKind = Literal["VLAN", "bond", "bond member", "physical", "tunnel access", "SR-IOV logical",
                  "other"]


class PifItem(Item):
    columns = (("Host", "host", False), ("Device", "device", False), ("VLAN", "vlan", False),
               ("Kind", "kind", False), ("Network", "network", False), ("MTU", "mtu", False),
               ("Plugged", "plugged", False), ("Management", "management", False),
               ("IP", "ip", False), ("UUID", "uuid", True))
    pool: str | None = None
    uuid: str
    host: str
    device: str
    vlan: int | None
    kind: PifKind
    network: str | None
    mtu: int
    plugged: bool
    management: bool
    ip: str | None


class HostItem(Item):
    columns = (("Name", "name", False), ("UUID", "uuid", True),
               ("Address", "address", False), ("Live", "live", False), ("Role", "role", False),
               ("PIFs", "pif_count", False))
    pool: str | None = None
    name: str
    uuid: str
    address: str
    live: bool
    role: Literal["master", "member"]
    pif_count: int


class PoolItem(Item):
    pool: str | None = None
    name: str
    uuid: str
    master: str | None
    host_count: int
    live_host_count: int
    network_count: int
    vlan_count: int
    bond_count: int
    vm_count: int
    vif_count: int
    ha_enabled: bool
    igmp_snooping: bool
    """``pool.igmp_snooping_enabled``: IGMP snooping on every bridge (openvswitch)."""
    sdn_controller: str | None
    """``ssl:ADDRESS:PORT`` or ``pssl`` (the controller connects to the hosts); null: none."""
    tunnel_count: int
    sriov_count: int


class BondItem(Item):
    """One host's bond."""

    columns = (("Host", "host", False), ("Network", "network", False),
               ("Members", "members", False), ("Mode", "mode", False),
               ("Properties", "properties", True), ("Primary", "primary", True),
               ("Links up", "links_up", False), ("Plugged", "plugged", False),
               ("Management", "management", False), ("IP", "ip", True), ("UUID", "uuid", True))
    pool: str | None = None
    uuid: str
    host: str | None
    network: str | None
    members: list[str] = Field(description="The member NICs' devices, sorted.")
    mode: str
    properties: dict[str, str] = Field(description="Bond.properties (LACP: hashing_algorithm, "
                                                   "lacp-time, lacp-aggregation-key, "
                                                   "lacp-fallback-ab).")
    primary: str | None = Field(description="The primary member's device.")
    master: str | None = Field(description="The bond PIF's device (bond0 …).")
    links_up: int
    plugged: bool
    management: bool = Field(description="The bond carries the host's management interface.")
    ip: str | None = Field(description="The bond PIF's address and netmask (Static), DHCP, "
                                       "or null.")

    def __str__(self) -> str:
        props = "".join(f" {k}={v}" for k, v in sorted(self.properties.items()))
        extra = (" management" if self.management else "") + (
            f" IP {self.ip}" if self.ip else "")
        return f"{self.host} {'+'.join(self.members)} {self.mode}{props}{extra}"


class BondDetail(Item):
    """A pool-wide bond: its network and each host's bond; the hosts without one."""

    name_field: ClassVar[str] = "network"
    pool: str | None = None
    network: str
    network_uuid: str
    mtu: int
    hosts: list[BondItem]
    missing_on: list[str] = Field(description="Hosts with no bond on this network.")
    consistent: bool = Field(description="Every host has the bond, with the same members, "
                                         "mode and properties.")


class VifItem(Item):
    columns = (("VM", "vm", False), ("Device", "device", False), ("Network", "network", False),
               ("MAC", "mac", False), ("MTU", "mtu", False), ("Plugged", "plugged", False),
               ("Locking", "locking_mode", False), ("Power", "power_state", False),
               ("UUID", "uuid", True))
    pool: str | None = None
    uuid: str
    vm: str
    device: int | str = Field(description="The VIF's device number (text only if XAPI holds "
                                          "a non-number).")
    network: str | None
    mac: str
    mtu: int
    plugged: bool
    locking_mode: str
    power_state: str


class NetworkList(Document):
    kind: Literal["NetworkList"] = "NetworkList"
    items: list[NetworkItem]


class Network(NetworkDetail, Document):
    kind: Literal["Network"] = "Network"


class NetworkDetailList(Document):
    kind: Literal["NetworkDetailList"] = "NetworkDetailList"
    items: list[NetworkDetail]


class VlanList(Document):
    kind: Literal["VlanList"] = "VlanList"
    items: list[VlanItem]


class BondList(Document):
    kind: Literal["BondList"] = "BondList"
    items: list[BondItem]


class Bond(BondDetail, Document):
    kind: Literal["Bond"] = "Bond"


class BondDetailList(Document):
    kind: Literal["BondDetailList"] = "BondDetailList"
    items: list[BondDetail]


class PifList(Document):
    kind: Literal["PifList"] = "PifList"
    items: list[PifItem]


class HostList(Document):
    kind: Literal["HostList"] = "HostList"
    items: list[HostItem]


class VifList(Document):
    kind: Literal["VifList"] = "VifList"
    items: list[VifItem]


class Pool(PoolItem, Document):
    kind: Literal["Pool"] = "Pool"
    pool: str | None = Field(description="The pool: its URL, or `embedded`.")


class PoolDetailList(Document):
    kind: Literal["PoolDetailList"] = "PoolDetailList"
    items: list[PoolItem]


# --- plans and applies: the structured plan (xapictl.plan.document) -----------------------

class PlanNoop(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: str
    reason: str


Plan = PlanDocument
"""``plan``: the structured plan (defined in ``xapictl.plan.document``, where the plan text is
rendered from it and saved plans are made of it)."""
Apply = ApplyDocument
"""``apply`` and every write command: the plan, what ran, whether the pool verified."""


class FleetPoolPlan(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pool: str
    changes: int
    actions: dict[str, int]
    steps: list[str]
    warnings: list[str]
    deferred: list[str] = Field(description="Work deferred for an offline host (keeps the "
                                            "plan pending).")
    plan: PlanDocument | None = Field(default=None, description="This pool's structured plan "
                                                                "(as `xapictl plan` prints it).")


class FleetPlan(Document):
    kind: Literal["FleetPlan"] = "FleetPlan"
    pools: list[FleetPoolPlan]
    errors: dict[str, str] = Field(description="Pools that could not be planned: the error.")


# --- rollouts -----------------------------------------------------------------------------


class PoolRun(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pool: str
    position: int
    wave: int
    state: str
    planned: int
    done: int
    error: str | None
    started: str | None
    finished: str | None


class RolloutResult(Document):
    kind: Literal["RolloutResult"] = "RolloutResult"
    rollout: int
    state: str
    reason: str | None
    elapsed_s: float
    counts: dict[str, int]
    pools: list[PoolRun]


class RolloutItem(Item):
    columns = (("ID", "id", False), ("Created", "created", False), ("State", "state", False),
               ("Recipe", "recipe", False), ("Pools", "pools", False),
               ("Reason", "reason", False))
    name_field = "id"
    id: int
    created: str
    state: str
    recipe: str
    pools: dict[str, int] = Field(description="How many pools are in each state.")
    reason: str | None


class RolloutList(Document):
    kind: Literal["RolloutList"] = "RolloutList"
    items: list[RolloutItem]


class RolloutStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pool: str
    attempt: int
    idx: int
    description: str
    status: str
    detail: str | None
    at: str | None


class AuditWrite(BaseModel):
    """A write of a rollout, as its audit row has it (``rollout audit`` has every column)."""

    model_config = ConfigDict(extra="forbid")
    pool: str
    host: str
    user: str
    call: str
    step: str
    sent: str
    outcome: str = Field(description="intent (no outcome recorded), in doubt (recorded so by "
                                     "a resume, or read while its process is gone), ok, "
                                     "failed or unknown.")


class Rollout(Document):
    kind: Literal["Rollout"] = "Rollout"
    id: int
    state: str
    reason: str | None
    recipe: str
    fleet: str
    selection: str | None
    options: dict[str, Any]
    created: str
    updated: str
    runner: str | None = Field(
        default=None, description="host:pid of the process that ran the rollout last.")
    runner_gone: bool = Field(
        default=False, description="That process is gone while the rollout is planned or "
                                   "running (killed): running pools and steps read 'in doubt'.")
    pools: list[PoolRun]
    steps: list[RolloutStep]
    writes_in_doubt: list[AuditWrite] = Field(
        default_factory=list, description="Writes sent by a process that is gone, with no "
                                          "outcome recorded: they may or may not have taken "
                                          "effect; `rollout resume` reads the pool.")


# --- inventory, drift ---------------------------------------------------------------------


class DriftField(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pool: str = Field(description="The value in the pool.")
    recipe: str = Field(description="The value the recipe states.")


class DriftFinding(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pool: str
    kind: str
    subject: str
    detail: str
    hosts: list[str]
    fields: dict[str, DriftField] | None = Field(
        default=None, description="`interface-mismatch` (drift --recipe): each field that "
        "differs (ipv4, gateway, dns, ipv6, gateway6, dns6, primary_address_type, purpose, "
        "disallow_unplug, plugged), its value in the pool and in the recipe.")


class Drift(Document):
    kind: Literal["Drift"] = "Drift"
    findings: list[DriftFinding]
    errors: dict[str, str] = Field(description="Pools that could not be read: the error.")


class InventoryChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    op: Literal["add", "mod", "del"]
    object: str
    uuid: str
    record: dict[str, Any]
    fields: dict[str, list[Any]] | None = Field(
        default=None, description="For `mod`: each changed field as [old, new].")


class InventoryDiff(Document):
    kind: Literal["InventoryDiff"] = "InventoryDiff"
    changes: list[InventoryChange]


# --- plain Xen hosts ----------------------------------------------------------------------


class LocalStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: str
    subject: str
    reason: str


class LocalPlan(Document):
    kind: Literal["LocalPlan"] = "LocalPlan"
    steps: list[LocalStep]
    noops: list[PlanNoop]
    warnings: list[str]
    refusals: list[str]


class LocalProbe(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target: str
    sent: int
    received: int


class LocalApply(LocalPlan):
    kind: Literal["LocalApply"] = "LocalApply"  # type: ignore[assignment]
    applied: int
    seconds: float | None
    probes: list[LocalProbe]
    pending_confirmation: bool


class LocalHost(Document):
    kind: Literal["LocalHost"] = "LocalHost"
    links: list[dict[str, Any]]
    addresses: list[dict[str, Any]]
    routes: list[dict[str, Any]]
    bridge_vlans: dict[str, list[dict[str, Any]]]
    undo_files: list[str]
    persisted: str | None = None
    """The boot recipe ``xapictl local boot`` re-applies (None: nothing is persisted)."""


class LocalFinding(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    ok: bool
    detail: str
    advice: str | None
    needed: bool = False
    """The backend (or the recipe given to ``local check``) needs it: NO makes check exit 4."""


class LocalCheck(Document):
    kind: Literal["LocalCheck"] = "LocalCheck"
    findings: list[LocalFinding]


# --- NetBox (issue 15) --------------------------------------------------------------------


class NetBoxStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["create", "update", "delete", "mark-offline", "none"] = Field(
        description="The write (`none`: a no-op, with its reason).")
    object_type: str = Field(description="cluster, device, interface, vlan, virtual-machine, "
                                         "vm-interface, ip-address, or a shared kind (site, "
                                         "platform …).")
    key: str = Field(description="The XAPI UUID kept in the custom field xapi_uuid (a slug "
                                 "for shared objects).")
    object: str = Field(description="The object, named for people.")
    reason: str
    netbox_id: int | None
    changes: dict[str, Any] = Field(description="Fields sent; references to other NetBox "
                                                "objects as `<kind key>`.")
    before: dict[str, Any] = Field(description="Their values in NetBox before (updates).")


class NetBoxPlan(Document):
    kind: Literal["NetBoxPlan"] = "NetBoxPlan"
    netbox: str = Field(description="The NetBox URL.")
    cluster: str
    counts: dict[str, int] = Field(description="Steps by action.")
    steps: list[NetBoxStep]
    noops: list[NetBoxStep]


class NetBoxSync(NetBoxPlan):
    kind: Literal["NetBoxSync"] = "NetBoxSync"  # type: ignore[assignment]
    writes: int = Field(description="Write requests sent (bulk requests count once).")
    requests: int = Field(description="Every NetBox request, reads included.")
    verified: bool = Field(description="A second plan after the writes came back empty.")
    remaining: list[NetBoxStep] = Field(description="What that second plan still found.")


class NetBoxPlanList(Document):
    kind: Literal["NetBoxPlanList"] = "NetBoxPlanList"
    items: list[NetBoxPlan] = Field(description="Each selected pool's plan (`netbox plan "
                                                "--fleet`), each naming its pool.")


class NetBoxSyncList(Document):
    kind: Literal["NetBoxSyncList"] = "NetBoxSyncList"
    items: list[NetBoxSync] = Field(description="Each synced pool's sync (`netbox sync "
                                                "--fleet`), each naming its pool.")


# --- errors -------------------------------------------------------------------------------


class ErrorBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    exit_code: int
    kind: str = Field(description="The error's class (UsageError, ConnectError, a XAPI "
                                  "failure's class …), or `usage` for a command line click "
                                  "refused.")
    message: str
    file: str | None
    line: int | None
    field: str | None
    xapi_code: str | None
    xapi_params: list[str] | None


class Error(Document):
    kind: Literal["Error"] = "Error"
    error: ErrorBody


DOCUMENTS: dict[str, type[BaseModel]] = {
    m.model_fields["kind"].default: m for m in (
        NetworkList, Network, NetworkDetailList, VlanList, BondList, Bond, BondDetailList,
        PifList, HostList, VifList, Pool,
        PoolDetailList, Plan, Apply, FleetPlan, RolloutResult, RolloutList, Rollout, Drift,
        InventoryDiff, LocalPlan, LocalApply, LocalHost, LocalCheck, NetBoxPlan, NetBoxSync,
        NetBoxPlanList, NetBoxSyncList, Error)
}
"""Every document kind -> its model (``xapictl schema`` lists these names)."""


def schema_of(kind: str) -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of one document kind, generated from its model."""
    model = DOCUMENTS[kind]
    body = model.model_json_schema(by_alias=True, mode="serialization")
    return {"$schema": DRAFT, "$id": SCHEMA_ID.format(name=kind), **body}


SHIPPED = Path(__file__).with_name("schemas")
"""The schemas as files in the package (``<Kind>.schema.json``), for tools that want a path;
``python -m xapictl.cli.documents`` rewrites them and a test keeps them equal to the models."""


def write_schemas(directory: Path = SHIPPED) -> list[Path]:
    """Write every kind's schema into ``directory``; the paths written."""
    import json

    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind in sorted(DOCUMENTS):
        path = directory / f"{kind}.schema.json"
        path.write_text(json.dumps(schema_of(kind), indent=2) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def dump(doc: BaseModel) -> dict[str, Any]:
    """The document as JSON-able data, keys in model order."""
    return doc.model_dump(mode="json", by_alias=True)


__all__ = ["DOCUMENTS", "SCHEMA_VERSION", "SHIPPED", "Document", "Item", "dump", "schema_of",
           "write_schemas"]


if __name__ == "__main__":
    for written in write_schemas():
        print(written)
