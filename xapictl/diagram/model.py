"""The graph a diagram is: host groups holding interface nodes, network and VM nodes, edges,
each object with its marks. Plain data, made by ``xapictl.diagram.build`` and drawn by
``xapictl.diagram.render``.

Node and group ids are stable and readable (``host_xcp_host_01__eth1``, ``net_xenbr1``), so
the DOT and Mermaid texts diff well between runs and tests can name what they look for.
"""

from __future__ import annotations

import enum

from xapictl._frozen import Frozen, frozen


class Mark(enum.StrEnum):
    """What a node, edge or host group is marked with (each mark has a legend entry)."""

    MASTER = "master"
    """The pool master (a host group)."""
    MANAGEMENT = "management"
    """The host's management interface."""
    UNPLUGGED = "unplugged"
    """Not currently attached."""
    ADDED = "added"
    """A plan creates it."""
    CHANGED = "changed"
    """A plan changes a field of it (MTU, name, mode, purpose, settings …)."""
    REMOVED = "removed"
    """A plan destroys it."""
    REPLUGGED = "re-plugged"
    """A plan plugs it (again)."""
    DRIFT = "drift"
    """It disagrees with the rest of the pool (``xapictl drift``)."""
    MISSING = "missing"
    """The other hosts have it, this one does not (``xapictl drift``)."""


LEGEND: dict[Mark, str] = {
    Mark.MASTER: "pool master",
    Mark.MANAGEMENT: "management interface",
    Mark.UNPLUGGED: "not plugged",
    Mark.ADDED: "the plan creates it",
    Mark.CHANGED: "the plan changes it",
    Mark.REMOVED: "the plan destroys it",
    Mark.REPLUGGED: "the plan plugs it (again)",
    Mark.DRIFT: "differs from the rest of the pool",
    Mark.MISSING: "the other hosts have it, these do not",
}
"""Each mark in words, as the legend says it."""


class Kind(enum.StrEnum):
    NIC = "nic"
    BOND = "bond"
    VLAN = "vlan"
    TUNNEL = "tunnel"
    SRIOV = "sr-iov"
    NETWORK = "network"
    VM = "vm"
    VMS = "vms"
    """Many VMs folded into one node per network (``VM_LIMIT``)."""


class EdgeKind(enum.StrEnum):
    MEMBER = "member"
    """A NIC is a member of a bond (NIC → bond)."""
    TAGGED = "tagged"
    """A VLAN interface is tagged on its trunk (trunk → VLAN)."""
    TRANSPORT = "transport"
    """A tunnel runs over its transport interface (transport → tunnel)."""
    VIRTUAL_FUNCTION = "virtual function"
    """An SR-IOV logical interface on its physical NIC (NIC → SR-IOV)."""
    JOINS = "joins"
    """An interface is the host's PIF of a network (interface → network)."""
    VIF = "vif"
    """A VM's VIF on a network (network → VM)."""


@frozen
class Node(Frozen):
    id: str
    kind: Kind
    label: tuple[str, ...]
    """The label's lines, first the name."""
    group: str | None = None
    """The host group holding it (``None`` for networks and VMs)."""
    marks: frozenset[Mark] = frozenset()


@frozen
class Edge(Frozen):
    source: str
    target: str
    kind: EdgeKind
    label: str = ""
    marks: frozenset[Mark] = frozenset()


@frozen
class Group(Frozen):
    """One host, or several hosts with the same layout folded into one column."""

    id: str
    hosts: tuple[str, ...]
    """The hosts' names, the pool master first."""
    label: tuple[str, ...]
    marks: frozenset[Mark] = frozenset()


@frozen
class Diagram(Frozen):
    title: str
    groups: tuple[Group, ...] = ()
    nodes: tuple[Node, ...] = ()
    edges: tuple[Edge, ...] = ()
    notes: tuple[str, ...] = ()
    """Lines under the legend: what the picture could not draw, and why."""

    @property
    def marks(self) -> list[Mark]:
        """Every mark used, in legend order."""
        used = {m for group in self.groups for m in group.marks}
        used |= {m for node in self.nodes for m in node.marks}
        used |= {m for edge in self.edges for m in edge.marks}
        return [m for m in Mark if m in used]


__all__ = ["LEGEND", "Diagram", "Edge", "EdgeKind", "Group", "Kind", "Mark", "Node"]
