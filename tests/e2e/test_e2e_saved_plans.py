"""Saved plans through the CLI against a simulator on loopback: ``plan RECIPE --out FILE``
then ``apply FILE`` sends exactly the saved calls (counted in the simulator's request log);
a plan the pool has moved away from, an expired one, one for another pool, an altered or
garbled file are refused before the first write; ``-`` reads a recipe (or a saved plan)
from stdin."""

from __future__ import annotations

import datetime as dt
import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from xapictl.cli.exit_codes import ExitCode
from xapictl.plan.document import PlanDocument, apply_document_schema, plan_document_schema

ROOT = Path(__file__).resolve().parents[2]
STORAGE = ROOT / "recipes" / "storage-network.yaml"  # rename, set MTU, re-plug: disruptive
TRUNK = ROOT / "recipes" / "trunk-vlans.yaml"  # creates: placeholders for refs not made yet


def _saved_calls(path: Path) -> list[str]:
    data = json.loads(path.read_text())
    return [c["method"] for change in data["changes"] for c in change["calls"]]


def _reseal(path: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    """Edit a saved plan as if it had been written so (the digest made again)."""
    from xapictl.plan.saved import dumps, seal

    data = json.loads(path.read_text())
    edit(data)
    doc = PlanDocument.model_validate(data)
    assert doc.saved is not None
    doc = doc.model_copy(update={"saved": doc.saved.model_copy(update={"digest": seal(doc)})})
    path.write_text(dumps(doc))


@pytest.fixture
def saved(cli, tmp_path: Path) -> Callable[[Path], Path]:
    def make(recipe: Path) -> Path:
        out = tmp_path / "plan.json"
        ran = cli("plan", str(recipe), "--out", str(out))
        assert ran.code == ExitCode.CHANGES_PENDING, ran.stderr
        assert f"Saved the plan to {out}" in ran.stdout
        return out
    return make


@pytest.fixture
def by_hand(jsonrpc) -> Callable[..., Any]:
    session = jsonrpc("session.login_with_password", "root", "xapictl", "2.21", "t")

    def call(method: str, *params: Any) -> Any:
        return jsonrpc(method, session, *params)
    return call


def _eth2_network(by_hand) -> str:
    pifs = by_hand("PIF.get_all_records")
    return next(p["network"] for p in pifs.values() if p["device"] == "eth2" and p["VLAN"] == -1)


@pytest.mark.parametrize("recipe", [STORAGE, TRUNK], ids=["storage", "trunk"])
def test_apply_planfile_sends_exactly_the_saved_calls(recipe: Path, cli, writes, saved,
                                                      tmp_path: Path) -> None:
    plan = saved(recipe)
    assert writes() == [], "plan --out writes nothing to the pool"
    assert stat.S_IMODE(plan.stat().st_mode) == 0o600
    jsonschema.Draft202012Validator(plan_document_schema()).validate(json.loads(plan.read_text()))
    expected = _saved_calls(plan)
    assert expected
    ran = cli("apply", str(plan), "--yes")
    assert ran.code == ExitCode.OK, ran.stderr
    assert "Verified: the pool matches, and a new plan is empty." in ran.stdout
    assert writes() == expected
    audit = (tmp_path / "audit.jsonl").read_text().splitlines()
    # Each write has an intent line, then its outcome line: the outcomes, in order.
    assert [r["method"] for r in map(json.loads, audit) if r["outcome"] != "intent"][
        -len(expected):] == expected, "the audit log keeps every write of a saved plan"
    assert cli("plan", str(recipe)).code == ExitCode.OK
    again = cli("apply", str(plan), "--yes")
    assert again.code == ExitCode.STALE_PLAN, "a saved plan is applied once"
    assert writes() == expected


def test_apply_planfile_json_is_the_plan_with_results(cli, saved, sim_server) -> None:
    plan = saved(TRUNK)
    ran = cli("-o", "json", "apply", str(plan), "--yes")
    assert ran.code == ExitCode.OK, ran.stderr
    data = json.loads(ran.stdout)
    jsonschema.Draft202012Validator(apply_document_schema()).validate(data)
    assert data["kind"] == "Apply" and data["applied"] is True and data["verified"] is True
    saved_doc = json.loads(plan.read_text())
    assert (data["pool"], data["pool_uuid"]) == (saved_doc["pool"], saved_doc["pool_uuid"])
    assert data["pool"] == sim_server.url and data["pool_uuid"]
    assert [r["status"] for r in data["results"]] == ["done"] * len(data["plan"]["changes"])
    assert [r["change"] for r in data["results"]] == list(range(len(data["results"])))


STALE: dict[str, tuple[Callable[[Any], None], str]] = {
    "network renamed": (
        lambda h: h("network.set_name_label", _eth2_network(h), "Renamed by hand"),
        'name_label "Pool-wide network 2" -> "Renamed by hand"'),
    "VIF added": (
        lambda h: h("VIF.create", {
            "VM": next(r for r, v in h("VM.get_all_records").items()
                       if v["name_label"] == "web-02"),
            "network": _eth2_network(h), "device": "7", "MAC": "", "MTU": 1500,
            "other_config": {}, "qos_algorithm_type": "", "qos_algorithm_params": {}}),
        '"web-02/7"'),
    "MTU changed": (
        lambda h: h("network.set_MTU", _eth2_network(h), 1600),
        "MTU 1500 -> 1600"),
}


@pytest.mark.parametrize("change", list(STALE))
def test_a_stale_saved_plan_is_refused_with_nothing_sent(change: str, cli, writes, saved,
                                                         by_hand) -> None:
    plan = saved(STORAGE)
    meddle, how = STALE[change]
    meddle(by_hand)
    before = writes()
    ran = cli("apply", str(plan), "--yes")
    assert ran.code == ExitCode.STALE_PLAN, ran.stderr
    assert writes() == before, "nothing was sent"
    assert "the saved plan is stale: the pool changed since it was made; nothing was sent" \
        in ran.stderr
    assert "network 'Pool-wide network 2' (uuid " in ran.stderr or "network 'Renamed by " \
        "hand'" in ran.stderr, "the changed object is named"
    assert how in ran.stderr, ran.stderr


def test_a_network_made_by_hand_since_the_plan_names_the_trunk_that_changed(
        cli, writes, saved, by_hand) -> None:
    """VLAN 105 made by hand: the plan made now is refused (not ours), and the saved plan
    is reported stale first, naming the trunk PIF that now carries the tag."""
    plan = saved(TRUNK)
    net = by_hand("network.create", {"name_label": "VLAN 105", "other_config": {}})
    pifs = by_hand("PIF.get_all_records")
    eth1 = next(r for r, p in pifs.items() if p["device"] == "eth1" and p["VLAN"] == -1
                and p["host"] == next(iter(by_hand("host.get_all_records"))))
    by_hand("VLAN.create", eth1, 105, net)
    before = writes()
    ran = cli("apply", str(plan), "--yes")
    assert ran.code == ExitCode.STALE_PLAN, ran.stderr
    assert "/eth1' (uuid " in ran.stderr and "VLANs [] -> [105]" in ran.stderr
    assert writes() == before


def test_a_plan_whose_steps_changed_is_stale_even_when_its_objects_did_not(
        cli, writes, saved, sim_server) -> None:
    """A host went offline: no object the plan relies on changed, but the plan made now
    (its VLAN deferred on that host) is not the saved one."""
    plan = saved(TRUNK)
    sim_server.control.set_host_live("xcp-host-03", False)
    ran = cli("apply", str(plan), "--yes")
    assert ran.code == ExitCode.STALE_PLAN, ran.stderr
    assert "no longer planned: create VLAN pool-wide network 'VLAN 101' [tag 101 on " \
           "xcp-host-02, xcp-host-03, xcp-host-01]" in ran.stderr
    assert "now also planned: ~ network 'VLAN 101' on xcp-host-03" in ran.stderr
    assert writes() == []


def test_an_expired_saved_plan_is_refused_and_max_age_sets_the_limit(cli, writes,
                                                                       saved) -> None:
    plan = saved(TRUNK)
    two_hours_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    _reseal(plan, lambda d: d["saved"].update(
        created=two_hours_ago.isoformat(timespec="seconds")))
    ran = cli("apply", str(plan), "--yes")
    assert ran.code == ExitCode.STALE_PLAN
    assert "the saved plan has expired: made " in ran.stderr
    assert "more than --max-age 1h00m" in ran.stderr
    assert writes() == []
    assert cli("apply", str(plan), "--yes", "--max-age", "3h").code == ExitCode.OK
    assert writes() == _saved_calls(plan)


def test_a_saved_plan_for_another_pool_is_refused(cli, writes, saved) -> None:
    plan = saved(TRUNK)
    _reseal(plan, lambda d: d.update(pool_uuid="00000000-0000-0000-0000-000000000000"))
    ran = cli("apply", str(plan), "--yes")
    assert ran.code == ExitCode.BAD_INPUT
    assert "the saved plan was made for another pool (uuid 00000000-0000-0000-0000-" \
           "000000000000" in ran.stderr
    assert writes() == []


def _altered(plan: Path) -> None:
    plan.write_text(plan.read_text().replace('"MTU": 1500', '"MTU": 9000', 1))


def _garbled(plan: Path) -> None:
    plan.write_text(plan.read_text()[:300])


def _printed(plan: Path) -> None:
    data = json.loads(plan.read_text())
    data["saved"] = None
    plan.write_text(json.dumps(data))


def _wrong_field(plan: Path) -> None:
    data = json.loads(plan.read_text())
    data["changes"][0]["action"] = "explode"
    plan.write_text(json.dumps(data))


@pytest.mark.parametrize(("spoil", "message"), [
    (_altered, "the saved plan was altered after it was written (its digest does not match)"),
    (_garbled, "not a saved plan: not valid JSON (JSONDecodeError)"),
    (_printed, "a plan printed by `plan -o json`, not a saved plan (no `saved` section)"),
    (_wrong_field, "garbled saved plan: changes.0.action: Input should be 'create'"),
], ids=["altered", "garbled", "printed", "wrong-field"])
def test_an_altered_or_garbled_planfile_exits_2_in_one_line(spoil, message: str, cli, writes,
                                                            saved) -> None:
    plan = saved(TRUNK)
    spoil(plan)
    ran = cli("apply", str(plan), "--yes")
    assert ran.code == ExitCode.BAD_INPUT
    assert message in ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1, ran.stderr
    assert writes() == []


def test_recipes_and_saved_plans_are_read_from_stdin(cli, writes, tmp_path: Path) -> None:
    text = TRUNK.read_text()
    planned = cli("plan", "-", input=text)
    assert planned.code == ExitCode.CHANGES_PENDING, planned.stderr
    assert "+ create network 'VLAN 101'" in planned.stdout
    out = tmp_path / "p.json"
    assert cli("plan", "-", "--out", str(out), input=text).code == ExitCode.CHANGES_PENDING
    assert json.loads(out.read_text())["saved"]["recipe"]["source"] == "<stdin>"
    refused = cli("apply", "-", input=out.read_text())
    assert refused.code == ExitCode.BAD_INPUT, "stdin is not a terminal: --yes is needed"
    assert writes() == []
    assert cli("apply", "-", "--yes", input=out.read_text()).code == ExitCode.OK
    assert writes() == _saved_calls(out)
    assert cli("apply", "-", "--yes", input=text).code == ExitCode.OK, "a recipe on stdin"
    assert cli("plan", "-", input="networks: [\n").code == ExitCode.BAD_INPUT


def test_a_disruptive_saved_plan_needs_yes_off_a_terminal(cli, writes, saved) -> None:
    plan = saved(STORAGE)
    ran = cli("apply", str(plan))
    assert ran.code == ExitCode.BAD_INPUT
    assert "refused: stdin is not a terminal, so nobody can confirm" in ran.stderr
    assert writes() == []


@pytest.mark.parametrize(("args", "message"), [
    (("plan", str(TRUNK), "--out", "{tmp}"), "is a directory; give a file name"),
    (("plan", str(TRUNK), "--out", "{tmp}/no/such/plan.json"), "does not exist; create it"),
    (("apply", str(TRUNK), "--max-age", "1h"), "--max-age applies to a saved plan"),
    (("apply", "{plan}", "--max-age", "soon"), "--max-age: 'soon' is not a duration"),
    (("plan", str(TRUNK), "--out", "{tmp}/p2.json", "--fleet", "{tmp}/fleet.yaml"),
     "--out saves the plan of one pool"),
])
def test_bad_options_exit_2_and_send_nothing(args: tuple[str, ...], message: str, cli, writes,
                                             saved, tmp_path: Path) -> None:
    plan = saved(TRUNK)
    ran = cli(*(a.format(tmp=tmp_path, plan=plan) for a in args))
    assert ran.code == ExitCode.BAD_INPUT, ran.stderr
    assert message in ran.stderr
    assert writes() == []


def test_a_change_made_while_the_question_is_asked_is_caught_on_the_pre_write_read(
        cli, writes, saved, by_hand, monkeypatch) -> None:
    """The saved plan is checked again on apply's fresh read, after the question: a pool
    changed while someone read the plan is refused with nothing sent."""
    import xapictl.cli.run as run

    plan = saved(STORAGE)

    def answer_late(*args: Any, **kwargs: Any) -> bool:
        by_hand("network.set_MTU", _eth2_network(by_hand), 1600)
        return True

    monkeypatch.setattr(run, "confirmed", answer_late)
    ran = cli("apply", str(plan))
    assert ran.code == ExitCode.STALE_PLAN, ran.stderr
    assert "MTU 1500 -> 1600" in ran.stderr
    assert writes() == ["network.set_MTU"], "only the change made by hand"
