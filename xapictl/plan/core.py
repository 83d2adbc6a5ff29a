"""What every backend's plan is made of: steps and no-ops, each with a human reason, and the
report of an apply. Shared by the XAPI plan engine and the plain-Xen (netlink) backend.

A plan is data. Making one never writes; running one is the backend's business.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Step:
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

    def describe(self) -> str:
        return f"{self.action} {self.subject}: {self.reason}"


@dataclass(frozen=True)
class Noop:
    """Something already as desired, or deliberately left alone, and why."""

    subject: str
    reason: str

    def describe(self) -> str:
        return f"{self.subject}: {self.reason}"


@dataclass(frozen=True)
class Plan:
    """Ordered steps and the no-ops, as ``diff`` produced them."""

    steps: tuple[Step, ...] = ()
    noops: tuple[Noop, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        """No change pending (no-ops and warnings do not count)."""
        return not self.steps


class StepStatus(enum.StrEnum):
    DONE = "done"
    FAILED = "failed"
    NOT_RUN = "not run"
    DRIFT = "drift"
    """The step's precondition no longer held at apply time; it was not forced."""


@dataclass
class StepResult:
    step: Step
    status: StepStatus
    detail: str = ""


@dataclass
class ApplyReport:
    """What an apply did, step by step; ``ok`` only when every step is done."""

    results: list[StepResult] = field(default_factory=list)

    def _with(self, status: StepStatus) -> Sequence[StepResult]:
        return [r for r in self.results if r.status is status]

    @property
    def done(self) -> Sequence[StepResult]:
        return self._with(StepStatus.DONE)

    @property
    def failed(self) -> Sequence[StepResult]:
        return [r for r in self.results if r.status in (StepStatus.FAILED, StepStatus.DRIFT)]

    @property
    def not_run(self) -> Sequence[StepResult]:
        return self._with(StepStatus.NOT_RUN)

    @property
    def ok(self) -> bool:
        return all(r.status is StepStatus.DONE for r in self.results)


__all__ = ["ApplyReport", "Noop", "Plan", "Step", "StepResult", "StepStatus"]
