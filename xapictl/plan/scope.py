"""Which records of its classes a recipe's plan, pre-write check and verify can look at, as
XAPI filters (``<class>.get_all_records_where``, REFERENCE §1.12): the PIFs and VLANs of a
VLAN network trunked on a NIC are a few of a pool's, not all of them.

A scope is, per class, a predicate on each record's *own* fields (``{class: expression}``;
a class not named is read whole). That keeps a scoped read exact under the changes applied
to it afterwards (``state.events.apply_events``): a record that is not in the read and did
not change since is still out of scope, and one that changed comes with the changes.

Scoped here, the recipes whose every entry is a present VLAN network on a NIC (what
``network create --vlan … --device …`` makes), without MTU, purposes or rediscovery. What
each check of that plan looks at, and how the scope holds it:

* the trunks, the untagged PIF with that device on each host (``pifs_with_device``):
  ``field "device" = "eth1" and field "VLAN" = "-1"`` (SR-IOV logical PIFs share the device
  and are left out by the index, as in a whole read);
* the networks already carrying the tag (``vlan_networks_on``), the tag elsewhere on the
  trunk (``tag_used_elsewhere``), the re-checks and verify (``vlan_on``): the VLANs with the
  tag (``field "tag" = "105"``) and their untagged PIFs, whose ``VLAN`` field is the tag
  (``field "VLAN" = "105"``);
* a trunk that is a bond member (``bonded_trunks``): every Bond, and the bond masters
  (``not (field "bond_master_of" = "()")``) whose network names the bond;
* identity (the ownership mark, ``owned_with_identity``) and the network found: the network
  class whole, as no filter can test one key of ``other_config`` (maps compare as a whole);
* hosts and their liveness, the pool (master, lease): whole.

``closed`` checks a scoped read against what it promises (every VLAN's untagged PIF and every
bond's master are in it); a read that is not closed is read again whole (``XapiBackend``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from xapictl.plan.desired import DesiredState
from xapictl.state.snapshot import PoolSnapshot

Scope = Mapping[str, str]
"""XAPI class -> the ``get_all_records_where`` expression of the records to read."""


def _literal(text: str) -> str | None:
    """``text`` as a filter literal, or ``None`` when the language cannot spell it (a ``"``
    ends a literal and there is no escape)."""
    return None if '"' in text else f'"{text}"'


def read_scope(desired: DesiredState) -> Scope:
    """The records ``desired``'s plan can look at, per class (``{}``: every class whole)."""
    if not desired.networks or replace(desired, networks=(), source="") != DesiredState(
            source=""):  # anything but networks (bonds, VIFs, interfaces, the pool …)
        return {}
    pifs: list[str] = []
    tags: list[str] = []
    for net in desired.networks:
        if not (net.present and net.kind == "vlan" and net.device is not None
                and net.vlan is not None and net.mtu is None and net.purpose is None
                and not net.rediscover):
            return {}
        device = _literal(net.device)
        if device is None:
            return {}
        tag = f'"{net.vlan}"'
        pifs += [f'(field "device" = {device} and field "VLAN" = "-1")', f'field "VLAN" = {tag}']
        tags.append(f'field "tag" = {tag}')
    pifs.append('not (field "bond_master_of" = "()")')
    return {"PIF": " or ".join(dict.fromkeys(pifs)), "VLAN": " or ".join(dict.fromkeys(tags))}


def closed(snap: PoolSnapshot) -> bool:
    """Whether a scoped read holds what the scope promises: the untagged PIF of each VLAN
    read and the master of each bond (``False`` for a pool where they differ from what XAPI
    keeps, which is then read whole)."""
    return all(v.untagged_pif in snap.pifs for v in snap.vlans.values()) and all(
        b.master in snap.pifs for b in snap.bonds.values())


__all__ = ["Scope", "closed", "read_scope"]
