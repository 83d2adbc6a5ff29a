"""Property tests: whatever a recipe file or a CLI value holds, the answer is a clear message
(``DesiredStateError`` / exit code 2) or a plan — never a traceback, never a write."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from plan_pool_builder import PoolBuilder
from typer.testing import CliRunner

from xapictl.errors import DesiredStateError, PlanError
from xapictl.plan.desired import BondSpec, NetworkSpec, VIFSpec, load_text
from xapictl.plan.diff import diff
from xapictl.plan.recipe_model import SECTIONS

FIELDS = sorted({name for model in SECTIONS.values() for name in model.model_fields})
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=False), st.text(max_size=12),
                    st.sampled_from(["eth1", "bond0", "auto", "lacp", "105", "9000"]))
def _nest(inner):
    # a named function, not a lambda: hypothesis inspects extend's source to check it uses its
    # argument, and a lambda's source lookup can fail (a deprecation warning, an error here)
    return st.one_of(st.lists(inner, max_size=3),
                     st.dictionaries(st.text(max_size=6), inner, max_size=3))


values = st.recursive(scalars, _nest, max_leaves=8)
entries = st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), values,
                          max_size=6)
recipes = st.dictionaries(
    st.one_of(st.sampled_from(["version", "networks", "bonds", "vifs"]), st.text(max_size=8)),
    st.one_of(st.lists(entries, max_size=3), values), max_size=4)


@settings(max_examples=300, deadline=None)
@given(recipes)
def test_any_recipe_structure_loads_or_gives_clear_problems(data: dict[str, Any]) -> None:
    text = yaml.safe_dump(data)
    try:
        load_text(text, source="fuzz.yaml")
    except DesiredStateError as exc:
        assert exc.problems and all(p.startswith("fuzz.yaml") for p in exc.problems)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_loads_or_gives_clear_problems(text: str) -> None:
    try:
        load_text(text, source="fuzz.yaml")
    except DesiredStateError as exc:
        assert exc.problems


SNAP = PoolBuilder().snapshot()
devices = st.sampled_from(["eth0", "eth1", "eth2", "eth3", "eth9"])
network_entries = st.fixed_dictionaries(
    {"name": st.sampled_from(["A", "B", "VLAN 5", "Pool-wide network associated with eth1"])},
    optional={"vlan": st.integers(0, 4094), "device": devices,
              "mtu": st.integers(68, 65535), "present": st.booleans(),
              "adopt": st.booleans(), "replug": st.booleans()})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(network_entries, max_size=4))
def test_any_valid_recipe_plans_or_is_refused_with_a_plan_error(nets: list[dict[str, Any]]
                                                                ) -> None:
    try:
        desired = load_text(yaml.safe_dump({"networks": nets}))
    except DesiredStateError:
        return
    try:
        plan = diff(desired, SNAP)
    except PlanError as exc:
        assert str(exc)
        return
    for step in plan.steps:
        assert step.reason and step.subject


def _not_a_tag(text: str) -> bool:
    """True unless the command line would read ``text`` as a tag 0-4094 ("-0", " 7" and "7.0"
    are: typer takes a whole float for an int)."""
    try:
        value = float(text)
    except ValueError:
        return True
    return not (value.is_integer() and 0 <= value <= 4094)


bad_vlan = st.one_of(st.integers(max_value=-1), st.integers(min_value=4095),
                     st.text(min_size=1, max_size=6).filter(_not_a_tag))
bad_mtu = st.one_of(st.integers(max_value=67), st.integers(min_value=65536))
bad_device = st.text(min_size=1, max_size=20).filter(
    lambda s: not s[:1].isalpha() or len(s) > 15 or not s.replace("_", "a").replace(
        ".", "a").replace("-", "a").isalnum())


@settings(max_examples=150, deadline=None)
@given(st.one_of(
    st.tuples(st.just("--vlan"), bad_vlan.map(str), st.just("--device"), st.just("eth1")),
    st.tuples(st.just("--mtu"), bad_mtu.map(str), st.just("--device"), st.just("eth1")),
    st.tuples(st.just("--vlan"), st.just("5"), st.just("--device"), bad_device)))
def test_bad_cli_values_exit_2_with_a_message_and_never_reach_the_pool(args: tuple[str, ...]
                                                                       ) -> None:
    from xapictl.cli import app

    # A pool nobody listens on: reaching it at all would exit 4, not 2.
    env = {"XAPICTL_URL": "http://127.0.0.1:9", "XAPICTL_PASSWORD": "x"}
    # OPTION=VALUE, so that no generated value (e.g. "--output=") is read as an option itself
    pairs = [f"{args[0]}={args[1]}", f"{args[2]}={args[3]}"]
    result = CliRunner().invoke(app, ["--timeout", "0.2", "network", "create", "--name", "n",
                                      *pairs], env=env)
    assert result.exit_code == 2, (args, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert f"{args[0]}" in result.stderr or f"{args[2]}" in result.stderr, \
        "the message names the option"


def _exits_2_naming(argv: list[str], *names: str) -> None:
    """Against a pool nobody listens on (reaching it at all would exit 4, not 2)."""
    from xapictl.cli import app

    env = {"XAPICTL_URL": "http://127.0.0.1:9", "XAPICTL_PASSWORD": "x"}
    result = CliRunner().invoke(app, ["--timeout", "0.2", *argv], env=env)
    assert result.exit_code == 2, (argv, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert any(n in result.stderr for n in names), ("the message names the value", argv,
                                                    result.stderr)


def _not_a_vif_device(text: str) -> bool:
    # ASCII digits only: "¹" passes isdigit() and then int() raises (issue 10, clause 8)
    return text != "auto" and not (re.fullmatch(r"[0-9]{1,2}", text) and int(text) <= 15)


def _not_an_ipv4(text: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(text).version != 4
    except ValueError:
        return True


LOCKING_MODES = ("network_default", "locked", "unlocked", "disabled")
MAC = r"[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}"
bad_vif_device = st.one_of(st.integers(min_value=16).map(str), st.integers(max_value=-1).map(
    str), st.text(min_size=1, max_size=8).filter(_not_a_vif_device))
options = st.text(min_size=1, max_size=12).filter(lambda s: not s.startswith("-"))
bad_attach = st.one_of(
    st.tuples(st.just("--mac"), options.filter(lambda s: not re.fullmatch(MAC, s))),
    st.tuples(st.just("--device"), bad_vif_device.filter(lambda s: not s.startswith("-"))),
    st.tuples(st.just("--locking-mode"), options.filter(lambda s: s not in LOCKING_MODES)),
    st.tuples(st.just("--qos-kbps"), st.one_of(st.integers(max_value=-1), st.integers(
        min_value=100_000_001)).map(lambda n: f"={n}")),
    st.tuples(st.just("--allow-ip"), options.filter(_not_an_ipv4)))


@settings(max_examples=80, deadline=None)
@given(bad_attach)
@example(("--mac", "\x00"))  # refused before the parser: the message still names --mac
def test_bad_vif_attach_values_exit_2_naming_the_option_and_never_reach_the_pool(
        option: tuple[str, str]) -> None:
    flag, value = option
    argv = ["vif", "attach", "web01", "App", f"{flag}{value}" if value.startswith("=")
            else flag, *(() if value.startswith("=") else (value,))]
    if flag == "--allow-ip":
        argv += ["--locking-mode", "locked"]
    _exits_2_naming(argv, flag)


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.integers(max_value=67), st.integers(min_value=65536)).map(str),)
def test_bad_set_mtu_exits_2_naming_the_mtu_and_never_reaches_the_pool(mtu: str) -> None:
    _exits_2_naming(["network", "set-mtu", "App", "--", mtu], "MTU")


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["detach", "move"]), bad_vif_device)
def test_bad_vif_device_argument_exits_2_and_never_reaches_the_pool(command: str,
                                                                   device: str) -> None:
    rest = ["App"] if command == "move" else []
    _exits_2_naming(["vif", command, "web01", "--", device, *rest], "DEVICE", "device")


@settings(max_examples=100, deadline=None)
@given(st.one_of(recipes.map(yaml.safe_dump), st.text(max_size=120)))
def test_any_invalid_recipe_file_exits_2_naming_the_file_and_never_reaches_the_pool(
        text: str) -> None:
    import tempfile
    from pathlib import Path

    from xapictl.cli import app

    try:
        load_text(text, source="fuzz.yaml")
        return  # a valid recipe is the apply tests' business
    except DesiredStateError:
        pass
    with tempfile.TemporaryDirectory() as tmp:
        recipe = Path(tmp) / "fuzz.yaml"
        recipe.write_text(text, encoding="utf-8")
        # A pool nobody listens on: reaching it at all would exit 4, not 2.
        env = {"XAPICTL_URL": "http://127.0.0.1:9", "XAPICTL_PASSWORD": "x"}
        for command in (["plan", str(recipe)], ["apply", str(recipe), "--yes"]):
            result = CliRunner().invoke(app, ["--timeout", "0.2", *command], env=env)
            assert result.exit_code == 2, (text, result.output)
            assert result.exception is None or isinstance(result.exception, SystemExit)
            assert "Traceback" not in result.output
            assert str(recipe) in result.stderr


@pytest.mark.parametrize(("section", "spec"), [("networks", NetworkSpec), ("bonds", BondSpec),
                                                ("vifs", VIFSpec)])
def test_every_model_field_is_a_field_of_the_spec_it_makes(section: str, spec: type) -> None:
    """A field added to a recipe model reaches the diff: the record it makes has it too."""
    made = {f.name for f in dataclasses.fields(spec)} - {"where"}
    assert set(SECTIONS[section].model_fields) == made
