"""The layer table of ARCHITECTURE.md, enforced: each package imports only what its row allows.

Imports inside functions count too: the table is about dependencies, not import time.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "xapictl"

# Every layer may use these shared leaves.
SHARED = {"xapictl.errors", "xapictl._version", "xapictl._files", "xapictl._batch", "xapictl._log",
          "xapictl._frozen"}

# package -> xapictl packages it may import (besides itself and SHARED)
ALLOWED: dict[str, set[str]] = {
    "xapi": set(),
    "model": set(),
    "client": {"xapi", "model"},
    "state": {"client", "model"},
    "plan": {"state", "model"},
    "recipes": {"plan", "model"},
    "local": {"plan", "model"},
    "fleet": {"plan", "client", "state", "model", "xapi"},
    "inventory": {"state", "model"},
    "sim": {"model"},
    "diagram": {"state", "plan", "inventory", "model"},  # snapshot, plan, drift -> graph
    "netbox": {"state", "inventory", "model", "xapi"},  # snapshot -> NetBox; xapi: the Secret
    # the Ansible collection (issue 19): the public library, and from cli only the documents
    # of `-o json` (views, documents) that the info modules return (see the test below)
    "ansible_collection": {"recipes", "plan", "state", "model", "xapi", "fleet", "cli"},
}

# package -> the third-party modules it may import (anything else that is not the standard
# library fails). The first four rows are ARCHITECTURE.md's; the others are what the rest of
# the table's rows need for their job.
THIRD_PARTY: dict[str, set[str]] = {
    "xapi": {"httpx", "httpcore", "XenAPI", "tenacity", "orjson", "platformdirs", "tomlkit"},
    # orjson: the JSON-RPC codec (issue 12); httpcore: httpx's own transport, for a unix
    # connect that closes its socket; platformdirs and tomlkit: pools.toml, where the user's
    # config lives and written back with the user's comments (issue 17; this revises
    # ARCHITECTURE.md's xapi row, see docs/contributing.md "Dependencies and why")
    "model": set(),
    "client": set(),  # the wire's types come through xapictl.xapi (HttpTransport)
    "state": set(),
    "plan": {"yaml", "pydantic"},  # desired-state files; the plan document's typed models
    "recipes": set(),  # the ensure_* builders construct the recipe models (plan) directly
    "local": {"pyroute2", "yaml", "pydantic", "tenacity"},  # plain-Xen backend; its recipes'
    # typed models; tenacity: its one retry loop (wait.retry_until, issue 17)
    "fleet": {"httpx", "rich", "yaml", "platformdirs"},  # plain-HTTP pool transports; progress;
    # fleet files; platformdirs: the journal's default place (issue 17)
    "inventory": {"orjson"},  # the JSON export's encoder (issue 12)
    "sim": {"httpx", "cryptography"},  # the in-process httpx transport; --tls certificates
    "diagram": {"graphviz"},  # runs Graphviz's dot for SVG/PNG (issue 18)
    "netbox": {"httpx"},  # NetBox's REST API (issue 15)
    "cli": {"typer", "rich", "yaml", "platformdirs", "pydantic"},  # pydantic: output documents
    # the collection's plugins run inside Ansible; yaml: inline recipes and diff texts
    "ansible_collection": {"ansible", "ansible_collections", "yaml"},
}

# (file, module): the documented exceptions, each imported inside a function only.
LAZY_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("xapi/credentials.py", "keyring"): "the optional keyring password source (issue 4); "
                                        "installed as the 'keyring' extra",
}

# third-party module -> the only packages that may import it
THIRD_PARTY_OWNERS: dict[str, set[str]] = {
    "pyroute2": {"local"},
    "typer": {"cli"},
    "rich": {"cli", "fleet"},
}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _top_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return {name.split(".")[0] for node in tree.body for name in _names(node)}


def _names(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return [node.module]
    if isinstance(node, ast.If | ast.Try):  # `if TYPE_CHECKING:` / `try: import …`
        inner = [*node.body, *node.orelse, *getattr(node, "finalbody", [])]
        for handler in getattr(node, "handlers", []):
            inner += handler.body
        return [name for child in inner for name in _names(child)]
    return []


def _layer_files(layers: Iterable[str] = ALLOWED) -> list[tuple[str, Path]]:
    out = []
    for layer in layers:
        base = PACKAGE / layer
        out += [(layer, p) for p in sorted(base.rglob("*.py"))]
    return out


@pytest.mark.parametrize(("layer", "path"), _layer_files(),
                         ids=lambda v: str(v.relative_to(PACKAGE)) if isinstance(v, Path) else v)
def test_module_imports_only_what_its_layer_allows(layer: str, path: Path) -> None:
    wrong = []
    for line, module in _imports(path):
        top = module.split(".")[0]
        if top == "xapictl":
            if module in SHARED or module == "xapictl":
                continue
            target = module.split(".")[1]
            if target != layer and target not in ALLOWED[layer]:
                wrong.append(f"line {line}: {module}")
        elif top in THIRD_PARTY_OWNERS and layer not in THIRD_PARTY_OWNERS[top]:
            wrong.append(f"line {line}: {module} (only {sorted(THIRD_PARTY_OWNERS[top])})")
    assert wrong == [], f"{path.relative_to(PACKAGE)} crosses the layer table: {wrong}"


def test_pyroute2_is_imported_only_under_local() -> None:
    offenders = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                 if p.parts[len(PACKAGE.parts)] != "local"
                 and any(m.split(".")[0] == "pyroute2" for _, m in _imports(p))]
    assert offenders == []


# Standard library modules under another name in another Python: the built-in SHA-256 is
# _sha256 up to 3.11 and _sha2 from 3.12 (client/lease.py imports whichever there is).
STDLIB_RENAMED = {"_sha256", "_sha2"}


def _third_party(module: str) -> bool:
    top = module.split(".")[0]
    return top != "xapictl" and top not in sys.stdlib_module_names and top not in STDLIB_RENAMED


@pytest.mark.parametrize(("layer", "path"), _layer_files(THIRD_PARTY),
                         ids=lambda v: str(v.relative_to(PACKAGE)) if isinstance(v, Path) else v)
def test_every_third_party_import_is_on_its_layers_allow_list(layer: str, path: Path) -> None:
    relative = path.relative_to(PACKAGE).as_posix()
    wrong = [f"line {line}: {module}" for line, module in _imports(path)
             if _third_party(module) and module.split(".")[0] not in THIRD_PARTY[layer]
             and (relative, module.split(".")[0]) not in LAZY_EXCEPTIONS]
    assert wrong == [], f"{relative} imports third-party modules its layer may not: {wrong}"


@pytest.mark.parametrize(("relative", "module"), sorted(LAZY_EXCEPTIONS))
def test_each_documented_exception_is_imported_lazily(relative: str, module: str) -> None:
    path = PACKAGE / relative
    assert any(m.split(".")[0] == module for _, m in _imports(path)), "exception unused: drop it"
    assert module not in _top_level_imports(path), f"{relative} imports {module} at module level"


def test_every_package_has_a_row() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages == set(THIRD_PARTY)


def test_the_config_directory_is_where_platformdirs_puts_it(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    platformdirs = pytest.importorskip("platformdirs")
    from xapictl.xapi.profiles import config_dir

    for xdg in (None, str(tmp_path / "xdg")):
        if xdg is None:
            monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
        else:
            monkeypatch.setenv("XDG_CONFIG_HOME", xdg)
        assert config_dir() == platformdirs.user_config_path("xapictl")


def test_every_user_path_comes_from_platformdirs(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    # issue 17: no hand-made copy of platformdirs (XDG variables, ~/.config, ~/.local...)
    import re

    by_hand = re.compile(r"XDG_\w+_HOME|Path\.home\(\)|[\"']\.(config|local)[\"']")
    offenders = [f"{p.relative_to(PACKAGE)}:{n}" for p in PACKAGE.rglob("*.py")
                 for n, line in enumerate(p.read_text().splitlines(), start=1)
                 if by_hand.search(line)]
    assert offenders == []
    platformdirs = pytest.importorskip("platformdirs")
    from xapictl.fleet.journal import default_path

    monkeypatch.delenv("XAPICTL_JOURNAL", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert default_path() == platformdirs.user_state_path("xapictl") / "journal.sqlite"
    assert default_path().is_relative_to(tmp_path)


CLI_FOR_THE_COLLECTION = {"xapictl.cli.views", "xapictl.cli.documents"}


def test_the_ansible_collection_uses_only_the_documents_of_the_cli() -> None:
    """The collection is a front end beside the CLI, not on top of it: of ``xapictl.cli`` it
    may only use the typed facts of ``-o json`` (the info modules return the same shapes)."""
    wrong = [f"{p.relative_to(PACKAGE)}:{line}: {module}"
             for p in sorted((PACKAGE / "ansible_collection").rglob("*.py"))
             for line, module in _imports(p)
             if module.startswith("xapictl.cli") and module not in CLI_FOR_THE_COLLECTION]
    assert wrong == []
