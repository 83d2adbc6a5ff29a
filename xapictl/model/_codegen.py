"""Generate ``xapictl.model`` from a XAPI datamodel JSON (``xenapi.json``).

Usage::

    python -m xapictl.model._codegen --datamodel PATH/xenapi.json \
        [--release-info PATH/release_info.json] [--releases PATH/releases.yml] \
        [--target-release 25.34.0] [--out xapictl/model]

It writes ``refs.py`` (a typed ref per class), ``enums.py``, one record module per XAPI class
(``network.py``, ``pif.py``, ``vm_guest_metrics.py``, …) and ``_schema.py`` (the compact
datamodel the simulator and the client read at run time). The datamodel JSON itself is an input,
never committed.

The target release cuts the model: classes, fields, messages and enum values published after it
are left out (``VIF.trunks``, the VIF ``DHCP``/``Autoconf`` modes, …), so the simulator and the
typed client look like the pools operators run today (XCP-ng 8.3 / XenServer 8 run XAPI 25.x).
Fields whose lifecycle is *removed* stay in records, because XAPI still sends them.

Two class flags are not in the JSON: whether a class generates events (``gen_events``) and the
roles its messages default to (``messages_default_allowed_roles``). They are derived from the
xen-api source itself (``ocaml/idl/datamodel*.ml``, every ``create_obj`` call)::

    python -m xapictl.model._codegen --derive-flags PATH/xen-api [--source-commit SHA]

which writes ``_flags.py`` (a small table, committed; the source is never committed).

The typed class clients (``xapictl.client.generated``) are generated from the compact datamodel
this run wrote, so run this once the model is current (no JSON needed)::

    python -m xapictl.model._codegen --clients [--out xapictl/client/generated]
"""

from __future__ import annotations

import argparse
import json
import re
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from xapictl.model._base import reader_source
from xapictl.model._names import camel, member_name, module_name, py_field
from xapictl.model._pysource import all_list, from_import
from xapictl.model._types import TypeSpec, parse_default, parse_type, python_type, zero_value

DEFAULT_TARGET_RELEASE = "25.34.0"

# --- release ordering ----------------------------------------------------------------------


class Releases:
    """Orders release names (``rio`` … ``26.17.0``) as ``release_info.json`` lists them.

    ``release_info.json`` is keyed oldest first and is a superset of ``releases.yml`` (it also
    has unbranded codenames such as ``oslo``); ``releases.yml`` only checks the target's name.
    """

    def __init__(self, oldest_first: Sequence[str]) -> None:
        self._rank = {name: i for i, name in enumerate(oldest_first)}

    def rank(self, release: str) -> float:
        if release in self._rank:
            return self._rank[release]
        base = release.removesuffix("-next")
        if base in self._rank:  # "26.16.1-next": after 26.16.1, before what follows it
            return self._rank[base] + 0.5
        raise ValueError(f"release {release!r} is not in release_info.json")

    def after(self, release: str, target: str) -> bool:
        return self.rank(release) > self.rank(target)


def read_releases(path: Path) -> list[str]:
    names = []
    for line in path.read_text().splitlines():
        if ":" in line and not line.lstrip().startswith("#"):
            names.append(line.split(":", 1)[0].strip())
    return names


def introduced(lifecycle: dict[str, Any]) -> str:
    for t in lifecycle.get("transitions", []):
        if t["transition"] in ("published", "prototyped", "extended"):
            return str(t["release"])
    transitions = lifecycle.get("transitions", [])
    return str(transitions[0]["release"]) if transitions else "rio"


def removed_in(lifecycle: dict[str, Any]) -> str | None:
    for t in lifecycle.get("transitions", []):
        if t["transition"] == "removed":
            return str(t["release"])
    return None


def late_enum_values(
    release_info: dict[str, list[dict[str, str]]], classes: dict[str, dict[str, Any]],
    releases: Releases, target: str,
) -> dict[str, set[str]]:
    """Enum values added after the target release, read from the release notes' logs."""
    late: dict[str, set[str]] = {}
    pattern = re.compile(r"extended with ((?:'[^']+'(?:,? and |, )?)+) values?")
    for release, changes in release_info.items():
        if not releases.after(release, target):
            continue
        for change in changes:
            found = pattern.search(change.get("log", ""))
            if not found or "." not in change["name"]:
                continue
            values = set(re.findall(r"'([^']+)'", found.group(1)))
            cls_name, member = change["name"].split(".", 1)
            cls = classes.get(cls_name)
            if cls is None:
                continue
            types: list[str] = []
            if change["transition"] == "extended message":
                for m in cls["messages"]:
                    if m["name"] == member:
                        types += [p["type"] for p in m["params"]]
            elif change["transition"] == "extended field":
                types += [f["type"] for f in cls["fields"] if f["name"] == member]
            for t in types:
                if t.startswith("enum "):
                    late.setdefault(t[5:], set()).update(values)
    return late


# --- the model -----------------------------------------------------------------------------


class Model:
    """The datamodel cut at the target release, with every name the generated code uses."""

    def __init__(self, data: list[dict[str, Any]], releases: Releases, target: str,
                 late_values: dict[str, set[str]]) -> None:
        self.target = target
        self.releases = releases
        all_classes = {c["name"]: c for c in data}
        self.all_class_names = sorted(all_classes, key=str.lower)
        self.classes = [c for c in data if self._available(c["lifecycle"])]
        self.hidden_classes = sorted(
            (c["name"] for c in data if not self._available(c["lifecycle"])), key=str.lower)
        self.enums: dict[str, list[str]] = {}
        self.enum_owner: dict[str, str] = {}
        for c in data:
            for e in c["enums"]:
                values = [v["name"] for v in e["values"] if v["name"] not in
                          late_values.get(e["name"], set())]
                self.enums.setdefault(e["name"], values)
                self.enum_owner.setdefault(e["name"], c["name"])

    def _available(self, lifecycle: dict[str, Any]) -> bool:
        # Removed classes and messages stay: XAPI keeps them and answers MESSAGE_REMOVED.
        return not self.releases.after(introduced(lifecycle), self.target)

    def state_at_target(self, lifecycle: dict[str, Any]) -> str:
        """``published``, ``prototyped``, ``deprecated`` or ``removed`` as of the target."""
        state = "published"
        for t in lifecycle.get("transitions", []):
            if self.releases.after(str(t["release"]), self.target):
                continue
            if t["transition"] == "prototyped" and state == "published":
                state = "prototyped"
            elif t["transition"] == "published":
                state = "published"
            elif t["transition"] in ("deprecated", "removed"):
                state = t["transition"]
        return state

    def fields(self, cls: dict[str, Any]) -> list[dict[str, Any]]:
        # removed fields stay: XAPI still sends them in records.
        return [f for f in cls["fields"]
                if not self.releases.after(introduced(f["lifecycle"]), self.target)]

    def messages(self, cls: dict[str, Any]) -> list[dict[str, Any]]:
        return [m for m in cls["messages"] if self._available(m["lifecycle"])]

    def enum_name(self, name: str) -> str:
        return camel(name)

    def ref_name(self, cls: str) -> str:
        return f"{camel(cls)}Ref"

    def record_name(self, cls: str) -> str:
        return camel(cls)


def _annotation(model: Model, spec: TypeSpec) -> str:
    return python_type(spec, enum_name=model.enum_name, ref_name=model.ref_name,
                       record_name=lambda c: camel(c) if c != "<class>" else "Mapping[str, Any]")


def _names_in(spec: TypeSpec, kind: str) -> Iterable[str]:
    if spec.kind == kind:
        yield spec.name
    for sub in (spec.item, spec.key):
        if sub is not None:
            yield from _names_in(sub, kind)


HEADER = '"""{doc}\n\nGenerated by ``python -m xapictl.model._codegen`` from the XAPI datamodel (target release\n{target}). Do not edit by hand: change the generator and run it again.\n"""\n'


def gen_refs(model: Model) -> str:
    lines = [HEADER.format(doc="Typed references, one per XAPI class. A ref is opaque text: "
                           "``OpaqueRef:…``.", target=model.target),
             "from __future__ import annotations\n", "from typing import Final, NewType\n",
             'NULL_REF: Final = "OpaqueRef:NULL"', '"""The null reference XAPI uses for '
             '"no object"."""\n']
    names = []
    for cls in model.all_class_names:
        ref = model.ref_name(cls)
        names.append(ref)
        lines.append(f'{ref} = NewType("{ref}", str)')
    lines.append("")
    lines.append(all_list([*names, "NULL_REF"]))
    return "\n".join(lines) + "\n"


def gen_enums(model: Model) -> str:
    out = [HEADER.format(doc="Every enum of the XAPI datamodel, with the values the target "
                         "release has.\n\nValues keep XAPI's spelling. An unknown value from a "
                         "newer pool becomes a member on the fly\n(``_missing_``) instead of "
                         "failing the whole read.\n\nEach enum class is made when first named "
                         "(``MEMBERS``, ``__getattr__``): a run\nbuilds the few its records "
                         "use, not all of them. Type checkers read the classes\nbelow.",
                         target=model.target),
           "from __future__ import annotations\n",
           "from typing import TYPE_CHECKING\n",
           "from xapictl.model._xapienum import XapiEnum, make_enum\n",
           "if TYPE_CHECKING:"]
    names = []
    table = ["", "", "MEMBERS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {"]
    for ename in sorted(model.enums, key=str.lower):
        py = model.enum_name(ename)
        names.append(py)
        doc = f"``{ename}`` (class {model.enum_owner[ename]})."
        out.append(f"\n    class {py}(XapiEnum):")
        out.append(f'        """{doc}"""\n')
        seen: set[str] = set()
        members = []
        for value in model.enums[ename]:
            member = member_name(value)
            while member in seen:
                member += "_"
            seen.add(member)
            out.append(f"        {member} = {value!r}")
            members.append(f"({member!r}, {value!r})")
        table.append(f"    {py!r}: ({doc!r}, ({', '.join(members)},)),")
    table.append("}")
    table.append('"""Each enum\'s docstring and (member, value) pairs, in the datamodel\'s order."""')
    table.append("")
    table.append("")
    table.append("def __getattr__(name: str) -> type[XapiEnum]:")
    table.append("    return make_enum(globals(), MEMBERS, name)")
    out.extend(table)
    out.append("\n\n" + all_list(names))
    return "\n".join(out) + "\n"


def gen_record(model: Model, cls: dict[str, Any]) -> str:
    name = cls["name"]
    record = model.record_name(name)
    hidden = cls["name"] in model.hidden_classes
    fields = cls["fields"] if hidden else model.fields(cls)
    refs: set[str] = set()
    enums: set[str] = set()
    records: set[str] = set()
    body = []
    wire = []
    params = []
    sets = []
    factories = []
    for f in fields:
        spec = parse_type(f["type"])
        refs.update(model.ref_name(c) for c in _names_in(spec, "ref"))
        enums.update(model.enum_name(e) for e in _names_in(spec, "enum"))
        records.update(c for c in _names_in(spec, "record") if c != "<class>")
        ann = _annotation(model, spec)
        pyname = py_field(f["name"])
        default = default_source(model, spec, f.get("default"))
        if spec.kind in ("map", "record"):
            params.append(f"{pyname}: {ann} = FACTORY")
            sets.append(f"{pyname}, {default} if {pyname} is FACTORY else {pyname}")
            factories.append(f"        {pyname!r}: lambda: {default},")
        else:
            params.append(f"{pyname}: {ann} = {default}")
            sets.append(f"{pyname}, {pyname}")
        doc = " ".join(f["description"].split())
        body.append(f"    {pyname}: {ann}")
        body.append(f'    """{_docquote(doc)}  [{f["qualifier"]}]"""')
        wire.append((pyname, f["name"], f["type"]))
    doc_line = " ".join(cls["description"].split()) or name
    imports = ["from __future__ import annotations", ""]
    if any("datetime.datetime" in line for line in body):
        imports.append("import datetime")
    if wire:  # the written-out reader (_reader, below) takes and returns these
        imports.append("from collections.abc import Callable, Mapping")
        imports.append("from typing import Any, ClassVar")
    else:
        imports.append("from typing import ClassVar")
    imports.append("")
    base_names = ["Record", "record"] + (["set_field"] if params else [])
    base_names += ["FACTORY"] if "FACTORY" in "".join(params) else []
    first_party = [from_import("xapictl.model._base", set(base_names))]
    if any("EPOCH" in p for p in params):
        first_party.append("from xapictl.model._types import EPOCH")
    if enums:
        first_party.append(from_import("xapictl.model.enums", enums))
    refs.add(model.ref_name(name))
    first_party.append(from_import("xapictl.model.refs", refs))
    for r in sorted(records):
        first_party.append(f"from xapictl.model.{module_name(r)} import {model.record_name(r)}")
    imports += sorted(first_party)
    text = HEADER.format(doc=f"``{name}``: {_docquote(doc_line)}", target=model.target)
    text += "\n".join(imports) + "\n\n\n"
    # What the dataclass decorator would compute is written out (slots, __init__, the
    # default factories); __eq__/__hash__/__repr__ and the frozen methods come from Record,
    # the dataclass tables are made when first read (_base: "Why").
    text += "@record\n"
    text += f"class {record}(Record):\n"
    text += f'    """{_docquote(doc_line)}"""\n\n'
    slots = ", ".join(repr(py) for py in sorted(w[0] for w in wire))  # sorted: ruff's RUF023
    text += f"    __slots__ = ({slots}{',' * (len(wire) == 1)})\n"
    text += f'    xapi_class: ClassVar[str] = {name!r}\n'
    text += f"    ref_type: ClassVar[type] = {model.ref_name(name)}\n"
    text += "    wire_fields: ClassVar[tuple[tuple[str, str, str], ...]] = (\n"
    text += "".join(f"        {w!r},\n" for w in wire) + "    )\n"
    if factories:
        text += "    field_factories: ClassVar[Mapping[str, Callable[[], Any]]] = {\n"
        text += "\n".join(factories) + "\n    }\n"
    text += "\n"
    text += "\n".join(body) + "\n"
    text += _init_source(params, sets)
    if wire:  # a class without fields has nothing to read: Record compiles its (empty) reader
        text += "\n\n" + reader_source(tuple(wire), record)
    text += f"\n\n__all__ = [{record!r}, {model.ref_name(name)!r}]\n"
    return text


def _init_source(params: list[str], sets: list[str]) -> str:
    """The record's ``__init__``, as the dataclass decorator would make it (keyword-only, the
    same defaults, a fresh value of a factory's default per call), written out in source."""
    if not params:
        return ""  # object's own __init__ takes no arguments, as the dataclass's would
    lines = ["", "    def __init__(", "        self, *,"]
    lines += [f"        {p}," for p in params]
    lines.append("    ) -> None:")
    lines += [f"        set_field(self, {s.split(', ', 1)[0]!r}, {s.split(', ', 1)[1]})"
              for s in sets]
    return "\n".join(lines) + "\n"


def default_source(model: Model, spec: TypeSpec, text: str | None) -> str:
    """Python source for a field's default: the datamodel's, else the type's zero."""
    value = zero_value(spec) if text is None else parse_default(spec, text)
    if spec.kind == "enum":
        values = model.enums[spec.name]
        chosen = value if value in values else values[0]
        return f"{model.enum_name(spec.name)}.{member_name(chosen)}"
    if spec.kind == "datetime":
        return "EPOCH"
    if spec.kind == "ref":
        return f"{model.ref_name(spec.name)}({value!r})"
    if spec.kind == "set" and spec.item is not None and spec.item.kind == "ref":
        inner = ", ".join(f"{model.ref_name(spec.item.name)}({v!r})" for v in value)
        return f"({inner},)" if value else "()"
    if spec.kind == "set" and spec.item is not None and spec.item.kind == "enum":
        inner = ", ".join(f"{model.enum_name(spec.item.name)}({v!r})" for v in value)
        return f"({inner},)" if value else "()"
    return repr(value)


def _docquote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', "'''").rstrip('"')


def gen_schema(model: Model) -> str:
    role_sets: list[tuple[str, ...]] = []
    classes = []
    for cls in model.classes:
        fields = []
        for f in model.fields(cls):
            fields.append((f["name"], py_field(f["name"]), f["type"], f["qualifier"],
                           f.get("default"), model.state_at_target(f["lifecycle"])))
        messages = []
        for m in model.messages(cls):
            params = m["params"]
            takes_session = bool(params) and params[0]["name"] == "session_id"
            if takes_session:
                params = params[1:]
            roles = tuple(m.get("roles", ()))
            if roles not in role_sets:
                role_sets.append(roles)
            result = m["result"][0] if m["result"] else "void"
            messages.append((
                m["name"],
                tuple((p["name"], p["type"], bool(p.get("required", True))) for p in params),
                result, role_sets.index(roles), bool(m.get("implicit", False)), takes_session,
                model.state_at_target(m["lifecycle"]),
            ))
        classes.append((cls["name"], module_name(cls["name"]), model.record_name(cls["name"]),
                        model.ref_name(cls["name"]), model.state_at_target(cls["lifecycle"]),
                        tuple(fields),
                        tuple(messages)))
    enums = {e: tuple(v) for e, v in sorted(model.enums.items())}
    text = HEADER.format(doc="The XAPI datamodel, compact, for the simulator and the client.\n\n"
                         "Read it through ``xapictl.model.schema``, which gives it types.",
                         target=model.target)
    text += "from __future__ import annotations\n\n"
    text += f"TARGET_RELEASE = {model.target!r}\n"
    text += f"HIDDEN_CLASSES: tuple[str, ...] = {tuple(model.hidden_classes)!r}\n"
    text += f"ROLE_SETS: tuple[tuple[str, ...], ...] = {tuple(role_sets)!r}\n"
    text += "# enum name -> values\n"
    text += f"ENUMS: dict[str, tuple[str, ...]] = {enums!r}\n"
    text += ("# class -> JSON text of [class, module, record, ref type, state at target,\n#  "
             "fields: [wire, python, type, qualifier, default text or null, state],\n#  "
             "messages: [name, params [name, type, required], result, role set, implicit, "
             "takes session, state]]\n"
             "# state: published | prototyped | deprecated | removed, as of TARGET_RELEASE\n"
             "# Text, decoded when the class is first looked up: a run reads a few classes, and "
             "loading\n# every class's tuples with the module was most of its import.\n")
    text += "CLASSES: dict[str, str] = {\n"
    for c in classes:
        text += f"    {c[0]!r}: {json.dumps(c, separators=(',', ':'))!r},\n"
    text += "}\n"
    names = sorted(f"{c[0]}.{m[0]}".lower() for c in classes for m in c[6])
    text += "# every message's wire name, lower-cased, space-separated\n"
    text += f"MESSAGE_NAMES = {' '.join(names)!r}\n"
    return text


def gen_init(model: Model) -> str:
    lines = [HEADER.format(doc="Typed records and enums for every XAPI class.\n\n"
                           "Records are frozen dataclasses built with ``Record.from_xapi(raw)``; "
                           "refs are ``NewType``s in\n``xapictl.model.refs``; ``record_type(name)"
                           "`` finds the record class of a XAPI class name.",
                           target=model.target),
             "from __future__ import annotations\n",
             "from xapictl.model._base import Record, record_type",
             "from xapictl.model._xapienum import XapiEnum",
             "from xapictl.model.refs import NULL_REF\n"]
    exported = ["NULL_REF", "Record", "XapiEnum", "record_type"]
    lines.append(all_list(exported))
    return "\n".join(lines) + "\n"


def generate(datamodel: Path, release_info: Path, releases_yml: Path, target: str,
             out: Path) -> list[Path]:
    data = json.loads(datamodel.read_text())
    info = json.loads(release_info.read_text())
    releases = Releases(list(info))
    if target not in read_releases(releases_yml) and target not in info:
        raise SystemExit(f"unknown target release {target!r}: pick one from {releases_yml}")
    late = late_enum_values(info, {c["name"]: c for c in data}, releases, target)
    model = Model(data, releases, target, late)
    out.mkdir(parents=True, exist_ok=True)
    written = []

    def write(name: str, text: str) -> None:
        path = out / name
        path.write_text(text)
        written.append(path)

    write("refs.py", gen_refs(model))
    write("enums.py", gen_enums(model))
    write("_schema.py", gen_schema(model))
    write("__init__.py", gen_init(model))
    for cls in data:  # every class gets its record type; hidden ones are simply not served
        write(f"{module_name(cls['name'])}.py", gen_record(model, cls))
    return written


# --- class flags from the OCaml datamodel ---------------------------------------------------

# datamodel_roles.ml: each constant is "this role and every stronger one"; _R_LOCAL_ROOT_ONLY
# is nobody but the local superuser.
_ROLE_CONSTANTS = {
    "_R_POOL_ADMIN": "pool-admin", "_R_POOL_OP": "pool-operator",
    "_R_VM_POWER_ADMIN": "vm-power-admin", "_R_VM_ADMIN": "vm-admin", "_R_VM_OP": "vm-operator",
    "_R_READ_ONLY": "read-only", "_R_ALL": "read-only", "_R_LOCAL_ROOT_ONLY": "",
}


def derive_class_flags(idl: Path) -> dict[str, tuple[bool, str | None]]:
    """Class wire name → (``gen_events``, weakest role of ``messages_default_allowed_roles``;
    ``""`` for root only, ``None`` when the datamodel gives none), read from every
    ``create_obj ~name:_x … ~gen_events:b … ~messages_default_allowed_roles:_R_y`` call of
    ``ocaml/idl/datamodel*.ml`` (names resolved through their ``let _x = "X"`` constants)."""
    texts = {path.name: path.read_text() for path in sorted(idl.glob("datamodel*.ml"))}
    constants: dict[str, str] = {}
    for text in texts.values():
        for m in re.finditer(r'^let (_\w+)\s*=\s*"([^"]+)"', text, re.M):
            constants[m.group(1)] = m.group(2)
    flags: dict[str, tuple[bool, str | None]] = {}
    for file_name, text in texts.items():
        if file_name == "datamodel_common.ml":  # where create_obj itself is defined
            continue
        for m in re.finditer(r"\bcreate_obj\b", text):
            call = text[m.start(): m.start() + 4000]
            following = call.find("create_obj", len("create_obj"))
            call = call[:following] if following > 0 else call
            name = re.search(r"~name:\s*(_\w+)", call)
            events = re.search(r"~gen_events:\s*(true|false)", call)
            roles = re.search(r"~messages_default_allowed_roles:\s*(_R_\w+|None)", call)
            if name is None or events is None or name.group(1) not in constants:
                continue
            role = _ROLE_CONSTANTS.get(roles.group(1)) if roles else None
            flags[constants[name.group(1)]] = (events.group(1) == "true", role)
        # the one class written as a record literal instead (event: "This should call
        # create_obj … like everything else")
        for m in re.finditer(r"name\s*=\s*(_\w+)\s*;\s*gen_events\s*=\s*(true|false)", text):
            if m.group(1) in constants:
                flags.setdefault(constants[m.group(1)], (m.group(2) == "true", None))
    if "session" not in flags:
        raise SystemExit(f"no create_obj for session under {idl}: not the xen-api source?")
    return flags


def gen_flags(flags: dict[str, tuple[bool, str | None]], commit: str) -> str:
    lines = [
        '"""Class flags the datamodel JSON lacks, derived from the xen-api source. Generated.',
        "",
        "    python -m xapictl.model._codegen --derive-flags PATH/xen-api \\",
        f"        --source-commit {commit or 'UNKNOWN'}",
        "",
        "From every ``create_obj`` in ``ocaml/idl/datamodel*.ml``: ``GEN_EVENTS`` lists the",
        "classes with ``~gen_events:true`` (the others, ``session`` among them, never appear in",
        "``event.from``); ``DEFAULT_ROLES`` maps a class to the weakest role of its",
        "``~messages_default_allowed_roles`` (``\"\"``: the local superuser only).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        f"SOURCE_COMMIT = {commit!r}",
        "",
        "GEN_EVENTS: frozenset[str] = frozenset({",
    ]
    lines += [f"    {name!r}," for name in sorted(n for n, (ev, _) in flags.items() if ev)]
    lines += ["})", "", "NO_EVENTS: frozenset[str] = frozenset({"]
    lines += [f"    {name!r}," for name in sorted(n for n, (ev, _) in flags.items() if not ev)]
    lines += ["})", "", "DEFAULT_ROLES: dict[str, str] = {"]
    lines += [f"    {name!r}: {role!r}," for name, (_, role) in sorted(flags.items())
              if role is not None]
    lines += ["}", "", '__all__ = ["DEFAULT_ROLES", "GEN_EVENTS", "NO_EVENTS", "SOURCE_COMMIT"]',
              ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=textwrap.dedent(__doc__ or "").split("\n")[0])
    parser.add_argument("--datamodel", type=Path, help="xenapi.json")
    parser.add_argument("--derive-flags", type=Path, metavar="XEN_API_SOURCE",
                        help="write _flags.py from a xen-api checkout (ocaml/idl) instead")
    parser.add_argument("--source-commit", default="", help="the checkout's commit, recorded")
    parser.add_argument("--clients", action="store_true",
                        help="write xapictl/client/generated (the typed class clients) instead")
    parser.add_argument("--release-info", type=Path, help="release_info.json (default: beside it)")
    parser.add_argument("--releases", type=Path, help="releases.yml (default: beside it)")
    parser.add_argument("--target-release", default=DEFAULT_TARGET_RELEASE)
    parser.add_argument("--out", type=Path, help="default: this folder (--clients: "
                        "xapictl/client/generated)")
    args = parser.parse_args(argv)
    if args.clients:
        from xapictl.model import _codegen_clients

        written = _codegen_clients.generate(args.out or _codegen_clients.OUT)
        print(f"wrote {len(written)} files to {args.out or _codegen_clients.OUT}")
        return 0
    args.out = args.out or Path(__file__).parent
    if args.derive_flags is not None:
        flags = derive_class_flags(args.derive_flags / "ocaml" / "idl")
        (args.out / "_flags.py").write_text(gen_flags(flags, args.source_commit))
        print(f"wrote {args.out / '_flags.py'} ({len(flags)} classes)")
        return 0
    if args.datamodel is None:
        parser.error("--datamodel is required (or --derive-flags)")
    here = args.datamodel.parent
    written = generate(args.datamodel, args.release_info or here / "release_info.json",
                       args.releases or here / "releases.yml", args.target_release, args.out)
    print(f"wrote {len(written)} files to {args.out} (target release {args.target_release})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
