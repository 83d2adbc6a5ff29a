"""The plan engine: desired state -> diff -> plan -> apply -> verify (backend-agnostic core,
and the XAPI backend).

* ``desired``: the recipe schema, loader (file/line/field errors) and JSON Schema;
* ``specs``: the records a recipe is made of (``*Spec``, ``DesiredState``; ``desired``
  re-exports them), below both the loader and the recipe models;
* ``identity``: which existing object a recipe entry means, ownership mark, adoption;
* ``diff``: the pure ``diff(desired, snapshot) -> Plan``;
* ``steps``: the XAPI steps (each with its reason, precondition, execution, effect check);
* ``preflight``: the checks that refuse a plan before the first write;
* ``apply``: run a plan, stop at the first failure, resolve lost answers by re-reading;
  ``converge`` = plan + pre-flight + apply + verify + re-plan;
* ``verify``: compare what the recipe states with the pool;
* ``interface_drift``: where PIFs differ from the recipe's ``interfaces:`` entries, field by
  field (``drift --recipe``; verify uses it too);
* ``backend``, ``audit``: the XAPI backend over a connection, the JSON-lines audit log;
* ``scope``: which records of its classes a recipe's reads select (``get_all_records_where``);
* ``document``: the plan as a typed document (``plan -o json``; its JSON Schema) and the
  human text rendered from it; ``saved``: saved plans (``plan --out``, ``apply FILE``);
* ``text``: plans as text; ``core``: Step, Noop, Plan, ApplyReport (shared).

Submodules are imported explicitly (``from xapictl.plan.diff import diff``) so that importing
one stage never pulls in the others.
"""
