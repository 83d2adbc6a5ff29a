"""Save a pool profile whose password comes from an environment variable, then use it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xapictl
from xapictl.xapi.credentials import PasswordSource
from xapictl.xapi.profiles import Profile, load_profiles, save_profile


def main(url: str, config: Path, **options: Any) -> list[str]:
    # The profile stores WHERE the password comes from, never the password.
    save_profile(Profile(name="lab", url=url, username="root",
                         password=PasswordSource.parse("env:LAB_XAPI_PASSWORD")), config)
    print(config.read_text())
    names = sorted(load_profiles(config))
    with xapictl.connect_profile("lab", config=config, **options) as conn:
        return [*names, f"{len(conn.hosts.get_all())} hosts"]


if __name__ == "__main__":
    import os
    import tempfile

    # A scratch pools.toml: running the example never touches your real profiles.
    with tempfile.TemporaryDirectory() as scratch:
        print(main(os.environ["XAPI_URL"], Path(scratch) / "pools.toml"))
