"""A small pool built straight into the state, so the engine tests do not depend on the
scenarios: three hosts (127.0.0.1 is the master), an SR with a VDI, a network, a message,
and users of every role (all with the password ``secret``)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from xapictl.sim.engine import Simulator
from xapictl.sim.errors import SimFailure
from xapictl.sim.state import SimState

PASSWORD = "secret"
ROLE_USERS = {
    "alice": "pool-admin",
    "olga": "pool-operator",
    "pete": "vm-power-admin",
    "vera": "vm-admin",
    "otto": "vm-operator",
    "rita": "read-only",
}


@dataclass
class Pool:
    hosts: list[str]
    pool: str
    sr: str
    vdi: str
    network: str
    message: str


def build_pool(state: SimState, hosts: int = 3) -> Pool:
    with state.lock:
        refs = []
        for i in range(hosts):
            metrics = state.create("host_metrics", {"live": True})
            refs.append(state.create("host", {
                "name_label": f"host{i}", "hostname": f"host{i}",
                "address": f"127.0.0.{i + 1}", "metrics": metrics, "enabled": True}))
        pool = state.create("pool", {"name_label": "pool", "master": refs[0]})
        sr = state.create("SR", {"name_label": "Local storage", "type": "ext",
                                 "other_config": {"i18n-key": "local-storage"}})
        vdi = state.create("VDI", {"name_label": "disk0", "SR": sr, "virtual_size": 10 << 30,
                                   "tags": ["b", "a"]})
        network = state.create("network", {"name_label": "Pool-wide network 0",
                                           "bridge": "xenbr0", "MTU": 1500})
        message = state.create("message", {"name": "HOST_OFFLINE", "priority": 3,
                                           "cls": "Host", "obj_uuid": "x", "body": "down"})
    return Pool(refs, pool, sr, vdi, network, message)


SimPool = tuple[Simulator, Pool]


def make_sim(**kwargs: Any) -> SimPool:
    sim = Simulator(password=PASSWORD, users=ROLE_USERS, **kwargs)
    return sim, sim.transact(lambda: build_pool(sim.state))


def failure(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> list[str]:
    """The ErrorDescription a call fails with (the test fails if it succeeds)."""
    try:
        fn(*args, **kwargs)
    except SimFailure as exc:
        return exc.description
    raise AssertionError(f"expected a XAPI failure from {fn!r}{args!r}")


@contextlib.contextmanager
def session_of(sim: Simulator, user: str = "root") -> Iterator[str]:
    ref = sim.call("session.login_with_password", [user, PASSWORD, "1.0", "tests"])
    try:
        yield ref
    finally:
        with contextlib.suppress(SimFailure):
            sim.call("session.logout", [ref])


class JsonRpc:
    """Raw JSON-RPC v2 over httpx to a served simulator: ``rpc("SR.get_all", session)``."""

    def __init__(self, url: str, version: str = "2.0") -> None:
        import httpx

        self.client = httpx.Client(base_url=url, timeout=30)
        self.version = version

    def __call__(self, method: str, *params: Any) -> Any:
        body: dict[str, Any] = {"method": method, "params": list(params), "id": 7}
        if self.version == "2.0":
            body["jsonrpc"] = "2.0"
        reply = self.client.post("/jsonrpc", json=body)
        reply.raise_for_status()
        data = reply.json()
        if self.version == "2.0":
            if "error" in data:
                raise SimFailure(data["error"]["message"], *data["error"]["data"])
            return data["result"]
        if data["error"] is not None:
            raise SimFailure(*data["error"])
        return data["result"]

    def close(self) -> None:
        self.client.close()


@contextlib.contextmanager
def served(sim: Simulator) -> Iterator[Any]:
    from xapictl.sim.server import SimServer

    with SimServer(sim) as server:
        yield server


@contextlib.contextmanager
def xenapi_login(url: str, user: str = "root") -> Iterator[Any]:
    import XenAPI

    # The context manager closes the transport (``session.close`` would be sent as a call).
    with XenAPI.Session(url) as session:
        session.login_with_password(user, PASSWORD, "1.0", "xapictl-tests")
        try:
            yield session
        finally:
            with contextlib.suppress(Exception):
                session.xenapi.session.logout()


def persist_writer(path: str, name: str, count: int) -> int:
    """Child-process body for the concurrency test: ``count`` creates on a shared state file."""
    from pathlib import Path

    sim = Simulator(password=PASSWORD, state_file=Path(path))
    try:
        session = sim.call("session.login_with_password", ["root", PASSWORD])
        for i in range(count):
            sim.call("VM_appliance.create", [session, {"name_label": f"{name}-{i}"}])
            sim.call("VDI.add_tags", [session, sim.call("VDI.get_all", [session])[0],
                                      f"{name}-{i}"])
        sim.call("session.logout", [session])
        return count
    finally:
        sim.close()
