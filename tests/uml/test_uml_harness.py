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
