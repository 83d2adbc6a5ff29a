"""Address syntax as XAPI checks it (PIF IP configuration, VIF locking and guest IP setting)."""

from __future__ import annotations

import hashlib
import ipaddress
import re

_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")


def is_mac(value: str) -> bool:
    """Exactly six ``:``-separated groups of two hex digits, either case."""
    return bool(_MAC.match(value))


def is_ipv4(value: str) -> bool:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def is_ipv6(value: str) -> bool:
    """As ``inet_pton(AF_INET6)`` (``Unixext.domain_of_addr``) and ``Ipaddr.V6`` take one: no
    zone (``fe80::1%eth0``), which Python's parser would accept."""
    if "%" in value:
        return False
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


def _is_cidr(value: str, check: type[ipaddress.IPv4Network] | type[ipaddress.IPv6Network],
             address_ok: bool) -> bool:
    address, slash, prefix = value.partition("/")
    ok = is_ipv4(address) if check is ipaddress.IPv4Network else is_ipv6(address)
    if not ok:
        return False
    if not slash:
        return address_ok
    limit = 32 if check is ipaddress.IPv4Network else 128
    return prefix.isascii() and prefix.isdigit() and 0 <= int(prefix) <= limit


def is_ipv4_cidr(value: str) -> bool:
    """``a.b.c.d/n`` (host bits may be set: a guest address with its prefix)."""
    return _is_cidr(value, ipaddress.IPv4Network, address_ok=False)


def is_ipv6_cidr(value: str) -> bool:
    return _is_cidr(value, ipaddress.IPv6Network, address_ok=False)


def is_ipv4_or_cidr(value: str) -> bool:
    return _is_cidr(value, ipaddress.IPv4Network, address_ok=True)


def is_ipv6_or_cidr(value: str) -> bool:
    return _is_cidr(value, ipaddress.IPv6Network, address_ok=True)


def generate_mac(seed: str, device: int) -> str:
    """XAPI's ``gen_mac`` byte for byte: MD5 chained ``2 * device + 1`` times over the seed
    gives the first four octets, one more MD5 of that the last two; then the first octet gets
    the locally-administered bit set and the multicast bit cleared."""
    data = seed.encode()
    for _ in range(2 * device + 1):
        data = hashlib.md5(data, usedforsecurity=False).digest()
    second = hashlib.md5(data, usedforsecurity=False).digest()
    octets = [(data[0] | 0x02) & ~0x01, data[1], data[2], data[3], second[1], second[2]]
    return ":".join(f"{b:02x}" for b in octets)


def split_dns(value: str) -> tuple[list[str], list[str]]:
    """A PIF's comma-separated DNS list, split into (IPv4 entries, IPv6 entries); others dropped.
    As ``Xapi_pif.restrict_to``: cut at commas (empty pieces dropped), nothing stripped, so an
    entry with a space around it is not an address and is dropped too."""
    entries = [e for e in value.split(",") if e]
    return [e for e in entries if is_ipv4(e)], [e for e in entries if is_ipv6(e)]


__all__ = ["generate_mac", "is_ipv4", "is_ipv4_cidr", "is_ipv4_or_cidr", "is_ipv6",
           "is_ipv6_cidr", "is_ipv6_or_cidr", "is_mac", "split_dns"]
