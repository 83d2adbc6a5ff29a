"""The exit codes of ``xapictl`` (documented in docs/exit-codes.md; a test keeps them equal).

    0  success, or nothing to do
    2  bad input: usage, an invalid recipe or value, a pre-flight check refused — no write sent
    3  changes are pending: ``plan`` found some (for CI and CMDB jobs), a question was
       declined, or work is deferred for an offline host
    4  XAPI or transport failure (nothing or nothing more was changed)
    5  partial apply: some steps were done, then one failed, or the result does not verify
    6  ``drift``: the hosts of a pool disagree (for scheduled jobs)
    7  a saved plan is stale: it expired (``--max-age``) or the pool changed since it was
       made — nothing was sent; make a new plan
  130  interrupted (Ctrl-C) before any write took effect: nothing changed (after one: 5)
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    BAD_INPUT = 2
    CHANGES_PENDING = 3
    FAILURE = 4
    PARTIAL = 5
    DRIFT_FOUND = 6
    STALE_PLAN = 7
    INTERRUPTED = 130


MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success, or nothing to do",
    ExitCode.BAD_INPUT: "bad input: usage, an invalid recipe or value, or a pre-flight check "
                        "refused the plan; no write was sent",
    ExitCode.CHANGES_PENDING: "changes are pending: `xapictl plan` found some, a question was "
                              "declined, or work is deferred for an offline host",
    ExitCode.FAILURE: "XAPI or transport failure; nothing (more) was changed",
    ExitCode.PARTIAL: "partial apply: some steps were done (a write may have taken effect), "
                      "then one failed or was interrupted (Ctrl-C), or the pool does not verify "
                      "afterwards",
    ExitCode.DRIFT_FOUND: "`xapictl drift`: the hosts of a pool disagree (a VLAN or a bond on "
                          "some hosts only, MTU or bond members, mode or properties differing, "
                          "PIFs unplugged)",
    ExitCode.STALE_PLAN: "`xapictl apply PLANFILE`: the saved plan is stale (older than "
                         "--max-age, or the pool changed since it was made); nothing was "
                         "sent: make a new plan",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C) before any write took effect: nothing "
                          "changed (the shell's code for an interrupt)",
}

__all__ = ["MEANINGS", "ExitCode"]
