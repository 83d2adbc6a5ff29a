"""Ansible's ``community.general.xenserver_guest_info`` reads a seed VM's networks through the
simulator exactly as from a real pool (CLIENTS §4). Opt-in: ``XAPICTL_ANSIBLE=1`` and ansible
importable (``nox -s ansible`` installs it, about 500 MB)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("XAPICTL_ANSIBLE") != "1",
                       reason="opt-in: set XAPICTL_ANSIBLE=1 (nox -s ansible)"),
    pytest.mark.skipif(importlib.util.find_spec("ansible_collections") is None,
                       reason="ansible (with community.general) is not installed"),
]

MODULE = "ansible_collections.community.general.plugins.modules.xenserver_guest_info"


def run_module(tmp_path, args: dict) -> dict:
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    done = subprocess.run([sys.executable, "-m", MODULE, str(args_file)], capture_output=True,
                          text=True, timeout=120, check=False, cwd=tmp_path)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no module output:\n{done.stdout}\n{done.stderr}"
    return json.loads(lines[-1])


def a_running_guest_with_vifs(sim) -> tuple[str, list[dict]]:
    with sim.state.lock:
        vms = sim.state.all("VM")
        names = [r["name_label"] for r in vms.values()]
        for record in vms.values():
            if (record["is_control_domain"] or record["is_a_template"] or not record["VIFs"]
                    or record["power_state"] != "Running"
                    or names.count(record["name_label"]) != 1):
                continue
            vifs = sorted((sim.state.copy("VIF", ref) for ref in record["VIFs"]),
                          key=lambda v: int(v["device"]))
            return record["name_label"], [
                {"name": sim.state.get("network", v["network"])["name_label"], "mac": v["MAC"],
                 "vif_device": v["device"], "mtu": str(v["MTU"])} for v in vifs]
    raise AssertionError("the seed scenario has no running guest with VIFs")


def test_xenserver_guest_info_reads_a_seed_vms_networks(sim, sim_server, tmp_path):
    name, expected = a_running_guest_with_vifs(sim)
    host = sim_server.url.removeprefix("http://")  # a bare host:port gets http:// prefixed
    result = run_module(tmp_path, {"hostname": host, "username": "root",
                                   "password": "xapictl", "name": name})
    assert not result.get("failed"), result
    assert result["changed"] is False
    networks = result["instance"]["networks"]
    assert [{k: n[k] for k in ("name", "mac", "vif_device", "mtu")} for n in networks] == expected
    methods = sim_server.control.methods_called()
    assert methods[0] == "session.login_with_password"
    assert "VM.get_by_name_label" in methods and "session.logout" in methods
    assert all(entry["params"][1] == "******" for entry in sim_server.control.request_log()
               if entry["method"] == "session.login_with_password")
