"""Fleet files, selections and credential references."""

from __future__ import annotations

from pathlib import Path

import pytest

from xapictl.errors import ConfigError, UsageError
from xapictl.fleet.fleetfile import load_fleet, parse_fleet
from xapictl.fleet.select import parse_selection

FLEET = """
version: 1
defaults:
  credentials: env:XAPI_PW
pools:
  - {name: par1, url: "https://10.1.0.1", tags: [prod, eu]}
  - {name: par2, url: "https://10.1.0.2", tags: [prod, eu, canary]}
  - {name: nyc1, url: "https://10.2.0.1", tags: [prod, us]}
  - {name: lab, profile: lab, tags: [lab], credentials: prompt, username: admin}
"""


@pytest.fixture
def fleet_file(tmp_path: Path) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET)
    return path


@pytest.mark.parametrize(("expr", "names"), [
    (None, ["par1", "par2", "nyc1", "lab"]),
    ("all", ["par1", "par2", "nyc1", "lab"]),
    ("par*", ["par1", "par2"]),
    ("lab,nyc1", ["nyc1", "lab"]),
    ("tag:prod and not tag:canary", ["par1", "nyc1"]),
    ("tag:eu & !par1", ["par2"]),
    ("(tag:us | tag:lab) and not name:lab", ["nyc1"]),
])
def test_selection_picks_pools_by_name_glob_and_tag(fleet_file: Path, expr: str | None,
                                                    names: list[str]) -> None:
    assert [p.name for p in load_fleet(fleet_file).select(expr)] == names


@pytest.mark.parametrize("expr", ["", "tag:", "(par1", "par1 and", "and par1", "par1 )"])
def test_malformed_selections_are_usage_errors(expr: str) -> None:
    with pytest.raises(UsageError):
        parse_selection(expr)


def test_a_selection_matching_nothing_is_refused(fleet_file: Path) -> None:
    with pytest.raises(UsageError, match="matches no pool"):
        load_fleet(fleet_file).select("tag:asia")


def test_defaults_apply_and_pools_override_them(fleet_file: Path) -> None:
    fleet = load_fleet(fleet_file)
    assert str(fleet.named("par1").credentials) == "env:XAPI_PW"
    lab = fleet.named("lab")
    assert (str(lab.credentials), lab.username, lab.where) == ("prompt", "admin", "profile lab")


@pytest.mark.parametrize("bad", [
    {"pools": [{"name": "a", "url": "https://x", "password": "hunter2"}]},
    {"defaults": {"password": "hunter2"}, "pools": [{"name": "a", "url": "https://x"}]},
])
def test_a_plain_password_anywhere_is_refused_without_echoing_it(bad: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match="never holds a password") as info:
        parse_fleet(bad)
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(("bad", "match"), [
    ({"pools": []}, "non-empty"),
    ({"pools": [{"name": "a"}]}, "exactly one of 'url' or 'profile'"),
    ({"pools": [{"name": "a", "url": "u"}, {"name": "a", "url": "v"}]}, "unique"),
    ({"pools": [{"name": "a", "url": "u", "colour": "red"}]}, "unknown key"),
    ({"version": 2, "pools": [{"name": "a", "url": "u"}]}, "version"),
    ({"pools": [{"name": "a", "url": "u", "credentials": "plain"}]}, "password source"),
])
def test_malformed_fleet_files_name_the_problem(bad: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_fleet(bad)


def test_one_prompt_serves_every_pool_that_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import getpass

    from xapictl.fleet.connect import PoolConnector
    from xapictl.fleet.fleetfile import FleetPool
    from xapictl.xapi.credentials import PasswordSource

    asked: list[str] = []
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": asked.append(prompt) or "pw")
    pools = [FleetPool(f"p{i}", url=f"https://10.0.0.{i}", credentials=PasswordSource("prompt"))
             for i in range(5)]
    connector = PoolConnector()
    connector.prime(pools)
    urls = [connector.options(p)[0] for p in pools]
    assert len(asked) == 1 and urls[4] == "https://10.0.0.4"
    assert connector.options(pools[2])[1]["password"].reveal() == "pw"
