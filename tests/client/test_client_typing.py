"""Typed all the way in: mypy --strict on user-style code catches misspelt and mistyped fields.

The snippets are checked the way a user's project is: xapictl *installed* (a site-packages
of its own, linking every package of this environment, xapictl with its ``py.typed``) and
without the ``types-PyYAML`` stub package, which a user of xapictl should not need. The good
snippet must pass; each line of the bad one marked ``# E: code`` must report exactly that
error code, and no other line any error.
"""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "xapictl"
STUBS_A_USER_LACKS = ("yaml-stubs", "types_pyyaml")

GOOD = '''
from typing import Any

import xapictl
from xapictl.client import Connection
from xapictl.client.base import ClassClient
from xapictl.client.generated.sr import SRClient
from xapictl.model.enums import NetworkPurpose, VIFLockingMode
from xapictl.model.network import Network
from xapictl.model.refs import NetworkRef, PIFRef, VMRef
from xapictl.recipes import ensure_network


def run(conn: Connection, vm: VMRef, pif: PIFRef, name: str) -> int:
    net: NetworkRef = conn.networks.create(name_label="storage", mtu=9000,
                                           other_config={"k": "v"}, tags=["a"])
    conn.networks.set_mtu(net, 9000)
    conn.networks.add_purpose(net, NetworkPurpose.NBD)
    record: Network = conn.networks.get_record(net)
    vif = conn.vifs.create(vm=vm, network=net, device="0")
    conn.vifs.set_locking_mode(vif, VIFLockingMode.LOCKED)
    conn.client("VIF").set_locking_mode(vif, value=VIFLockingMode.LOCKED)
    pifs: list[PIFRef] = conn.pools.create_vlan_from_pif(pif, net, 105)
    sr: SRClient = conn.client("SR")
    size: int = sr.get_physical_size(sr.get_all()[0])
    conn.client("host").evacuate(host=conn.hosts.get_all()[0])
    dynamic: ClassClient[Any, Any] = conn.client(name)  # any class, named at run time
    ensure_network("storage", mtu=9000)
    with xapictl.connect("http://127.0.0.1", password="pw") as pool:
        pool.networks.get_all()
    return size + record.mtu + len(pifs) + len(dynamic.get_all())
'''

BAD = '''
import yaml  # E: import-untyped
from xapictl.client import Connection
from xapictl.model.refs import NetworkRef, PIFRef, VMRef


def run(conn: Connection, vm: VMRef, pif: PIFRef, net: NetworkRef) -> None:
    conn.networks.create(name_label="x", devcie="eth0")  # E: call-arg
    conn.networks.create(mtu="9000")  # E: arg-type
    conn.networks.frobnicate(net)  # E: attr-defined
    conn.client("SR").frobnicate()  # E: attr-defined
    vif = conn.vifs.create(vm=vm, network=net, device="0")
    conn.client("VIF").set_locking_mode(vif, value="locked")  # E: arg-type
    conn.vifs.create(network=net, device="0")  # E: call-arg
    conn.client("PIF").plug(net)  # E: arg-type
    label: int = conn.client("SR").get_name_label(conn.client("SR").get_all()[0])  # E: assignment
    conn.pools.create_vlan_from_pif(pif, net, "105")  # E: arg-type
    conn.client("network").set_mtu(net, 9000)  # E: call-arg
'''


def _user_site(tmp_path: Path) -> Path:
    """A virtual environment whose site-packages links every package of this one (xapictl
    as if installed) except the stub packages a user of xapictl lacks."""
    env = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True,
                   timeout=120)
    python = env / "bin" / "python"
    site = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True, timeout=60).stdout.strip())
    ours = Path(sysconfig.get_paths()["purelib"])
    for entry in ours.iterdir():
        if entry.name.lower().startswith(STUBS_A_USER_LACKS) or entry.name == "xapictl":
            continue
        (site / entry.name).symlink_to(entry)
    (site / "xapictl").symlink_to(PACKAGE, target_is_directory=True)
    return python


def _mypy(tmp_path: Path, python: Path, *files: str) -> list[tuple[str, int, str]]:
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
         "--python-executable", str(python), "--show-error-codes", "--no-color-output",
         "--no-error-summary", *files],
        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    found = []
    for line in run.stdout.splitlines():
        m = re.match(r"(\w+\.py):(\d+): error: .*\[([\w-]+)\]$", line)
        if m:
            found.append((m.group(1), int(m.group(2)), m.group(3)))
        else:
            assert ": note:" in line, f"unexpected mypy output: {line}\n{run.stdout}"
    return found


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, int, str]]:
    pytest.importorskip("mypy")
    tmp = tmp_path_factory.mktemp("typing")
    (tmp / "good.py").write_text(GOOD)
    (tmp / "bad.py").write_text(BAD)
    return _mypy(tmp, _user_site(tmp), "good.py", "bad.py")


def test_user_code_that_uses_the_typed_clients_rightly_passes_mypy_strict(
        checked: list[tuple[str, int, str]]) -> None:
    assert [e for e in checked if e[0] == "good.py"] == []


def test_misspelt_and_mistyped_fields_are_mypy_errors(
        checked: list[tuple[str, int, str]]) -> None:
    expected = [("bad.py", number, m.group(1))
                for number, line in enumerate(BAD.splitlines(), start=1)
                for m in [re.search(r"# E: ([\w-]+)", line)] if m]
    assert len(expected) == 11
    assert sorted(e for e in checked if e[0] == "bad.py") == sorted(expected)
