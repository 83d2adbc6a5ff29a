"""NetBox as the source of truth: the recipe that makes a pool carry the VLANs NetBox assigns to
a cluster's VLAN groups (``xapictl netbox recipe --cluster NAME | xapictl plan -``).

Each VLAN of a VLAN group scoped to the cluster becomes a recipe network: its name, its tag,
and the trunk it is carried on — the VLAN's custom field ``xapi_trunk`` when it has one (a NIC
device such as ``eth1``, or ``bond:<the bond's network name>``), else the ``device`` given.
The recipe is plain data (the CLI writes it as YAML); reads only.
"""

from __future__ import annotations

from typing import Any

from xapictl.errors import UsageError
from xapictl.netbox.api import NetBoxApi

TRUNK_FIELD = "xapi_trunk"


def _network(vlan: dict[str, Any], device: str) -> dict[str, Any]:
    trunk = str((vlan.get("custom_fields") or {}).get(TRUNK_FIELD) or device)
    entry: dict[str, Any] = {"name": vlan["name"], "vlan": int(vlan["vid"])}
    if trunk.startswith("bond:"):
        entry["bond"] = trunk.removeprefix("bond:")
    else:
        entry["device"] = trunk
    if vlan.get("description"):
        entry["description"] = vlan["description"]
    return entry


def cluster_recipe(api: NetBoxApi, cluster: str, *, device: str = "eth1") -> dict[str, Any]:
    """The recipe (version 1, ``networks`` only) for the VLANs of ``cluster``'s VLAN groups."""
    found = api.all("virtualization/clusters", f"cluster {cluster}", name=cluster)
    if not found:
        raise UsageError(f"NetBox has no cluster named {cluster!r}: check --cluster "
                         "(`xapictl netbox sync` names clusters after their pools)")
    groups = api.all("ipam/vlan-groups", f"VLAN groups of cluster {cluster}",
                     scope_type="virtualization.cluster", scope_id=found[0]["id"])
    vlans: list[dict[str, Any]] = []
    for group in groups:
        vlans += api.all("ipam/vlans", f"VLANs of VLAN group {group['name']}",
                         group_id=group["id"])
    networks = [_network(v, device) for v in sorted(vlans, key=lambda v: (v["vid"], v["name"]))
                if (v.get("status") or {}).get("value", "active") == "active"]
    return {"version": 1, "networks": networks}


__all__ = ["TRUNK_FIELD", "cluster_recipe"]
