"""After the pre-write read, a run that writes reads only what changed (issue 12 item 1): the
lease's add carries an event token (older than that read), and the re-checks and verify are
one ``event.from`` from it applied to the pre-write read, not every record again. The result
is the pool as a whole read shows it; a change by someone else is seen; a refused token falls
back to whole reads."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "recipes"))
from recipes_simpool import SimPool

from xapictl.errors import VerificationError
from xapictl.plan.apply import converge
from xapictl.plan.backend import XapiBackend, classes_needed
from xapictl.recipes import ensure_vlan_network
from xapictl.state.snapshot import SNAPSHOT_CLASSES

VLAN105 = ensure_vlan_network("VLAN 105", 105, device="eth1")
CLASSES = classes_needed(VLAN105)


def tables(snap: Any) -> dict[str, Any]:
    return {attr: dict(getattr(snap, attr)) for attr in SNAPSHOT_CLASSES.values()}


def test_the_changes_since_the_pre_write_read_make_the_pool_as_a_whole_read_shows_it() -> None:
    pool = SimPool()
    with pool.connect() as conn:
        backend = XapiBackend(conn)
        snap = backend.collect(CLASSES)  # the plan's read: the lease is taken from it
        with backend.writing(CLASSES):
            before = backend.fresh(CLASSES)
            assert backend.current() is not None
            trunk = snap.pif_on(snap.master, "eth1")
            net = conn.call("network.create", {"name_label": "by hand", "other_config": {}})
            conn.call("pool.create_VLAN_from_PIF", trunk, net, 105)
            conn.call("network.set_name_description", net, "changed")
            made = conn.call("VLAN.get_all_records")
            gone = next(ref for ref, v in made.items() if v["tagged_PIF"] != trunk)
            conn.call("VLAN.destroy", gone)  # a deletion too
            pool.clear()
            now = backend.current()
            assert now is not None
            assert pool.control.methods_called() == ["event.from"]  # one small request
            whole = backend.collect(CLASSES)  # every record again
            assert backend.current(("VIF",)) is None  # not a class of that read: whole
        assert tables(now) == tables(whole)
        assert gone not in now.vlans and now.networks[net].name_description == "changed"
        assert len(now.vlans) == len(before.vlans) + len(made) - 1
        assert backend.current() is None  # outside the lease: whole reads again


def test_verify_sees_what_someone_else_undid_after_the_writes() -> None:
    """The VLAN is destroyed on one host as verify's read arrives: the changes since the
    pre-write read show it (a read that missed it would let verify pass)."""
    pool = SimPool()
    before_call = pool.control.before_call
    froms = [0]

    def undo_at_verify(host_address: str, method: str, **kw: Any) -> object:
        if method == "event.from":
            froms[0] += 1
            if froms[0] == 2:  # the re-check's, then verify's
                def call(name: str, *params: object) -> Any:
                    return pool.sim.call(name, list(params), protocol="jsonrpc")

                session = call("session.login_with_password", "root", pool.password, "2.21",
                               "test")
                vlan = next(ref for ref, v in call("VLAN.get_all_records", session).items()
                            if int(v["tag"]) == 105)
                call("VLAN.destroy", session, vlan)
                call("session.logout", session)
        return before_call(host_address, method, **kw)

    pool.control.before_call = undo_at_verify  # type: ignore[method-assign]
    with pytest.raises(VerificationError):
        pool.converge(VLAN105)
    assert froms[0] == 2


def test_a_refused_token_falls_back_to_whole_reads() -> None:
    pool = SimPool()
    pool.control.inject_fault("event.from", "error", error=("EVENTS_LOST",), times=5)
    result = pool.converge(VLAN105)
    assert result.replan is not None and result.replan.is_empty
    calls = pool.control.methods_called()
    assert calls.count("event.from") == 2  # the re-check's and verify's, both refused
    # the plan's read, the pre-write read, the re-check and verify read whole
    assert calls.count("PIF.get_all_records_where") == 4  # the recipe's PIFs (plan.scope)


def test_a_connection_without_events_reads_whole() -> None:
    pool = SimPool()
    with pool.connect() as conn:

        @dataclasses.dataclass
        class NoEvents:
            """The connection's reads and calls, without ``events``/``event_token``."""

            def call(self, method: str, *args: Any) -> Any:
                return conn.call(method, *args)

            def snapshot(self) -> Any:
                return conn.snapshot()

            def read_all(self, classes: Any, **scope: Any) -> Any:
                return conn.read_all(classes, **scope)

            def lease(self, **options: Any) -> Any:
                return conn.lease(**options)

        result = converge(VLAN105, XapiBackend(NoEvents()))
    assert result.replan is not None and result.replan.is_empty
    assert "event.from" not in pool.control.methods_called()
    assert "event.inject" not in pool.control.methods_called()
