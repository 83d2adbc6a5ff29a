"""The generated records: decoding either protocol, defaults, the target-release cut."""

from __future__ import annotations

import datetime

import pytest

from xapictl.model import NULL_REF, record_type
from xapictl.model.enums import BondMode, VIFIPv4ConfigurationMode, VIFLockingMode
from xapictl.model.network import Network
from xapictl.model.pif import PIF
from xapictl.model.refs import NetworkRef
from xapictl.model.schema import datamodel
from xapictl.model.task import Task
from xapictl.model.vif import VIF


def test_xmlrpc_ints_arrive_as_strings_and_become_ints() -> None:
    pif = PIF.from_xapi({"MTU": "9000", "VLAN": "-1", "device": "eth1"})
    assert pif.mtu == 9000
    assert pif.vlan == -1
    assert pif.device == "eth1"


def test_jsonrpc_ints_arrive_as_numbers() -> None:
    assert PIF.from_xapi({"MTU": 1500}).mtu == 1500


def test_unknown_keys_from_a_newer_pool_are_ignored() -> None:
    vif = VIF.from_xapi({"device": "0", "trunks": [101, 102], "brand_new_field": "x"})
    assert vif.device == "0"
    assert not hasattr(vif, "trunks")


def test_fields_published_after_the_target_release_are_not_in_records() -> None:
    assert "trunks" not in {py for py, _, _ in VIF.wire_fields}
    assert "add_trunks" not in datamodel().classes["VIF"].messages


def test_enum_values_added_after_the_target_release_are_cut() -> None:
    assert [m.value for m in VIFIPv4ConfigurationMode] == ["None", "Static"]


def test_enums_decode_case_insensitively_and_tolerate_unknown_values() -> None:
    assert VIFLockingMode("LOCKED") is VIFLockingMode.LOCKED
    odd = VIFLockingMode("quarantined")
    assert odd.value == "quarantined"
    assert not VIFLockingMode.known("quarantined")
    assert BondMode.known("lacp")


def test_defaults_come_from_the_datamodel() -> None:
    net = Network()
    assert net.mtu == 1500
    assert net.managed is True
    assert VIF().locking_mode is VIFLockingMode.NETWORK_DEFAULT
    assert VIF().network == NetworkRef(NULL_REF)


def test_datetimes_read_xapi_format_and_round_trip() -> None:
    task = Task.from_xapi({"created": "20240131T12:34:56Z"})
    assert task.created == datetime.datetime(2024, 1, 31, 12, 34, 56, tzinfo=datetime.UTC)
    assert task.to_xapi()["created"] == "20240131T12:34:56Z"


def test_records_round_trip_through_the_wire_form() -> None:
    raw = {"name_label": "VLAN 105", "MTU": 9000, "other_config": {"a": "b"},
           "tags": ["x"], "PIFs": ["OpaqueRef:1"], "default_locking_mode": "disabled"}
    net = Network.from_xapi(raw)
    again = Network.from_xapi(net.to_xapi())
    assert again == net
    assert net.pifs == ("OpaqueRef:1",)


def test_a_value_of_the_wrong_type_names_the_field() -> None:
    with pytest.raises(ValueError, match=r"PIF\.MTU"):
        PIF.from_xapi({"MTU": "jumbo"})


@pytest.mark.parametrize("name", sorted(datamodel().classes))
def test_every_served_class_has_a_record_type(name: str) -> None:
    cls = record_type(name)
    assert cls.xapi_class == name
    # every datamodel field of the class is a record field, under its wire name
    assert {wire for _, wire, _ in cls.wire_fields} == set(datamodel().classes[name].fields)
    cls()  # defaults exist for every field


def test_all_72_classes_are_generated() -> None:
    dm = datamodel()
    assert len(dm.classes) + len(dm.hidden_classes) == 72
    for name in dm.hidden_classes:
        assert record_type(name).xapi_class == name


def test_the_datamodel_decodes_a_class_when_it_is_first_looked_up() -> None:
    # a fresh Datamodel over the generated rows: building it decodes none of them
    from xapictl.model import _schema
    from xapictl.model.schema import _Built, _class_info

    decoded: list[str] = []

    def build(raw: str) -> object:
        info = _class_info(raw, [frozenset(r) for r in _schema.ROLE_SETS])
        decoded.append(info.name)
        return info

    classes = _Built(_schema.CLASSES, build)
    assert len(classes) == len(_schema.CLASSES) and "VLAN" in classes and decoded == []
    assert classes["VLAN"] == classes["VLAN"] == datamodel().classes["VLAN"]
    assert decoded == ["VLAN"]


def test_the_list_of_message_names_is_every_class_s_messages() -> None:
    from xapictl.model.schema import message_wire_names

    dm = datamodel()
    expected = {f"{c}.{m}".lower() for c in dm.classes for m in dm.classes[c].messages}
    assert message_wire_names() == expected
    assert "vlan.create" in expected and "pool.create_vlan_from_pif" in expected
