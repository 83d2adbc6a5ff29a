"""The inventory plugin with real ansible-inventory (the docs' pool.xapi.yml), the collection
installed by ``xapictl ansible install`` and built into a Galaxy tarball by ansible-galaxy, its
documentation read by ansible-doc, and the docs' execution environment."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_harness import PASSWORD, ansible_bin, ansible_env
from typer.testing import CliRunner

from xapictl import __version__
from xapictl.ansible_collection import collection_source
from xapictl.cli import app

pytestmark = pytest.mark.slow  # each ansible run starts Ansible: seconds apiece

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLES = DOCS / "examples" / "ansible"
MODULES = ["bond", "network", "network_info", "pool_info", "recipe", "vif"]


def _run(tmp: Path, *args: str, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    exe = ansible_bin(args[0])
    assert exe is not None
    return subprocess.run([str(exe), *args[1:]], capture_output=True, text=True, cwd=tmp,
                          env=ansible_env(tmp, **(env or {})), timeout=300, check=False)


def _plain(value: Any) -> Any:
    """ansible-inventory's JSON with the values the plugin read (untrusted: Ansible marks them
    ``{"__ansible_unsafe": value}``) as plain values."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _inventory_file(tmp: Path, url: str) -> Path:
    text = (EXAMPLES / "pool.xapi.yml").read_text().replace("https://pool-a.example.com", url)
    path = tmp / "pool.xapi.yml"
    path.write_text(text)
    return path


def test_the_inventory_lists_hosts_and_vms_grouped_by_pool_power_network_and_vlan(
        playbook, pool, tmp_path):
    trunk = playbook(EXAMPLES / "vlan-trunk.yml",
                     env={"XAPICTL_URL": pool.url, "XAPICTL_PASSWORD": PASSWORD})
    assert trunk.code == 0
    attach = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: web-01 on VLAN 101
      xapictl.xen.vif: {vm: web-01, network: VLAN 101}
"""
    assert playbook(attach, env={"XAPICTL_URL": pool.url, "XAPICTL_PASSWORD": PASSWORD}
                    ).code == 0
    _inventory_file(tmp_path, pool.url)
    ran = _run(tmp_path, "ansible-inventory", "-i", "pool.xapi.yml", "--list",
               env={"XAPICTL_PASSWORD": PASSWORD})
    assert ran.returncode == 0, ran.stderr
    found = _plain(json.loads(ran.stdout))
    hosts = {"xcp-host-01", "xcp-host-02", "xcp-host-03"}
    vms = {"backup-01", "build-01", "db-01", "web-01", "web-02", "win-app-01"}

    def group(name: str) -> set[str]:
        return set(found.get(name, {}).get("hosts", []))

    assert group("xapi_pool_seed_pool") == hosts | vms
    assert group("xapi_hosts") == group("type_host") == hosts
    assert group("xapi_vms") == group("type_vm") == vms
    assert group("xapi_power_halted") == {"backup-01", "build-01"}
    assert group("xapi_power_running") == hosts | vms - {"backup-01", "build-01"}
    assert group("xapi_vlan_101") == hosts | {"web-01"}
    assert group("xapi_network_vlan_101") == hosts | {"web-01"}
    assert group("masters") == {"xcp-host-01"}
    web = found["_meta"]["hostvars"]["web-01"]
    assert web["xapi_type"] == "vm" and web["xapi_pool"] == "seed-pool"
    assert web["xapi_vlans"] == [101] and "VLAN 101" in web["xapi_networks"]
    assert web["on_trunk"] is True and web["ansible_host"] == web["xapi_address"]
    assert found["_meta"]["hostvars"]["xcp-host-02"]["xapi_vlans"] == [101, 102, 103, 104, 105]
    # cached: a second listing reads the cache, not the pool
    pool.control.clear_log()
    again = _run(tmp_path, "ansible-inventory", "-i", "pool.xapi.yml", "--list",
                 env={"XAPICTL_PASSWORD": PASSWORD})
    assert _plain(json.loads(again.stdout)) == found
    assert pool.control.request_log() == []


def test_the_inventory_names_a_pool_it_cannot_read(pool, tmp_path):
    _inventory_file(tmp_path, pool.url)
    ran = _run(tmp_path, "ansible-inventory", "-i", "pool.xapi.yml", "--list",
               env={"XAPICTL_PASSWORD": "wrong", "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"})
    assert ran.returncode != 0
    assert "SESSION_AUTHENTICATION_FAILED" in ran.stderr and pool.url in ran.stderr


def test_the_inventory_of_several_pools_in_the_docs(three_pools, tmp_path):
    page = (DOCS / "ansible.md").read_text()
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", page, flags=re.DOTALL)
                 if "hostnames: pool_name" in b)
    for name, server in zip("abc", three_pools, strict=True):
        block = block.replace(f"https://pool-{name}.example.com", server.url)
    (tmp_path / "fleet.xapi.yml").write_text(block)
    ran = _run(tmp_path, "ansible-inventory", "-i", "fleet.xapi.yml", "--list",
               env={"XAPICTL_PASSWORD": PASSWORD})
    assert ran.returncode == 0, ran.stderr
    found = _plain(json.loads(ran.stdout))
    for name in ("pool-a", "pool-b", "pool-c"):
        group = f"xapi_pool_{name.replace('-', '_')}"
        assert f"{name}_web-01" in found[group]["hosts"]
        assert len(found[group]["hosts"]) == 9
    assert found["_meta"]["hostvars"]["pool-b_web-01"]["xapi_pool_url"] == three_pools[1].url


def test_the_inventory_of_a_fleet_file_reads_the_selected_pools(three_pools, tmp_path):
    fleet = (EXAMPLES / "fleet.yaml").read_text()
    for name, server in zip(("par1", "par2", "lab"), three_pools, strict=True):
        fleet = fleet.replace(f"https://{name}.example.com", server.url)
    folder = tmp_path / "inventory"
    folder.mkdir()
    (folder / "fleet.yaml").write_text(fleet)
    shutil.copy(EXAMPLES / "fleet.xapi.yml", folder)
    ran = _run(tmp_path, "ansible-inventory", "-i", str(folder / "fleet.xapi.yml"), "--list",
               env={"XAPICTL_PASSWORD": PASSWORD})
    assert ran.returncode == 0, ran.stderr
    found = _plain(json.loads(ran.stdout))
    assert len(found["xapi_pool_par1"]["hosts"]) == len(found["xapi_pool_par2"]["hosts"]) == 9
    assert "xapi_pool_lab" not in found  # not selected: tag:prod
    assert "par2_web-01" in found["xapi_vms"]["hosts"]
    assert found["_meta"]["hostvars"]["par2_web-01"]["xapi_pool_url"] == three_pools[1].url
    assert three_pools[2].control.request_log() == []  # lab was never contacted


def test_xapictl_ansible_install_copies_the_collection_where_ansible_finds_it(tmp_path):
    target = tmp_path / "collections"
    ran = CliRunner().invoke(app, ["ansible", "install", "--path", str(target)])
    assert ran.exit_code == 0, ran.output
    installed = target / "ansible_collections" / "xapictl" / "xen"
    assert ran.stdout == f"Installed the collection xapictl.xen in {installed}\n"
    assert sorted(p.stem for p in (installed / "plugins" / "modules").glob("*.py")) == MODULES
    shipped = {p.relative_to(collection_source()) for p in collection_source().rglob("*")
               if "__pycache__" not in p.parts}
    assert {p.relative_to(installed) for p in installed.rglob("*")} == shipped
    assert (installed / "plugins" / "inventory" / "xapi.py").is_file()
    assert not list(installed.rglob("__pycache__"))
    listed = _run(tmp_path, "ansible-galaxy", "collection", "list", "xapictl.xen",
                  env={"ANSIBLE_COLLECTIONS_PATH": str(target)})
    assert "xapictl.xen" in listed.stdout and "0.1.0" in listed.stdout, listed.stderr
    # the default: the first entry of ANSIBLE_COLLECTIONS_PATH
    first, second = tmp_path / "first", tmp_path / "second"
    again = CliRunner().invoke(app, ["ansible", "install"],
                               env={"ANSIBLE_COLLECTIONS_PATH": f"{first}:{second}"})
    assert again.exit_code == 0
    assert (first / "ansible_collections/xapictl/xen/galaxy.yml").exists()
    assert not second.exists()


def test_ansible_path_prints_the_folder_the_playbook_tests_use_in_place():
    from xapictl.ansible_collection import collection_root

    ran = CliRunner().invoke(app, ["ansible", "path"])
    assert ran.exit_code == 0 and ran.stdout == f"{collection_root()}\n"
    assert (collection_root() / "ansible_collections/xapictl/xen/galaxy.yml").is_file()


def test_install_defaults_to_ansibles_user_collections(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("ANSIBLE_COLLECTIONS_PATH", raising=False)
    assert CliRunner().invoke(app, ["ansible", "install"]).exit_code == 0
    assert (tmp_path / ".ansible/collections/ansible_collections/xapictl/xen/plugins").is_dir()


def test_install_refuses_a_file_as_path_and_writes_nothing(tmp_path):
    file = tmp_path / "not-a-dir"
    file.write_text("x")
    ran = CliRunner().invoke(app, ["ansible", "install", "--path", str(file)])
    assert ran.exit_code == 2
    assert ran.stderr == (f"xapictl: --path {file}: not a directory; give a directory of "
                          "collections\n")
    assert file.read_text() == "x"


@pytest.mark.parametrize("command", [("ansible", "install"), ("ansible", "path")])
def test_ansible_commands_refuse_json(command, tmp_path):
    ran = CliRunner().invoke(app, [*command, "-o", "json"],
                             env={"ANSIBLE_COLLECTIONS_PATH": str(tmp_path)})
    assert ran.exit_code == 2 and "does not apply" in ran.stderr and ran.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_every_module_documents_itself_for_ansible_doc(tmp_path):
    ran = _run(tmp_path, "ansible-doc", "--json",
               *[f"xapictl.xen.{m}" for m in MODULES])
    assert ran.returncode == 0, ran.stderr
    docs = json.loads(ran.stdout)
    assert sorted(docs) == [f"xapictl.xen.{m}" for m in MODULES]
    for name, doc in docs.items():
        options = doc["doc"]["options"]
        assert options["password"]["type"] == "str", name  # the connection fragment
        assert "url" in options and "profile" in options
    inventory = _run(tmp_path, "ansible-doc", "-t", "inventory", "--json", "xapictl.xen.xapi")
    assert inventory.returncode == 0, inventory.stderr
    assert "keyed_groups" in json.loads(inventory.stdout)["xapictl.xen.xapi"]["doc"]["options"]


def test_the_galaxy_tarball_builds_and_installs_offline(tmp_path):
    galaxy = yaml.safe_load((collection_source() / "galaxy.yml").read_text())
    assert galaxy["version"] == __version__  # the collection is released with the package
    built = _run(tmp_path, "ansible-galaxy", "collection", "build", str(collection_source()),
                 "--output-path", str(tmp_path / "dist"))
    assert built.returncode == 0, built.stderr
    tarball = tmp_path / "dist" / f"xapictl-xen-{__version__}.tar.gz"
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    assert "plugins/modules/network.py" in names and "plugins/inventory/xapi.py" in names
    assert not [n for n in names if "__pycache__" in n]
    # the execution environment of the docs names this very file
    ee = yaml.safe_load((EXAMPLES / "execution-environment.yml").read_text())
    assert ee["version"] == 3
    assert ee["dependencies"]["galaxy"]["collections"][0]["name"] == tarball.name
    assert "xapictl" in ee["dependencies"]["python"]
    # ansible-builder renders the build context of the docs' file (no container runtime)
    if ansible_bin("ansible-builder") is not None:
        shutil.copy(EXAMPLES / "execution-environment.yml", tmp_path / "dist")
        made = _run(tmp_path / "dist", "ansible-builder", "create", "-f",
                    "execution-environment.yml", "-c", "context")
        assert made.returncode == 0, made.stdout + made.stderr
        build = tmp_path / "dist" / "context" / "_build"
        assert (build / tarball.name).is_file()
        assert "xapictl" in (build / "requirements.txt").read_text().split()
    installed = _run(tmp_path, "ansible-galaxy", "collection", "install", str(tarball),
                     "-p", str(tmp_path / "installed"), "--force")
    assert installed.returncode == 0, installed.stderr
    assert (tmp_path / "installed/ansible_collections/xapictl/xen/MANIFEST.json").exists()
