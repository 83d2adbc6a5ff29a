"""Connect to a pool and read its networks as typed records."""

from __future__ import annotations

import os
from typing import Any

import xapictl


def main(url: str, password: str, **options: Any) -> list[str]:
    lines = []
    with xapictl.connect(url, username="root", password=password, **options) as conn:
        print(f"connected to {conn.url}, API {conn.api_version}")
        for network in conn.networks.get_all_records().values():
            # Records are frozen dataclasses; ints are ints whatever the protocol.
            lines.append(f"{network.name_label:<40} bridge={network.bridge} mtu={network.mtu}")
        storage = conn.networks.create(name_label="storage", mtu=9000,
                                       other_config={"owner": "example"})
        conn.networks.set_name_description(storage, "jumbo frames for NFS")
        lines.append(f"created {conn.networks.get_record(storage).name_label}")
        # Any other class of the datamodel, typed the same way: the object acted on comes
        # first, every other parameter by its XAPI name (mypy checks names and types).
        conn.client("network").add_to_other_config(storage, key="tier", value="gold")
        lines.append(f"{len(conn.client('SR').get_all())} SRs")
        # The raw door: any XAPI method, the session added for you.
        lines.append(f"MTU {conn.call('network.get_MTU', storage)}")
    return lines


if __name__ == "__main__":
    for line in main(os.environ["XAPI_URL"], os.environ["XAPI_PASSWORD"]):
        print(line)
