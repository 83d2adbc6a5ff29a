"""Plan the ``interfaces`` entries: the IPv4 configuration of the PIF of each host on a
network (or NIC), and the dedicated storage interface marks.

Everything XAPI would refuse, or that would leave two hosts with one address, is a problem
named by its field before any write: a host without a PIF there, an address another PIF of
the pool already has, the management interface's address (the management interface is
moved to another PIF, never re-addressed in place), a range too short for the hosts.
"""

from __future__ import annotations

import ipaddress

from xapictl.model.refs import HostRef, NetworkRef, PIFRef
from xapictl.plan import identity as ident
from xapictl.plan.desired import IPV4_MODES, STORAGE_PURPOSE, InterfaceSpec, allot
from xapictl.plan.diff.planner import Planner
from xapictl.plan.steps import Later, PlugPIF, ReconfigureIP, SetField, SetOtherConfig


def plan_interface(d: Planner, spec: InterfaceSpec) -> None:
    pifs = _pifs(d, spec)
    if pifs is None:
        return
    addresses = _addresses(d, spec, list(pifs))
    if addresses is None:
        return
    for host, pif_ref in pifs.items():
        subject = f"{spec.subject} on {ident.host_name(d.snap, host)}"
        _plan_ip(d, spec, subject, pif_ref, addresses.get(host))
        if spec.purpose == "storage":
            _plan_storage(d, subject, pif_ref)


def _pifs(d: Planner, spec: InterfaceSpec) -> dict[HostRef, PIFRef] | None:
    """The PIF of each stated host, live ones in host order; ``None`` after a problem."""
    snap = d.snap
    if spec.network is not None:
        target = d.networks.get(spec.network)
        if isinstance(target, Later):
            d.problems.append(f"{spec.where}: interfaces: network {spec.network!r} is made "
                              "by this plan, its PIFs do not exist yet: apply the network "
                              "first, then the interfaces entry")
            return None
        found = _network(d, spec.network) if target is None else target
        if found is None:
            return None
        on_hosts = {p.host: r for r, p in snap.pifs.items() if p.network == found}
        where = f"network {spec.network!r}"
    else:
        on_hosts = ident.trunk_pifs_by_device(snap, spec.device or "")
        where = f"NIC {spec.device}"
    hosts = _hosts(d, spec)
    if hosts is None:
        return None
    live, offline = d.hosts(hosts)
    missing = [ident.host_name(snap, h) for h in live if h not in on_hosts]
    if missing:
        d.problems.append(f"{spec.where}: interfaces: {', '.join(missing)} "
                          f"{'has' if len(missing) == 1 else 'have'} no PIF on {where}; "
                          "state the network's PIF there first (or limit hosts:)")
        return None
    d.defer(spec.subject, offline, "its IP configuration")
    return {h: on_hosts[h] for h in live}


def _network(d: Planner, name: str) -> NetworkRef | None:
    found = [r for r, n in d.snap.networks.items() if n.name_label == name]
    if len(found) != 1:
        d.problems.append(f"interfaces: network {name!r} " + (
            "does not exist on the pool; state it under networks: or check the name"
            if not found else "is the name of several networks; rename one"))
        return None
    return found[0]


def _hosts(d: Planner, spec: InterfaceSpec) -> list[HostRef] | None:
    if spec.hosts is None:
        return ident.ordered_hosts(d.snap)
    by_word = {w: r for r, h in d.snap.hosts.items() for w in (h.name_label, h.uuid)}
    unknown = [h for h in spec.hosts if h not in by_word]
    if unknown:
        d.problems.append(f"{spec.where}: interfaces.hosts: no host {', '.join(unknown)} in "
                          f"the pool (hosts: {', '.join(sorted(by_word))})")
        return None
    return [by_word[h] for h in spec.hosts]


def _addresses(d: Planner, spec: InterfaceSpec, hosts: list[HostRef]
               ) -> dict[HostRef, ipaddress.IPv4Interface] | None:
    """The static address of each host; ``None`` after a problem (named by its field)."""
    snap = d.snap
    out: dict[HostRef, ipaddress.IPv4Interface] = {}
    if spec.address_range is not None:
        by_name = sorted(hosts, key=lambda h: ident.host_name(snap, h))
        allotted = allot(spec.address_range, len(by_name))
        if len(allotted) < len(by_name):
            d.problems.append(f"{spec.where}: interfaces.address_range: {spec.address_range} "
                              f"holds {len(allotted)} addresses for {len(by_name)} hosts; "
                              "widen the range")
            return None
        out = dict(zip(by_name, allotted, strict=True))
    by_word = {w: r for r, h in snap.hosts.items() for w in (h.name_label, h.uuid)}
    bad = False
    for word, text in (spec.addresses or {}).items():
        host = by_word.get(word)
        if host is None:
            d.problems.append(f"{spec.where}: interfaces.addresses.{word}: no host {word} in "
                              f"the pool (hosts: {', '.join(sorted(by_word))})")
            bad = True
        elif host in hosts:
            out[host] = ipaddress.IPv4Interface(text)
    for host in hosts:
        if spec.ipv4 == "static" and host not in out:
            d.problems.append(f"{spec.where}: interfaces.addresses: no address for "
                              f"{ident.host_name(snap, host)}; add one")
            bad = True
    return None if bad else out


def _plan_ip(d: Planner, spec: InterfaceSpec, subject: str, ref: PIFRef,
             address: ipaddress.IPv4Interface | None) -> None:
    if spec.ipv4 is None:
        return
    pif = d.snap.pifs[ref]
    mode = IPV4_MODES[spec.ipv4]
    ip, netmask = (str(address.ip), str(address.netmask)) if address is not None else ("", "")
    gateway, dns = _kept(spec, pif.gateway, pif.dns, address)
    want = (mode, ip, netmask, gateway, dns)
    have = (pif.ip_configuration_mode.value, pif.ip, pif.netmask, pif.gateway, pif.dns)
    if want == have or (mode != "Static" and want[0] == have[0]):
        d.noop(subject, f"IPv4 is already {_words(want)}")
        return
    field = ("interfaces.address_range" if spec.address_range is not None
             else f"interfaces.addresses.{ident.host_name(d.snap, pif.host)}")
    if pif.management:
        d.problems.append(f"{spec.where}: {field}: {ident.pif_words(d.snap, ref)} is the "
                          f"management interface ({_words(have)}); its address is not "
                          "changed in place: move the management interface to another PIF "
                          "first")
        return
    if ip:
        users = [r for r, p in d.snap.pifs.items() if r != ref and p.ip == ip]
        if users:
            d.problems.append(f"{spec.where}: {field}: {ip} is already the address of "
                              f"{ident.pif_words(d.snap, users[0])}; give a free address")
            return
    d.add(ReconfigureIP(subject, f"IPv4 is {_words(have)}, the recipe says {_words(want)}",
                        pif=ref, mode=mode, ip=ip, netmask=netmask, gateway=gateway,
                        dns=dns))


def _kept(spec: InterfaceSpec, gateway: str, dns: str,
          address: ipaddress.IPv4Interface | None) -> tuple[str, str]:
    """The gateway and DNS to send: as stated, else the PIF's own (not stated: left alone;
    a gateway outside the new subnet is dropped, since it could not be reached)."""
    if spec.ipv4 != "static" or address is None:
        return "", ""
    if spec.gateway is not None:
        gateway = spec.gateway
    elif gateway and ipaddress.IPv4Address(gateway) not in address.network:
        gateway = ""
    return gateway, ",".join(spec.dns) if spec.dns is not None else dns


def _plan_storage(d: Planner, subject: str, ref: PIFRef) -> None:
    pif = d.snap.pifs[ref]
    key, value = STORAGE_PURPOSE
    if pif.management:
        d.problems.append(f"{subject}: purpose: storage on {ident.pif_words(d.snap, ref)}, "
                          "the management interface; a storage interface is a second one")
        return
    if pif.other_config.get(key) != value:
        d.add(SetOtherConfig(subject, f"mark it a storage interface as XenCenter does "
                             f"({key}={value})", xapi_class="PIF", ref=ref,
                             values={key: value},
                             replace=(key,) if key in pif.other_config else ()))
    if not pif.disallow_unplug:
        d.add(SetField(subject, "a storage interface stays plugged (disallow_unplug)",
                       xapi_class="PIF", ref=ref, method="set_disallow_unplug",
                       field_name="disallow_unplug", value=True))
    if not pif.currently_attached:
        d.add(PlugPIF(subject, "a storage interface is plugged", pif=ref))
    if pif.other_config.get(key) == value and pif.disallow_unplug and pif.currently_attached:
        d.noop(subject, "already a plugged storage interface")


def _words(values: tuple[str, ...]) -> str:
    if values[0] != "Static":
        return values[0]
    _mode, ip, netmask, gateway, dns = values
    text = f"Static {ip}/{ipaddress.IPv4Network(f'0.0.0.0/{netmask}').prefixlen}" \
        if netmask else f"Static {ip or '-'}"
    return text + (f" gateway {gateway}" if gateway else "") + (f" DNS {dns}" if dns else "")


__all__ = ["plan_interface"]
