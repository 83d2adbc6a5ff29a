"""What every backend's plan is made of: steps and no-ops, each with a human reason, and the
report of an apply. Shared by the XAPI plan engine and the plain-Xen (netlink) backend.

A plan is data. Making one never writes; running one is the backend's business.

Each step says whether it is *disruptive*: whether it destroys, unplugs, moves, re-plugs,
renames or re-purposes something that exists (``Step.disruption`` says how, in words; empty
for a purely additive step). A plan with a disruptive step is asked about at a terminal and
refused off a terminal without ``--yes``. Work that cannot be done now (a host is offline) is
*deferred*: it keeps the plan pending without being a step.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import field

from xapictl._frozen import Frozen, Mutable, frozen, mutable


@frozen
class Step(Frozen):
    """One change to make. Subclasses add the data the change needs.

    ``subject`` names the object in words an operator recognises (``network 'VLAN 105'``,
    ``VIF 0 of VM 'web01'``); ``reason`` says why the change is needed.
    """

    subject: str
    reason: str

    @property
    def action(self) -> str:
        """The step's kind in words (``create``, ``set MTU``); subclasses override."""
        return type(self).__name__

    @property
    def disruption(self) -> str:
        """What this step disrupts, in words (``destroys the network and its bridge``), or
        ``""`` for a purely additive step (it creates, or plugs what the recipe expects
        attached). A property of the step's class (subclasses override it with a class
        attribute, or with a property when it depends on the step's data)."""
        return ""

    @property
    def disruptive(self) -> bool:
        """Whether the step destroys, unplugs, moves, re-plugs, renames or re-purposes
        anything that exists: such a plan is asked about before it runs."""
        return bool(self.disruption)

    def describe(self) -> str:
        return f"{self.action} {self.subject}: {self.reason}"


@frozen
class Noop(Frozen):
    """Something already as desired, or deliberately left alone, and why."""

    subject: str
    reason: str

    def describe(self) -> str:
        return f"{self.subject}: {self.reason}"


@frozen
class Deferred(Frozen):
    """Work the recipe asks for that cannot be done now (its host is offline), and why. It
    is no step (nothing is sent for it) but it keeps the plan pending: the pool does not
    match until a later run does it."""

    subject: str
    reason: str

    def describe(self) -> str:
        return f"{self.subject}: {self.reason}"


class PlanWarning(str):
    """A warning's text (it is a ``str``, as plans always had) with a stable ``code`` for
    programs (``device_missing``, ``pif_mtu_until_replug`` …)."""

    code: str

    def __new__(cls, code: str, text: str) -> PlanWarning:
        self = super().__new__(cls, text)
        self.code = code
        return self

    def __reduce__(self) -> tuple[type[PlanWarning], tuple[str, str]]:
        return (PlanWarning, (self.code, str(self)))


def warning_code(warning: str) -> str:
    """The warning's code (``warning`` for a plain string from an older backend)."""
    return warning.code if isinstance(warning, PlanWarning) else "warning"


@frozen
class Plan(Frozen):
    """Ordered steps and the no-ops, as ``diff`` produced them."""

    steps: tuple[Step, ...] = ()
    noops: tuple[Noop, ...] = ()
    warnings: tuple[str, ...] = ()
    deferred: tuple[Deferred, ...] = ()
    undo: tuple[Step, ...] = ()
    """Planned undo steps: when a step of a group fails (a pool-wide bond that cannot be
    made on one host), the undo steps of that group's steps already done run, newest first
    (each names its group and the step it undoes). Not steps of the plan: they run only
    then."""

    @property
    def is_empty(self) -> bool:
        """No step to run now (no-ops, warnings and deferred work do not count)."""
        return not self.steps

    @property
    def pending(self) -> bool:
        """The pool does not match yet: a step to run, or work deferred for later."""
        return bool(self.steps or self.deferred)

    @property
    def disruptive_steps(self) -> tuple[Step, ...]:
        """The steps that destroy, unplug, move, re-plug, rename or re-purpose something."""
        return tuple(s for s in self.steps if s.disruptive)

    @property
    def is_disruptive(self) -> bool:
        return any(s.disruptive for s in self.steps)


class StepStatus(enum.StrEnum):
    DONE = "done"
    FAILED = "failed"
    NOT_RUN = "not run"
    DRIFT = "drift"
    """The step's precondition no longer held at apply time; it was not forced."""
    INTERRUPTED = "interrupted"
    """Ctrl-C while the step was running: its write may or may not have taken effect (the
    next run's fresh read says which)."""


@mutable
class StepResult(Mutable):
    """What applying one step came to: its status and a word on why."""

    step: Step
    status: StepStatus
    detail: str = ""


@mutable
class ApplyReport(Mutable):
    """What an apply did, step by step; ``ok`` only when every step is done."""

    results: list[StepResult] = field(default_factory=list)
    writes: int = 0
    """Writes that may have taken effect (answered ok, or whose answer was lost); a report
    with none changed nothing, whatever its steps say."""
    undone: list[StepResult] = field(default_factory=list)
    """The planned undo steps run after a failure (``Plan.undo``), in the order they ran."""

    @property
    def rolled_back(self) -> bool:
        """Undo steps ran after the failure, every one is done, and they undid every step
        done (the failed group's): the pool is as before. Steps done before that group
        (an ``interfaces:`` entry before a management move) have no undo: not rolled back."""
        if not self.undone or any(r.status is not StepStatus.DONE for r in self.undone):
            return False
        undone = {getattr(r.step, "undoes", "") for r in self.undone}
        return all(getattr(r.step, "key", "") in undone for r in self.done)

    def _with(self, status: StepStatus) -> Sequence[StepResult]:
        return [r for r in self.results if r.status is status]

    @property
    def done(self) -> Sequence[StepResult]:
        return self._with(StepStatus.DONE)

    @property
    def failed(self) -> Sequence[StepResult]:
        return [r for r in self.results
                if r.status in (StepStatus.FAILED, StepStatus.DRIFT, StepStatus.INTERRUPTED)]

    @property
    def not_run(self) -> Sequence[StepResult]:
        return self._with(StepStatus.NOT_RUN)

    @property
    def ok(self) -> bool:
        return all(r.status is StepStatus.DONE for r in self.results)


__all__ = ["ApplyReport", "Deferred", "Noop", "Plan", "PlanWarning", "Step", "StepResult",
           "StepStatus", "warning_code"]
