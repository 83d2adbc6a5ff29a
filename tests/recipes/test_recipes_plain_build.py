"""``ensure_*`` network arguments that every rule plainly accepts are built without the
recipe model (``recipes._build._plain_network``: no pydantic validators to build on a
``network create``). Both ways give the same spec, and whatever the short way does not take
(a wrong value of any kind, ``other_config``, a str or int subclass) goes the model's way,
with its messages."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from xapictl.errors import DesiredStateError
from xapictl.plan.desired import Where
from xapictl.plan.recipe_model import SECTIONS, entry_from_arguments
from xapictl.recipes import _build
from xapictl.recipes._build import _plain_network

SOURCE = "ensure_vlan_network('x')"


def by_the_model(values: dict[str, Any]) -> Any:
    return entry_from_arguments(SECTIONS["networks"], SOURCE, values).spec(Where(SOURCE))


GOOD: dict[str, list[Any]] = {
    "name": ["VLAN 105", "x", "é" * 127, "a b\u00a0c"],
    "vlan": [None, 0, 105, 4094],
    "device": [None, "eth1", "bond0", "a" * 15, "e.t-h_1"],
    "mtu": [None, 68, 1500, 65535],
    "description": [None, "web tier", "two\nlines\tand a tab", "d" * 4096],
    "present": [True, False],
    "adopt": [None, True],
    "rename": [None, True],
}


@pytest.mark.parametrize("values", [
    dict(zip(GOOD, combo, strict=True)) for combo in itertools.islice(
        itertools.product(*GOOD.values()), 0, None, 37)])
def test_plain_arguments_give_the_models_spec(values: dict[str, Any]) -> None:
    plain = _plain_network(SOURCE, values)
    assert plain is not None
    assert plain == by_the_model(values)
    assert plain.where == Where(SOURCE)


BAD: list[dict[str, Any]] = [
    {"name": ""}, {"name": "a\x1bb"}, {"name": "é" * 128}, {"name": 5},
    {"name": "n", "vlan": -1}, {"name": "n", "vlan": 4095}, {"name": "n", "vlan": True},
    {"name": "n", "vlan": "105"}, {"name": "n", "vlan": 1.0},
    {"name": "n", "mtu": 67}, {"name": "n", "mtu": 65536},
    {"name": "n", "device": "eth1\n"}, {"name": "n", "device": "1eth"},
    {"name": "n", "device": "a" * 16}, {"name": "n", "device": "et h"},
    {"name": "n", "description": ""}, {"name": "n", "description": "d" * 4097},
    {"name": "n", "description": "a\x00b"}, {"name": "n", "bond": ""},
    {"name": "n", "present": 1}, {"name": "n", "adopt": "yes"},
    {"name": "n", "other_config": {"k": "v"}}, {"name": "n", "purpose": ["nbd"]},
    {"vlan": 5},
]


@pytest.mark.parametrize("values", BAD)
def test_anything_else_goes_the_models_way(values: dict[str, Any]) -> None:
    assert _plain_network(SOURCE, values) is None


class Tag(int):
    pass


class Text(str):
    pass


def test_subclasses_go_the_models_way() -> None:
    assert _plain_network(SOURCE, {"name": "n", "vlan": Tag(5)}) is None
    assert _plain_network(SOURCE, {"name": Text("n")}) is None


def test_a_wrong_argument_is_worded_by_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, object]] = []
    real = _build._plain_network

    def spy(source: str, values: dict[str, object]) -> Any:
        seen.append(values)
        return real(source, values)

    monkeypatch.setattr(_build, "_plain_network", spy)
    from xapictl.recipes import ensure_vlan_network

    with pytest.raises(DesiredStateError, match="vlan: 4095 is out of range 0-4094"):
        ensure_vlan_network("n", 4095, device="eth1")
    assert seen  # the short way was asked first, and declined
