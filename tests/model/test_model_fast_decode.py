"""The fast record reader gives exactly what the field-by-field decoders give."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xapictl.model import record_type
from xapictl.model._base import Record, _enum_ctor
from xapictl.model._types import _DT_FORMATS, parse_datetime
from xapictl.model.enums import OnCrashBehaviour, VIFLockingMode
from xapictl.model.schema import datamodel
from xapictl.model.vm import VM

NAMES = sorted(datamodel().classes)


def _as_xmlrpc(value: Any) -> Any:
    """What XML-RPC sends: ints (not bools) as strings, containers recursively."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return [_as_xmlrpc(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_xmlrpc(v) for k, v in value.items()}
    return value


def _same(a: Record, b: Record) -> None:
    assert a == b
    for py, _, _ in type(a).wire_fields:
        assert type(getattr(a, py)) is type(getattr(b, py)), py


@pytest.mark.parametrize("name", NAMES)
def test_fast_reader_matches_the_field_by_field_decoders_on_either_protocol(name: str) -> None:
    cls = record_type(name)
    wire = cls().to_xapi()
    for raw in (wire, _as_xmlrpc(wire), {}):
        _same(cls.from_xapi(raw), cls._from_xapi_checked(raw))


def test_fast_reader_matches_on_filled_in_values() -> None:
    raw = {"name_label": "vm1", "VCPUs_max": "4", "is_a_template": True,
           "power_state": "running", "actions_after_crash": "", "other_config": {"a": "b"},
           "VIFs": ["OpaqueRef:1", "OpaqueRef:2"], "start_time": "20240131T12:34:56Z",
           "memory_overhead": 1024, "blocked_operations": {"start": "no"}}
    _same(VM.from_xapi(raw), VM._from_xapi_checked(raw))


def test_a_bad_value_still_names_the_field_through_the_fast_reader() -> None:
    with pytest.raises(ValueError, match=r"VM\.VCPUs_max: cannot read 'four'"):
        VM.from_xapi({"name_label": "x", "VCPUs_max": "four"})
    with pytest.raises(ValueError, match=r"VM\.VIFs"):
        VM.from_xapi({"VIFs": 3})


def test_an_empty_container_of_another_type_is_not_taken_for_an_empty_set() -> None:
    with pytest.raises(ValueError, match=r"VM\.VIFs"):
        VM.from_xapi({"VIFs": 0})
    assert VM.from_xapi({"VIFs": ()}).vifs == ()


@pytest.mark.parametrize("value", ["restart", "RESTART", "", "quarantined", 3])
def test_enum_lookup_is_the_enum_constructor(value: Any) -> None:
    lookup = _enum_ctor("on_crash_behaviour")
    try:
        expected = OnCrashBehaviour(value)
    except ValueError:
        with pytest.raises(ValueError):
            lookup(value)
        return
    got = lookup(value)
    assert got == expected
    assert type(got) is OnCrashBehaviour
    assert (got is expected) == (expected in list(OnCrashBehaviour))
    assert _enum_ctor("vif_locking_mode")("locked") is VIFLockingMode.LOCKED


def _by_strptime(text: str) -> datetime.datetime | None:
    for fmt in _DT_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).replace(tzinfo=datetime.UTC)
        except ValueError:
            continue
    return None


def _two(lo: int, hi: int) -> st.SearchStrategy[str]:
    return st.integers(lo, hi).map(lambda n: f"{n:02d}")


@given(st.integers(0, 9999).map(lambda n: f"{n:04d}"), _two(0, 19), _two(0, 39),
       _two(0, 29), _two(0, 69), _two(0, 69), st.sampled_from(["Z", ""]))
def test_datetime_fast_path_reads_what_strptime_reads(year: str, month: str, day: str,
                                                      hour: str, minute: str, second: str,
                                                      zone: str) -> None:
    text = f"{year}{month}{day}T{hour}:{minute}:{second}{zone}"
    expected = _by_strptime(text)
    if expected is None:
        with pytest.raises(ValueError, match="not a XAPI datetime"):
            parse_datetime(text)
    else:
        assert parse_datetime(text) == expected


@pytest.mark.parametrize("text", ["2024-01-31T12:34:56Z", "2024131T1:2:3Z", " 20240131T12:34:56Z "])
def test_other_datetime_spellings_still_go_through_strptime(text: str) -> None:
    assert parse_datetime(text) == _by_strptime(text.strip())


@pytest.mark.parametrize("name", NAMES)
def test_generated_records_read_with_their_written_reader_and_compile_nothing(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The generator writes each record's reader into its module (_reader): reading a record
    # compiles no source at run time, and what it reads is what the source Record would
    # compile (reader_source) reads, on either protocol and on a record with nothing sent.
    import sys

    from xapictl.model import _base

    cls = record_type(name)
    if not cls.wire_fields:
        return  # nothing to read: no reader written (Record compiles the empty one)
    if "_fast_from_xapi_" in cls.__dict__:
        monkeypatch.delattr(cls, "_fast_from_xapi_")

    def no_exec(*_: object) -> None:
        raise AssertionError("a generated record's reader was compiled at run time")

    monkeypatch.setattr(_base, "exec", no_exec, raising=False)
    wire = cls().to_xapi()
    read = cls.from_xapi(wire)
    reader = cls.__dict__["_fast_from_xapi_"]
    assert reader.__module__ == cls.__module__ == sys.modules[cls.__module__].__name__
    assert reader.__qualname__ == "_reader.<locals>.from_xapi"
    monkeypatch.undo()
    names = _base.reader_names(cls)
    exec(_base.reader_source(cls.wire_fields), names)  # what Record compiles without one
    for raw in (wire, _as_xmlrpc(wire), {}):
        _same(reader(raw), names["from_xapi"](raw))
    _same(read, names["from_xapi"](wire))


@given(st.dictionaries(st.text(max_size=8), st.text(max_size=8) | st.integers(), max_size=6))
def test_a_string_map_reads_as_the_key_and_value_decoders_make_it(raw: dict[str, Any]) -> None:
    """A ``(string -> string) map`` of strings is copied as it is; anything else (an int
    value) goes through ``str`` as before: the same dict either way, never the wire's."""
    from xapictl.model._types import decoder, parse_type

    read = decoder(parse_type("(string -> string) map"))
    made = read(raw)
    assert made == {str(k): str(v) for k, v in raw.items()}
    assert made is not raw and all(type(v) is str for v in made.values())
