"""The Ansible collection ``xapictl.xen``, shipped inside the package.

The collection's source is ``ansible_collections/xapictl/xen/`` next to this file (package
data: ``pip install xapictl`` ships it); ``collection_root()`` is the folder that
``ANSIBLE_COLLECTIONS_PATH`` may name to use it in place, and ``install`` copies it where
Ansible looks for collections (``xapictl ansible install [--path DIR]``). What the modules do
is in ``xapictl.ansible_collection.bridge`` (plain typed functions over the library).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

NAMESPACE, NAME = "xapictl", "xen"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")


def collection_root() -> Path:
    """The folder holding ``ansible_collections/`` (for ``ANSIBLE_COLLECTIONS_PATH``)."""
    return Path(__file__).resolve().parent


def collection_source() -> Path:
    """The collection itself: ``ansible_collections/xapictl/xen``."""
    return collection_root() / "ansible_collections" / NAMESPACE / NAME


def default_path() -> Path:
    """Where Ansible looks first: the first entry of ``ANSIBLE_COLLECTIONS_PATH``, else its
    user default ``~/.ansible/collections``."""
    paths = [p for p in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) if p]
    if paths:
        return Path(paths[0]).expanduser()
    return Path("~/.ansible/collections").expanduser()


def install(path: Path | None = None) -> Path:
    """Copy the collection to ``PATH/ansible_collections/xapictl/xen`` (replacing an older
    copy there) and return that folder. ``path``: default ``default_path()``."""
    from xapictl.errors import UsageError

    base = default_path() if path is None else path.expanduser()
    if base.exists() and not base.is_dir():
        raise UsageError(f"--path {base}: not a directory; give a directory of collections")
    target = base / "ansible_collections" / NAMESPACE / NAME
    try:
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(collection_source(), target, ignore=IGNORED)
    except OSError as exc:
        raise UsageError(f"--path {base}: cannot write the collection there "
                         f"({exc.strerror or exc}); give a writable directory") from None
    return target


__all__ = ["NAME", "NAMESPACE", "collection_root", "collection_source", "default_path",
           "install"]
