"""The real NetBox these tests talk to: given by ``XAPICTL_NETBOX_URL`` and
``XAPICTL_NETBOX_TOKEN`` (``nox -s netbox`` starts one and sets both: tests/netbox/harness.py).
Without them every test here is skipped, with the reason, so ``nox -s tests`` passes alone.

Read at import: the suite's autouse fixture hides every ``XAPICTL_*`` variable from tests.
"""

from __future__ import annotations

import os

import pytest
from netbox_fixtures import NetBoxServer

URL = os.environ.get("XAPICTL_NETBOX_URL", "")
TOKEN = os.environ.get("XAPICTL_NETBOX_TOKEN", "")


@pytest.fixture(scope="session")
def netbox_server() -> NetBoxServer:
    if not (URL and TOKEN):
        pytest.skip("no NetBox to talk to: XAPICTL_NETBOX_URL and XAPICTL_NETBOX_TOKEN are not "
                    "set (nox -s netbox starts one and sets them)")
    return NetBoxServer(URL, TOKEN)
