"""Steps that move the management interface: ``host.management_reconfigure`` for one host,
and ``pool.recover_slaves`` once the master moved.

XAPI forwards ``host.management_reconfigure`` to the PIF's host (``message_forwarding.ml``,
which tolerates the connection loss of the move), attaches the new network, moves the host's
management server there and sets ``host.address`` to the new interface's address
(``xapi_mgmt_iface.ml`` ``on_dom0_networking_change``); calling it again once done changes
nothing. So a lost answer is resolved by reading the flags back. A member must then answer on
its new address (waited for within the retry policy's deadline, ``xapictl.xapi.retry``); one
that does not fails the step, and the apply moves it back at once, then the members moved
before it (their ``Plan.undo`` steps, newest first). When the master moves, the connection
follows it to its new address (its old one kept for failover, should the move not have
happened).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from xapictl._frozen import frozen
from xapictl.errors import PlanDriftError, XapiFailure
from xapictl.model.refs import HostRef, PIFRef, PoolRef
from xapictl.plan.steps.base import RunContext, XapiStep, gone
from xapictl.plan.steps.facts import Facts, call, identity, relying
from xapictl.state.snapshot import PoolSnapshot


@runtime_checkable
class Mover(Protocol):
    """What a connection offers for a move (``xapictl.client.Connection`` does)."""

    def reaches(self, address: str) -> str | None: ...

    def answers_at(self, address: str) -> str | None: ...

    def follow_master(self, address: str) -> None: ...


def mover(ctx: RunContext | Any) -> Mover | None:
    """The connection under a run's caller, when it can follow a move (fakes may not)."""
    conn = getattr(ctx, "conn", ctx)
    conn = getattr(conn, "conn", conn)  # the audited caller wraps the connection
    return conn if isinstance(conn, Mover) else None


def still_answers(ctx: RunContext, address: str, what: str) -> None:
    """After ``what`` moved a member's management interface, XAPI must answer at
    ``address`` within the retry policy's deadline; else the step fails (``PlanDriftError``),
    and its undo, if it has one, runs at once. Nothing to check without an address or a
    connection that can probe (fakes)."""
    conn = mover(ctx)
    if not address or conn is None:
        return
    why = conn.answers_at(address)
    if why is not None:
        raise PlanDriftError(f"{what}, but {why}")


@frozen(kw_only=True)
class MoveManagement(XapiStep):
    """``host.management_reconfigure(pif)``: ``host``'s management interface onto ``pif``,
    whose address is ``address``."""

    host: HostRef
    pif: PIFRef
    old_pif: PIFRef | None
    address: str
    old_address: str
    host_label: str
    network_label: str
    is_master: bool = False

    action = "move management"
    calls = ("host.management_reconfigure",)
    reads = ("PIF", "host", "pool")

    @property
    def disruption(self) -> str:
        return (f"moves {self.host_label}'s management interface to {self.address}: "
                f"connections to {self.old_address or 'its old address'} end")

    @property
    def needs_reach(self) -> str:
        """The address this client must reach before any write (``preflight``)."""
        return self.address

    def args_text(self) -> str:
        return f"{self.host_label} onto {self.network_label} ({self.address})"

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        return Facts("update", "host", identity(snap, "host", self.host),
                     before={"address": self.old_address, "management_PIF": self.old_pif},
                     after={"address": self.address, "management_PIF": self.pif},
                     calls=(call("host.management_reconfigure", self.pif),),
                     relies_on=relying(("host", self.host), ("PIF", self.pif)))

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        pif = snap.pifs.get(self.pif)
        if pif is None:
            return gone("PIF", self.pif)
        if pif.management:
            return None  # done already: the call changes nothing
        if any(p.ha_enabled for p in snap.pools.values()):
            return "HA was enabled since the plan was made (HA_IS_ENABLED)"
        if self.is_master and snap.master != self.host:
            return f"{self.host_label} is no longer the pool master"
        return None

    def execute(self, ctx: RunContext) -> str | None:
        conn = mover(ctx)
        try:
            ctx.conn.call("host.management_reconfigure", self.pif)
        except XapiFailure:
            raise  # XAPI refused: nothing moved
        except BaseException:
            if self.is_master and conn is not None:
                conn.follow_master(self.address)  # the answer was lost: it may have moved
            raise
        if self.is_master and conn is not None:
            conn.follow_master(self.address)
        if not self.is_master:  # not answering: the apply moves it back (this step's undo)
            still_answers(ctx, self.address,
                          f"{self.host_label} moved its management interface to {self.address}")
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        pif = snap.pifs.get(self.pif)
        return pif is not None and pif.management


@frozen(kw_only=True)
class RecoverSlaves(XapiStep):
    """``pool.recover_slaves``: every member is told the master's address (its new one)."""

    pool: PoolRef
    master_address: str

    action = "recover members"
    disruption = ""
    calls = ("pool.recover_slaves",)
    reads = ()

    @property
    def after_failure(self) -> str:
        return ("; the members still look for the master at its old address: once the cause "
                "is fixed, send pool.recover_slaves (`xe pool-recover-slaves` on the master); "
                "a re-run does not, as no record shows which master address the members know")

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        return Facts("update", "pool", identity(snap, "pool", self.pool),
                     after={"members_master_address": self.master_address},
                     calls=(call("pool.recover_slaves"),), relies_on=relying(("pool", self.pool)))

    def execute(self, ctx: RunContext) -> str | None:
        ctx.conn.call("pool.recover_slaves")
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        return False  # not visible in the records: telling the members again is harmless


__all__ = ["MoveManagement", "Mover", "RecoverSlaves", "mover", "still_answers"]
