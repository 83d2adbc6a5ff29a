"""The simulator's one failure type: a XAPI error code with its parameters, exactly as sent."""

from __future__ import annotations


class SimFailure(Exception):
    """Raised by simulator code; the wire layer renders it as XAPI's ``Failure`` envelope.

    ``code`` is the XAPI error code (``VLAN_TAG_INVALID``) and ``params`` the strings XAPI puts
    after it in ``ErrorDescription``: ``SimFailure("HANDLE_INVALID", "network", ref)``.
    """

    def __init__(self, code: str, *params: object) -> None:
        self.code = code
        self.params = [str(p) for p in params]
        super().__init__(code, *self.params)

    @property
    def description(self) -> list[str]:
        """``[code, param, …]``: XML-RPC ``ErrorDescription`` and a task's ``error_info``."""
        return [self.code, *self.params]


__all__ = ["SimFailure"]
