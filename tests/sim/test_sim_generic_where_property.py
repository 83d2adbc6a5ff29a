"""Property: get_all_where agrees with a direct evaluation of the same filter over the
records, for random records and random (parenthesised) expressions; and/or are
left-associative with equal precedence, as XAPI's grammar has them."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sim_engine_pool import PASSWORD

from xapictl.sim.engine import Simulator

labels = st.sampled_from(["", "a", "b", "eth0 net", "x'y", "ü"])
tag_sets = st.lists(st.sampled_from(["t1", "t2", "it's"]), max_size=2, unique=True)


def sexpr(items: list[str]) -> str:
    return "(" + " ".join("'" + t.replace("\\", "\\\\").replace("'", "\\'") + "'"
                          for t in items) + ")"


def exprs() -> st.SearchStrategy[tuple[str, Any]]:
    leaf = st.one_of(
        labels.map(lambda v: (f'field "name__label" = "{v}"',
                              lambda r, v=v: r["name_label"] == v)),
        tag_sets.map(lambda t: (f'field "tags" = "{sexpr(t)}"',
                                lambda r, t=t: r["tags"] == t)),
        st.booleans().map(lambda b: ("true" if b else "false", lambda r, b=b: b)),
    )

    def combine(children: st.SearchStrategy[tuple[str, Any]]) -> st.SearchStrategy[Any]:
        def both(op: str, a: tuple[str, Any], b: tuple[str, Any]) -> tuple[str, Any]:
            if op == "and":
                return (f"({a[0]}) and ({b[0]})", lambda r: a[1](r) and b[1](r))
            return (f"({a[0]}) or ({b[0]})", lambda r: a[1](r) or b[1](r))
        return st.one_of(
            children.map(lambda c: (f"not ({c[0]})", lambda r, c=c: not c[1](r))),
            st.builds(both, st.sampled_from(["and", "or"]), children, children))

    return st.recursive(leaf, combine, max_leaves=6)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(labels, tag_sets), min_size=1, max_size=5), exprs())
def test_get_all_where_matches_a_direct_evaluation(records: list[tuple[str, list[str]]],
                                                   expr: tuple[str, Any]) -> None:
    sim = Simulator(password=PASSWORD)
    with sim.state.lock:
        refs = [sim.state.create("SR", {"name_label": label, "tags": tags})
                for label, tags in records]
    s = sim.call("session.login_with_password", ["root", PASSWORD])
    text, predicate = expr
    want = {ref for ref in refs if predicate(sim.call("SR.get_record", [s, ref]))}
    assert set(sim.call("SR.get_all_where", [s, text])) == want


def test_and_or_are_left_associative_with_equal_precedence() -> None:
    sim = Simulator(password=PASSWORD)
    with sim.state.lock:
        sim.state.create("VM_appliance", {"name_label": "a"})
    s = sim.call("session.login_with_password", ["root", PASSWORD])
    # (true or false) and false = false; with "and" binding tighter it would be true.
    assert sim.call("VM_appliance.get_all_where", [s, "true or false and false"]) == []
    assert len(sim.call("VM_appliance.get_all_where", [s, "false and false or true"])) == 1
