"""One boot of the UML reboot test (``test_uml_local_boot.py``), run inside UML:

    python tests/uml/uml_boot_phase.py setup|apply|apply-unconfirmed|boot ROOT

Every boot first makes what the hardware and the distribution's network configuration
give the host (``build_xen_host``: dom0's eth0 with its addresses and routes, the LAN
namespace). ``apply`` applies and confirms the xenbr0 recipe with ``--root ROOT``;
``apply-unconfirmed`` applies it with ``--confirm-within`` and powers off unconfirmed;
``boot`` runs ``xapictl local boot``. Each writes dom0's fingerprint to ROOT/<phase>.json
(ROOT is a host directory, the only thing that survives the reboot besides the boot recipe).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "local"))

from local_netns_helpers import Namespaces, build_xen_host, snapshot_of  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from xapictl.cli import app  # noqa: E402

XENBR0 = str(HERE.parents[1] / "recipes" / "local-xenbr0.yaml")


def main(phase: str, root: Path) -> int:
    host = build_xen_host(Namespaces())
    runner = CliRunner()
    out = ""
    if phase == "setup":
        pass
    elif phase in ("apply", "apply-unconfirmed"):
        r = runner.invoke(app, ["local", "apply", XENBR0, "--yes", "--netns", host.dom0,
                                "--root", str(root), "--confirm-within", "600"])
        out += r.output
        if r.exit_code:
            print(out)
            return r.exit_code
        if phase == "apply":
            r = runner.invoke(app, ["local", "confirm", "--netns", host.dom0, "--root", str(root)])
            out += r.output
    elif phase == "boot":
        r = runner.invoke(app, ["local", "boot", "--netns", host.dom0, "--root", str(root)])
        out += r.output
    else:
        print(f"unknown phase {phase!r}")
        return 2
    fingerprint = snapshot_of(host.dom0).fingerprint()
    (root / f"{phase}.json").write_text(json.dumps({"fingerprint": fingerprint, "output": out}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], Path(sys.argv[2])))
