"""RBAC as XAPI enforces it (§5): roles from the datamodel, exact denial parameters, the local
superuser, key-scoped permissions, and denials of Async calls failing the task."""

from __future__ import annotations

import pytest
import XenAPI
from sim_engine_pool import (
    PASSWORD,
    Pool,
    SimPool,
    failure,
    make_sim,
    served,
    session_of,
    xenapi_login,
)

from xapictl.sim.engine import Simulator

VDI_CREATE_DENIED = [
    "RBAC_PERMISSION_DENIED", "vdi.create",
    "No permission in user session. (Roles with this permission: pool-admin, pool-operator, "
    "vm-power-admin, vm-admin)"]


@pytest.fixture
def pool() -> SimPool:
    return make_sim()


def vdi_args(p: Pool) -> dict[str, object]:
    return {"name_label": "new", "SR": p.sr, "virtual_size": 1, "type": "user",
            "sharable": False, "read_only": False, "other_config": {}, "xenstore_data": {},
            "sm_config": {}, "tags": []}


@pytest.mark.parametrize("user", ["otto", "rita"])
def test_roles_below_the_message_roles_are_denied_with_permission_and_role_list(
        pool: SimPool, user: str) -> None:
    sim, p = pool
    with session_of(sim, user) as s:
        assert failure(sim.call, "VDI.create", [s, vdi_args(p)]) == VDI_CREATE_DENIED


@pytest.mark.parametrize("user", ["root", "alice", "olga", "pete", "vera"])
def test_roles_listed_for_the_message_may_call_it(pool: SimPool, user: str) -> None:
    sim, p = pool
    with session_of(sim, user) as s:
        ref = sim.call("VDI.create", [s, vdi_args(p)])
        assert sim.call("VDI.get_SR", [s, ref]) == p.sr


def test_read_only_reads_everything_but_writes_nothing(pool: SimPool) -> None:
    sim, p = pool
    with session_of(sim, "rita") as s:
        assert sim.call("SR.get_record", [s, p.sr])["name_label"] == "Local storage"
        assert sim.call("host.get_all_records_where", [s, "true"])
        assert failure(sim.call, "host.set_name_label", [s, p.hosts[0], "x"]) == [
            "RBAC_PERMISSION_DENIED", "host.set_name_label",
            "No permission in user session. (Roles with this permission: pool-admin, "
            "pool-operator)"]


def test_vm_operator_may_write_the_keys_xencenter_uses_but_no_others(pool: SimPool) -> None:
    sim, p = pool
    with session_of(sim, "otto") as s:
        sim.call("network.add_to_other_config", [s, p.network, "folder", "/lab"])
        sim.call("network.remove_from_other_config", [s, p.network, "folder"])
        sim.call("network.add_to_other_config", [s, p.network, "XenCenter.CustomFields.a", "1"])
        assert failure(sim.call, "network.add_to_other_config",
                       [s, p.network, "owner", "me"])[:2] == [
            "RBAC_PERMISSION_DENIED", "network.add_to_other_config"]


def test_async_call_by_a_weak_role_returns_a_task_that_fails_with_the_denial(
        pool: SimPool) -> None:
    sim, p = pool
    with session_of(sim, "rita") as s:
        task = sim.call("Async.VDI.create", [s, vdi_args(p)])
        sim.tasks.join(5)
        record = sim.call("task.get_record", [s, task])
        assert record["status"] == "failure"
        assert record["error_info"] == VDI_CREATE_DENIED


def test_session_permissions_are_lower_cased_method_names_of_the_role(pool: SimPool) -> None:
    sim, _ = pool
    with session_of(sim, "rita") as s:
        perms = set(sim.call("session.get_rbac_permissions", [s, s]))
        assert "vdi.get_record" in perms and "vdi.create" not in perms
        assert sim.call("session.get_is_local_superuser", [s, s]) is False
    with session_of(sim) as s:
        assert sim.call("session.get_is_local_superuser", [s, s]) is True
        assert "host.call_extension" in sim.call("session.get_rbac_permissions", [s, s])


def test_passwords_never_reach_the_session_record(pool: SimPool) -> None:
    sim, _ = pool
    with session_of(sim, "vera") as s:
        record = sim.call("session.get_record", [s, s])
        flat = [v for v in record.values() if not isinstance(v, list | dict)]
        flat += [x for v in record.values() if isinstance(v, list) for x in v]
        flat += [x for v in record.values() if isinstance(v, dict) for x in v.values()]
        assert PASSWORD not in flat
        assert record["auth_user_name"] == "vera"


def test_unknown_roles_are_refused_at_start() -> None:
    with pytest.raises(ValueError, match="unknown role"):
        Simulator(users={"kim": "superhero"})


def test_denials_reach_the_official_client_unchanged(pool: SimPool) -> None:
    sim, p = pool
    with served(sim) as server, xenapi_login(server.url, "otto") as xen:
        with pytest.raises(XenAPI.Failure) as info:
            xen.xenapi.VDI.create(vdi_args(p))
        assert info.value.details == VDI_CREATE_DENIED
