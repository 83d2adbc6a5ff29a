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
