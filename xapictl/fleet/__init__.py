"""Many pools at once: fleet files and selections, rollouts (plan all, canary, waves, failure
budget, step-boundary stop, resume), the SQLite journal, the audit log of writes, and
``for_each_pool`` for any read over a selection.

Modules: ``fleetfile`` and ``select`` (which pools), ``connect`` (sessions, password sources),
``rollout`` (the scheduler) with ``work``/``xapi_work`` (what it asks of a backend), ``journal``,
``audit``, ``each``, ``progress`` (rich live view). Nothing is imported here, so importing the
package stays cheap.
"""
