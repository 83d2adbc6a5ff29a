"""The ``xapictl`` command line: a thin typer app, one module per command group.

Each group module builds its own ``typer.Typer`` and imports the library inside its commands, so
``xapictl --help`` never pays for rich, httpx, pyroute2 or the simulator. A run imports and
builds only the group (or command) its command line names (``build_app``, ``_invoked``);
``--help`` of the root, shell completion and a name that is no command build every one.

Global options come before the command (``xapictl --url https://pool -o json network list``);
the output options (``-o/--output``, ``--no-headers``) may also come after it
(``xapictl network list -o json``). Exit codes are in ``xapictl.cli.exit_codes`` (and
docs/exit-codes.md).
"""


import os
import sys
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from xapictl._version import __version__
from xapictl.cli.options import GlobalOptions, Output, set_running

# Root options that take a value (their value is never a command name).
_VALUED = {"--pool", "--url", "--user", "--password-file", "--ca", "--fingerprint", "--output",
           "-o", "--timeout", "--lock-timeout"}


def hoist_output_options(args: list[str]) -> list[str]:
    """``-o/--output X`` and ``--no-headers`` given after the command move before it, where
    the root parses them: ``network list -o json`` is ``-o json network list``. Nothing after
    ``--`` moves."""
    front: list[str] = []
    moved: list[str] = []
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        take = 2 if args[i] in _VALUED else 1
        front += args[i:i + take]
        i += take
    rest: list[str] = []
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        if arg in ("-o", "--output") and i + 1 < len(args):
            moved += args[i:i + 2]
            i += 2
            continue
        if arg == "--no-headers" or arg.startswith("--output=") or (
                arg[:2] == "-o" and arg[2:] in set(Output)):  # -ojson; never a value "-orange"
            moved.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + moved + rest


class _Root(TyperGroup):
    """The root command: output options anywhere on the line, and with ``-o json|yaml`` a
    command line click refuses is an error document too (docs/output.md)."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: Any = None, **extra: Any) -> Any:
        args = hoist_output_options(list(args))
        try:
            for before, arg in zip(["", *args], args, strict=False):  # what no command line
                _refuse_unencodable(arg, before)  # can carry (only a caller in-process): click's
                # Path checks would raise, not refuse
            return super().make_context(info_name, args, parent=parent, **extra)
        except Exception as exc:  # click's refusals (typer vendors click: duck-typed)
            if not _is_click_refusal(exc):
                raise
            _usage_document(exc, args)
            raise

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:  # click's refusals (typer vendors click: duck-typed)
            if not _is_click_refusal(exc):
                raise
            _usage_document(exc, None, ctx)
            raise
        finally:
            set_running(None)  # the next command (in one process: tests) starts afresh


def _refuse_unencodable(arg: str, before: str) -> None:
    """``before``: the word before ``arg``, named when it is the option ``arg`` is given to."""
    given = f"{before} " if before.startswith("-") and "=" not in before else ""
    if "\x00" in arg:
        raise typer.BadParameter(
            f"{given}{arg!r} contains a NUL byte; no option or argument can hold one")
    try:
        os.fsencode(arg)
    except UnicodeEncodeError:
        raise typer.BadParameter(
            f"{given}{arg!r} cannot be encoded as a file name or argument "
            f"({sys.getfilesystemencoding()}); no option or argument can hold it") from None


def _is_click_refusal(exc: Exception) -> bool:
    return hasattr(exc, "exit_code") and hasattr(exc, "show") and hasattr(
        exc, "format_message")


def _usage_document(exc: Any, args: list[str] | None,
                    ctx: Any = None) -> None:
    """Under ``-o json|yaml``: click's refusal of the command line as an error document on
    stderr, after click's own message."""
    output = None
    if ctx is not None:
        output = ctx.obj.output if isinstance(ctx.obj, GlobalOptions) else \
            ctx.params.get("output")
    elif args is not None:
        for i, arg in enumerate(args):
            value = (args[i + 1] if arg in ("-o", "--output") and i + 1 < len(args) else
                     arg.split("=", 1)[1] if arg.startswith("--output=") else
                     arg[2:] if arg.startswith("-o") and len(arg) > 2 else None)
            if value is not None:
                output = value
    if output not in (Output.json, Output.yaml):
        return
    exc.show()
    from xapictl.cli.errors_out import write_error

    write_error(Output(output), exit_code=exc.exit_code, kind="usage",
                message=exc.format_message())
    raise typer.Exit(exc.exit_code)


_ENTRIES: tuple[tuple[str, str, str], ...] = (
    ("network", "network", "app"), ("vlan", "listing", "vlan_app"), ("bond", "bond", "app"),
    ("pif", "listing", "pif_app"), ("host", "listing", "host_app"),
    ("pool", "listing", "pool_app"), ("vif", "vif", "app"), ("plan", "plan", "plan"),
    ("apply", "plan", "apply"), ("sim", "sim", "app"), ("schema", "listing", "schema"),
    ("local", "local", "app"), ("rollout", "rollout", "app"),
    ("inventory", "inventory", "app"), ("drift", "drift", "app"), ("netbox", "netbox", "app"),
    ("ansible", "ansible", "app"))
"""The root's command groups and commands (name, module of ``xapictl.cli``, attribute), in the
order they are added (``--help`` lists them so). A module is imported when its entry is built."""

_OPTIONAL = {"local": "Plain Xen hosts", "rollout": "Fleet rollouts",
             "inventory": "Network inventory", "drift": "Drift between hosts",
             "netbox": "NetBox (CMDB) sync", "ansible": "The Ansible collection"}
"""Groups written in their own modules that an installation may lack."""


def _optional_group(module: str, what: str) -> typer.Typer:
    """A group written in its own module (``xapictl.cli.<module>``); a clear error instead
    of a crash when that module is missing from this installation."""
    import importlib

    try:
        group: typer.Typer = importlib.import_module(f"xapictl.cli.{module}").app
    except ImportError as exc:
        reason = str(exc)
        missing = typer.Typer(help=f"{what} (not available in this installation).")

        @missing.callback(invoke_without_command=True)
        def unavailable() -> None:
            typer.echo(f"xapictl: `{module}` is not available ({reason})", err=True)
            raise typer.Exit(2)

        return missing
    return group


def _entry(name: str, module: str, attribute: str) -> Any:
    """The typer group (or command function) of one root entry, its module imported now."""
    import importlib

    if name in _OPTIONAL:
        return _optional_group(module, _OPTIONAL[name])
    found = getattr(importlib.import_module(f"xapictl.cli.{module}"), attribute)
    if name == "pool" and not any(info.name == "diagram" for info in found.registered_commands):
        from xapictl.cli import diagram

        found.command("diagram")(diagram.pool_diagram)
    return found


def build_app(only: str | None = None) -> typer.Typer:
    """The root typer app with every entry, or with the entry named ``only`` alone.

    typer builds each command of an app (its parameters and their validators) on every run;
    ``main`` builds the invoked entry alone when that shows exactly what the whole app would
    (``_invoked``), the way click's lazy loading of subcommands does."""
    built = typer.Typer(
        name="xapictl",
        help="Plan and apply networking on XenServer / XCP-ng pools and plain Xen hosts.",
        no_args_is_help=True, rich_markup_mode=None,
        pretty_exceptions_enable=False, cls=_Root,
        context_settings={"help_option_names": ["-h", "--help"]},  # every command inherits it
    )
    built.callback()(root)
    for name, module, attribute in _ENTRIES:
        if only is not None and name != only:
            continue
        found = _entry(name, module, attribute)
        if isinstance(found, typer.Typer):
            built.add_typer(found, name=name)
        else:
            built.command(name)(found)
    _with_output_epilog(built)
    return built


def _invoked(args: list[str]) -> str | None:
    """The root entry that ``args`` run, when building it alone shows exactly what the whole
    app would; ``None`` (build everything) for the root's own help, shell completion, no
    command, or a name that is no entry (click lists or suggests the commands)."""
    import os

    if "_XAPICTL_COMPLETE" in os.environ:
        return None
    args = hoist_output_options(args)
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        if args[i] in ("--help", "-h", "--install-completion", "--show-completion"):
            return None
        i += 2 if args[i] in _VALUED else 1
    names = {name for name, _, _ in _ENTRIES}
    return args[i] if i < len(args) and args[i] in names else None


OUTPUT_EPILOG = ("Output: -o table|wide|json|yaml|name and --no-headers may follow the "
                 "command too (xapictl schema lists the JSON/YAML documents).")


def _with_output_epilog(group: typer.Typer, top: bool = True) -> None:
    """Every command's --help says that the root's output options may follow it."""
    for info in group.registered_commands:
        info.epilog = info.epilog or OUTPUT_EPILOG
    if group.registered_callback is not None and not top:
        group.registered_callback.epilog = group.registered_callback.epilog or OUTPUT_EPILOG
    for sub in group.registered_groups:
        if sub.typer_instance is not None and sub.name != "sim":
            _with_output_epilog(sub.typer_instance, top=False)  # sim prints URLs and its JSON


def _version(value: bool) -> None:
    if value:
        typer.echo(f"xapictl {__version__}")
        raise typer.Exit()


MAX_TIMEOUT = 86400.0


def _seconds(value: float | None) -> float | None:
    """``--timeout``: a finite number of seconds in range (not inf, nan, 0 or negative)."""
    import math

    if value is not None and not (math.isfinite(value) and 0.1 <= value <= MAX_TIMEOUT):
        raise typer.BadParameter(f"{value} is not a number of seconds from 0.1 to "
                                 f"{MAX_TIMEOUT:g}; e.g. --timeout 30")
    return value


def _lock_seconds(value: float | None) -> float | None:
    """``--lock-timeout``: a finite number of seconds from 0 (do not wait) to a day."""
    import math

    if value is not None and not (math.isfinite(value) and 0 <= value <= MAX_TIMEOUT):
        raise typer.BadParameter(f"{value} is not a number of seconds from 0 to "
                                 f"{MAX_TIMEOUT:g}; e.g. --lock-timeout 30")
    return value


PASSWORD_FILE = typer.Option(None, "--password-file", help="Read the password from this file "
                             "(or set XAPICTL_PASSWORD; never on the command line).")
CA = typer.Option(None, "--ca", help="CA bundle to verify the pool's TLS certificate.")
FINGERPRINT = typer.Option(None, "--fingerprint", help="Pin the named host's SHA-256 "
                           "fingerprint; repeat as HOST=SHA256 for other pool members (each "
                           "host has its own certificate).")
OUTPUT = typer.Option(Output.table, "--output", "-o", help="table, wide (every column), json, "
                      "yaml (documents with a schema: xapictl schema), or name (one "
                      "identifier per line, list commands); before or after the command.")
NO_HEADERS = typer.Option(False, "--no-headers", help="Tables without their header line; "
                          "before or after the command.")


def root(
    ctx: typer.Context,
    pool: str | None = typer.Option(None, "--pool", envvar="XAPICTL_POOL",
                                    help="A pool profile from pools.toml, or `embedded` for "
                                    "the embedded simulated pool."),
    url: str | None = typer.Option(None, "--url", envvar="XAPICTL_URL",
                                   help="The pool master's URL (https://host)."),
    user: str | None = typer.Option(None, "--user", envvar="XAPICTL_USER",
                                    help="User name (default root)."),
    password_file: Path | None = PASSWORD_FILE,
    ca: Path | None = CA,
    fingerprint: list[str] | None = FINGERPRINT,
    insecure: bool = typer.Option(False, "--insecure", help="Do not verify TLS (loud, "
                                  "explicit opt-out)."),
    output: Output = OUTPUT,
    no_headers: bool = NO_HEADERS,
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Say more."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only changes and errors."),
    timeout: float | None = typer.Option(None, "--timeout", callback=_seconds,
                                         help="Give up on a pool that does not answer (connect "
                                         "and every call) after this many seconds, 0.1 to "
                                         "86400 (default 30 to connect, 60 per call); a "
                                         "refused connection or unknown host fails at once."),
    lock_timeout: float | None = typer.Option(
        None, "--lock-timeout", envvar="XAPICTL_LOCK_TIMEOUT", callback=_lock_seconds,
        help="Wait this many seconds for another run's write lease on the pool (default 10), "
             "then exit 4 naming it."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """xapictl: typed, idempotent, plan-before-apply networking for Xen.

    With nothing configured (no --pool, --url, credential or TLS option, nor their
    variables), commands run on an embedded simulated pool whose state is kept between runs,
    and say so; XAPICTL_EMBEDDED=never turns it off.
    """
    sources = {name: var for name, var in (("pool", "XAPICTL_POOL"), ("url", "XAPICTL_URL"),
                                           ("user", "XAPICTL_USER"))
               if getattr(ctx.get_parameter_source(name), "name", "") == "ENVIRONMENT"}
    ctx.obj = GlobalOptions(pool=pool, url=url, user=user, password_file=password_file, ca=ca,
                            fingerprint=fingerprint, insecure=insecure, output=output,
                            verbose=verbose, quiet=quiet, timeout=timeout, sources=sources,
                            lock_timeout=lock_timeout, no_headers=no_headers)
    if verbose:
        from xapictl.cli.connection import attempts_on_stderr

        ctx.call_on_close(attempts_on_stderr())
    set_running(ctx.obj)


def main() -> None:
    import gc
    import sys

    from xapictl._startup import fewer_collections

    fewer_collections()  # already so when started at xapictl.__main__ (the console script)
    gc.freeze()  # typer and the CLI live as long as the run: collections skip them
    build_app(_invoked(sys.argv[1:]))()


def __getattr__(name: str) -> Any:
    # ``app``: the whole CLI (tests and tools that walk every command), built when first named.
    if name == "app":
        globals()["app"] = found = build_app()
        return found
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["app", "main"]
