"""``local check`` findings from a stand-in /proc: Xen dom0, CPU flags, bridge netfilter."""

from __future__ import annotations

from xapictl.local.check import check_host

KERNEL = {"bridge": (True, "works"), "vlan": (False, "refused: Operation not supported")}


def fake_proc(tmp_path, *, xen: bool, flags: str, nf: str | None):
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "cpuinfo").write_text(f"processor\t: 0\nflags\t\t: fpu sse2 {flags}\n")
    if xen:
        (proc / "xen").mkdir()
        (proc / "xen" / "capabilities").write_text("control_d\n")
    if nf is not None:
        (proc / "sys" / "net" / "bridge").mkdir(parents=True)
        (proc / "sys" / "net" / "bridge" / "bridge-nf-call-iptables").write_text(nf)
    return proc


def by_name(findings):
    return {f.name: f for f in findings}


def test_a_xen_dom0_with_vmx_and_netfilter_off(tmp_path, monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: f"/usr/sbin/{name}")
    found = by_name(check_host(fake_proc(tmp_path, xen=True, flags="vmx", nf="0\n"), KERNEL))
    assert found["xen dom0"].ok and found["xen tools"].ok
    assert found["cpu virtualisation"].detail == "cpu flags: vmx"
    assert found["bridge netfilter"].ok
    assert not found["kernel: vlan"].ok
    assert "CONFIG_VLAN_8021Q" in found["kernel: vlan"].advice


def test_no_xen_no_svm_and_bridge_netfilter_on_each_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    found = by_name(check_host(fake_proc(tmp_path, xen=False, flags="", nf="1\n"), KERNEL))
    assert not found["xen dom0"].ok and "Boot the Xen hypervisor" in found["xen dom0"].advice
    assert found["xen tools"].detail == "missing xl, xenstore-read, xenstore-write"
    assert not found["cpu virtualisation"].ok and "PV guests" in found[
        "cpu virtualisation"].advice
    assert not found["bridge netfilter"].ok
    assert "bridge-nf-call-iptables=0" in found["bridge netfilter"].advice


def test_br_netfilter_not_loaded_is_fine(tmp_path, monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    found = by_name(check_host(fake_proc(tmp_path, xen=False, flags="svm", nf=None), KERNEL))
    assert found["bridge netfilter"].ok and found["cpu virtualisation"].detail == (
        "cpu flags: svm")


def test_a_domu_with_xenfs_mounted_is_not_a_dom0(tmp_path, monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    proc = fake_proc(tmp_path, xen=True, flags="", nf=None)
    (proc / "xen" / "capabilities").write_text("")  # what a domU's xenfs shows
    found = by_name(check_host(proc, KERNEL))["xen dom0"]
    assert not found.ok and "no control_d" in found.detail and "dom0" in found.advice


class FakeKernel:
    """open_ipr for the probe: the first bond loads 'bonding', which makes a bond0 in the
    root namespace, as the real driver does with max_bonds=1."""

    def __init__(self, sys_module, root_links):
        self.sys_module, self.root = sys_module, root_links

    def open_ipr(self, netns):
        kernel = self

        class IPR:
            def link(self, cmd, **kw):
                if netns is None:
                    if cmd == "get":
                        return [{("linkinfo", "kind"): kernel.root[kw["index"]]}]
                    if cmd == "del":
                        del kernel.root[kw["index"]]
                    return None
                if kw.get("kind") == "bond" and not (kernel.sys_module / "bonding").exists():
                    (kernel.sys_module / "bonding").mkdir()
                    kernel.root[9] = "bond"
                return None

            def link_lookup(self, ifname):
                if netns is None:
                    return [i for i in kernel.root if ifname == "bond0" and i == 9]
                return [1]

            def close(self):
                pass

        return IPR()


def fake_probe(tmp_path, monkeypatch, *, loaded: bool, root: dict):
    from xapictl.local import check

    sys_module = tmp_path / "sys-module"
    sys_module.mkdir()
    if loaded:
        (sys_module / "bonding").mkdir()
    kernel = FakeKernel(sys_module, root)
    monkeypatch.setattr(check, "open_ipr", kernel.open_ipr)
    monkeypatch.setattr(check.pr_netns, "create", lambda name: None)
    monkeypatch.setattr(check.pr_netns, "remove", lambda name: None)
    return check._probe_kernel(sys_module)


def test_the_probe_removes_the_bond0_its_module_load_made_in_the_root_namespace(
        tmp_path, monkeypatch):
    root: dict[int, str] = {}
    assert fake_probe(tmp_path, monkeypatch, loaded=False, root=root)["bond"][0]
    assert root == {}


def test_the_probe_leaves_a_bond0_it_did_not_make(tmp_path, monkeypatch):
    root = {9: "bond"}  # bonding already loaded: bond0 is someone's
    fake_probe(tmp_path, monkeypatch, loaded=True, root=root)
    assert root == {9: "bond"}


def test_check_without_root_says_so_instead_of_a_traceback(monkeypatch):
    import errno

    from typer.testing import CliRunner

    from xapictl.cli.local import app
    from xapictl.local import check

    def refuse(name):
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(check.pr_netns, "create", refuse)
    check.capabilities.cache_clear()
    try:
        result = CliRunner().invoke(app, ["check"])
    finally:
        check.capabilities.cache_clear()
    assert result.exit_code == 2
    assert "needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN)" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_requires_root_tests_skip_with_a_reason_when_not_root():
    """Run two root-only tests as if not root (geteuid patched before pytest starts)."""
    import subprocess
    import sys
    from pathlib import Path

    tests = Path(__file__).parent
    code = ("import os, sys, pytest; os.geteuid = lambda: 65534;"
            " sys.exit(pytest.main(sys.argv[1:]))")
    done = subprocess.run(
        [sys.executable, "-c", code, "-q", "-rs", "-p", "no:cacheprovider",
         f"{tests}/test_local_netns.py::test_local_check_reports_this_kernel_as_it_is",
         f"{tests}/test_local_cli.py::test_check_json_lists_kernel_xen_cpu_and_netfilter_findings"],
        capture_output=True, text=True, cwd=tests.parents[1])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 skipped" in done.stdout and "needs root" in done.stdout


# --- issue 16 item 6: advice that fits the kernel, and checks that gate ---------------------

from pathlib import Path  # noqa: E402

from xapictl.local.check import KernelFiles, kernel_advice, missing_needs, recipe_needs  # noqa: E402
from xapictl.local.desired import parse_recipe  # noqa: E402


def kernel_files(tmp_path: Path, *, modules: str | None, builtin: str = "", dep: str = "",
                 sys_modules: tuple[str, ...] = ()) -> KernelFiles:
    proc, sysm, root = tmp_path / "p", tmp_path / "sysmod", tmp_path / "lib"
    proc.mkdir(parents=True)
    sysm.mkdir()
    if modules is not None:
        (proc / "modules").write_text(modules)
    for m in sys_modules:
        (sysm / m).mkdir()
    (root / "6.1.0-test").mkdir(parents=True)
    (root / "6.1.0-test" / "modules.builtin").write_text(builtin)
    (root / "6.1.0-test" / "modules.dep").write_text(dep)
    return KernelFiles(proc, sysm, root, "6.1.0-test")


def test_a_kernel_without_module_support_is_never_told_to_modprobe(tmp_path):
    advice = kernel_advice("vlan", kernel_files(tmp_path, modules=None))
    assert "no /proc/modules" in advice and "CONFIG_MODULES" in advice
    assert "cannot help" in advice and "CONFIG_VLAN_8021Q=y" in advice
    assert not advice.startswith("Load it")


def test_a_module_on_disk_but_not_loaded_is_told_to_modprobe(tmp_path):
    files = kernel_files(tmp_path, modules="bridge 1 0 - Live 0x0\n",
                         dep="kernel/net/8021q/8021q.ko.xz: kernel/net/802/garp.ko.xz\n")
    assert kernel_advice("vlan", files).startswith("Load it: 'modprobe 8021q'")


def test_a_module_neither_on_disk_nor_built_in_says_which_kernel_lacks_it(tmp_path):
    files = kernel_files(tmp_path, modules="", dep="kernel/net/bridge/bridge.ko: \n")
    advice = kernel_advice("bond", files)
    assert "No bonding module for this kernel" in advice and "6.1.0-test" in advice
    assert "modprobe" not in advice


def test_a_built_in_or_loaded_module_that_refuses_points_to_dmesg(tmp_path):
    builtin = kernel_files(tmp_path, modules="", builtin="kernel/net/8021q/8021q.ko\n")
    assert "loaded or built in" in kernel_advice("vlan", builtin)
    loaded = kernel_files(tmp_path / "b", modules="bonding 200 0 - Live 0x0\n")
    assert "loaded or built in" in kernel_advice("bond", loaded)


def test_vlan_filtering_is_a_bridge_option_not_a_module(tmp_path):
    advice = kernel_advice("vlan_filtering", kernel_files(tmp_path, modules=""))
    assert "no module to load" in advice and "modprobe" not in advice


def test_a_recipe_needs_what_its_objects_use_and_check_marks_them():
    trunk = parse_recipe("local:\n  bridges:\n    xenbr105: {uplink: eth1, vlan: 105}\n")
    aware = parse_recipe("local:\n  bonds:\n    bond0: {slaves: [eth1, eth2]}\n"
                         "  bridges:\n    xenbr1: {uplink: bond0, vlan_filtering: true,"
                         " addresses: none}\n")
    assert recipe_needs(trunk) == {"bridge", "vlan"}
    assert recipe_needs(aware) == {"bridge", "bond", "vlan_filtering"}
    kernel = {"bridge": (True, "works"), "vlan": (False, "refused"),
              "bond": (False, "refused")}
    found = check_host(Path("/nonexistent"), kernel, needs=recipe_needs(trunk))
    assert [f.name for f in missing_needs(found)] == ["kernel: vlan"]
    assert not missing_needs(check_host(Path("/nonexistent"), kernel))  # backend: bridge only
