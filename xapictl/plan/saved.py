"""Saved plans: ``plan RECIPE --out FILE`` writes the plan document with what it was computed
from; ``apply FILE`` applies exactly those steps, or refuses before the first write.

What a saved plan keeps (``PlanDocument.saved``): the creation time, the recipe (its text and
digest, so ``apply`` needs only the file), and for every existing object a step touches or
relies on its *fingerprint*: the fields the planner reads of it, and their digest. The pool
(URL and uuid) is the document's ``pool``; ``saved.digest`` seals the whole document.

``check_saved`` is run on the fresh pre-write read of ``apply``: it refuses a plan made for
another pool or altered since (``SavedPlanError``, bad input) and one that is too old, whose
objects changed, or whose plan made now differs (``StalePlanError``, naming each object and
how it changed). Pure functions of the document, the snapshot and the time: no I/O.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from xapictl.errors import SavedPlanError, StalePlanError
from xapictl.plan.core import Plan
from xapictl.plan.document import (
    Fingerprint,
    PlanDocument,
    PoolInfo,
    RecipeDoc,
    SavedFrom,
    plan_document,
    to_json,
)
from xapictl.plan.steps.facts import digest, fingerprint_fields, identity
from xapictl.state.snapshot import PoolSnapshot

DEFAULT_MAX_AGE = dt.timedelta(hours=1)
REMAKE = "make a new plan (`xapictl plan RECIPE --out FILE`) and review it"


def text_digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def relied_on(plan: Plan, snap: PoolSnapshot) -> list[tuple[str, str]]:
    """Every existing object the plan's steps touch or rely on, once each, in plan order."""
    seen: dict[tuple[str, str], None] = {}
    for step in plan.steps:
        facts = getattr(step, "facts", None)
        if callable(facts):
            for pair in facts(snap).relies_on:
                seen.setdefault(pair, None)
    return list(seen)


def fingerprints(plan: Plan, snap: PoolSnapshot) -> list[Fingerprint]:
    out = []
    for cls, ref in relied_on(plan, snap):
        fields = fingerprint_fields(snap, cls, ref)
        if fields is None:
            continue
        out.append(Fingerprint.model_validate({
            "class": cls, "ref": ref, "identity": identity(snap, cls, ref),
            "fields": fields, "digest": digest(fields)}))
    return out


def seal(doc: PlanDocument) -> str:
    """The digest of the whole document (``saved.digest`` itself left empty)."""
    assert doc.saved is not None  # noqa: S101 - only saved plans are sealed
    unsealed = doc.model_copy(update={"saved": doc.saved.model_copy(update={"digest": ""})})
    return digest(to_json(unsealed))


def save_plan(plan: Plan, snap: PoolSnapshot, *, pool_url: str | None, recipe_text: str,
              recipe_source: str, now: dt.datetime) -> PlanDocument:
    """The saved-plan document of ``plan``, made from ``snap`` at ``now``."""
    pool = PoolInfo(url=pool_url, uuid=snap.pool.uuid if snap.pools else None)
    doc = plan_document(plan, snap, pool=pool)
    saved = SavedFrom(
        created=now.astimezone(dt.UTC).isoformat(timespec="seconds"),
        recipe=RecipeDoc(source=recipe_source, digest=text_digest(recipe_text),
                         text=recipe_text),
        fingerprints=fingerprints(plan, snap))
    doc = doc.model_copy(update={"saved": saved})
    return doc.model_copy(update={"saved": saved.model_copy(update={"digest": seal(doc)})})


def dumps(doc: PlanDocument) -> str:
    return json.dumps(to_json(doc), indent=2, ensure_ascii=False) + "\n"


def is_saved_plan_text(text: str) -> bool:
    """Whether ``text`` is meant as a saved plan (a JSON object with a ``kind``), not a
    recipe: ``apply`` tells them apart by this."""
    head = text.lstrip()
    return head.startswith("{") and '"kind"' in head[:4096]


def load_saved(text: str, source: str) -> PlanDocument:
    """Parse and check a saved plan file: ``SavedPlanError`` (one line naming the file and
    the fix) when it is not one, is garbled, or was altered after it was written."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise SavedPlanError(f"{source}: not a saved plan: not valid JSON "
                             f"({type(exc).__name__}); {REMAKE}") from None
    if not isinstance(data, dict) or data.get("kind") != "Plan":
        kind = data.get("kind") if isinstance(data, dict) else None
        raise SavedPlanError(f"{source}: not a saved plan (kind {kind!r}, expected 'Plan'); "
                             f"{REMAKE}")
    if data.get("schema_version") != 1:
        raise SavedPlanError(f"{source}: saved plan schema_version "
                             f"{data.get('schema_version')!r} is not one this xapictl reads "
                             f"(1); {REMAKE}")
    if data.get("saved") is None:
        raise SavedPlanError(f"{source}: a plan printed by `plan -o json`, not a saved plan "
                             f"(no `saved` section); {REMAKE}")
    try:
        doc = PlanDocument.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SavedPlanError(f"{source}: garbled saved plan: {where}: {first['msg']}; "
                             f"{REMAKE}") from None
    assert doc.saved is not None  # noqa: S101 - checked above
    if doc.saved.digest != seal(doc) or doc.saved.recipe.digest != text_digest(
            doc.saved.recipe.text):
        raise SavedPlanError(f"{source}: the saved plan was altered after it was written "
                             f"(its digest does not match); {REMAKE}")
    return doc


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_age(text: str) -> dt.timedelta:
    """``90``, ``90s``, ``30m``, ``1h``, ``2d`` -> a timedelta; ``UsageError`` otherwise."""
    from xapictl.errors import UsageError

    m = _DURATION.match(text)
    seconds = float(m.group(1)) * _UNITS[m.group(2)] if m else -1.0
    if not m or not 0 < seconds <= 366 * 86400:
        raise UsageError(f"--max-age: {text!r} is not a duration up to a year; e.g. "
                         "`--max-age 30m` (s, m, h or d)")
    return dt.timedelta(seconds=seconds)


def _age_words(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


def check_pool(doc: PlanDocument, snap: PoolSnapshot, source: str) -> None:
    """The saved plan was made for this pool (same pool uuid)."""
    here = snap.pool.uuid if snap.pools else None
    made = doc.pool_uuid
    if made != here:
        url = doc.pool or "?"
        raise SavedPlanError(f"{source}: the saved plan was made for another pool (uuid "
                             f"{made}, {url}), not this one (uuid {here}); nothing was sent: "
                             "apply it to its own pool, or make a plan for this one")


def check_age(doc: PlanDocument, now: dt.datetime, max_age: dt.timedelta) -> None:
    assert doc.saved is not None  # noqa: S101 - only saved plans are checked
    try:
        created = dt.datetime.fromisoformat(doc.saved.created)
    except ValueError:
        raise SavedPlanError(f"garbled saved plan: saved.created {doc.saved.created!r} is "
                             f"not a time; {REMAKE}") from None
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    age = now - created
    if age > max_age:
        raise StalePlanError(f"the saved plan has expired: made {doc.saved.created}, "
                             f"{_age_words(age)} ago, more than --max-age "
                             f"{_age_words(max_age)}; nothing was sent: {REMAKE}")


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _who(fp: Fingerprint) -> str:
    ident = fp.identity
    name = ident.name or (f"{ident.vm}/{ident.device}" if ident.vm else None) or (
        f"{ident.host}/{ident.device}" if ident.host and ident.device else None)
    words = f"{fp.class_} {name!r}" if name else fp.class_
    return f"{words} (uuid {ident.uuid})" if ident.uuid else f"{words} ({fp.ref})"


def fingerprint_changes(doc: PlanDocument, snap: PoolSnapshot) -> list[str]:
    """Each object the saved plan relies on that is gone or changed, and how."""
    assert doc.saved is not None  # noqa: S101 - only saved plans are checked
    out = []
    for fp in doc.saved.fingerprints:
        now = fingerprint_fields(snap, fp.class_, fp.ref)
        if now is None:
            out.append(f"{_who(fp)}: no longer exists")
            continue
        if digest(now) == fp.digest:
            continue
        fields = [f"{k} {_show(fp.fields.get(k))} -> {_show(now.get(k))}"
                  for k in sorted({*fp.fields, *now}) if fp.fields.get(k) != now.get(k)]
        out.append(f"{_who(fp)}: " + ("; ".join(fields) or "changed"))
    return out


def plan_changes(doc: PlanDocument, plan: Plan, snap: PoolSnapshot) -> list[str]:
    """How the plan made now differs from the saved one (steps, and deferred work)."""
    fresh = plan_document(plan, snap, pool=doc.pool_info)
    before = [_key(c) for c in doc.changes] + [f"~ {d.subject}" for d in doc.deferred]
    after = [_key(c) for c in fresh.changes] + [f"~ {d.subject}" for d in fresh.deferred]
    if before == after and [to_json(c) for c in doc.changes] == [
            to_json(c) for c in fresh.changes]:
        return []
    out = [f"no longer planned: {k}" for k in before if k not in after]
    out += [f"now also planned: {k}" for k in after if k not in before]
    return out or ["the plan made now differs from the saved one in its details"]


def _key(change: Any) -> str:
    return f"{change.title} {change.subject}" + (f" [{change.details}]" if change.details
                                                 else "")


def check_saved(doc: PlanDocument, snap: PoolSnapshot, plan: Plan | None, *,
                now: dt.datetime, max_age: dt.timedelta, source: str) -> None:
    """Refuse (before any write) a saved plan that does not describe this pool as it is
    now. ``plan`` is the plan made now from the saved recipe and ``snap`` (``None`` when
    none can be made: then only the objects are compared)."""
    check_pool(doc, snap, source)
    check_age(doc, now, max_age)
    changed: Sequence[str] = fingerprint_changes(doc, snap) or (
        plan_changes(doc, plan, snap) if plan is not None else [])
    if changed:
        raise StalePlanError("the saved plan is stale: the pool changed since it was made; "
                             f"nothing was sent: {REMAKE}. What changed:", changed)


__all__ = ["DEFAULT_MAX_AGE", "check_saved", "dumps", "fingerprints", "is_saved_plan_text",
           "load_saved", "parse_age", "save_plan"]
