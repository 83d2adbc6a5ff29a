"""Bad input through the real CLI (issue 10, clauses 7 and 8): exit 2, one short line on
stderr, no traceback, and no write reached the pool."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def one_line(ran: Any) -> str:
    assert ran.code == 2, ran.stderr
    assert "Traceback" not in ran.stderr
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1, ran.stderr
    return str(lines[0])


def test_a_contradictory_recipe_is_refused_before_any_write(
        cli: Callable[..., Any], writes: Callable[[], list[str]], tmp_path: Path) -> None:
    recipe = tmp_path / "churn.yaml"
    recipe.write_text("vifs:\n  - {vm: web-01, network: Pool-wide network 1, device: 0, "
                      "present: false}\n  - {vm: web-01, network: Pool-wide network 1}\n")
    for command in ("plan", "apply"):
        line = one_line(cli(command, str(recipe), "--yes") if command == "apply"
                        else cli(command, str(recipe)))
        assert line.endswith("; keep one of the two")
    assert writes() == []


def test_a_section_given_twice_is_refused(cli: Callable[..., Any], tmp_path: Path) -> None:
    recipe = tmp_path / "twice.yaml"
    recipe.write_text("networks:\n  - {name: A, vlan: 5, device: eth1}\n"
                      "networks:\n  - {name: B}\n")
    assert one_line(cli("plan", str(recipe))) == (
        f"xapictl: {recipe}:3: networks: given twice, at {recipe}:1 and "
        f"{recipe}:3; keep one (YAML would silently keep only the last)")


@pytest.mark.parametrize("device", ["²", "٣", "1e3", " 5", "0x10", "16", "+1", "",
                                    "9" * 5000, "auto\x00"])
def test_vif_device_arguments(cli: Callable[..., Any], writes: Callable[[], list[str]],
                              device: str) -> None:
    detach = one_line(cli("vif", "detach", "web-01", device))
    attach = one_line(cli("vif", "attach", "web-01", "Pool-wide network 1", "--device", device))
    if "\x00" in device:  # no process can be given a NUL: refused before any parameter's parser
        assert "contains a NUL byte" in detach and "contains a NUL byte" in attach
    else:
        assert detach.startswith("xapictl: DEVICE: must be a device number 0-15")
        assert attach.startswith("xapictl: --device: must be a device number")
    assert len(detach) < 160
    assert writes() == []


def test_inventory_diff_of_files_that_are_not_exports(cli: Callable[..., Any],
                                                      tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "text.json").write_text("{not json")
    (tmp_path / "binary").write_bytes(b"\xff\xfe\x00")
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    expected = {
        "/nonexistent": "/nonexistent: no such inventory export; check the path",
        "dir": "dir: is a directory; give the inventory export itself",
        "text.json": "text.json: not an xapictl inventory export (Expecting property name",
        "binary": "binary: not UTF-8 text, so not an inventory export",
        "list.json": "list.json: not an xapictl inventory export (",
        "deep.json": "deep.json: not an xapictl inventory export (",
    }
    for name, message in expected.items():
        path = name if name.startswith("/") else str(tmp_path / name)
        line = one_line(cli("inventory", "diff", path, path))
        assert line.startswith(f"xapictl: {tmp_path}/{message}"
                               if not name.startswith("/") else
                               f"xapictl: {message}"), line


def test_an_automatic_vif_never_takes_a_device_the_recipe_removes(
        cli: Callable[..., Any], writes: Callable[[], list[str]], tmp_path: Path) -> None:
    # Not a static contradiction (the removed entry names another network), but VIF 0 of
    # web-01 is on 'Pool-wide network 0' in the pool: "auto" must not count it as the VIF the
    # VM already has there, or every apply destroys and re-creates it (exit 5 each time).
    recipe = tmp_path / "two-ways.yaml"
    recipe.write_text("vifs:\n"
                      "  - {vm: web-01, network: Pool-wide network 2, device: 0, "
                      "present: false}\n"
                      "  - {vm: web-01, network: Pool-wide network 0}\n")
    assert cli("apply", str(recipe), "--yes").code == 0
    first = writes()
    assert sorted(first) == ["VIF.create", "VIF.destroy", "VIF.plug", "VIF.unplug"]
    assert cli("apply", str(recipe), "--yes").code == 0
    assert cli("plan", str(recipe)).code == 0
    assert writes() == first  # converged: the second run wrote nothing
