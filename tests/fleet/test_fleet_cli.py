"""``xapictl rollout``, ``inventory`` and ``drift`` as a user types them, against simulated
pools served on loopback (a SimServer per pool)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
import typer
from typer.testing import CliRunner

import xapictl
from xapictl.cli import drift
from xapictl.sim.engine import Simulator
from xapictl.sim.inprocess import InProcessTransport
from xapictl.sim.server import SimServer

RECIPE = "version: 1\nnetworks:\n  - name: VLAN 105\n    vlan: 105\n    device: eth1\n"
PASSWORD = "pw-9f3e"
SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "inventory.schema.json"


def _app() -> typer.Typer:
    """The real root app, which mounts the three groups (and parses -o before or after)."""
    from xapictl.cli import app

    assert {"rollout", "inventory", "drift"} <= {g.name for g in app.registered_groups}
    return app


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
           ) -> Iterator[tuple[dict[str, Simulator], Path]]:
    monkeypatch.setenv("FLEET_PW", PASSWORD)
    monkeypatch.setenv("XAPICTL_JOURNAL", str(tmp_path / "journal.sqlite"))
    sims = {name: Simulator(scenario="seed", password=PASSWORD)
            for name in ("par1", "par2", "nyc1")}
    servers = {name: SimServer(sim).start() for name, sim in sims.items()}
    try:
        fleet = tmp_path / "fleet.yaml"
        fleet.write_text("version: 1\ndefaults:\n  credentials: env:FLEET_PW\npools:\n" + "".join(
            f"  - name: {n}\n    url: {s.url}\n    tags: [{'us' if n == 'nyc1' else 'eu'}]\n"
            for n, s in servers.items()))
        (tmp_path / "vlan.yaml").write_text(RECIPE)
        yield sims, tmp_path
    finally:
        for s in servers.values():
            s.stop()


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(_app(), list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_rollout_recipe_first_form_runs_and_journals(
        served: tuple[dict[str, Simulator], Path]) -> None:
    sims, d = served
    code, out, err = _invoke("rollout", str(d / "vlan.yaml"), "--fleet", str(d / "fleet.yaml"),
                             "--select", "tag:eu", "--yes", "-o", "json", "--batch-size", "1")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["state"] == "done" and summary["counts"] == {"done": 2}
    assert [p["pool"] for p in summary["pools"]] == ["par1", "par2"]
    assert all(s.open_session_count() == 0 for s in sims.values())

    code, out, _ = _invoke("rollout", "list", "-o", "json")
    assert code == 0 and json.loads(out)["items"][0]["id"] == summary["rollout"]
    code, out, _ = _invoke("rollout", "status", str(summary["rollout"]), "-o", "json")
    status = json.loads(out)
    assert status["state"] == "done" and len(status["steps"]) == 4
    code, out, _ = _invoke("rollout", "audit", str(summary["rollout"]), "--format", "csv")
    lines = out.splitlines()
    assert lines[0].startswith("at,rollout,pool,host,call") and len(lines) == 5
    assert PASSWORD not in out


def test_rollout_without_yes_off_a_terminal_refuses_and_writes_nothing(
        served: tuple[dict[str, Simulator], Path]) -> None:
    sims, d = served
    code, _, err = _invoke("rollout", "run", str(d / "vlan.yaml"), "--fleet",
                           str(d / "fleet.yaml"), "--quiet")
    assert code == 2 and "--yes" in err
    with sims["par1"].state.lock:
        assert not sims["par1"].state.find("network", name_label="VLAN 105")


def test_rollout_resume_of_an_unknown_id_is_a_usage_error(
        served: tuple[dict[str, Simulator], Path]) -> None:
    code, _, err = _invoke("rollout", "status", "999")
    assert code == 2 and "no rollout 999" in err


def test_inventory_export_of_a_fleet_validates_and_diffs_clean(
        served: tuple[dict[str, Simulator], Path]) -> None:
    sims, d = served

    def export(name: str) -> Path:
        out = d / name
        code, _, err = _invoke("inventory", "export", "--fleet", str(d / "fleet.yaml"),
                               "--format", "json", "--out", str(out))
        assert code == 0, err
        return out

    first, second = export("first.json"), export("second.json")  # two reads, same pools
    doc = json.loads(first.read_text())
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    assert sorted(p["source"] for p in doc["pools"]) == ["nyc1", "par1", "par2"]
    code, stdout, _ = _invoke("inventory", "diff", str(first), str(second))
    assert (code, stdout) == (0, "")
    with xapictl.connect("http://127.0.0.1", password=PASSWORD,
                         transport=InProcessTransport(sims["par2"])) as conn:
        net = conn.call("network.create", {"name_label": "between", "name_description": "",
                                           "MTU": 1500, "other_config": {}})
        conn.call("network.set_MTU", net, 9000)
    code, stdout, _ = _invoke("inventory", "diff", str(second), str(export("third.json")))
    assert code == 3 and stdout.count("\n") == 1 and stdout.startswith("+ network"), stdout
    assert "between" in stdout
    code, _, _ = _invoke("inventory", "export", "--fleet", str(d / "fleet.yaml"),
                         "--format", "csv", "--out", str(d / "csv"))
    assert code == 0 and (d / "csv" / "vifs.csv").read_text().startswith("uuid,pool,vm")


def test_inventory_diff_shows_changes_and_exits_3(
        served: tuple[dict[str, Simulator], Path]) -> None:
    _, d = served
    fleet = str(d / "fleet.yaml")
    _invoke("inventory", "export", "--fleet", fleet, "--format", "ndjson", "-O", str(d / "a"))
    _invoke("rollout", str(d / "vlan.yaml"), "--fleet", fleet, "--select", "par1", "--yes",
            "--quiet")
    _invoke("inventory", "export", "--fleet", fleet, "--format", "ndjson", "-O", str(d / "b"))
    code, out, _ = _invoke("inventory", "diff", str(d / "a"), str(d / "b"))
    assert code == 3
    assert "+ network" in out and "+ vlan" in out


def test_drift_exits_with_its_own_code_when_hosts_disagree(
        served: tuple[dict[str, Simulator], Path]) -> None:
    sims, d = served
    fleet = str(d / "fleet.yaml")
    code, _, err = _invoke("drift", "--fleet", fleet)
    assert code == 0, err
    sim = sims["nyc1"]
    with sim.state.lock:
        pif = next(r for r, p in sim.state.all("PIF").items()
                   if p["device"] == "eth2" and p["VLAN"] == -1)
        sim.state.set_field("PIF", pif, "MTU", 9000)
    code, out, _ = _invoke("drift", "--fleet", fleet)
    assert code == drift.DRIFT_FOUND
    assert out.startswith("nyc1: [mtu-mismatch]")
    code, out, _ = _invoke("drift", "--fleet", fleet, "-o", "json")
    assert json.loads(out)["findings"][0]["kind"] == "mtu-mismatch"


def test_inventory_watch_from_a_base_export_ends_at_the_pools_state(
        served: tuple[dict[str, Simulator], Path]) -> None:
    import threading

    from xapictl.inventory import apply, diff, formats
    from xapictl.inventory.diff import Change

    sims, d = served
    fleet = str(d / "fleet.yaml")
    _invoke("inventory", "export", "--fleet", fleet, "-O", str(d / "base.json"))
    result: dict[str, tuple[int, str, str]] = {}
    watcher = threading.Thread(target=lambda: result.setdefault("watch", _invoke(
        "inventory", "watch", "--fleet", fleet, "--base", str(d / "base.json"),
        "--state", str(d / "state.json"), "--timeout", "1", "--max-seconds", "4")))
    watcher.start()
    for sim in sims.values():  # the pools change while the stream runs
        with xapictl.connect("http://127.0.0.1", password=PASSWORD,
                             transport=InProcessTransport(sim)) as conn:
            net = conn.call("network.create", {"name_label": "late", "name_description": "",
                                               "MTU": 1500, "other_config": {}})
            conn.call("network.set_MTU", net, 9000)
    watcher.join(30)
    code, out, err = result["watch"]
    assert code == 0, err
    _invoke("inventory", "export", "--fleet", fleet, "-O", str(d / "final.json"))
    base, final = formats.read(d / "base.json"), formats.read(d / "final.json")
    events = [Change.from_json(json.loads(line)) for line in out.splitlines()]
    assert events and diff(apply(base, events), final) == []
    state = json.loads((d / "state.json").read_text())
    assert len(state["tokens"]) == 3
    from xapictl.inventory.document import Inventory
    assert diff(Inventory.from_document(state["inventory"]), final) == []


def test_rollout_shows_the_summary_and_live_progress_on_stderr(
        served: tuple[dict[str, Simulator], Path]) -> None:
    _, d = served
    code, out, err = _invoke("rollout", str(d / "vlan.yaml"), "--fleet", str(d / "fleet.yaml"),
                             "--yes", "--canary", "1", "--batch-size", "2")
    assert code == 0, err
    assert out == ""
    assert "3 pool(s) planned: 3 with changes" in err
    assert "par1: 2 change(s)" in err
    assert "rollout" in err and "nyc1" in err and "done" in err
    assert err.rstrip().splitlines()[-1].startswith("rollout 1: done in ")


def test_without_a_fleet_the_commands_use_the_global_pool(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XAPICTL_EMBEDDED_STATE", str(tmp_path / "embedded.sqlite"))
    code, out, err = _invoke("inventory", "export", "--format", "ndjson")
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[0]["object"] == "inventory"
    assert {line["object"] for line in lines[1:]} >= {"pool", "host", "pif", "network", "vm"}
    code, _, err = _invoke("drift")
    assert code == 0, err


def test_the_real_root_app_mounts_the_groups_with_global_options(
        served: tuple[dict[str, Simulator], Path], tmp_path: Path) -> None:
    from xapictl.cli import app as root_app

    sims, _ = served
    with SimServer(sims["par1"]) as server:
        (tmp_path / "pw").write_text(PASSWORD + "\n")
        result = CliRunner().invoke(root_app, [
            "--url", server.url, "--password-file", str(tmp_path / "pw"),
            "inventory", "export", "--format", "json"], catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
        doc = json.loads(result.stdout)
        assert doc["pools"][0]["source"] == server.url
        result = CliRunner().invoke(root_app, [
            "--url", server.url, "--password-file", str(tmp_path / "pw"), "drift"],
            catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
    result = CliRunner().invoke(root_app, ["rollout", "list", "-o", "json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["items"] == []


def test_drift_with_an_unreadable_pool_exits_4_and_still_prints_the_findings(
        served: tuple[dict[str, Simulator], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    sims, d = served
    monkeypatch.setenv("WRONG_PW", "not-it")
    url = next(line.split()[-1] for line in (d / "fleet.yaml").read_text().splitlines()
               if "url:" in line)
    with (d / "fleet.yaml").open("a") as f:
        f.write(f"  - name: locked\n    url: {url}\n    credentials: env:WRONG_PW\n")
    sim = sims["nyc1"]
    with sim.state.lock:
        pif = next(r for r, p in sim.state.all("PIF").items()
                   if p["device"] == "eth2" and p["VLAN"] == -1)
        sim.state.set_field("PIF", pif, "MTU", 9000)
    code, out, err = _invoke("drift", "--fleet", str(d / "fleet.yaml"))
    assert code == 4, err
    assert out.startswith("nyc1: [mtu-mismatch]") and "pool locked not checked" in err


def test_watch_matches_a_fleet_base_by_pool_uuid_not_by_source(
        served: tuple[dict[str, Simulator], Path]) -> None:
    """A base exported with --url names its pools by URL: the changes missed since it are
    still emitted, since each pool finds its part by UUID."""
    from xapictl.inventory import apply, diff, formats
    from xapictl.inventory.diff import Change

    sims, d = served
    fleet = str(d / "fleet.yaml")
    _invoke("inventory", "export", "--fleet", fleet, "-O", str(d / "base.json"))
    doc = json.loads((d / "base.json").read_text())
    for pool in doc["pools"]:
        pool["source"] = "http://127.0.0.1:1"
    (d / "base.json").write_text(json.dumps(doc))
    for sim in sims.values():  # missed: made while no watch ran
        with xapictl.connect("http://127.0.0.1", password=PASSWORD,
                             transport=InProcessTransport(sim)) as conn:
            conn.call("network.create", {"name_label": "missed", "name_description": "",
                                         "MTU": 1500, "other_config": {}})
    code, out, err = _invoke("inventory", "watch", "--fleet", fleet, "--base",
                             str(d / "base.json"), "--timeout", "0.5", "--max-seconds", "2")
    assert code == 0, err
    _invoke("inventory", "export", "--fleet", fleet, "-O", str(d / "final.json"))
    events = [Change.from_json(json.loads(line)) for line in out.splitlines()]
    assert len([e for e in events if e.object == "network"]) == 3
    assert diff(apply(formats.read(d / "base.json"), events), formats.read(d / "final.json")
                ) == []


def _export_par1(d: Path) -> tuple[str, Path]:
    """The fleet file, and an export of its pool par1 alone."""
    fleet = str(d / "fleet.yaml")
    _invoke("inventory", "export", "--fleet", fleet, "--select", "par1", "-O",
            str(d / "par1.json"))
    return fleet, d / "par1.json"


def test_watch_refuses_a_base_that_lacks_a_watched_pool(
        served: tuple[dict[str, Simulator], Path]) -> None:
    fleet, base = _export_par1(served[1])
    code, out, err = _invoke("inventory", "watch", "--fleet", fleet, "--select", "par1 or par2",
                             "--base", str(base), "--timeout", "0.5", "--max-seconds", "5")
    assert code == 2 and "pool par2" in err and "has no part in the base" in err
    assert all(json.loads(line)["op"] != "del" for line in out.splitlines())


def test_watch_state_is_written_while_the_watch_runs(
        served: tuple[dict[str, Simulator], Path]) -> None:
    import threading

    _, d = served
    state = d / "state.json"
    result: dict[str, tuple[int, str, str]] = {}
    watcher = threading.Thread(target=lambda: result.setdefault("watch", _invoke(
        "inventory", "watch", "--fleet", str(d / "fleet.yaml"), "--state", str(state),
        "--timeout", "0.5", "--max-seconds", "8")))
    watcher.start()
    tick = threading.Event()
    for _ in range(100):  # the first batch is written at once, later ones at most every 5 s
        if state.exists():
            break
        tick.wait(0.05)
    assert watcher.is_alive() and json.loads(state.read_text())["tokens"]
    watcher.join(30)
    assert result["watch"][0] == 0, result["watch"][2]
    assert len(json.loads(state.read_text())["tokens"]) == 3  # and in full at the end


def test_watch_since_must_be_the_token_its_base_was_read_at(
        served: tuple[dict[str, Simulator], Path]) -> None:
    fleet, base = _export_par1(served[1])
    stored = next(iter(json.loads(base.read_text())["tokens"].values()))
    code, _, err = _invoke("inventory", "watch", "--fleet", fleet, "--select", "par1",
                           "--since", stored)
    assert code == 2 and "--base" in err
    code, _, err = _invoke("inventory", "watch", "--fleet", fleet, "--select", "par1",
                           "--base", str(base), "--since", "0" * 20 + ",1")
    assert code == 2 and stored in err
    code, out, err = _invoke("inventory", "watch", "--fleet", fleet, "--select", "par1",
                             "--base", str(base), "--since", stored,
                             "--timeout", "0.5", "--max-seconds", "1")
    assert (code, out) == (0, ""), err


def test_plan_only_prints_every_pools_plan_and_writes_nothing(
        served: tuple[dict[str, Simulator], Path]) -> None:
    sims, d = served
    args = ["rollout", str(d / "vlan.yaml"), "--fleet", str(d / "fleet.yaml"), "--plan-only"]
    code, out, err = _invoke(*args)
    assert code == 3, err
    assert out.splitlines()[0].startswith("3 pool(s) planned: 3 with changes")
    assert out.count("    + ") == 6, out  # two steps in each of the three pools
    code, out, _ = _invoke(*args, "-o", "json")
    assert code == 3 and [p["changes"] for p in json.loads(out)["pools"]] == [2, 2, 2]
    for sim in sims.values():
        with sim.state.lock:
            assert not sim.state.find("network", name_label="VLAN 105")
        assert sim.open_session_count() == 0
    code, out, _ = _invoke("rollout", "list", "-o", "json")
    assert json.loads(out)["items"] == []  # a plan is not a rollout: nothing journaled
    _invoke("rollout", str(d / "vlan.yaml"), "--fleet", str(d / "fleet.yaml"), "--yes", "-q")
    code, out, _ = _invoke(*args)
    assert code == 0 and "0 with changes, 3 already as desired" in out


def _invoke_root(*args: str) -> tuple[int, str, str]:
    from xapictl.cli import app as root_app

    result = CliRunner().invoke(root_app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_a_pool_that_cannot_be_read_is_reported_and_the_others_exported(
        served: tuple[dict[str, Simulator], Path]) -> None:
    _, d = served
    fleet = d / "fleet.yaml"
    # A pool at an address nothing listens on (a closed loopback port): refused at once.
    fleet.write_text(fleet.read_text() + "  - name: gone\n    url: http://127.0.0.1:9\n")
    # The global --timeout bounds how long the dead pool is retried.
    code, _, err = _invoke_root("--timeout", "1", "inventory", "export", "--fleet", str(fleet),
                           "-O", str(d / "inv.json"))
    assert code == 4 and "pool gone not exported" in err
    doc = json.loads((d / "inv.json").read_text())
    assert sorted(p["source"] for p in doc["pools"]) == ["nyc1", "par1", "par2"]
    code, _, err = _invoke_root("--timeout", "1", "drift", "--fleet", str(fleet))
    assert code == 4 and "pool gone not checked" in err
