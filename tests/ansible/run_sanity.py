"""``ansible-test sanity`` on the collection xapictl.xen, offline-safe: ``nox -s ansible_sanity``.

ansible-test wants the collection under ``…/ansible_collections/xapictl/xen`` and a writable
tree (it writes ``tests/output``), so the collection is copied to a temporary folder; it runs
with a throwaway ``HOME``. It builds a venv per test and bootstraps pip there with a get-pip
script it downloads from a host these machines cannot reach; it looks in its cache first
(``~/.ansible/test/cache/get_pip_<version>.py``), so a stand-in goes there: pip from the
interpreter's own bundled copy (ensurepip), then the pinned pip from the package index.
ansible-test passes only a few variables to pip, so the index settings this machine's pip gets
from the environment (``PIP_CERT``, ``PIP_FIND_LINKS``, ``PIP_INDEX_URL``,
``PIP_EXTRA_INDEX_URL``) are written to the throwaway home's pip.conf.

Usage: ``python tests/ansible/run_sanity.py [ansible-test sanity options]``; exits with
ansible-test's code.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from xapictl.ansible_collection import collection_source

GET_PIP = '''"""Stand-in for ansible-test's get-pip script (tests/ansible/run_sanity.py)."""
import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap()
os.environ.pop("PIP_CONFIG_FILE", None)  # ensurepip points it at /dev/null and leaves it so
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install", *args])
'''
PIP_SETTINGS = {"PIP_CERT": "cert", "PIP_FIND_LINKS": "find-links",
                "PIP_INDEX_URL": "index-url", "PIP_EXTRA_INDEX_URL": "extra-index-url"}


def pip_version() -> str:
    """The pip version ansible-test pins in its venvs (it names the get-pip script)."""
    import ansible_test

    source = Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
    found = re.search(r"pip='([\d.]+)'", source.read_text())
    if found is None:
        raise SystemExit(f"cannot find the pip version ansible-test pins in {source}")
    return found[1]


def main(args: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="xapictl-sanity-") as tmp:
        root = Path(tmp)
        target = root / "ansible_collections" / "xapictl" / "xen"
        shutil.copytree(collection_source(), target,
                        ignore=shutil.ignore_patterns("__pycache__", "output"))
        home = root / "home"
        cache = home / ".ansible" / "test" / "cache"
        cache.mkdir(parents=True)
        (cache / f"get_pip_{pip_version().replace('.', '_')}.py").write_text(GET_PIP)
        settings = [f"{key} = {os.environ[var]}" for var, key in PIP_SETTINGS.items()
                    if os.environ.get(var)]
        if settings:
            (home / ".config" / "pip").mkdir(parents=True)
            (home / ".config" / "pip" / "pip.conf").write_text(
                "[global]\n" + "\n".join(settings) + "\n")
        exe = Path(sys.executable).with_name("ansible-test")
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        done = subprocess.run([str(exe), "sanity", "--python", version, *args], cwd=target,
                              env={**os.environ, "HOME": str(home)}, check=False)
        return done.returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
