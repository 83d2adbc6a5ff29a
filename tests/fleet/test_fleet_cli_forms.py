"""The fleet forms of the single-pool commands (``--fleet FILE [--select EXPR]``), typed as a
user types them into the real root app, against three simulated pools served on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from xapictl.plan.document import plan_document_schema
from xapictl.sim.engine import Simulator
from xapictl.sim.server import SimServer

PASSWORD = "pw-forms-41c2"
RECIPE = "version: 1\nnetworks:\n  - name: VLAN 105\n    vlan: 105\n    device: eth1\n"
CREATE = ["network", "create", "--name", "VLAN 105", "--vlan", "105", "--device", "eth1"]


@dataclass
class Served:
    sims: dict[str, Simulator]
    servers: dict[str, SimServer]
    dir: Path

    @property
    def fleet(self) -> str:
        return str(self.dir / "fleet.yaml")

    def write_fleet(self, urls: dict[str, str]) -> None:
        (self.dir / "fleet.yaml").write_text(
            "version: 1\ndefaults:\n  credentials: env:FORMS_PW\npools:\n" + "".join(
                f"  - name: {n}\n    url: {u}\n    tags: [{'us' if n == 'nyc1' else 'eu'}]\n"
                for n, u in urls.items()))

    def networks(self, pool: str, name: str = "VLAN 105") -> list[dict[str, object]]:
        sim = self.sims[pool]
        with sim.state.lock:
            return [dict(r) for r in sim.state.all("network").values()
                    if r["name_label"] == name]

    def vlan_pifs(self, pool: str) -> int:
        sim = self.sims[pool]
        with sim.state.lock:
            return sum(1 for p in sim.state.all("PIF").values() if p["VLAN"] == 105)


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setenv("FORMS_PW", PASSWORD)
    monkeypatch.setenv("XAPICTL_JOURNAL", str(tmp_path / "journal.sqlite"))
    monkeypatch.setenv("XAPICTL_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    sims = {n: Simulator(scenario="seed", password=PASSWORD) for n in ("par1", "par2", "nyc1")}
    servers = {n: SimServer(sim).start() for n, sim in sims.items()}
    try:
        s = Served(sims, servers, tmp_path)
        s.write_fleet({n: srv.url for n, srv in servers.items()})
        (tmp_path / "vlan.yaml").write_text(RECIPE)
        yield s
    finally:
        for srv in servers.values():
            srv.stop()


def _cli(*args: str) -> tuple[int, str, str]:
    from xapictl.cli import app

    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _rollouts() -> list[dict[str, object]]:
    code, out, _ = _cli("rollout", "list", "-o", "json")
    assert code == 0
    rows: list[dict[str, object]] = json.loads(out)["items"]
    return rows


def _by_pool(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """A fleet document's items by pool, each without its ``pool`` key."""
    out: dict[str, list[dict[str, Any]]] = {}
    for item in doc["items"]:
        out.setdefault(item["pool"], []).append({k: v for k, v in item.items() if k != "pool"})
    return out


def _single(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """A single-pool document's objects, as ``_by_pool`` gives them."""
    envelope = {"kind", "schema_version", "pool"}
    if "items" in doc:
        return [{k: v for k, v in i.items() if k != "pool"} for i in doc["items"]]
    return [{k: v for k, v in doc.items() if k not in envelope}]


def test_network_list_across_pools_is_one_table_with_a_pool_column(served: Served) -> None:
    code, out, err = _cli("network", "list", "--fleet", served.fleet)
    assert code == 0, err
    header, *rows = [line.split() for line in out.splitlines()]
    assert header[:2] == ["Pool", "Name"]
    pools = [r[0] for r in rows]
    assert sorted(set(pools)) == ["nyc1", "par1", "par2"]
    assert pools.count("par1") == len(served.sims["par1"].state.all("network"))

    code, out, err = _cli("-o", "json", "network", "list", "--fleet", served.fleet,
                          "--select", "tag:eu")
    assert code == 0, err
    doc = _by_pool(json.loads(out))
    assert list(doc) == ["par1", "par2"]
    assert {n["name"] for n in doc["par2"]} >= {"Pool-wide network 0"}


@pytest.mark.parametrize("command", [["vlan", "list"], ["pif", "list"], ["host", "list"],
                                     ["pool", "show"], ["vif", "list"],
                                     ["vif", "list", "--vm", "web-01"],
                                     ["network", "show", "Pool-wide network 0"]])
def test_every_read_command_takes_a_fleet_and_keys_its_json_by_pool(
        served: Served, command: list[str]) -> None:
    (served.dir / "pw").write_text(PASSWORD)
    single = ["--url", served.servers["par1"].url, "--password-file", str(served.dir / "pw")]
    assert _cli(*single, "-q", *CREATE)[0] == 0  # VLANs and VLAN PIFs on par1, not on nyc1
    code, out, err = _cli("-o", "json", *command, "--fleet", served.fleet,
                          "--select", "par1,nyc1")
    assert code == 0, err
    doc = _by_pool(json.loads(out))
    assert "par1" in doc and set(doc) <= {"par1", "nyc1"}  # a pool with no item is absent
    for pool in ("par1", "nyc1"):  # each pool's part is what the single-pool command shows
        code, out, err = _cli("--url", served.servers[pool].url, "--password-file",
                              str(served.dir / "pw"), "-o", "json", *command)
        assert code == 0, err
        assert doc.get(pool, []) == _single(json.loads(out))


def test_a_pool_that_is_down_is_reported_exit_4_and_the_others_shown(served: Served) -> None:
    urls = {n: s.url for n, s in served.servers.items()}
    served.write_fleet({**urls, "gone": "http://127.0.0.1:9"})  # nothing listens there
    code, out, err = _cli("--timeout", "1", "-o", "json", "host", "list",
                          "--fleet", served.fleet)
    assert code == 4
    assert "pool gone not read" in err
    assert list(_by_pool(json.loads(out))) == ["par1", "par2", "nyc1"]
    code, out, err = _cli("--timeout", "1", "pool", "show", "--fleet", served.fleet)
    assert code == 4 and "pool gone not read" in err
    assert [line for line in out.splitlines() if line.startswith("pool ")] == [
        "pool par1", "pool par2", "pool nyc1"]


def test_plan_across_pools_exits_3_and_writes_nothing(served: Served) -> None:
    code, out, err = _cli("plan", str(served.dir / "vlan.yaml"), "--fleet", served.fleet)
    assert code == 3, err
    assert out.splitlines()[0].startswith("3 pool(s) planned: 3 with changes")
    assert [line.split(":")[0].strip() for line in out.splitlines()
            if line.endswith("change(s)")] == ["par1", "par2", "nyc1"]
    code, out, _ = _cli("-o", "json", "plan", str(served.dir / "vlan.yaml"),
                        "--fleet", served.fleet, "--select", "nyc1")
    assert code == 3 and [p["pool"] for p in json.loads(out)["pools"]] == ["nyc1"]
    document = json.loads(out)["pools"][0]["plan"]
    jsonschema.Draft202012Validator(plan_document_schema()).validate(document)
    assert [c["action"] for c in document["changes"]] == ["create", "create"]
    assert document["pool_uuid"], "the structured plan of each pool names its pool"
    assert all(not served.networks(n) for n in served.sims)
    assert _rollouts() == []


def test_network_create_across_a_fleet_is_a_rollout_and_a_rerun_writes_nothing(
        served: Served) -> None:
    code, _, err = _cli("-q", *CREATE, "--fleet", served.fleet, "--select", "tag:eu", "--yes")
    assert code == 0, err
    assert [len(served.networks(n)) for n in ("par1", "par2", "nyc1")] == [1, 1, 0]
    assert served.vlan_pifs("par1") == served.vlan_pifs("par2") == 3
    first = _rollouts()[0]
    assert first["state"] == "done" and first["pools"] == {"done": 2}

    code, _, err = _cli("-q", *CREATE, "--fleet", served.fleet, "--select", "tag:eu", "--yes")
    assert code == 0, err
    assert [len(served.networks(n)) for n in ("par1", "par2")] == [1, 1]
    again = _rollouts()[0]
    code, out, _ = _cli("rollout", "audit", str(again["id"]))
    assert code == 0 and json.loads(out) == []  # the second rollout sent no write
    code, out, _ = _cli("rollout", "audit", str(first["id"]))
    assert len(json.loads(out)) > 0


def test_a_fleet_rollout_from_options_is_finished_by_rollout_resume(served: Served) -> None:
    urls = {n: s.url for n, s in served.servers.items()}
    served.write_fleet({**urls, "nyc1": "http://127.0.0.1:9"})  # nyc1 unreachable for now
    code, _, _ = _cli("--timeout", "1", "-q", *CREATE, "--fleet", served.fleet, "--yes")
    assert code == 4  # nyc1 cannot be planned: the budget (0) is spent, nothing is applied
    assert all(not served.networks(n) for n in served.sims)
    rollout = _rollouts()[0]
    served.write_fleet(urls)  # nyc1 is back
    code, _, err = _cli("rollout", "resume", str(rollout["id"]), "--yes", "-q")
    assert code == 0, err
    assert [len(served.networks(n)) for n in ("par1", "par2", "nyc1")] == [1, 1, 1]
    assert _rollouts()[0]["state"] == "done"


def test_network_set_mtu_and_delete_across_a_fleet_touch_only_pools_that_have_it(
        served: Served) -> None:
    assert _cli("-q", *CREATE, "--fleet", served.fleet, "--select", "tag:eu", "--yes")[0] == 0
    code, _, err = _cli("-q", "network", "set-mtu", "VLAN 105", "9000", "--raise-trunk-mtu",
                        "--fleet", served.fleet, "--yes")
    assert code == 0, err
    assert [n["MTU"] for p in ("par1", "par2") for n in served.networks(p)] == [9000, 9000]
    assert [n["MTU"] for p in ("par1", "par2", "nyc1")  # the trunk raised where the VLAN is
            for n in served.networks(p, "Pool-wide network 1")] == [9000, 9000, 1500]
    assert not served.networks("nyc1")  # not created where it was not
    code, _, err = _cli("-q", "network", "delete", "VLAN 105", "--fleet", served.fleet,
                        "--yes")
    assert code == 0, err
    assert all(not served.networks(n) for n in served.sims)
    assert served.vlan_pifs("par1") == 0


def test_apply_and_vif_attach_across_a_fleet(served: Served) -> None:
    code, _, err = _cli("-q", "apply", str(served.dir / "vlan.yaml"), "--fleet", served.fleet,
                        "--select", "nyc1", "--yes")
    assert code == 0, err
    assert len(served.networks("nyc1")) == 1 and not served.networks("par1")
    code, _, err = _cli("-q", "vif", "attach", "web-01", "VLAN 105", "--device", "3",
                        "--fleet", served.fleet, "--select", "nyc1", "--yes")
    assert code == 0, err
    code, out, _ = _cli("-o", "json", "vif", "list", "--vm", "web-01", "--fleet",
                        served.fleet, "--select", "nyc1")
    assert {v["network"] for v in _by_pool(json.loads(out))["nyc1"]
            if v["device"] == 3} == {"VLAN 105"}


@pytest.mark.parametrize(("problem", "said"), [
    ("bad-file", "fleet file version 9"), ("no-match", "matches no pool"),
    ("no-yes", "give --yes"), ("bad-value", "--vlan: 5000"),
    ("unknown-network", "no selected pool has a network 'VLAN 999'")])
def test_validation_errors_exit_2_with_zero_writes(served: Served, problem: str, said: str
                                                   ) -> None:
    args = [*CREATE, "--fleet", served.fleet, "--yes"]
    if problem == "bad-file":
        (served.dir / "fleet.yaml").write_text("version: 9\npools: []\n")
    elif problem == "no-match":
        args += ["--select", "tag:asia"]
    elif problem == "no-yes":
        args.remove("--yes")
    elif problem == "bad-value":
        args[args.index("105")] = "5000"
    else:
        args = ["network", "delete", "VLAN 999", "--fleet", served.fleet, "--yes"]
    code, _, err = _cli("-q", *args)
    assert code == 2, err
    assert err.splitlines()[-1].startswith("xapictl: ") and said in err
    assert all(not served.networks(n) for n in served.sims)
    assert _rollouts() == [] or problem == "no-yes"


def test_a_delete_does_not_pass_over_a_pool_it_could_not_read(served: Served) -> None:
    assert _cli("-q", *CREATE, "--fleet", served.fleet, "--yes")[0] == 0
    urls = {n: s.url for n, s in served.servers.items()}
    served.write_fleet({**urls, "gone": "http://127.0.0.1:9"})
    code, _, err = _cli("--timeout", "1", "-q", "network", "delete", "VLAN 105", "--fleet",
                        served.fleet, "--yes")
    assert code == 4, err  # the budget (0 failures) is spent before any pool is started
    assert [len(served.networks(n)) for n in served.sims] == [1, 1, 1]
    code, out, _ = _cli("rollout", "status", str(_rollouts()[0]["id"]), "-o", "json")
    assert {p["pool"]: p["state"] for p in json.loads(out)["pools"]}["gone"] == "failed"


def test_pif_set_ip_across_a_fleet(served: Served) -> None:
    """The same host name and NIC on each selected pool: addressed there, the others left."""
    def eth1(pool: str) -> list[str]:
        state = served.sims[pool].state
        return [p["IP"] for p in state.all("PIF").values()
                if p["device"] == "eth1" and p["VLAN"] == -1
                and state.get("host", p["host"])["name_label"] == "xcp-host-02"]

    code, _, err = _cli("-q", "pif", "set-ip", "xcp-host-02", "eth1", "--mode", "static",
                        "--address", "203.0.113.12/24", "--fleet", served.fleet, "--select",
                        "tag:eu", "--yes")
    assert code == 0, err
    assert [eth1(p) for p in ("par1", "par2", "nyc1")] == [
        ["203.0.113.12"], ["203.0.113.12"], [""]]


def test_bond_create_set_mode_and_delete_across_a_fleet(served: Served) -> None:
    """Bonds made on the EU pools only; set-mode and delete read the members from each pool
    and touch only the pools that have the bond."""
    def bonds(pool: str) -> list[str]:
        state = served.sims[pool].state
        return sorted(state.get("Bond", b)["mode"] for b in state.refs("Bond"))

    bond = ("bond", "create", "--members", "eth1,eth2", "--mode", "lacp")
    code, _, err = _cli("-q", *bond, "--fleet", served.fleet, "--select", "tag:eu", "--yes")
    assert code == 0, err
    assert [bonds(p) for p in ("par1", "par2", "nyc1")] == [["lacp"] * 3, ["lacp"] * 3, []]
    code, _, err = _cli("-q", "bond", "set-mode", "Bond eth1+eth2", "active-backup",
                        "--fleet", served.fleet, "--yes")
    assert code == 0, err
    assert [bonds(p) for p in ("par1", "par2", "nyc1")] == [
        ["active-backup"] * 3, ["active-backup"] * 3, []]
    code, _, err = _cli("-q", "bond", "delete", "Bond eth1+eth2", "--fleet", served.fleet,
                        "--yes")
    assert code == 0, err
    assert all(bonds(p) == [] for p in served.sims)


def _forget_eth1(sim: Simulator, host_name: str) -> None:
    """NIC eth1 of ``host_name`` loses its PIF (as after PIF.forget): a scan finds it again."""
    with sim.state.lock:
        host = next(h for h in sim.state.refs("host")
                    if sim.state.get("host", h)["name_label"] == host_name)
        eth1 = next(p for p in sim.state.get("host", host)["PIFs"]
                    if sim.state.get("PIF", p)["device"] == "eth1")
    from xapictl.sim.classes import _nics

    nic = next(n for n in _nics.of_host(sim.state, host) if n.device == "eth1")
    with sim.state.lock:
        _nics.add(sim.state, host, nic)  # the NIC stays in the host's inventory
        sim.state.destroy("PIF", eth1)


def test_pif_scan_on_a_fleet_scans_each_selected_pool_and_names_the_pools(served) -> None:
    _forget_eth1(served.sims["par1"], "xcp-host-02")
    _forget_eth1(served.sims["par2"], "xcp-host-03")
    _forget_eth1(served.sims["nyc1"], "xcp-host-01")
    code, out, err = _cli("-o", "json", "pif", "scan", "--fleet", served.fleet,
                          "--select", "tag:eu")
    assert code == 0, err
    found = [(i["pool"], i["host"], i["device"]) for i in json.loads(out)["items"]]
    assert sorted(found) == [("par1", "xcp-host-02", "eth1"), ("par2", "xcp-host-03", "eth1")]
    audit = [json.loads(line) for line in
             (served.dir / "audit.jsonl").read_text(encoding="utf-8").splitlines()]
    scans = sorted((r["pool"], r["outcome"]) for r in audit if r.get("method") == "PIF.scan")
    assert scans == sorted([("par1", "intent"), ("par1", "ok")] * 3  # a scan per live host
                           + [("par2", "intent"), ("par2", "ok")] * 3)
    assert "xcp-host-01" not in {h for _, h, _ in found}, "nyc1 was not selected"
    code, out, _ = _cli("-o", "json", "pif", "scan", "--fleet", served.fleet)
    assert code == 0 and [(i["pool"], i["host"]) for i in json.loads(out)["items"]] == [
        ("nyc1", "xcp-host-01")]


def test_pif_scan_on_a_fleet_reports_a_pool_without_the_host_and_scans_the_others(served
                                                                                   ) -> None:
    served.sims["par2"].state.set_field(
        "host", next(h for h in served.sims["par2"].state.refs("host")
                     if served.sims["par2"].state.get("host", h)["name_label"] == "xcp-host-02"),
        "name_label", "renamed")
    _forget_eth1(served.sims["par1"], "xcp-host-02")
    code, out, err = _cli("-o", "json", "pif", "scan", "xcp-host-02", "--fleet", served.fleet,
                          "--select", "par1,par2")
    assert code == 4
    assert [(i["pool"], i["host"]) for i in json.loads(out)["items"]] == [("par1", "xcp-host-02")]
    assert "pool par2 not read" in err and "no host named 'xcp-host-02'" in err


def test_network_show_across_a_fleet_has_each_pools_virtual_functions(served: Served) -> None:
    """The fleet form reads each SR-IOV NIC's remaining VFs as the one-pool form does (they
    were null across a fleet)."""
    (served.dir / "pw").write_text(PASSWORD)
    for pool in ("par1", "par2"):
        served.sims[pool].reset("sriov")
        single = ["--url", served.servers[pool].url, "--password-file", str(served.dir / "pw")]
        code, _, err = _cli(*single, "-q", "network", "create", "--name", "VF", "--sriov",
                            "--device", "eth1", "--yes")
        assert code == 0, err
    code, out, err = _cli("-o", "json", "network", "show", "VF", "--fleet", served.fleet,
                          "--select", "tag:eu")
    assert code == 0, err
    doc = _by_pool(json.loads(out))
    assert list(doc) == ["par1", "par2"]
    for pool in ("par1", "par2"):
        pifs = doc[pool][0]["pifs"]
        assert {(p["vfs_free"], p["vfs_total"]) for p in pifs} == {(8, 8)}
        code, single_out, err = _cli("--url", served.servers[pool].url, "--password-file",
                                     str(served.dir / "pw"), "-o", "json", "network", "show",
                                     "VF")
        assert code == 0, err
        assert doc[pool] == _single(json.loads(single_out))
