"""``inventory export --format json`` is written by orjson, byte for byte what the standard
library's ``json.dumps(indent=2)`` wrote (whose indenting encoder is pure Python)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from inventory_pool_builder import PoolBuilder

from xapictl.inventory import export_snapshot, formats

# The values an inventory document holds (no floats: no field kind is one), with any text.
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1),
                    st.text(), st.sampled_from(["é", "\x7f", "\x00", "\u2028", "𝄞", "\ud800"]))
def _nest(inner):
    # named, not a lambda: hypothesis checks extend uses its argument by reading its source,
    # which can fail for a lambda (a deprecation warning, an error under -W error)
    return st.one_of(st.lists(inner, max_size=4),
                     st.dictionaries(st.text(max_size=8), inner, max_size=4))


documents = st.recursive(scalars, _nest, max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_the_indented_encoder_writes_what_json_dumps_indent_2_writes(doc: Any) -> None:
    assert formats._indented(doc) == json.dumps(doc, indent=2)


def test_beyond_64_bits_falls_back_to_the_standard_library() -> None:
    doc = {"n": 2**70, "s": "x"}
    assert formats._indented(doc) == json.dumps(doc, indent=2)


def test_an_export_is_byte_for_byte_the_old_encoding(pool_builder: PoolBuilder) -> None:
    pool_builder.network("Réseau de stockage 𝄞", "xapi9")
    inv = export_snapshot(pool_builder.snapshot(), generated_at="2026-12-07T00:00:00Z")
    text = formats.to_json(inv)
    assert text == json.dumps(inv.to_document(), indent=2) + "\n"
    assert "R\\u00e9seau" in text and text.isascii()


def test_the_json_export_does_not_use_the_pure_python_encoder(
        pool_builder: PoolBuilder, monkeypatch: Any) -> None:
    def refused(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("json.dumps called")

    monkeypatch.setattr(formats.json, "dumps", refused)
    assert formats.to_json(export_snapshot(pool_builder.snapshot())).startswith("{\n  ")


def test_the_cli_writes_json_exports_without_the_pure_python_encoder(
        tmp_path: Any, monkeypatch: Any) -> None:
    """``xapictl inventory export --format json`` end to end: the standard library's
    pure-Python encoder (``json.encoder._make_iterencode``, what ``indent`` selects) is never
    entered, orjson writes the document once, and the bytes are what ``json.dumps(indent=2)``
    wrote."""
    import json.encoder

    from typer.testing import CliRunner

    from xapictl.cli import app
    from xapictl.sim.engine import Simulator
    from xapictl.sim.server import SimServer

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the pure-Python JSON encoder was used")

    writes: list[int] = []
    real = formats.orjson.dumps

    def counted(value: Any, *args: Any, **kwargs: Any) -> bytes:
        writes.append(kwargs.get("option", 0))
        return real(value, *args, **kwargs)

    with SimServer(Simulator(scenario="seed")) as server:
        env = {"XAPICTL_URL": server.url, "XAPICTL_PASSWORD": "xapictl",
               "XAPICTL_AUDIT_LOG": str(tmp_path / "audit.jsonl")}
        monkeypatch.setattr(json.encoder, "_make_iterencode", refused)
        monkeypatch.setattr(formats.orjson, "dumps", counted)
        done = CliRunner().invoke(app, ["inventory", "export", "--format", "json"], env=env)
        monkeypatch.undo()
    assert done.exit_code == 0, done.output
    assert writes.count(formats.orjson.OPT_INDENT_2) == 1
    document = json.loads(done.stdout)
    assert document["hosts"] and done.stdout == json.dumps(document, indent=2) + "\n"
