"""A stdout callback for the tests (ansible-core has no JSON one; ansible.posix has): prints
one JSON document with every task result per host and the stats, in the shape of
ansible.posix.json (``plays[].tasks[].hosts{}``, ``stats{}``)."""

from __future__ import annotations

import json

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: record
type: stdout
short_description: every task result as one JSON document (tests only)
description: [The results of the xapictl.xen tests' playbooks, as JSON.]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "record"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.plays = []

    def v2_playbook_on_play_start(self, play):
        self.plays.append({"play": {"name": play.get_name()}, "tasks": []})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.plays[-1]["tasks"].append({"task": {"name": task.get_name()}, "hosts": {}})

    def _record(self, result, **status):
        data = dict(self._convert(result._result), **status)
        for play in reversed(self.plays):
            for task in reversed(play["tasks"]):
                if task["task"]["name"] == result._task.get_name():
                    task["hosts"][result._host.get_name()] = data
                    return

    @staticmethod
    def _convert(value):
        return json.loads(json.dumps(value, default=str))

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, failed=True)

    def v2_runner_on_skipped(self, result):
        self._record(result, skipped=True)

    def v2_runner_on_unreachable(self, result):
        self._record(result, unreachable=True)

    def v2_playbook_on_stats(self, stats):
        hosts = sorted(stats.processed)
        summary = {h: stats.summarize(h) for h in hosts}
        self._display.display(json.dumps({"plays": self.plays, "stats": summary}, indent=1))
