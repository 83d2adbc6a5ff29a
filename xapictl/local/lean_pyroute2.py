"""pyroute2 registered bare, for the short-lived vif hotplug process only.

Called first by ``xapictl.local.hotplug.main`` (the ``xapictl-vif-hotplug`` console script),
never on import: it changes how the whole process sees the pyroute2 package, which a
library must not do to its caller's process.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any


def load_bare() -> None:
    """Load pyroute2's package without its ``__init__`` until something asks for more.

    pyroute2 0.9's ``__init__`` imports every family it has (NDB, IPDB, conntrack, nl80211,
    plan9...: 337 modules); this backend needs ``IPRoute``, ``netns`` and ``NetlinkError``
    (242). The vif hotplug runs this for every vif under libxl's 40 s limit, so the package
    is registered bare, and the first name it lacks (``from pyroute2 import NDB`` elsewhere)
    runs the real ``__init__`` in it: later importers see the whole package as usual (a
    submodule asked for by name, ``from pyroute2 import config``, is imported alone)."""
    if "pyroute2" in sys.modules:
        return
    spec = importlib.util.find_spec("pyroute2")
    if spec is None or spec.loader is None:
        return  # the import below names what is missing
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader

    def complete(name: str) -> Any:
        if importlib.util.find_spec(f"pyroute2.{name}") is not None:  # a submodule: just it
            return importlib.import_module(f"pyroute2.{name}")
        del package.__dict__["__getattr__"]
        loader.exec_module(package)
        return getattr(package, name)

    package.__dict__["__getattr__"] = complete
    sys.modules["pyroute2"] = package
