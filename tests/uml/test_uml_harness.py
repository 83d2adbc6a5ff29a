"""The UML harness fails loudly, never silently: no apt-get, a kernel that dies, no status."""

from __future__ import annotations

import os
import sys

import pytest
import uml_harness
from uml_harness import UmlError


def test_fetch_without_apt_get_raises(tmp_path, monkeypatch):
    monkeypatch.setenv("XAPICTL_UML_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UmlError, match="apt-get not found"):
        uml_harness.fetch()


def test_a_kernel_that_dies_without_running_the_job_raises(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    (cache / "usr" / "bin").mkdir(parents=True)
    (cache / "usr" / "lib" / "uml" / "modules" / "6.1.0").mkdir(parents=True)
    kernel = cache / "usr" / "bin" / "linux.uml"
    kernel.write_text("#!/bin/sh\necho 'Kernel panic - not syncing'\nexit 0\n")
    kernel.chmod(0o755)
    monkeypatch.setenv("XAPICTL_UML_CACHE", str(cache))
    with pytest.raises(UmlError, match="exited without the job's status"):
        uml_harness.run(["true"])


def test_the_runner_reports_a_failure_to_boot_with_exit_2(tmp_path, monkeypatch, capsys):
    import harness

    monkeypatch.setenv("XAPICTL_UML_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert harness.main([]) == 2
    assert "UML tier FAILED TO RUN: apt-get not found" in capsys.readouterr().err
    assert sys.modules["harness"].__file__.endswith("tests/uml/harness.py")



def test_a_skip_inside_uml_is_reported_as_a_failure(tmp_path):
    """With IN_TEST_VM=1 a uml test that skips (no root, a missing fixture...) fails the run,
    while the same test outside UML skips as usual."""
    import shutil
    import subprocess
    from pathlib import Path

    here = Path(__file__).resolve().parent
    (tmp_path / "tests" / "uml").mkdir(parents=True)
    (tmp_path / "tests" / "local").mkdir()
    shutil.copy(here / "conftest.py", tmp_path / "tests" / "uml" / "conftest.py")
    shutil.copy(here.parent / "local" / "local_netns_helpers.py", tmp_path / "tests" / "local")
    (tmp_path / "tests" / "uml" / "test_uml_skips.py").write_text(
        "import pytest\n\n@pytest.mark.uml\ndef test_skips():\n    pytest.skip('no kernel')\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    uml: in UML\n")

    def run(in_vm: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/uml"],
            cwd=tmp_path, capture_output=True, text=True,
            env={**os.environ, "IN_TEST_VM": in_vm})

    inside = run("1")
    assert inside.returncode == 1, inside.stdout
    assert "skipped inside UML, which counts as a failure" in inside.stdout
    assert "1 failed" in inside.stdout
    outside = run("0")
    assert outside.returncode == 0 and "1 skipped" in outside.stdout, outside.stdout


def _fake_kernel(tmp_path, monkeypatch, console: str):
    cache = tmp_path / "cache"
    (cache / "usr" / "bin").mkdir(parents=True)
    (cache / "usr" / "lib" / "uml" / "modules" / "6.1.0").mkdir(parents=True)
    kernel = cache / "usr" / "bin" / "linux.uml"
    kernel.write_text(f"#!/bin/sh\necho '{console}'\nexit 0\n")
    kernel.chmod(0o755)
    monkeypatch.setenv("XAPICTL_UML_CACHE", str(cache))
    monkeypatch.setattr(os, "geteuid", lambda: 0)


def test_a_host_where_init_segfaults_is_a_loud_skip_not_a_pass(tmp_path, monkeypatch, capsys):
    import harness

    _fake_kernel(tmp_path, monkeypatch,
                 "Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b")
    monkeypatch.setattr(harness, "FALLBACK_SUITE", "")  # no newer kernel to try
    monkeypatch.delenv("XAPICTL_UML_REQUIRED", raising=False)
    assert harness.main([]) == 0
    err = capsys.readouterr().err
    assert "UML tier SKIPPED, NOT PASSED" in err and "SIGSEGV" in err
    monkeypatch.setenv("XAPICTL_UML_REQUIRED", "1")
    assert harness.main([]) == 2
    assert "UML tier FAILED TO RUN" in capsys.readouterr().err


def test_any_other_failure_to_boot_still_fails_the_tier(tmp_path, monkeypatch, capsys):
    import harness

    _fake_kernel(tmp_path, monkeypatch, "Kernel panic - not syncing: VFS: Unable to mount root")
    monkeypatch.delenv("XAPICTL_UML_REQUIRED", raising=False)
    assert harness.main([]) == 2
    out = capsys.readouterr()
    assert "UML tier FAILED TO RUN" in out.err and "Unable to mount root" in out.out


BOOTS = """#!/bin/sh
# a stand-in kernel that "runs" the job: the rc file next to init.sh
for a in "$@"; do case $a in init=*) init=${a#init=};; esac; done
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH cwd=$(pwd)" > "$(dirname "$0")/../../started"
echo 0 > "$(dirname "$init")/rc"
"""


def _suite_kernel(tmp_path, script: str) -> None:
    """A stand-in for the sid kernel, already unpacked in the cache (nothing downloaded)."""
    home = tmp_path / "cache" / "suite-sid"
    (home / "usr" / "bin").mkdir(parents=True)
    (home / "usr" / "lib" / "uml" / "modules" / "7.2.7").mkdir(parents=True)
    (home / "usr" / "lib" / "x86_64-linux-gnu").mkdir(parents=True)
    kernel = home / "usr" / "bin" / "linux.uml"
    kernel.write_text(script)
    kernel.chmod(0o755)


def test_an_amx_host_falls_back_to_the_newer_suites_kernel(tmp_path, monkeypatch, capsys):
    """Debian 12's UML dies at init here: the probe tries sid's kernel, which the rest of the
    tier (and the reboot test's process, through the environment) then uses."""
    import harness

    _fake_kernel(tmp_path, monkeypatch,
                 "Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b")
    _suite_kernel(tmp_path, BOOTS)
    monkeypatch.delenv("XAPICTL_UML_SUITE", raising=False)
    monkeypatch.setattr(harness, "FALLBACK_SUITE", "sid")
    harness._probe()
    assert os.environ["XAPICTL_UML_SUITE"] == "sid"
    err = capsys.readouterr().err
    assert "trying user-mode-linux from Debian sid" in err
    assert "UML tier: kernel 7.2.7 (Debian sid)" in err
    home = tmp_path / "cache" / "suite-sid"
    # started in its cache directory with its own C library
    assert (home / "started").read_text().split() == [
        f"LD_LIBRARY_PATH={home / 'usr' / 'lib' / 'x86_64-linux-gnu'}", f"cwd={home}"]


def test_when_the_newer_kernel_fails_too_both_reasons_are_given(tmp_path, monkeypatch, capsys):
    import harness

    panic = "Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b"
    _fake_kernel(tmp_path, monkeypatch, panic)
    _suite_kernel(tmp_path, f"#!/bin/sh\necho '{panic}'\n")
    monkeypatch.delenv("XAPICTL_UML_SUITE", raising=False)
    monkeypatch.delenv("XAPICTL_UML_REQUIRED", raising=False)
    monkeypatch.setattr(harness, "FALLBACK_SUITE", "sid")
    assert harness.main([]) == 0
    err = capsys.readouterr().err
    assert "UML tier SKIPPED, NOT PASSED" in err and "; and sid's kernel: " in err


def test_the_interpreter_is_pointed_at_the_suites_loader(tmp_path):
    binary = tmp_path / "linux.uml"
    binary.write_bytes(b"\x7fELF" + b"\0" * 60 + uml_harness.HOST_INTERP + b"rest")
    uml_harness._set_interpreter(binary)
    data = binary.read_bytes()
    assert uml_harness.HOST_INTERP not in data
    assert data == b"\x7fELF" + b"\0" * 60 + b"ld-uml.so" + b"\0" * 19 + b"rest"
    binary.write_bytes(b"\x7fELF static")
    with pytest.raises(UmlError, match=r"does not name /lib64/ld-linux-x86-64\.so\.2"):
        uml_harness._set_interpreter(binary)


def test_modprobe_skips_built_in_modules_it_cannot_load(tmp_path):
    """ipv6 is a bool option in newer kernels: only in modules.builtin.modinfo."""
    import uml_modprobe

    (tmp_path / "modules.dep").write_text("kernel/net/bridge/bridge.ko:\n")
    (tmp_path / "modules.builtin").write_text("kernel/net/unix/unix.ko\n")
    (tmp_path / "modules.builtin.modinfo").write_bytes(b"ipv6.parm=disable\0ipv6.parmtype=x\0")
    assert uml_modprobe._builtin(tmp_path) >= {"ipv6", "unix"}
    uml_modprobe.modprobe(tmp_path, "ipv6")  # nothing to load, no error
    with pytest.raises(SystemExit, match="no module 8021q"):
        uml_modprobe.modprobe(tmp_path, "8021q")
