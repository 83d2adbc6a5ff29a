"""Every XAPI error code maps to a typed exception that keeps code, params and words."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest

from xapictl.errors import XapiFailure
from xapictl.xapi import failures
from xapictl.xapi.failures import (
    FAILURES,
    HandleInvalid,
    KnownFailure,
    NetworkContainsVif,
    VlanTagInvalid,
    failure_from,
)

REFERENCE = Path("/work/shared/xapi/REFERENCE.md")
DATAMODEL = Path("/work/shared/xapi/xenapi.json")  # read by this test only, never at run time


def test_failure_from_builds_the_class_of_the_code_keeping_code_and_params() -> None:
    failure = failure_from(["VLAN_TAG_INVALID", "5000"], method="VLAN.create")
    assert type(failure) is VlanTagInvalid
    assert isinstance(failure, XapiFailure)
    assert (failure.code, failure.params, failure.method) == ("VLAN_TAG_INVALID", ["5000"],
                                                              "VLAN.create")
    assert "VLAN_TAG_INVALID" in str(failure) and "VLAN.create" in str(failure)
    assert failure.explanation  # words, not just the code


def test_an_unknown_code_is_still_a_failure_with_its_code_and_params() -> None:
    failure = failure_from(["SOMETHING_NEW", "a"])
    assert type(failure) is XapiFailure and failure.code == "SOMETHING_NEW"
    assert failure.params == ["a"]


def test_named_params_follow_what_xapi_sends_with_variadic_tails() -> None:
    assert failure_from(["HANDLE_INVALID", "VIF", "OpaqueRef:x"]).named_params == {
        "class": "VIF", "ref": "OpaqueRef:x"}
    contains = failure_from(["NETWORK_CONTAINS_VIF", "OpaqueRef:a", "OpaqueRef:b"])
    assert isinstance(contains, NetworkContainsVif)
    assert contains.named_params == {"vifs": ["OpaqueRef:a", "OpaqueRef:b"]}


def test_every_class_has_words_and_a_unique_code() -> None:
    classes = [c for c in vars(failures).values()
               if isinstance(c, type) and issubclass(c, KnownFailure) and c is not KnownFailure]
    assert len(classes) == len(FAILURES) >= 160
    for cls in classes:
        assert failures.words(cls), cls.__name__
        assert FAILURES[cls.code] is cls


@pytest.mark.skipif(not REFERENCE.exists(), reason="the shared XAPI reference is not here")
def test_every_code_of_reference_section_4_has_a_class() -> None:
    text = REFERENCE.read_text()
    section = text[text.index("## 4. Error codes"):text.index("## 5. RBAC")]
    codes = set(re.findall(r"^\| `([A-Z][A-Z_]+|Fault)`", section, flags=re.M))
    assert len(codes) > 80
    assert codes - set(FAILURES) == set()


@pytest.mark.skipif(not DATAMODEL.exists(), reason="the shared datamodel JSON is not here")
def test_every_error_the_datamodel_declares_has_a_class() -> None:
    import json

    declared = {error["name"] for cls in json.loads(DATAMODEL.read_text())
                for message in cls.get("messages", []) for error in message.get("errors", [])}
    assert len(declared) > 90
    assert declared - set(FAILURES) == set()


def test_failures_survive_pickling_with_their_type() -> None:
    failure = failure_from(["HANDLE_INVALID", "network", "OpaqueRef:x"], method="m")
    again = pickle.loads(pickle.dumps(failure))
    assert type(again) is HandleInvalid and again.params == failure.params
