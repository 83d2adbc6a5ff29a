"""``pif set-ip`` with IPv6 and the primary address type, and ``drift --recipe``, through the
CLI against a simulated pool on loopback: exactly the writes the options ask for, nothing
the second time, the documented exit codes and JSON."""

from __future__ import annotations

import json
from pathlib import Path

from xapictl.cli.exit_codes import ExitCode

SET_V6 = ("pif", "set-ip", "xcp-host-03", "eth1", "--mode6", "static", "--address6",
          "2001:db8:6::13/64", "--gateway6", "2001:db8:6::1", "--dns6", "2001:db8:6::2",
          "--dns6", "2001:db8:6::3", "--primary-address-type", "ipv6", "--yes")


def _eth1(sim_server, host: str) -> dict[str, object]:
    state = sim_server.sim.state
    ref = next(h for h in state.refs("host") if state.get("host", h)["name_label"] == host)
    return next(p for p in state.all("PIF").values()
                if p["host"] == ref and p["device"] == "eth1" and p["VLAN"] == -1)


def test_set_ip_ipv6_and_primary_type_then_nothing_to_do(cli, sim_server, writes) -> None:
    ran = cli(*SET_V6)
    assert ran.code == ExitCode.OK, ran.stderr
    assert writes() == ["PIF.reconfigure_ipv6", "PIF.set_primary_address_type"]
    pif = _eth1(sim_server, "xcp-host-03")
    assert (pif["ipv6_configuration_mode"], pif["IPv6"], pif["ipv6_gateway"], pif["DNS"],
            pif["primary_address_type"]) == ("Static", ["2001:db8:6::13/64"], "2001:db8:6::1",
                                             "2001:db8:6::2,2001:db8:6::3", "IPv6")
    again = cli(*SET_V6)
    assert again.code == ExitCode.OK and "Nothing to do" in again.stdout
    assert writes() == ["PIF.reconfigure_ipv6", "PIF.set_primary_address_type"]


def test_set_ip_bad_ipv6_values_are_named_as_options_and_nothing_is_sent(cli, writes) -> None:
    ran = cli("pif", "set-ip", "xcp-host-03", "eth1", "--mode6", "static", "--address6",
              "2001:db8:6::13/64", "--gateway6", "2001:db9::1", "--yes")
    assert ran.code == ExitCode.BAD_INPUT
    assert ("--gateway6: 2001:db9::1 is outside the subnet 2001:db8:6::/64 of the addresses; "
            "give a gateway in that subnet, or none") in ran.stderr
    bad_mode = cli("pif", "set-ip", "xcp-host-03", "eth1", "--mode6", "slaac", "--yes")
    assert bad_mode.code == ExitCode.BAD_INPUT and "--mode6" in bad_mode.stderr
    assert writes() == []


def test_drift_recipe_exit_6_with_fields_then_clean_after_apply(cli, tmp_path: Path) -> None:
    recipe = tmp_path / "v6.yaml"
    recipe.write_text("version: 1\ninterfaces:\n  - device: eth1\n    ipv6: autoconf\n"
                      "    primary_address_type: ipv6\n")
    found = cli("-o", "json", "drift", "--recipe", str(recipe))
    assert found.code == ExitCode.DRIFT_FOUND, found.stderr
    findings = json.loads(found.stdout)["findings"]
    assert [f["kind"] for f in findings] == ["interface-mismatch"] * 3
    assert findings[0]["fields"] == {
        "ipv6": {"pool": "None", "recipe": "Autoconf"},
        "primary_address_type": {"pool": "IPv4", "recipe": "IPv6"}}
    assert cli("apply", str(recipe), "--yes").code == ExitCode.OK
    clean = cli("drift", "--recipe", str(recipe))
    assert clean.code == ExitCode.OK and "no drift" in clean.stderr
