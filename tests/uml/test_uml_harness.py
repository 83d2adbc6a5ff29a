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
