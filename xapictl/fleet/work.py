"""What a rollout needs from a backend for one pool: plan it, apply the plan step by step with a
stop check between steps, and log out. ``XapiPoolWork`` is the real one; tests may pass others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from xapictl._frozen import Frozen, frozen
from xapictl.fleet.fleetfile import FleetPool
from xapictl.plan.core import ApplyReport, Plan, Step, StepResult


@dataclass
class PoolPlan:
    """A pool's plan, and whatever the backend keeps to apply it (connection, snapshot)."""

    pool: str
    plan: Plan
    handle: Any = None
    summary: dict[str, int] = field(default_factory=dict)

    @property
    def changes(self) -> int:
        return len(self.plan.steps)


@frozen
class ApplyHooks(Frozen):
    """Callbacks the backend calls around every step. ``should_stop`` is asked before each step:
    when it says yes the backend returns, leaving the rest ``NOT_RUN`` (a step boundary)."""

    step_started: Callable[[int, Step], None]
    step_finished: Callable[[int, StepResult], None]
    should_stop: Callable[[], bool]
    rollout: int = 0
    """The journal id of the rollout (for the audit log)."""


class PoolWork(Protocol):
    def plan(self, pool: FleetPool) -> PoolPlan:
        """Connect, read, diff. Raises on any failure (the pool is then failed, untouched)."""
        ...

    def apply(self, planned: PoolPlan, hooks: ApplyHooks) -> ApplyReport:
        """Run the steps in order; raise only if the pool cannot be reached at all."""
        ...

    def close(self, planned: PoolPlan | None, pool: FleetPool) -> None:
        """Log out (if ``plan`` opened a session). Called once for every pool of the run,
        planned or not, also after Ctrl-C."""
        ...


__all__ = ["ApplyHooks", "PoolPlan", "PoolWork"]
