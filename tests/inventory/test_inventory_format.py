"""The export format: the schema is published and current, every format round-trips."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import jsonschema
import pytest
from inventory_pool_builder import PoolBuilder, seed_pool

from xapictl.errors import UsageError
from xapictl.inventory import Inventory, diff, export_snapshot, formats, schema
from xapictl.inventory.fields import OBJECT_TYPES, SCHEMA_VERSION

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_committed_schema_is_what_the_code_generates() -> None:
    assert (DOCS / "inventory.schema.json").read_text() == schema.render(), (
        "run: python -m xapictl.inventory.schema docs/inventory.schema.json")


def test_export_validates_against_the_published_schema(pool_builder: PoolBuilder) -> None:
    doc = export_snapshot(pool_builder.snapshot()).to_document()
    published = json.loads((DOCS / "inventory.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(published)
    jsonschema.validate(doc, published, cls=jsonschema.Draft202012Validator)
    assert doc["schema_version"] == SCHEMA_VERSION


def test_schema_rejects_an_object_with_an_unknown_field(pool_builder: PoolBuilder) -> None:
    doc = export_snapshot(pool_builder.snapshot()).to_document()
    doc["pifs"][0]["opaque_ref"] = "OpaqueRef:x"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema.json_schema())


def test_no_ref_ever_appears_in_an_export(pool_builder: PoolBuilder) -> None:
    text = formats.to_json(export_snapshot(pool_builder.snapshot()))
    assert "OpaqueRef" not in text


def test_export_covers_guest_vms_only_with_their_vifs(pool_builder: PoolBuilder) -> None:
    inv = export_snapshot(pool_builder.snapshot())
    assert sorted(v["name_label"] for v in inv.of("vms")) == ["db01", "web01"]
    vm_uuids = {v["uuid"] for v in inv.of("vms")}
    assert len(inv.of("vifs")) == 3 and all(v["vm"] in vm_uuids for v in inv.of("vifs"))


def test_reported_ips_come_from_guest_metrics_for_the_vif_device(
        pool_builder: PoolBuilder) -> None:
    inv = export_snapshot(pool_builder.snapshot())
    web = next(v["uuid"] for v in inv.of("vms") if v["name_label"] == "web01")
    by_dev = {v["device"]: v["reported_ips"] for v in inv.of("vifs") if v["vm"] == web}
    assert by_dev == {"0": ["192.0.2.10", "2001:db8::10"], "1": ["198.51.100.7"]}


def test_network_carries_the_vlan_tag_per_host(pool_builder: PoolBuilder) -> None:
    inv = export_snapshot(pool_builder.snapshot())
    hosts = {h["name_label"]: h["uuid"] for h in inv.of("hosts")}
    v105 = next(n for n in inv.of("networks") if n["name_label"] == "VLAN 105")
    assert v105["vlan_tags"] == {hosts["host1"]: 105, hosts["host2"]: 105}


def test_bond_membership_and_carrier_are_exported(pool_builder: PoolBuilder) -> None:
    inv = export_snapshot(pool_builder.snapshot())
    bond = inv.of("bonds")[0]
    slaves = [p for p in inv.of("pifs") if p["bond_slave_of"] == bond["uuid"]]
    assert sorted(p["uuid"] for p in slaves) == bond["slaves"]
    assert {p["device"]: p["carrier"] for p in slaves} == {"eth2": True, "eth3": False}
    master = next(p for p in inv.of("pifs") if p["uuid"] == bond["master"])
    assert master["bond_master_of"] == bond["uuid"]


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_text_formats_read_back_with_no_difference(fmt: str, tmp_path: Path,
                                                   pool_builder: PoolBuilder) -> None:
    inv = export_snapshot(pool_builder.snapshot())
    out = tmp_path / f"inv.{fmt}"
    formats.write(inv, fmt, out)
    back = formats.read(out)
    assert diff(inv, back) == []
    assert back.tokens == inv.tokens and back.generated_at == inv.generated_at


def test_ndjson_lines_each_validate_against_their_object_schema(
        pool_builder: PoolBuilder) -> None:
    inv = export_snapshot(pool_builder.snapshot())
    lines = [json.loads(x) for x in formats.ndjson_lines(inv)]
    assert lines[0]["object"] == "inventory"
    full = schema.json_schema()
    validators = {kind: jsonschema.Draft202012Validator({**sub, "$defs": full["$defs"]})
                  for kind, sub in full["$defs"].items()}
    for line in lines[1:]:
        validators[line.pop("object")].validate(line)


def test_csv_writes_one_file_per_object_type(tmp_path: Path, pool_builder: PoolBuilder) -> None:
    inv = export_snapshot(pool_builder.snapshot())
    formats.write(inv, "csv", tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{t}.csv" for t in OBJECT_TYPES)
    with (tmp_path / "bonds.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3 and rows[0]["slaves"].count(";") == 1
    with (tmp_path / "pifs.csv").open() as fh:
        untagged = [r for r in csv.DictReader(fh) if r["vlan"] == ""]
    assert len(untagged) == 15


def test_csv_without_output_directory_is_a_usage_error(pool_builder: PoolBuilder) -> None:
    with pytest.raises(UsageError, match="--out DIR"):
        formats.write(export_snapshot(pool_builder.snapshot()), "csv", None)


def test_an_unreadable_schema_major_version_is_refused() -> None:
    with pytest.raises(UsageError, match="schema version"):
        Inventory.from_document({"schema_version": "2.0"})


def test_two_exports_of_the_same_state_are_identical_apart_from_the_stamp() -> None:
    b = seed_pool()
    one = formats.to_json(export_snapshot(b.snapshot(), generated_at="t"))
    two = formats.to_json(export_snapshot(b.snapshot(), generated_at="t"))
    assert one == two


def test_schema_lets_unknown_top_level_members_through(pool_builder: PoolBuilder) -> None:
    doc = export_snapshot(pool_builder.snapshot()).to_document()
    doc["sriov_links"] = []  # what a later 1.x might add: readers of 1.x ignore it
    jsonschema.validate(doc, schema.json_schema())


def test_schema_refuses_an_empty_uuid(pool_builder: PoolBuilder) -> None:
    doc = export_snapshot(pool_builder.snapshot()).to_document()
    doc["pifs"][0]["host"] = ""  # a missing reference is null, never ""
    with pytest.raises(jsonschema.ValidationError, match="does not match"):
        jsonschema.validate(doc, schema.json_schema())
