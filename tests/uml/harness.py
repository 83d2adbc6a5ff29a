"""Boot the UML test kernel once and run the real-kernel tier inside it.

    python tests/uml/harness.py [extra pytest args]

Exit status is pytest's; 2 with a message when UML cannot be fetched or booted (never a
silent pass). Debian 12's UML 6.1 boots but cannot run its first program on CPUs with AMX
(init killed by SIGSEGV): then the tier uses user-mode-linux from a newer suite
(XAPICTL_UML_FALLBACK_SUITE, default sid; 7.2 works). When no kernel can run a program, said
loudly: the tier prints SKIPPED with the reason and exits 0, unless XAPICTL_UML_REQUIRED=1
(then 2). Run from the repository root as root.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from uml_harness import FALLBACK_SUITE, UmlError, UmlUnsupported, cache_dir, fetch, run  # noqa: E402

MODULES = ("ipv6", "bridge", "8021q", "bonding", "veth")


def _probe() -> None:
    """Boot the host suite's kernel once; where it cannot run a program (AMX CPUs with
    Debian 12's UML 6.1), the newer kernel of FALLBACK_SUITE, which the rest of the tier
    then uses (XAPICTL_UML_SUITE, inherited by the reboot test's process). Raises
    UmlUnsupported when no kernel can run here, UmlError when one cannot be fetched."""
    suite = os.environ.get("XAPICTL_UML_SUITE", "")
    try:
        run(["true"], probe=True)
    except UmlUnsupported as err:
        if suite or not FALLBACK_SUITE:
            raise
        print(f"UML tier: the host suite's kernel cannot run here ({err}); trying "
              f"user-mode-linux from Debian {FALLBACK_SUITE}", file=sys.stderr)
        os.environ["XAPICTL_UML_SUITE"] = suite = FALLBACK_SUITE
        try:
            run(["true"], probe=True)
        except UmlUnsupported as again:
            raise UmlUnsupported(f"{err}; and {FALLBACK_SUITE}'s kernel: {again}") from again
    kernel = fetch()
    print(f"UML tier: kernel {kernel.version} ({f'Debian {suite}' if suite else 'host apt'})",
          file=sys.stderr)


def main(argv: list[str]) -> int:
    if os.geteuid() != 0:
        print("UML tier: must run as root (it creates network namespaces inside UML)",
              file=sys.stderr)
        return 2
    os.chdir(HERE.parents[1])
    # the reboot test's process must find the same kernel whatever HOME its fixtures set
    os.environ["XAPICTL_UML_CACHE"] = str(cache_dir())
    cmd = [sys.executable, "-m", "pytest", "tests/uml", "-m", "uml", "-p", "no:cacheprovider",
           "--color=no", "-q", "-rA", *argv]
    try:
        _probe()
    except UmlUnsupported as err:
        if os.environ.get("XAPICTL_UML_REQUIRED") == "1":
            print(f"UML tier FAILED TO RUN: {err}", file=sys.stderr)
            return 2
        print(f"UML tier SKIPPED, NOT PASSED: {err}. The real-kernel tests (802.1Q, bonds, "
              "VLAN filtering) did not run on this host; set XAPICTL_UML_REQUIRED=1 to make "
              "this an error.", file=sys.stderr)
        return 0
    except UmlError as err:
        print(f"UML tier FAILED TO RUN: {err}", file=sys.stderr)
        return 2
    try:
        rc = run(cmd, modules=MODULES, env={"IN_TEST_VM": "1"})
    except UmlError as err:
        print(f"UML tier FAILED TO RUN: {err}", file=sys.stderr)
        return 2
    if rc == 5:
        print("UML tier: no tests ran inside UML", file=sys.stderr)
        return 2
    # the reboot test boots UML twice itself, so it runs here, on the host
    reboot = subprocess.run([sys.executable, "-m", "pytest", "tests/uml/test_uml_local_boot.py",
                             "-p", "no:cacheprovider", "--color=no", "-q", "-rA"],
                            env={**os.environ, "XAPICTL_UML_REBOOT": "1"}, check=False)
    return rc or reboot.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
