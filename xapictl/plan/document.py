"""The plan as a typed document (``xapictl plan -o json``, like ``terraform show -json``), and
the human plan text rendered from it, so the two cannot disagree.

A ``PlanDocument`` has the envelope every CLI document has (``kind: "Plan"``,
``schema_version``, ``pool``: the pool's URL or ``embedded``), plus ``format_version``
(``MAJOR.MINOR``: MINOR grows when keys are added), ``pool_uuid``, and:

* ``changes``: one per step, with ``action`` (create, update, delete, plug, unplug, move,
  replug), ``class`` (the XAPI class), ``identity`` (uuid when it exists, name, host name and
  uuid, device, tag, VM), ``before`` / ``after`` per field with typed values, the XAPI
  ``calls`` with their parameters (secrets masked; refs of objects the plan creates are
  placeholders such as ``<network:VLAN 105>``), ``reason``, ``disruptive`` and ``disruption``;
* ``noops`` and ``deferred`` with their reasons; ``warnings`` as objects with a ``code``;
* ``changes_pending`` (the reason ``plan`` exits 3) and ``summary`` (counts).

A saved plan (``plan --out FILE``) is the same document with ``saved`` filled in (see
``xapictl.plan.saved``). The JSON Schemas are generated from these models
(``plan_document_schema()``; ``xapictl schema Plan``).
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from xapictl.plan.core import Plan, Step, warning_code
from xapictl.plan.steps.facts import Action, Facts, plain
from xapictl.plan.text import change_text, summary_text

SCHEMA_VERSION: Final = 1
FORMAT_VERSION = "1.0"



class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True,
                              defer_build=True)


class PoolInfo(_Model):
    """Which pool: its URL (``embedded`` for the embedded simulated pool) and its uuid."""

    url: str | None
    uuid: str | None = None


class Identity(_Model):
    """Who the object is. ``ref`` is only for objects this plan creates (a placeholder)."""

    uuid: str | None = None
    name: str | None = None
    ref: str | None = None
    host: str | None = None
    host_uuid: str | None = None
    hosts: list[str] | None = None
    vm: str | None = None
    vm_uuid: str | None = None
    device: str | None = None
    tag: int | None = None
    network: str | None = None

    @model_serializer(mode="wrap")
    def _known_only(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Only what is known: no ``null`` for the keys that do not apply to the class."""
        data: dict[str, Any] = handler(self)
        return {k: v for k, v in data.items() if v is not None}


class CallDoc(_Model):
    """One XAPI call and its parameters, in order."""

    method: str
    params: list[JsonValue] = Field(default_factory=list)


class Change(_Model):
    """One step of the plan. ``title``, ``subject`` and ``details`` are the words of the
    human plan line (``+ {title} {subject} [{details}]: {reason}``)."""

    action: Action
    class_: str = Field(alias="class")
    identity: Identity
    before: dict[str, JsonValue] | None = None
    after: dict[str, JsonValue] | None = None
    calls: list[CallDoc]
    reason: str
    disruptive: bool
    disruption: str = ""
    title: str
    subject: str
    details: str = ""


class Noted(_Model):
    """A no-op, or deferred work: what, and why."""

    subject: str
    reason: str


class WarningDoc(_Model):
    code: str
    message: str


class Summary(_Model):
    steps: int
    calls: int
    disruptive: int
    noops: int
    deferred: int


class Fingerprint(_Model):
    """One object a saved plan relies on: the fields the plan read, and their digest."""

    class_: str = Field(alias="class")
    ref: str
    identity: Identity
    fields: dict[str, JsonValue]
    digest: str


class RecipeDoc(_Model):
    source: str
    digest: str
    text: str


class SavedFrom(_Model):
    """What a saved plan was computed from (``plan --out``), and the digest of the rest of
    the document (so an edited file is refused)."""

    created: str
    recipe: RecipeDoc
    fingerprints: list[Fingerprint]
    digest: str = ""


class PlanDocument(_Model):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, title="Plan",
                              defer_build=True)
    kind: Literal["Plan"] = "Plan"
    schema_version: Literal[1] = SCHEMA_VERSION
    pool: str | None = Field(default=None, description="The pool: its URL, or `embedded`.")
    pool_uuid: str | None = Field(default=None, description="The pool's uuid.")
    format_version: str = FORMAT_VERSION
    changes: list[Change]
    noops: list[Noted]
    deferred: list[Noted] = Field(description="Work deferred for an offline host, with its "
                                              "reason (keeps the plan pending).")
    warnings: list[WarningDoc]
    changes_pending: bool = Field(description="A step to run, or work deferred: `plan` exits 3.")
    summary: Summary
    undo: list[Change] = Field(default_factory=list, description=(
        "Planned undo steps: when a step of a group fails (a pool-wide bond that cannot be "
        "made on one host, with on_failure: rollback), the undo of each done step of that "
        "group runs, newest first. Not counted in the summary: they run only then."))
    saved: SavedFrom | None = None

    @property
    def pool_info(self) -> PoolInfo:
        return PoolInfo(url=self.pool, uuid=self.pool_uuid)


class StepOutcome(_Model):
    """What apply did with one change (``change`` indexes ``plan.changes``)."""

    change: int
    status: Literal["done", "failed", "not run", "drift", "interrupted"]
    detail: str = ""
    subject: str
    title: str


class ApplyDocument(_Model):
    """``xapictl apply -o json`` (and every write command): the plan, what ran, whether the
    pool verified."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True,
                              title="Apply", defer_build=True)
    kind: Literal["Apply"] = "Apply"
    schema_version: Literal[1] = SCHEMA_VERSION
    pool: str | None = Field(default=None, description="The pool: its URL, or `embedded`.")
    pool_uuid: str | None = None
    format_version: str = FORMAT_VERSION
    plan: PlanDocument
    applied: bool
    settled: bool = Field(default=False, description="Nothing applied: read again under the "
                                                      "write lease, the pool already matched.")
    results: list[StepOutcome]
    verified: bool | None = Field(description="Whether the pool matched the recipe when read "
                                              "again after the writes; null when nothing was "
                                              "applied.")


def step_facts(step: Step, snap: Any = None) -> Facts:
    """A step's facts; a step of another backend (no ``facts``) as a plain update."""
    facts = getattr(step, "facts", None)
    return facts(snap) if callable(facts) else Facts("update", "")


def change_of(step: Step, snap: Any = None) -> Change:
    facts = step_facts(step, snap)
    return Change.model_validate({
        "action": facts.action, "class": facts.xapi_class, "identity": plain(facts.identity),
        "before": plain(facts.before), "after": plain(facts.after),
        "calls": [{"method": c.method, "params": list(c.params)} for c in facts.calls],
        "reason": step.reason, "disruptive": step.disruptive, "disruption": step.disruption,
        "title": step.action, "subject": step.subject,
        "details": getattr(step, "args_text", lambda: "")()})


def plan_document(plan: Plan, snap: Any = None, *, pool: PoolInfo | None = None
                  ) -> PlanDocument:
    """The plan as a document. ``snap`` (the snapshot the plan was made from) adds uuids,
    names and ``before`` values; without it those are left out."""
    uuid = pool.uuid if pool is not None else None
    if uuid is None and snap is not None and snap.pools:
        uuid = snap.pool.uuid
    changes = [change_of(s, snap) for s in plan.steps]
    return PlanDocument(
        pool=pool.url if pool is not None else None, pool_uuid=uuid, changes=changes,
        noops=[Noted(subject=n.subject, reason=n.reason) for n in plan.noops],
        deferred=[Noted(subject=d.subject, reason=d.reason) for d in plan.deferred],
        warnings=[WarningDoc(code=warning_code(w), message=str(w)) for w in plan.warnings],
        changes_pending=plan.pending, undo=[change_of(u, snap) for u in plan.undo],
        summary=Summary(steps=len(changes), calls=sum(len(c.calls) for c in changes),
                        disruptive=sum(c.disruptive for c in changes),
                        noops=len(plan.noops), deferred=len(plan.deferred)))


def change_line(change: Change) -> str:
    return change_text(change.title, change.subject, change.details, change.reason,
                       change.disruption if change.disruptive else "")


def render_document(doc: PlanDocument) -> str:
    """The human plan: ``+`` a step, ``=`` a no-op, ``~`` deferred work, ``!`` a warning; a
    summary line last (which counts the disruptive steps, if any)."""
    lines = [change_line(c) for c in doc.changes]
    lines += [f"= {n.subject}: {n.reason}" for n in doc.noops]
    lines += [f"~ deferred {d.subject}: {d.reason}" for d in doc.deferred]
    lines += [f"! {w.message}" for w in doc.warnings]
    lines += [f"< if a later host fails, undo: {change_line(u)[2:]}" for u in doc.undo]
    s = doc.summary
    lines.append(summary_text(s.steps, s.calls, s.disruptive, s.deferred))
    return "\n".join(lines) + "\n"


def to_json(doc: BaseModel) -> dict[str, Any]:
    """The document as JSON data (``class`` as its key, not ``class_``)."""
    data: dict[str, Any] = doc.model_dump(mode="json", by_alias=True)
    return data


def plan_json(plan: Plan, snap: Any = None) -> dict[str, Any]:
    """The plan as JSON-able data: the document (``--output json``)."""
    return to_json(plan_document(plan, snap))


def plan_document_schema() -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of ``xapictl plan -o json`` and of saved plans
    (``xapictl schema Plan`` prints the same)."""
    return _schema(PlanDocument)


def apply_document_schema() -> dict[str, Any]:
    """The JSON Schema of ``xapictl apply -o json`` (``xapictl schema Apply``)."""
    return _schema(ApplyDocument)


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True, mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


__all__ = ["ApplyDocument", "Change", "Fingerprint", "Identity", "PlanDocument",
           "PoolInfo", "RecipeDoc", "SavedFrom", "StepOutcome", "Summary", "apply_document_schema",
           "change_line", "plan_document", "plan_document_schema", "plan_json", "render_document",
           "to_json"]
