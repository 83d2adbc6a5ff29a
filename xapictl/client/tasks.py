"""``task``: the records of asynchronous calls (``conn.call_async`` gives handles)."""

from __future__ import annotations

from xapictl.client.generated.task import TaskClient
from xapictl.model.enums import TaskStatusType
from xapictl.model.refs import TaskRef


class TasksClient(TaskClient):
    xapi_class = "task"

    def cancel(self, task: TaskRef) -> None:
        self.invoke("cancel", task)

    def destroy(self, ref: TaskRef) -> None:
        self.invoke("destroy", ref)

    def get_status(self, ref: TaskRef) -> TaskStatusType:
        status: TaskStatusType = self.invoke("get_status", ref)
        return status


__all__ = ["TasksClient"]
