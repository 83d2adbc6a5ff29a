"""The one YAML loader (``xapictl.plan.yaml_input``) used by recipes, plain-Xen recipes and
fleet files: aliases, deep nesting, big documents, odd tags and duplicate keys are refused with
one line per problem naming the file and line(s); nothing is expanded or guessed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from xapictl.errors import ConfigError, DesiredStateError
from xapictl.fleet.fleetfile import load_fleet
from xapictl.local.desired import parse_recipe
from xapictl.plan import yaml_input
from xapictl.plan.desired import load_text

ROOT = Path(__file__).resolve().parents[2]

BOMB = "".join(
    [f"l0: &l0 [{', '.join(['lol'] * 9)}]\n"]
    + [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 10)]
)
"""The billion laughs: 9**10 strings once expanded, a few hundred bytes as text."""


def refused(text: str) -> list[str]:
    with pytest.raises(DesiredStateError) as info:
        yaml_input.compose(text, "f.yaml")
    return info.value.problems


class CountingLoader(yaml_input._StrictLoader):
    nodes = 0

    def compose_node(self, parent: object, index: object) -> yaml.Node | None:
        CountingLoader.nodes += 1
        return super().compose_node(parent, index)  # type: ignore[no-any-return]


def test_an_alias_bomb_is_refused_at_its_first_alias_before_anything_is_expanded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yaml_input, "_StrictLoader", CountingLoader)
    CountingLoader.nodes = 0
    assert refused(BOMB) == ["f.yaml:2: YAML alias *l0 is not accepted in xapictl files "
                             "(aliases can expand without bound); write the value out"]
    assert CountingLoader.nodes < 20  # the root, the first list and its 9 strings, one alias


def test_every_xapictl_yaml_reader_refuses_the_bomb(tmp_path: Path) -> None:
    with pytest.raises(DesiredStateError, match=r"r\.yaml:2: YAML alias \*l0"):
        load_text(BOMB, source="r.yaml")
    with pytest.raises(DesiredStateError, match=r"h\.yaml:2: YAML alias \*l0"):
        parse_recipe(BOMB, "h.yaml")
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(BOMB)
    with pytest.raises(ConfigError, match=r"fleet\.yaml:2: YAML alias \*l0"):
        load_fleet(fleet)


def test_no_shipped_recipe_or_doc_example_needs_an_alias() -> None:
    files = [*ROOT.glob("recipes/*.yaml"), *ROOT.glob("docs/examples/*.yaml")]
    assert files
    for path in files:
        yaml_input.compose(path.read_text(), str(path))  # raises if one did


def test_an_anchor_without_alias_is_harmless_and_accepted() -> None:
    assert yaml_input.load("a: &x 1\n", "f.yaml") == {"a": 1}


@pytest.mark.parametrize("depth", [33, 10_000])
def test_deep_nesting_is_refused_before_the_composer_recurses_far(depth: int) -> None:
    assert refused("[" * depth + "]" * depth) == [
        "f.yaml:1: nested more than 32 levels deep; xapictl files are shallow, check the "
        "indentation"]


def test_nesting_at_the_limit_is_read() -> None:
    assert yaml_input.load("[" * 32 + "]" * 32, "f.yaml") is not None


def test_a_big_document_is_refused_before_parsing() -> None:
    text = "# " + "x" * yaml_input.MAX_BYTES + "\n"
    [problem] = refused(text)
    assert problem == (f"f.yaml: {len(text)} bytes is more than the {yaml_input.MAX_BYTES} a "
                       "YAML file xapictl reads may hold; split it")


@pytest.mark.parametrize(("text", "tag"), [("a: !!binary aGk=\n", "!!binary"),
                                           ("a: !!set {x: null}\n", "!!set"),
                                           ("a: !custom x\n", "!custom"),
                                           ("a: !!python/object:os.system {}\n",
                                            "!!python/object:os.system")])
def test_tags_other_than_plain_types_are_refused(text: str, tag: str) -> None:
    assert refused(text) == [f"f.yaml:1: YAML tag {tag} is not accepted; remove it (plain "
                             "strings, numbers, true/false, lists and mappings only)"]


def test_every_duplicate_key_is_named_with_both_lines_and_its_path() -> None:
    text = ("networks:\n  - name: a\n    other_config: {k: '1', k: '2'}\n"
            "vifs: []\nnetworks:\n  - name: b\n")
    assert refused(text) == [
        "f.yaml:3: networks[0].other_config.k: given twice, at f.yaml:3 and f.yaml:3; keep "
        "one (YAML would silently keep only the last)",
        "f.yaml:5: networks: given twice, at f.yaml:1 and f.yaml:5; keep one (YAML would "
        "silently keep only the last)",
    ]


def test_invalid_yaml_names_the_line() -> None:
    assert refused("a: [1\n") == ["f.yaml:2: not valid YAML: expected ',' or ']', but got "
                                  "'<stream end>'; check indentation and quoting"]


def test_control_characters_in_the_text_are_invalid_yaml() -> None:
    assert refused("a: \x00\n") == ["f.yaml: not valid YAML: the control character U+0000 at "
                                    "position 3; remove it"]


def test_a_5000_digit_number_is_a_value_error_not_a_crash() -> None:
    node = yaml_input.compose("a: " + "9" * 5000 + "\n", "f.yaml")
    assert isinstance(node, yaml.MappingNode)
    with pytest.raises(ValueError):
        yaml_input.scalar_value(node.value[0][1])
    with pytest.raises(DesiredStateError, match=r"f\.yaml:1: this value cannot be read; quote it"):
        yaml_input.load("a: " + "9" * 5000 + "\n", "f.yaml")


def test_a_mapping_used_as_a_key_is_refused_not_a_crash() -> None:
    with pytest.raises(DesiredStateError, match=r"f\.yaml: cannot be read as data"):
        yaml_input.load("? [a]\n: 1\n", "f.yaml")
