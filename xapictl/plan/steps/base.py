"""What every XAPI step is: plain data with ``calls`` (the XAPI methods it sends, for the role
pre-flight and the audit log), ``precondition`` (re-checked against the pool read at apply
time: a step that no longer makes sense is drift, not forced), ``execute``, ``effect_in``
(whether its effect is already in a snapshot: how a write whose answer was lost is resolved),
``resume`` (what to send after a lost answer when the effect is absent) and ``facts`` (the
step as data, for the structured plan and saved plans: see ``xapictl.plan.steps.facts``).

Objects created earlier in the same plan are referred to by ``Later(key)``; ``RunContext``
resolves them from what earlier steps produced. ``SetField`` and ``SetOtherConfig`` work on
any class.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import Any, Protocol

from xapictl._frozen import Frozen, Mutable, frozen, mutable
from xapictl.plan.core import Step
from xapictl.plan.steps.facts import Call, Facts, call, field_of, identity, records, relying
from xapictl.state.snapshot import PoolSnapshot


class Caller(Protocol):
    """What a step needs from a connection: ``xapictl.connect(...)`` objects fit."""

    def call(self, method: str, *args: Any) -> Any: ...


@frozen
class Later(Frozen):
    """A ref that an earlier step of the same plan will produce."""

    key: str

    def __str__(self) -> str:
        return f"<{self.key}>"


@mutable
class RunContext(Mutable):
    """What the steps of one apply share: the connection and the refs earlier steps made."""

    conn: Caller
    produced: dict[str, str] = field(default_factory=dict)

    def ref(self, value: str | Later) -> str:
        if isinstance(value, Later):
            return self.produced[value.key]
        return value

    def known(self, value: str | Later) -> str | None:
        """The ref to re-check: one that existed when the plan was made, or one an earlier
        step produced (``None`` for one not made yet: no read can hold it)."""
        if isinstance(value, Later):
            return self.produced.get(value.key)
        return value


ANY_CLASS = "*"
"""``XapiStep.touches`` of a step whose effects are not listed: any class."""


@frozen(kw_only=True)
class XapiStep(Step):
    """A step against a XAPI pool. ``key`` names what it creates, for ``Later`` refs.
    ``group``: steps that are made together or undone together (a pool-wide bond, one step
    per host); ``undoes``: on an undo step (``Plan.undo``), the key of the step it undoes."""

    key: str = ""
    group: str = ""
    undoes: str = ""

    @property
    def reads(self) -> tuple[str, ...]:
        """The XAPI classes ``precondition`` looks at: what apply re-reads before the step."""
        return ()

    @property
    def calls(self) -> tuple[str, ...]:
        return ()

    @property
    def touches(self) -> tuple[str, ...]:
        """The XAPI classes whose records the step's calls can create, change or remove
        (``ANY_CLASS``, the default: it may change anything). A later step that reads none of
        them has its re-check read sent beside this step's write (``apply``)."""
        return (ANY_CLASS,)

    @property
    def after_failure(self) -> str:
        """Added to the step's failure in the report: what a re-run cannot do for it."""
        return ""

    def args_text(self) -> str:
        """The call's arguments in words, for the plan (no refs when a name will do)."""
        return ""

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        """The step as data (``facts.Facts``): action, class, identity, before/after, the
        calls with their parameters, the objects it relies on. ``snap`` (the pool the plan
        was made from) adds uuids, names and the ``before`` values; pure, no I/O."""
        return Facts("update", "", calls=tuple(Call(m) for m in self.calls))

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        """``None`` when the step still applies, else what changed."""
        return None

    def execute(self, ctx: RunContext) -> str | None:
        raise NotImplementedError

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        """The produced ref (or True) if the effect is already there, else False."""
        return False

    def resume(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        """Send what is left after a lost answer, ``snap`` showing the effect absent: the
        whole step again, unless a step of several calls knows better."""
        return self.execute(ctx)


METADATA_SETTERS = frozenset({"set_name_description", "set_tags"})
"""Setters that change words only: not disruptive."""


def gone(kind: str, ref: str) -> str:
    return f"{kind} {ref} no longer exists"


@frozen(kw_only=True)
class SetField(XapiStep):
    """A plain setter: ``<class>.set_<Field>(ref, value)`` (and a few named like it)."""

    xapi_class: str
    ref: str | Later
    method: str
    """The message name: ``set_MTU``, ``set_name_label``, ``set_default_locking_mode``…"""
    field_name: str
    """The record's Python field the setter writes (to check its effect)."""
    value: Any

    @property
    def action(self) -> str:
        return self.method.replace("_", " ")

    @property
    def disruption(self) -> str:
        if isinstance(self.ref, Later) or self.method in METADATA_SETTERS:
            return ""  # made by this plan, or words only (description, tags)
        if self.method == "set_name_label":
            return f"renames the {self.xapi_class} to {self.value!r}"
        return f"changes {self.field_name} of a {self.xapi_class} that exists"

    @property
    def calls(self) -> tuple[str, ...]:
        return (f"{self.xapi_class}.{self.method}",)

    def args_text(self) -> str:
        return f"{self.field_name} = {self.value!r}"

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        key = self.method.removeprefix("set_")
        before = field_of(snap, self.xapi_class, self.ref, self.field_name)
        return Facts("update", self.xapi_class, identity(snap, self.xapi_class, self.ref),
                     before={key: before} if before is not None else None,
                     after={key: self.value},
                     calls=(call(self.calls[0], self.ref, self.value),),
                     relies_on=relying((self.xapi_class, self.ref)))

    @property
    def reads(self) -> tuple[str, ...]:
        return (self.xapi_class,)

    @property
    def touches(self) -> tuple[str, ...]:
        return (self.xapi_class,)  # a plain setter changes its own record only

    def precondition(self, snap: PoolSnapshot, ctx: RunContext) -> str | None:
        ref = ctx.known(self.ref)
        if ref is None or table(snap, self.xapi_class).get(ref) is not None:
            return None
        return gone(self.xapi_class, ref)

    def execute(self, ctx: RunContext) -> str | None:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        ctx.conn.call(self.calls[0], ctx.ref(self.ref), value)
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        record = table(snap, self.xapi_class).get(ctx.ref(self.ref))
        if record is None:
            return False
        current = getattr(record, self.field_name)
        if isinstance(current, tuple) and isinstance(self.value, tuple):
            return sorted(map(str, current)) == sorted(map(str, self.value))
        return bool(current == self.value)


@frozen(kw_only=True)
class SetOtherConfig(XapiStep):
    """Set some ``other_config`` keys, leaving the others alone (``add_to``/``remove_from``;
    a key that exists with another value is removed first, as XAPI refuses duplicates)."""

    xapi_class: str
    ref: str | Later
    values: Mapping[str, str]
    replace: tuple[str, ...] = ()

    action = "set other_config"

    @property
    def touches(self) -> tuple[str, ...]:
        return (self.xapi_class,)

    @property
    def disruption(self) -> str:
        if self.xapi_class == "VIF" and "mtu" in self.values and not isinstance(self.ref, Later):
            return "changes the MTU of a VIF that exists (at its next plug)"
        return ""  # bookkeeping: the ownership mark, `automatic`, the user's keys

    @property
    def calls(self) -> tuple[str, ...]:
        out = [f"{self.xapi_class}.remove_from_other_config" for _ in self.replace]
        return (*out, *(f"{self.xapi_class}.add_to_other_config" for _ in self.values))

    def args_text(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in sorted(self.values.items()))

    def facts(self, snap: PoolSnapshot | None = None) -> Facts:
        current = field_of(snap, self.xapi_class, self.ref, "other_config")
        before = ({k: current.get(k) for k in sorted(self.values)}
                  if isinstance(current, dict) else None)
        calls = [call(f"{self.xapi_class}.remove_from_other_config", self.ref, k)
                 for k in self.replace]
        calls += [call(f"{self.xapi_class}.add_to_other_config", self.ref, k, v)
                  for k, v in sorted(self.values.items())]
        return Facts("update", self.xapi_class, identity(snap, self.xapi_class, self.ref),
                     before={"other_config": before} if before is not None else None,
                     after={"other_config": dict(self.values)}, calls=tuple(calls),
                     relies_on=relying((self.xapi_class, self.ref)))

    def execute(self, ctx: RunContext) -> str | None:
        ref = ctx.ref(self.ref)
        for key in self.replace:
            ctx.conn.call(f"{self.xapi_class}.remove_from_other_config", ref, key)
        for key, value in sorted(self.values.items()):
            ctx.conn.call(f"{self.xapi_class}.add_to_other_config", ref, key, value)
        return None

    def effect_in(self, snap: PoolSnapshot, ctx: RunContext) -> str | bool:
        record = table(snap, self.xapi_class).get(ctx.ref(self.ref))
        return record is not None and all(
            record.other_config.get(k) == v for k, v in self.values.items())


def table(snap: PoolSnapshot, xapi_class: str) -> Mapping[Any, Any]:
    return records(snap, xapi_class)


__all__ = ["ANY_CLASS", "Caller", "Later", "RunContext", "SetField", "SetOtherConfig", "XapiStep",
           "gone",
           "table"]
