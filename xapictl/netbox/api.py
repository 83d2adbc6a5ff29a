"""NetBox's REST API over httpx: paginated reads, bulk writes, errors as one-line messages.

Every request is counted (``requests``, ``writes``) so tests and benchmarks measure work, not
time. The token is a ``Secret``: it goes into the Authorization header and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from xapictl.errors import NetBoxError
from xapictl.xapi.credentials import Secret

PAGE = 1000  # NetBox's default MAX_PAGE_SIZE
BULK = 200  # objects per bulk write


def auth_header(token: Secret) -> str:
    """v2 tokens (``nbt_<key>.<secret>``) are sent as Bearer, v1 tokens as Token."""
    text = token.reveal()
    return f"Bearer {text}" if text.startswith("nbt_") else f"Token {text}"


def _bulk_errors(body: Any) -> Any:
    """NetBox 4.7 answers a refused bulk request with ``{"detail": "N of M objects could not
    be created.", "errors": [{"index": i, "errors": {field: [message]}}]}``; older versions
    (DRF) with a list holding one entry per object, ``{}`` for those that were fine."""
    if isinstance(body, Mapping) and isinstance(body.get("errors"), list) and body["errors"]:
        first = body["errors"][0]
        if isinstance(first, Mapping) and "index" in first:
            return int(first["index"]), first.get("errors", {})
    if isinstance(body, list) and body and all(isinstance(i, Mapping) for i in body):
        index = next((i for i, item in enumerate(body) if item), None)
        return index, body[index] if index is not None else {}
    return None, body


def _first_error(body: Any) -> str:
    """The first field error of a NetBox/DRF error body, as ``field: message``."""
    if isinstance(body, list):
        for item in body:
            if item:
                return _first_error(item)
        return "no detail"
    if isinstance(body, Mapping):
        if "detail" in body:
            return str(body["detail"])
        for name, value in body.items():
            inner = _first_error(value) if isinstance(value, (list, Mapping)) else str(value)
            return inner if name == "non_field_errors" else f"{name}: {inner}"
    return str(body)


class NetBoxApi:
    """One NetBox: ``url`` (``https://netbox.example``), a token, an optional transport."""

    def __init__(self, url: str, token: Secret, *, timeout: float = 120.0,
                 transport: httpx.BaseTransport | None = None, verify: bool = True) -> None:
        self.url = url.rstrip("/")
        self.requests = 0
        self.writes = 0
        self._http = httpx.Client(base_url=f"{self.url}/api/", timeout=timeout, verify=verify,
                                  transport=transport,
                                  headers={"Authorization": auth_header(token),
                                           "Accept": "application/json"})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> NetBoxApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, method: str, path: str, what: str, *, params: Mapping[str, Any] | None = None,
              body: Any = None) -> Any:
        self.requests += 1
        if method != "GET":
            self.writes += 1
        try:
            reply = self._http.request(method, path, params=params, json=body)
        except httpx.TimeoutException:
            raise NetBoxError(f"NetBox at {self.url} did not answer in time while trying to "
                              f"{what}") from None
        except httpx.HTTPError as exc:
            raise NetBoxError(f"cannot reach NetBox at {self.url} to {what} "
                              f"({type(exc).__name__}): check the URL") from None
        if reply.status_code < 400:
            return reply.json() if reply.content else None
        index = None
        try:
            index, errors = _bulk_errors(reply.json())
            detail = _first_error(errors)
        except ValueError:
            detail = reply.reason_phrase
        hint = {401: "check the token", 403: "the token needs read and write permission on "
                "these objects (or is wrong)", 409: "another writer changed it: run again",
                429: f"rate limited (Retry-After: {reply.headers.get('Retry-After', '?')} s): "
                     "run again later"}.get(reply.status_code, "")
        raise NetBoxError(f"NetBox refused to {what}: {reply.status_code} {detail}"
                          + (f" ({hint})" if hint else ""), status=reply.status_code,
                          index=index, detail=detail)

    def all(self, endpoint: str, what: str, **filters: Any) -> list[dict[str, Any]]:
        """Every object of ``endpoint`` matching ``filters``, page by page."""
        out: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = self._send("GET", f"{endpoint}/", f"read {what}",
                              params={**filters, "limit": PAGE, "offset": offset})
            out += page["results"]
            offset += PAGE
            if not page.get("next"):
                return out

    def create(self, endpoint: str, items: Sequence[Mapping[str, Any]],
               labels: Sequence[str]) -> list[dict[str, Any]]:
        """Bulk create, in chunks; the created objects in the same order."""
        out: list[dict[str, Any]] = []
        for start in range(0, len(items), BULK):
            chunk = list(items[start:start + BULK])
            names = labels[start:start + BULK]
            out += self._bulk("POST", endpoint, chunk, names, "create")
        return out

    def update(self, endpoint: str, items: Sequence[Mapping[str, Any]],
               labels: Sequence[str]) -> None:
        """Bulk partial update: each item carries its ``id``."""
        for start in range(0, len(items), BULK):
            self._bulk("PATCH", endpoint, list(items[start:start + BULK]),
                       labels[start:start + BULK], "update")

    def delete(self, endpoint: str, ids: Sequence[int], labels: Sequence[str]) -> None:
        for start in range(0, len(ids), BULK):
            self._bulk("DELETE", endpoint, [{"id": i} for i in ids[start:start + BULK]],
                       labels[start:start + BULK], "delete")

    def _bulk(self, method: str, endpoint: str, chunk: list[Mapping[str, Any]],
              labels: Sequence[str], verb: str) -> list[dict[str, Any]]:
        what = labels[0] if len(labels) == 1 else f"{len(labels)} objects ({labels[0]} …)"
        try:
            result = self._send(method, f"{endpoint}/", f"{verb} {what}", body=chunk)
        except NetBoxError as exc:
            if exc.index is None or not 0 <= exc.index < len(labels):
                raise
            raise NetBoxError(f"NetBox refused to {verb} {labels[exc.index]}: {exc.status} "
                              f"{exc.detail}", status=exc.status) from None
        return list(result or [])

    def post(self, endpoint: str, body: Mapping[str, Any], what: str) -> dict[str, Any]:
        return dict(self._send("POST", f"{endpoint}/", what, body=body))


__all__ = ["BULK", "PAGE", "NetBoxApi", "auth_header"]
