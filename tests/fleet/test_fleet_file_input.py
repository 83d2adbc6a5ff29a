"""Fleet files read through the one YAML loader: duplicate keys, aliases and wrongly typed
values are ``ConfigError`` (exit 2) with one line, never a traceback or a silent last-wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from xapictl.errors import ConfigError
from xapictl.fleet.fleetfile import load_fleet


def refused(tmp_path: Path, text: str | bytes) -> str:
    path = tmp_path / "fleet.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_fleet(path)
    return str(info.value).replace(str(tmp_path), "DIR")


def test_pools_given_twice_names_both_lines(tmp_path: Path) -> None:
    text = ("pools:\n  - {name: a, url: 'https://10.0.0.1'}\n"
            "pools:\n  - {name: b, url: 'https://10.0.0.2'}\n")
    assert refused(tmp_path, text) == (
        "DIR/fleet.yaml:3: pools: given twice, at DIR/fleet.yaml:1 and DIR/fleet.yaml:3; keep "
        "one (YAML would silently keep only the last)")


def test_a_merge_key_alias_is_refused(tmp_path: Path) -> None:
    text = ("base: &base {credentials: 'env:PW'}\n"
            "pools:\n  - {<<: *base, name: a, url: 'https://10.0.0.1'}\n")
    assert refused(tmp_path, text).startswith("DIR/fleet.yaml:3: YAML alias *base")


@pytest.mark.parametrize(("pool", "message"), [
    ("{name: a, url: 5}", "'url' must be a string (quote it)"),
    ("{name: a, url: 'https://x', insecure: 'no'}", "'insecure' must be true or false"),
    ("{name: a, url: 'https://x', 1: x}", "unknown key(s) 1"),
    ("{name: \"a\\x1b\", url: 'https://x'}", "'name' holds the control character U+001B"),
    ("{name: a, url: 'https://x', tags: 5}", "'tags' is a list of strings"),
    ("{name: a, url: 'https://x', tags: {a: 1}}", "'tags' is a list of strings"),
    ("{name: a, url: 'https://x', protocol: soap}", "'protocol' is one of auto, jsonrpc, "
                                                     "xmlrpc"),
    ("{name: a, url: 'https://x', credentials: 'bogus:x'}",
     "pools[0] (a): 'credentials': not a password source"),
])
def test_wrongly_typed_pool_values_are_refused(tmp_path: Path, pool: str, message: str) -> None:
    assert message in refused(tmp_path, f"pools:\n  - {pool}\n")


def test_defaults_must_be_a_mapping(tmp_path: Path) -> None:
    assert refused(tmp_path, "defaults: [1]\npools:\n  - {name: a, url: 'https://x'}\n") == (
        "DIR/fleet.yaml: 'defaults' must be a mapping of pool keys")


def test_not_utf8_is_refused(tmp_path: Path) -> None:
    assert refused(tmp_path, b"pools: [\xff]\n") == (
        "cannot read fleet file DIR/fleet.yaml: not UTF-8 text")


def test_version_true_is_not_version_1(tmp_path: Path) -> None:
    assert "fleet file version True is not supported" in refused(
        tmp_path, "version: true\npools:\n  - {name: a, url: 'https://x'}\n")
