"""Hotplug failures that need no namespace: an in-memory xenstore and a kernel that
refuses the first read. Every failure must reach libxl as hotplug-error."""

from __future__ import annotations

import errno

import pytest

from xapictl.local import apply as apply_mod
from xapictl.local.hotplug import run_hotplug
from xapictl.local.netlink import NetlinkError

XB = "backend/vif/7/0"


class MemoryStore:
    def __init__(self, data: dict[str, str]) -> None:
        self.data = dict(data)

    def read(self, path: str) -> str | None:
        return self.data.get(path)

    def read_keys(self, directory: str, keys: list[str]) -> dict[str, str]:
        return {k: self.data[f"{directory}/{k}"] for k in keys
                if f"{directory}/{k}" in self.data}

    def write(self, path: str, value: str) -> None:
        self.data[path] = value


class RefusingIPRoute:
    def close(self) -> None:
        pass


@pytest.fixture
def kernel_refuses_the_first_read(monkeypatch):
    def refuse(ipr):
        raise NetlinkError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(apply_mod.netlink, "open_ipr", lambda netns: RefusingIPRoute())
    monkeypatch.setattr(apply_mod, "observe", refuse)


def test_a_netlink_error_on_the_first_read_is_written_as_hotplug_error(
        kernel_refuses_the_first_read):
    store = MemoryStore({f"{XB}/bridge": "xenbr0"})
    result = run_hotplug("online", {"XENBUS_PATH": XB, "vif": "vif7.0"}, store=store)
    assert result.error and "Operation not permitted" in result.error
    assert store.data[f"{XB}/hotplug-status"] == "error"
    assert "Operation not permitted" in store.data[f"{XB}/hotplug-error"]


def test_apply_refuses_an_empty_plan_whose_vif_does_not_exist(monkeypatch):
    """The planner plans nothing for a missing vif; pre-flight must still run."""
    from xapictl.errors import PreflightError
    from xapictl.local.desired import HostNetwork, VifSpec
    from xapictl.local.observe import HostSnapshot, Link

    snap = HostSnapshot({"xenbr0": Link("xenbr0", 2, "bridge", up=True)})
    monkeypatch.setattr(apply_mod.netlink, "open_ipr", lambda netns: RefusingIPRoute())
    monkeypatch.setattr(apply_mod, "observe", lambda ipr: snap)
    desired = HostNetwork(vifs=(VifSpec("vif7.0", "xenbr0"),), probes=())
    assert apply_mod.plan(desired, snap).is_empty
    with pytest.raises(PreflightError, match=r"vif vif7\.0: no such device"):
        apply_mod.apply(desired, run_probe=False)
    store = MemoryStore({f"{XB}/bridge": "xenbr0"})
    result = run_hotplug("online", {"XENBUS_PATH": XB, "vif": "vif7.0"}, store=store)
    assert result.error and store.data[f"{XB}/hotplug-status"] == "error"
    assert "no such device" in store.data[f"{XB}/hotplug-error"]
