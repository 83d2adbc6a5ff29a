"""Failures as documents: with ``-o json|yaml`` every failure also writes one ``Error``
document on stderr (docs/output.md), so a script reads why as data, not prose.

JSON is written on one line, the last line of stderr (``2>err; tail -n1 err | jq``); YAML as a
``---`` document. stdout is left as it is: empty, or a complete document.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from xapictl.cli.connection import pool_label
from xapictl.cli.options import GlobalOptions, Output

_WHERE = re.compile(r"^(?P<file>.+?):(?P<line>\d+)$")


def current_options() -> GlobalOptions | None:
    """The global options of the running command, if a command is running."""
    from xapictl.cli.options import running

    return running()


def details(exc: BaseException | None) -> dict[str, Any]:
    """What an exception says beyond its message: its class, and where (file, line, field)
    or which XAPI error (code, params)."""
    out: dict[str, Any] = {"kind": type(exc).__name__ if exc is not None else "error"}
    problems = getattr(exc, "details", None)
    if problems:
        first = problems[0]
        where = _WHERE.match(getattr(first, "where", "") or "")
        if where:
            out["file"], out["line"] = where["file"], int(where["line"])
        elif getattr(first, "where", ""):
            out["file"] = first.where
        out["field"] = getattr(first, "field", "") or None
    code = getattr(exc, "code", None)
    if isinstance(code, str) and code:
        out["xapi_code"] = code
        out["xapi_params"] = [str(p) for p in getattr(exc, "params", ()) or ()]
    failure = getattr(exc, "failure", None)  # TaskFailed carries the XAPI failure
    if failure is not None and isinstance(getattr(failure, "code", None), str):
        out["xapi_code"] = failure.code
        out["xapi_params"] = [str(p) for p in getattr(failure, "params", ()) or ()]
    return out


def write_error(output: Output, *, exit_code: int, message: str, kind: str = "error",
                exc: BaseException | None = None, **fields: Any) -> None:
    """One ``Error`` document on stderr (nothing unless ``output`` is json or yaml)."""
    if not output.is_data:
        return
    from xapictl.cli.documents import Error, ErrorBody, dump

    found = details(exc) if exc is not None else {"kind": kind}
    found.update(fields)
    opts = current_options()
    body = ErrorBody.model_validate({
        "exit_code": exit_code, "kind": found["kind"], "message": message,
        **{k: found.get(k) for k in ("file", "line", "field", "xapi_code", "xapi_params")}})
    data = dump(Error(pool=pool_label(opts) if opts is not None else None, error=body))
    if output is Output.yaml:
        import yaml

        sys.stderr.write("---\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    else:
        sys.stderr.write(json.dumps(data, ensure_ascii=False) + "\n")
    sys.stderr.flush()


__all__ = ["current_options", "details", "write_error"]
