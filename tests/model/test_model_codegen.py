"""The generator: its output in the repo is exactly what it writes from the datamodel."""

from __future__ import annotations

import filecmp
import os
from pathlib import Path

import pytest

from xapictl.model import _codegen

MODEL_DIR = Path(_codegen.__file__).parent
DATAMODEL = Path(os.environ.get(
    "XAPICTL_DATAMODEL",
    Path(__file__).resolve().parents[3] / "shared" / "xapi" / "xenapi.json",
))


@pytest.mark.skipif(not DATAMODEL.exists(),
                    reason=f"the XAPI datamodel JSON is not at {DATAMODEL} "
                           "(set XAPICTL_DATAMODEL to check the generated model is current)")
def test_generated_model_is_current(tmp_path: Path) -> None:
    _codegen.main(["--datamodel", str(DATAMODEL), "--out", str(tmp_path)])
    generated = sorted(p.name for p in tmp_path.glob("*.py"))
    assert len(generated) == 76
    stale = [name for name in generated
             if not filecmp.cmp(tmp_path / name, MODEL_DIR / name, shallow=False)]
    assert stale == [], f"re-run the generator: {stale} differ"


@pytest.mark.skipif(not DATAMODEL.exists(), reason="the XAPI datamodel JSON is not available")
def test_an_older_target_release_hides_later_fields(tmp_path: Path) -> None:
    _codegen.main(["--datamodel", str(DATAMODEL), "--out", str(tmp_path),
                   "--target-release", "stockholm"])
    vif = (tmp_path / "vif.py").read_text()
    assert "'trunks'" not in vif
    net = (tmp_path / "network.py").read_text()
    assert "purpose" in net  # published in stockholm


@pytest.mark.skipif(not DATAMODEL.exists(), reason="the XAPI datamodel JSON is not available")
def test_the_output_folder_is_created_when_missing(tmp_path: Path) -> None:
    out = tmp_path / "new" / "model"
    assert _codegen.main(["--datamodel", str(DATAMODEL), "--out", str(out)]) == 0
    assert len(list(out.glob("*.py"))) == 76


def test_the_committed_model_hides_what_was_published_after_the_target_release() -> None:
    # No JSON needed: this reads the generated modules as committed.
    from dataclasses import fields

    from xapictl.model import enums
    from xapictl.model.schema import datamodel
    from xapictl.model.vif import VIF

    assert {m.value for m in enums.VIFIPv4ConfigurationMode} == {"None", "Static"}
    assert {m.value for m in enums.VIFIPv6ConfigurationMode} == {"None", "Static"}
    assert set(datamodel().enums["vif_ipv4_configuration_mode"]) == {"None", "Static"}
    assert "Autoconf" not in datamodel().enums["vif_ipv6_configuration_mode"]
    assert "trunks" not in datamodel().classes["VIF"].fields
    assert "trunks" not in {f.name for f in fields(VIF)}
    # Only the late values go: the PIF modes published long before keep DHCP and Autoconf.
    assert {"DHCP", "Autoconf"} <= {m.value for m in enums.IPv6ConfigurationMode}
    assert "DHCP" in {m.value for m in enums.IPConfigurationMode}


def test_camel_keeps_xapi_acronyms() -> None:
    from xapictl.model._names import camel

    assert camel("VM_guest_metrics") == "VMGuestMetrics"
    assert camel("vif_ipv4_configuration_mode") == "VIFIPv4ConfigurationMode"
    assert camel("network") == "Network"


def test_generated_clients_are_current(tmp_path: Path) -> None:
    # No JSON needed: the clients are generated from the committed compact datamodel.
    from xapictl.model import _codegen_clients
    from xapictl.model.schema import datamodel

    assert _codegen.main(["--clients", "--out", str(tmp_path)]) == 0
    generated = sorted(p.name for p in tmp_path.glob("*.py"))
    assert len(generated) == len(datamodel().classes) + 1  # and the index
    committed = _codegen_clients.OUT
    stale = [name for name in generated
             if not filecmp.cmp(tmp_path / name, committed / name, shallow=False)]
    assert stale == [], f"run python -m xapictl.model._codegen --clients: {stale} differ"
    assert sorted(p.name for p in committed.glob("*.py")) == generated


def test_every_class_client_has_every_message_typed() -> None:
    import importlib
    import inspect

    from xapictl.client.generated import client_type
    from xapictl.model._codegen_clients import GENERIC, method_name
    from xapictl.model.schema import datamodel

    for info in datamodel().classes.values():
        module = importlib.import_module(f"xapictl.client.generated.{info.module}")
        client = client_type(info.name)
        assert client.__module__ == module.__name__ and client.xapi_class == info.name
        for msg in info.messages.values():
            if msg.state == "removed" or msg.name in GENERIC:
                continue
            method = getattr(client, method_name(msg.name))
            hints = inspect.signature(method).parameters
            kinds = {p.kind for name, p in hints.items() if name not in ("self", "ref")}
            assert kinds <= {inspect.Parameter.KEYWORD_ONLY}, (info.name, msg.name)
            assert all(p.annotation is not inspect.Parameter.empty
                       for p in hints.values() if p.name != "self"), (info.name, msg.name)
