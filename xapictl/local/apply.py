"""observe -> plan -> preflight -> undo file + guard -> apply -> verify -> probe -> commit or
roll back.

The undo file is written, and the dead-man timer that reads it armed, before the first
change (nmstate's checkpoint): the file records how far the apply got, so an apply killed
at any step (kill -9, SIGTERM, OOM) is rolled back by the timer when its deadline passes,
and ``xapictl local rollback`` can do the same at once.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xapictl.errors import LocalBackendError
from xapictl.local import netlink, probe, wait
from xapictl.local.desired import HostNetwork
from xapictl.local.lock import locked, state_dir
from xapictl.local.observe import HostSnapshot, observe
from xapictl.local.ops import AddAddress, LocalOp, op_from_dict
from xapictl.local.planner import inverse_plan, plan
from xapictl.local.preflight import preflight
from xapictl.plan.core import ApplyReport, Plan, StepResult, StepStatus

__all__ = [
    "CRASH_WINDOW",
    "LocalApplyFailed",
    "Outcome",
    "apply",
    "current_plan",
    "expire_guard",
    "rollback_pending",
    "rollback_undo_files",
    "state_dir",
    "undo_files",
    "undo_path",
]


class LocalApplyFailed(LocalBackendError):
    """Apply failed and the host was rolled back. ``report`` says what ran; a non-empty
    ``rollback_errors`` means the rollback itself was incomplete (exit 5)."""

    def __init__(self, message: str, report: ApplyReport, rollback_errors: list[str]) -> None:
        self.report = report
        self.rollback_errors = rollback_errors
        tail = "; rollback incomplete: " + "; ".join(rollback_errors) if rollback_errors else (
            "; rolled back")
        super().__init__(message + tail)


@dataclass
class Outcome:
    plan: Plan
    report: ApplyReport
    probes: list[probe.PingResult] = field(default_factory=list)
    seconds: float = 0.0
    pending_confirmation: bool = False


CRASH_WINDOW = 30.0
"""Seconds after which the dead man rolls back an apply that died without
``--confirm-within`` (while the apply lives it holds the lock, so the timer waits for it)."""

LOCK_WAIT_DEADMAN = 3600.0
"""How long the dead man waits for the lock: longer than any apply (STP waits included)."""

BR_STATE_FORWARDING = 3
BR_STATES_SETTLING = (1, 2)  # listening, learning


def undo_path(netns: str | None, tag: str = "") -> Path:
    """The undo file of an apply in ``netns``; ``tag`` separates vif hotplug runs, which
    must never overwrite an admin change that awaits confirmation."""
    return state_dir() / f"undo-{netns or 'host'}{'-' + tag if tag else ''}.json"


@dataclass
class _Guard:
    """The dead-man timer guarding one apply: ``token`` ties it to this change, ``deadline``
    is on CLOCK_MONOTONIC (one clock for every process of this boot; /run goes at reboot)."""

    token: str | None = None
    pid: int | None = None
    deadline: float | None = None


def _write_undo(path: Path, netns: str | None, before: HostSnapshot, steps: tuple[LocalOp, ...],
                done: int, pending: bool = False, guard: _Guard | None = None) -> None:
    g = guard or _Guard()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({
        "netns": netns,
        "before": before.to_dict(),
        "steps": [s.to_dict() for s in steps],
        "done": done,
        "pending": pending,
        "deadman_pid": g.pid,
        "token": g.token,
        "deadline": g.deadline,
    }))
    tmp.replace(path)


def _rollback(ipr: Any, done: list[LocalOp], before: HostSnapshot) -> list[str]:
    """Replay the inverses of the steps done, last first; go on past errors, report them."""
    errors = []
    for op in inverse_plan(done, before):
        try:
            netlink.execute(ipr, op)
        except Exception as exc:
            errors.append(f"{op.describe()}: {exc}")
    return errors


def _undone(ipr: Any, done: list[LocalOp], before: HostSnapshot, path: Path, message: str,
            report: ApplyReport, guard: _Guard) -> LocalApplyFailed:
    """Roll back what ran; the undo file goes only when the rollback was complete (and
    with it the timer; an incomplete rollback leaves both for ``local rollback``)."""
    errors = _rollback(ipr, done, before)
    if not errors:
        path.unlink(missing_ok=True)
        _disarm(guard)
    return LocalApplyFailed(message, report, errors)


def _disarm(guard: _Guard) -> None:
    if guard.pid:
        from xapictl.local import deadman

        deadman.disarm(guard.pid)


def _arm(path: Path, netns: str | None, before: HostSnapshot, steps: tuple[LocalOp, ...],
         window: float) -> _Guard:
    """Write the undo record and start its timer before the first change; a timer that
    cannot start means no change at all."""
    from xapictl.local import deadman

    guard = _Guard(os.urandom(8).hex(), None, time.monotonic() + window)
    _write_undo(path, netns, before, steps, 0, False, guard)
    try:
        guard.pid = deadman.arm(path, netns, guard.token or "")
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise LocalBackendError(f"could not start the dead-man timer ({exc}), so nothing was"
                                " changed: the host is as it was") from exc
    _write_undo(path, netns, before, steps, 0, False, guard)
    return guard


def current_plan(desired: HostNetwork, netns: str | None) -> tuple[Plan, HostSnapshot]:
    """Plan only (no lock needed: nothing is written)."""
    ipr = netlink.open_ipr(netns)
    try:
        with netlink.kernel_errors("reading the host's network state"):
            snap = observe(ipr)
    finally:
        ipr.close()
    return with_dhcp_handover(plan(desired, snap), desired, snap, netns), snap


def with_dhcp_handover(the_plan: Plan, desired: HostNetwork, snap: HostSnapshot,
                       netns: str | None) -> Plan:
    """The plan, plus moving the DHCP client of each uplink whose leased address goes to
    its bridge: stopped before the first change (lease and address stay), started on the
    bridge after the last (``xapictl.local.dhcp``). Planning reads /proc, nothing more."""
    from xapictl.local.desired import FROM_UPLINK
    from xapictl.local.ops import StartDhcpClient, StopDhcpClient

    first: list[LocalOp] = []
    last: list[LocalOp] = []
    static: set[str] = set()
    for b in desired.bridges:
        if not (b.present and b.uplink and b.addresses == FROM_UPLINK):
            continue
        moving = [s for s in the_plan.steps if isinstance(s, AddAddress)
                  and s.addr.ifname == b.name and s.addr.family == 4]
        if not moving:
            continue
        from xapictl.local import dhcp

        # a client serving the uplink moves even when its address is permanent (udhcpc's
        # script sets it so): left on the port it would put the address back there
        clients = dhcp.find_clients(b.uplink, netns)
        if not clients and any(s.addr.valid_lft is not None for s in moving):
            static.add(b.name)  # nothing would renew the lease (allow_dhcp): made static
        for c in clients:
            first.append(StopDhcpClient(f"{c.kind} (pid {c.pid}) of {b.uplink}",
                                        f"its lease moves to {b.name}", b.uplink, c.argv,
                                        netns))
            last.append(StartDhcpClient(f"{c.kind} on {b.name}",
                                        f"renews the lease {b.uplink} had",
                                        b.name, dhcp.renamed(c.argv, b.uplink, b.name), netns))
    steps = tuple(_made_static(s) if isinstance(s, AddAddress) and s.addr.ifname in static
                  else s for s in the_plan.steps)
    if not first and not static:
        return the_plan
    return Plan((*first, *steps, *last), the_plan.noops, the_plan.warnings, the_plan.deferred)


def _made_static(step: AddAddress) -> AddAddress:
    """An address moved without its DHCP client: permanent, as ``allow_dhcp`` promises."""
    import dataclasses

    addr = dataclasses.replace(step.addr, valid_lft=None, preferred_lft=None,
                               flags=step.addr.flags | 0x80)
    return dataclasses.replace(step, addr=addr)


def _capability(cap: str) -> bool:
    from xapictl.local import check  # only when a plan needs a kernel feature: keeps hotplug lean

    return check.capabilities().get(cap, (False, ""))[0]


def apply(
    desired: HostNetwork,
    *,
    netns: str | None = None,
    run_probe: bool = True,
    fail_at: int | None = None,
    confirm_within: float | None = None,
    crash_window: float = CRASH_WINDOW,
    capability: Callable[[str], bool] = _capability,
    on_step: Callable[[int, LocalOp], None] | None = None,
    undo_tag: str = "",
) -> Outcome:
    """Bring the host to ``desired`` or leave it as it was.

    The undo file and the dead-man timer exist before the first step (not for vif
    hotplug runs, ``undo_tag``, which are quick and redone by the next event): if this
    process dies at any step, the timer rolls the host back once its deadline passes,
    ``confirm_within`` (else ``crash_window``) seconds after the start. A change that
    succeeds with ``confirm_within`` gets a new deadline, that many seconds from its end.

    ``fail_at`` injects a failure before step N (tests); ``on_step`` is called before each
    step (tests and progress output); ``undo_tag`` names a separate undo file (hotplug).
    """
    start = time.monotonic()
    with locked(netns):
        ipr = netlink.open_ipr(netns)
        try:
            with netlink.kernel_errors("reading the host's network state"):
                before = observe(ipr)
            the_plan = with_dhcp_handover(plan(desired, before), desired, before, netns)
            report = ApplyReport([StepResult(s, StepStatus.NOT_RUN) for s in the_plan.steps])
            steps: tuple[LocalOp, ...] = tuple(s for s in the_plan.steps
                                               if isinstance(s, LocalOp))
            # before the empty-plan return: a missing vif plans nothing yet must be refused
            preflight(desired, before, steps, capability)
            if the_plan.is_empty:
                return Outcome(the_plan, report, seconds=time.monotonic() - start)
            path = undo_path(netns, undo_tag)
            if path.exists() and not undo_tag:  # hotplug runs are idempotent: just redo
                raise LocalBackendError(
                    f"an earlier change is not settled ({path}): run 'xapictl local confirm'"
                    " to keep it or 'xapictl local rollback' to undo it first")
            guard = _Guard()
            if not undo_tag:
                guard = _arm(path, netns, before, steps, float(confirm_within or crash_window))
            done: list[LocalOp] = []
            try:
                for i, op in enumerate(steps):
                    # recorded before the step runs: undoing a step that never ran is harmless
                    _write_undo(path, netns, before, steps, i + 1, False, guard)
                    if on_step is not None:
                        on_step(i, op)
                    if fail_at == i:
                        raise LocalBackendError(f"injected failure before step {i}")
                    try:
                        netlink.execute(ipr, op)
                    finally:
                        done.append(op)
                    report.results[i].status = StepStatus.DONE
                _verify(ipr, desired)
                probes = []
                if run_probe and _probe_targets(desired, before):
                    _await_stp_forwarding(ipr, desired)
                    probes = _probe(desired, before, netns)
            except Exception as exc:
                for r in report.results:
                    if r.status is StepStatus.NOT_RUN and r.step in done:
                        r.status = StepStatus.FAILED
                        r.detail = str(exc)
                raise _undone(ipr, done, before, path, f"apply failed: {exc}", report,
                              guard) from exc
            pending = bool(confirm_within)
            if pending:
                # the same timer, token and record: only the deadline moves, to N s from now
                guard.deadline = time.monotonic() + float(confirm_within or 0)
                _write_undo(path, netns, before, steps, len(steps), True, guard)
            else:
                path.unlink(missing_ok=True)  # first: a timer that wakes now finds nothing
                _disarm(guard)
            return Outcome(the_plan, report, probes, time.monotonic() - start, pending)
        finally:
            ipr.close()


def _stalled_ports(snap: HostSnapshot, bridges: set[str], *, settling_ok: bool) -> list[str]:
    """Ports with carrier of ``bridges`` that do not forward. With STP on, listening and
    learning are how a new port starts (2 x forward delay), so ``settling_ok`` accepts them."""
    stp = {n for n, lk in snap.links.items() if lk.kind == "bridge" and lk.stp_state}
    found = []
    for n, lk in snap.links.items():
        if lk.master not in bridges or not (lk.up and lk.carrier):
            continue
        fine: tuple[int | None, ...] = (None, BR_STATE_FORWARDING)
        if settling_ok and lk.master in stp:
            fine += BR_STATES_SETTLING
        if lk.port_state not in fine:
            found.append(f"{n} is a port of {lk.master} but not forwarding"
                         f" (state {lk.port_state})")
    return found


def _verify(ipr: Any, desired: HostNetwork) -> None:
    """Re-read until a fresh plan is empty and every bridge port with carrier forwards, or
    is listening/learning on an STP bridge (for up to about 1.5 s, waits doubling from
    20 ms: the kernel acknowledges before all is visible), else fail."""
    bridges = _bridges_of(desired)

    def problems() -> list[str]:
        snap = observe(ipr)
        found = [s.describe() for s in plan(desired, snap).steps]
        return found + _stalled_ports(snap, bridges, settling_ok=True)

    left = wait.retry_until(problems, lambda found: not found)
    if left:
        raise LocalBackendError(
            "verification: the host does not match after apply: " + "; ".join(left[:5]))


def _bridges_of(desired: HostNetwork) -> set[str]:
    return {b.name for b in desired.bridges if b.present} | {
        v.bridge for v in desired.vifs if v.present}


def _await_stp_forwarding(ipr: Any, desired: HostNetwork) -> None:
    """Before the probe: STP ports pass listening and learning (forward delay each) before
    they carry the probe, so wait for that, bounded by 2 x the longest forward delay + 1 s."""
    snap = observe(ipr)
    delays = [lk.forward_delay or 0 for n, lk in snap.links.items()
              if n in _bridges_of(desired) and lk.kind == "bridge" and lk.stp_state]
    if not delays:
        return
    budget = 2 * max(delays) / 100 + 1.0
    wait.retry_until(lambda: _stalled_ports(observe(ipr), _bridges_of(desired),
                                            settling_ok=False),
                     lambda found: not found, first=0.1, cap=0.5, budget=budget)


def _probe_targets(desired: HostNetwork, before: HostSnapshot) -> tuple[str, ...]:
    return desired.probes if desired.probes is not None else tuple(
        g for g in before.default_gateways() if ":" not in g)


def _probe(desired: HostNetwork, before: HostSnapshot, netns: str | None) -> list[probe.PingResult]:
    results = []
    for t in _probe_targets(desired, before):
        r = probe.ping(t, netns=netns, count=3, interval=0.1, timeout=1.0, enough=1)
        results.append(r)
        if not r.received:
            raise LocalBackendError(f"connectivity probe: {t} does not answer after the change")
    return results


def undo_files(netns: str | None) -> list[Path]:
    """Every undo file of ``netns``, newest first: the admin apply's, and any a vif hotplug
    run left when its own rollback was incomplete (or it crashed)."""
    host = undo_path(netns)
    found = [p for p in state_dir().glob(f"{host.stem}-vif-*.json") if _netns_of(p) == netns]
    if host.exists():
        found.append(host)
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def _netns_of(path: Path) -> str | bool | None:
    """The namespace an undo file records (False if unreadable): "undo-a-vif-x" could be
    namespace "a"'s hotplug file or namespace "a-vif-x"'s own."""
    try:
        return json.loads(path.read_text()).get("netns")  # type: ignore[no-any-return]
    except (OSError, ValueError, AttributeError):
        return False


def rollback_pending(netns: str | None, *, token: str | None = None) -> list[str]:
    """Replay the undo files of ``netns``, newest first (crash recovery, ``local rollback``,
    dead man).

    Returns rollback errors (empty: done). Raises when there is nothing to roll back. The
    dead man passes its ``token`` and rolls back only the change it was armed for; anyone
    else disarms the change's timer first and replays vif hotplug undo files too."""
    return rollback_undo_files(netns, token=token)[1]


def rollback_undo_files(netns: str | None, *,
                        token: str | None = None) -> tuple[list[Path], list[str]]:
    """``rollback_pending``, also saying which undo files were replayed."""
    from xapictl.local import deadman

    with locked(netns):
        paths = [undo_path(netns)] if token is not None else undo_files(netns)
        if not any(p.exists() for p in paths):
            raise LocalBackendError(f"nothing to roll back: no {undo_path(netns)}"
                                    " and no vif hotplug undo file beside it")
        replayed, errors = [], []
        for path in paths:
            raw = _read_undo(path)
            if raw is None or (token is not None and raw.get("token") != token):
                continue  # gone, or not the change this timer guards (confirmed meanwhile)
            if token is None:
                deadman.disarm(raw.get("deadman_pid"))
            failed = _replay(netns, path, raw)
            prefix = "" if path == undo_path(netns) else f"{path.name}: "
            errors += [prefix + e for e in failed]
            replayed.append(path)
            if not failed:
                path.unlink(missing_ok=True)
    return replayed, errors


def expire_guard(netns: str | None, token: str) -> tuple[float | None, list[str]]:
    """The dead man's deadline has passed: under the lock (waited for as long as an apply
    can run: a live apply holds it), roll back the change its ``token`` guards.

    Returns (None, rollback errors) when done or when nothing is left to do (confirmed,
    rolled back by hand, or finished without confirmation), or (seconds left, []) when the
    deadline moved on (the apply finished with ``--confirm-within``)."""
    path = undo_path(netns)
    with locked(netns, timeout=LOCK_WAIT_DEADMAN):
        raw = _read_undo(path)
        if raw is None or raw.get("token") != token:
            return None, []
        left = float(raw.get("deadline") or 0) - time.monotonic()
        if left > 0:
            return left, []
        errors = _replay(netns, path, raw)
        if not errors:
            path.unlink(missing_ok=True)
        return None, errors


def _read_undo(path: Path) -> dict[str, Any] | None:
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise LocalBackendError(f"cannot read the undo file {path}: {exc}; look at the host"
                                " ('xapictl local show') and remove the file") from exc
    if not isinstance(raw, dict):
        raise LocalBackendError(f"the undo file {path} is not an undo record; look at the"
                                " host ('xapictl local show') and remove the file")
    return raw


def _replay(netns: str | None, path: Path, raw: dict[str, Any]) -> list[str]:
    try:
        before = HostSnapshot.from_dict(raw["before"])
        steps = [op_from_dict(d) for d in raw["steps"]][: int(raw["done"])]
    except (KeyError, TypeError, ValueError) as exc:
        raise LocalBackendError(f"the undo file {path} is damaged ({exc!r}); look at the"
                                " host ('xapictl local show') and remove the file") from exc
    ipr = netlink.open_ipr(netns)
    try:
        return _rollback(ipr, steps, before)
    finally:
        ipr.close()


def confirm(netns: str | None) -> bool:
    """Keep a change made with ``--confirm-within``: disarm the dead man. False if none.

    An undo file left by an interrupted apply is not a change to keep: the host is half
    way, so that is refused in favour of ``rollback``."""
    from xapictl.local import deadman

    path = undo_path(netns)
    with locked(netns):  # never between the dead man's read and its rollback
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            return False
        if not raw.get("pending"):
            raise LocalBackendError(
                f"the apply recorded in {path} was interrupted at step {raw.get('done')}:"
                " the host is half way; run 'xapictl local rollback' (its dead-man timer"
                " also rolls it back when its deadline passes)")
        deadman.disarm(raw.get("deadman_pid"))
        path.unlink(missing_ok=True)
    return True
