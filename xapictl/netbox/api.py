"""NetBox's REST API over httpx: paginated reads, bulk writes, errors as one-line messages.

Every request is counted (``requests``, ``writes``) so tests and benchmarks measure work, not
time. The token is a ``Secret``: it goes into the Authorization header and nowhere else.

A bulk write of many objects of one kind is cut into chunks (at most ``BULK`` objects, at least
``MIN_CHUNK``) that go ``parallel`` at a time: NetBox spends most of a bulk write per object
(validation, change logging, search indexing, tags, MAC address objects) and in PostgreSQL
round trips, so one request at a time leaves a 2-core NetBox half idle; with several gunicorn
workers, chunks in flight together use its cores (docs/cmdb.md). Objects of one kind never
refer to each other in a write, so their chunks are independent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from xapictl.errors import NetBoxError
from xapictl.xapi.credentials import Secret

PAGE = 1000  # NetBox's default MAX_PAGE_SIZE
BULK = 200  # objects per bulk write, at most
MIN_CHUNK = 50  # objects per bulk write, at least (when there are that many)


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
    """One NetBox: ``url`` (``https://netbox.example``), a token, an optional transport;
    ``parallel``: how many bulk writes of one kind may be in flight at once; ``observe``:
    told of each request when its answer is in (method, endpoint, objects sent, seconds), for
    benchmarks that say where the time goes."""

    def __init__(self, url: str, token: Secret, *, timeout: float = 120.0,
                 transport: httpx.BaseTransport | None = None, verify: bool = True,
                 parallel: int = 1,
                 observe: Callable[[str, str, int, float], None] | None = None) -> None:
        self.url = url.rstrip("/")
        self.requests = 0
        self.writes = 0
        self.parallel = max(1, parallel)
        self.observe = observe
        self._count = threading.Lock()
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
        with self._count:
            self.requests += 1
            if method != "GET":
                self.writes += 1
        started = time.perf_counter()
        try:
            reply = self._http.request(method, path, params=params, json=body)
        except httpx.TimeoutException:
            raise NetBoxError(f"NetBox at {self.url} did not answer in time while trying to "
                              f"{what}") from None
        except httpx.HTTPError as exc:
            raise NetBoxError(f"cannot reach NetBox at {self.url} to {what} "
                              f"({type(exc).__name__}): check the URL") from None
        if self.observe is not None:
            self.observe(method, path.rstrip("/"), len(body) if isinstance(body, list) else 0,
                         time.perf_counter() - started)
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

    def _chunked(self, items: Sequence[Any], labels: Sequence[str],
                 send: Callable[[list[Any], Sequence[str]], list[dict[str, Any]]],
                 ) -> list[dict[str, Any]]:
        """``send`` each chunk, ``parallel`` at a time; the results in order. A refusal is
        raised once every chunk in flight has its answer (the first refused chunk's)."""
        size = min(BULK, max(MIN_CHUNK, -(-len(items) // self.parallel)))
        chunks = [(list(items[i:i + size]), labels[i:i + size])
                  for i in range(0, len(items), size)]
        if self.parallel == 1 or len(chunks) == 1:
            return [obj for chunk, names in chunks for obj in send(chunk, names)]
        with ThreadPoolExecutor(min(self.parallel, len(chunks)),
                                thread_name_prefix="netbox-bulk") as pool:
            futures = [pool.submit(send, chunk, names) for chunk, names in chunks]
        return [obj for future in futures for obj in future.result()]

    def create(self, endpoint: str, items: Sequence[Mapping[str, Any]],
               labels: Sequence[str]) -> list[dict[str, Any]]:
        """Bulk create, in chunks; the created objects in the same order."""
        return self._chunked(items, labels, lambda chunk, names: self._bulk(
            "POST", endpoint, chunk, names, "create"))

    def update(self, endpoint: str, items: Sequence[Mapping[str, Any]],
               labels: Sequence[str]) -> None:
        """Bulk partial update: each item carries its ``id``."""
        self._chunked(items, labels, lambda chunk, names: self._bulk(
            "PATCH", endpoint, chunk, names, "update"))

    def delete(self, endpoint: str, ids: Sequence[int], labels: Sequence[str]) -> None:
        self._chunked([{"id": i} for i in ids], labels, lambda chunk, names: self._bulk(
            "DELETE", endpoint, chunk, names, "delete"))

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


__all__ = ["BULK", "MIN_CHUNK", "PAGE", "NetBoxApi", "auth_header"]
