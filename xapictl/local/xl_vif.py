"""The xl ``vlan=`` vif setting, parsed into PVID + untagged + tagged VID sets.

Syntax (xl-network-configuration(5), libxl since 2024): terms separated by ``/``; each term is
``VID`` with optional ``p`` (the PVID, implies untagged) or ``u`` (untagged), a range
``A-B[u]``, or a stride ``V+STEPxCOUNT[u]`` (COUNT VIDs from V, STEP apart). Exactly one PVID;
a spec that is a single bare ID makes that ID the PVID.

The stride yields COUNT VIDs in all (``100+10x4`` is 100, 110, 120, 130), as Xen's own
parser in tools/hotplug/Linux/xen-network-common.sh (``_vif_vlan_parse_term``) counts them;
the man page's prose ("COUNT additional entries") and its example disagree with each other,
so the script that really configures the bridge is the reference.
"""

from __future__ import annotations

import re

from xapictl._frozen import Frozen, frozen
from xapictl.errors import UsageError

__all__ = ["VifVlans", "parse_vlan_spec"]

_TERM = re.compile(
    # ASCII digits only (\d would take "٣"), and short enough that int() cannot fail
    r"^(?P<vid>[0-9]{1,5})(?:-(?P<end>[0-9]{1,5})|\+(?P<step>[0-9]{1,5})x(?P<count>[0-9]{1,5}))?"
    r"(?P<flag>[pu])?$"
)


@frozen
class VifVlans(Frozen):
    """VLAN membership of one vif port on a VLAN-aware bridge."""

    pvid: int
    untagged: frozenset[int]
    tagged: frozenset[int]

    @property
    def all_vids(self) -> frozenset[int]:
        return self.untagged | self.tagged | {self.pvid}

    def spec(self) -> str:
        """A canonical xl string for the same membership."""
        terms = [f"{self.pvid}p"]
        terms += [f"{v}u" for v in sorted(self.untagged - {self.pvid})]
        terms += [str(v) for v in sorted(self.tagged)]
        return "/".join(terms)


def _check_vid(vid: int, spec: str) -> int:
    if not 1 <= vid <= 4094:
        raise UsageError(f"vlan={spec!r}: VLAN ID {vid} is outside 1-4094")
    return vid


def parse_vlan_spec(spec: str) -> VifVlans:
    """Parse an xl ``vlan=`` value; ``UsageError`` says what is wrong and how to write it."""
    text = spec.strip()
    if not text:
        raise UsageError("vlan='': empty; write e.g. '10p/20' (PVID 10, tagged 20)")
    pvids: list[int] = []
    untagged: set[int] = set()
    tagged: set[int] = set()
    seen: set[int] = set()
    terms = text.split("/")
    for term in terms:
        m = _TERM.match(term.strip())
        if m is None:
            raise UsageError(
                f"vlan={spec!r}: cannot read term {term!r}; use VID[p|u], A-B[u] or V+STEPxCOUNT[u]"
            )
        start = _check_vid(int(m["vid"]), spec)
        flag = m["flag"]
        if m["end"] is not None:
            end = _check_vid(int(m["end"]), spec)
            if end < start:
                raise UsageError(f"vlan={spec!r}: range {term!r} runs backwards")
            vids = list(range(start, end + 1))
        elif m["step"] is not None:
            step, count = int(m["step"]), int(m["count"])
            if step < 1 or count < 1:
                raise UsageError(f"vlan={spec!r}: {term!r} needs STEP and COUNT of at least 1")
            vids = [_check_vid(start + i * step, spec) for i in range(count)]
        else:
            vids = [start]
        if flag == "p":
            if len(vids) != 1:
                raise UsageError(f"vlan={spec!r}: only a single VID can be the PVID ({term!r})")
            pvids.append(start)
        if seen & set(vids):
            raise UsageError(f"vlan={spec!r}: VID {min(seen & set(vids))} appears twice")
        seen |= set(vids)
        (untagged if flag in ("p", "u") else tagged).update(vids)
    if not pvids and len(terms) == 1 and len(seen) == 1:
        pvids = [next(iter(seen))]
        tagged.clear()
        untagged |= set(pvids)
    if len(pvids) != 1:
        raise UsageError(
            f"vlan={spec!r}: needs exactly one PVID (mark it with 'p', e.g. '10p/20'),"
            f" found {len(pvids)}"
        )
    return VifVlans(pvids[0], frozenset(untagged), frozenset(tagged))
