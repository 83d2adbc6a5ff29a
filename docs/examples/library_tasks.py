"""Asynchronous calls: start, wait (followed through events), cancel."""

from __future__ import annotations

import os
from typing import Any

import xapictl
from xapictl.errors import TaskCancelled, TaskFailed, TaskTimeout


def main(url: str, password: str, **options: Any) -> list[str]:
    out = []
    with xapictl.connect(url, password=password, **options) as conn:
        task = conn.call_async("network.create", {"name_label": "async-net",
                                                  "other_config": {}})
        network = task.wait(timeout=60)  # the typed result; the task is destroyed after
        out.append(f"created {conn.networks.get_record(network).name_label}")

        trunk = next(ref for ref, pif in conn.pifs.get_all_records().items()
                     if pif.device == "eth1" and pif.vlan == -1)
        try:
            conn.vlans.invoke_async("create", trunk, 9999, network).wait(timeout=60)
        except TaskFailed as exc:
            out.append(f"task failed: {exc.failure.code}")  # the typed XapiFailure

        slow = conn.call_async("network.create", {"name_label": "slow", "other_config": {}})
        try:
            slow.wait(timeout=0.2)
        except TaskTimeout:
            slow.cancel()
            try:
                slow.wait(timeout=60)
            except TaskCancelled:
                out.append("cancelled")
            else:
                out.append("finished before the cancel")
    return out


if __name__ == "__main__":
    print(main(os.environ["XAPI_URL"], os.environ["XAPI_PASSWORD"]))
