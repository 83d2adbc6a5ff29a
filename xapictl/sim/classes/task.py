"""Task messages with real semantics: create, cancel, destroy (§1.10).

Workers live in ``xapictl.sim.tasks``; here only the database side. A cancel on a pending
task that allows it marks it ``cancelling`` and wakes its worker, which then fails the task
with ``TASK_CANCELLED [task]`` (status ``cancelled``) instead of running the operation.
"""

from __future__ import annotations

import datetime as _dt

from xapictl.model._types import EPOCH
from xapictl.sim import tasks
from xapictl.sim.errors import SimFailure
from xapictl.sim.registry import CallContext, handles


@handles("task.create")
def create(ctx: CallContext, label: str, description: str) -> str:
    """A client-made task: pending, owned by the caller, never run by the simulator."""
    return ctx.state.create("task", {
        "name_label": label,
        "name_description": description,
        "status": "pending",
        "progress": 0.0,
        "type": "<none/>",
        "created": _dt.datetime.now(_dt.UTC).replace(microsecond=0),
        "finished": EPOCH,
        "resident_on": ctx.host,
        "allowed_operations": ["cancel"],
    })


@handles("task.cancel")
def cancel(ctx: CallContext, task: str) -> None:
    record = ctx.state.get("task", task)
    if "cancel" not in record["allowed_operations"] or record["status"] != "pending":
        raise SimFailure("OPERATION_NOT_ALLOWED",
                         f"Task {task} cannot be cancelled in status {record['status']}")
    ctx.state.update("task", task, {"status": "cancelling", "allowed_operations": []})
    tasks.wake(task)


@handles("task.destroy")
def destroy(ctx: CallContext, self: str) -> None:
    ctx.state.get("task", self)
    ctx.state.destroy("task", self)
    tasks.wake(self)


__all__ = ["cancel", "create", "destroy"]
