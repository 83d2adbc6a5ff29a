"""Opt-in real-Xen tier: boot Xen 4.17 + a PV dom0 under QEMU and check that a guest vif
using ``xapictl local vif-hotplug`` as its script= lands on the right bridge and VLAN.

    sudo python tests/xen/run_xen_tier.py      (nox -s xen, with XAPICTL_XEN_TIER=1)

Slow (QEMU software emulation: several minutes on a busy 2-core machine). Exit status is the
check's; 2 with a message when Xen cannot be fetched or booted.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from xen_harness import XenTierError, run_in_dom0  # noqa: E402


def main() -> int:
    if os.geteuid() != 0:
        print("Xen tier: must run as root", file=sys.stderr)
        return 2
    os.chdir(HERE.parents[1])
    try:
        return run_in_dom0(["sh", str(HERE / "xen_dom0_job.sh"), sys.executable,
                            str(HERE / "xen_dom0_check.py")])
    except XenTierError as err:
        print(f"Xen tier FAILED TO RUN: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
