"""``task``: the records of asynchronous calls (``conn.call_async`` gives handles)."""

from __future__ import annotations

from xapictl.client.base import ClassClient
from xapictl.model.enums import TaskStatusType
from xapictl.model.refs import TaskRef
from xapictl.model.task import Task


class TasksClient(ClassClient[TaskRef, Task]):
    xapi_class = "task"

    def cancel(self, ref: TaskRef) -> None:
        self.invoke("cancel", ref)

    def destroy(self, ref: TaskRef) -> None:
        self.invoke("destroy", ref)

    def get_status(self, ref: TaskRef) -> TaskStatusType:
        status: TaskStatusType = self.invoke("get_status", ref)
        return status


__all__ = ["TasksClient"]
