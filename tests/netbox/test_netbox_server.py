"""The harness's NetBox answers the API with the token it made (tests/netbox/harness.py)."""

from __future__ import annotations

import httpx
from netbox_fixtures import NetBoxServer


def test_status_answers_with_the_token(netbox_server: NetBoxServer) -> None:
    reply = httpx.get(f"{netbox_server.url}/api/status/",
                      headers={"Authorization": f"Bearer {netbox_server.token}"}, timeout=60)
    assert reply.status_code == 200, reply.text
    assert reply.json()["netbox-version"].startswith("4.")


def test_a_wrong_token_is_refused(netbox_server: NetBoxServer) -> None:
    reply = httpx.get(f"{netbox_server.url}/api/dcim/sites/",
                      headers={"Authorization": "Bearer nbt_nothing.wrong"}, timeout=60)
    assert reply.status_code == 403
