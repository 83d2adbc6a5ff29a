"""How XAPI names become Python names, in one place (the generator and the runtime agree)."""

from __future__ import annotations

import keyword
import re

_ACRONYMS = {
    "vm", "vif", "pif", "vbd", "vdi", "sr", "pbd", "sm", "vgpu", "pgpu", "pci", "usb", "pusb",
    "vusb", "ha", "ip", "dr", "vmpp", "vmss", "lvhd", "sdn", "pvs", "cpu", "vlan", "ntp", "numa",
    "vtpm", "nbd", "ssl", "tls", "uefi", "gpu", "ipv4", "ipv6",
}
_SPECIAL = {"ipv6": "IPv6", "ipv4": "IPv4"}


def camel(name: str) -> str:
    """``vif_locking_mode`` → ``VIFLockingMode``; ``VM_guest_metrics`` → ``VMGuestMetrics``."""
    parts = []
    for part in re.split(r"[_\-]", name):
        low = part.lower()
        if low in _SPECIAL:
            parts.append(_SPECIAL[low])
        elif low in _ACRONYMS:
            parts.append(low.upper())
        else:
            parts.append(part[:1].upper() + part[1:])
    return "".join(parts)


def module_name(cls: str) -> str:
    return cls.lower()


def py_field(name: str) -> str:
    low = name.lower()
    return f"{low}_" if keyword.iskeyword(low) else low


def member_name(value: str) -> str:
    name = re.sub(r"\W", "_", value).upper()
    return f"_{name}" if name[:1].isdigit() else name
