"""``xapictl sim``: serve the XAPI simulator, a sandbox pool on loopback.

The simulator and its server are imported inside the command, so ``xapictl --help`` stays fast.
"""


from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Run the XAPI simulator: a sandbox pool on loopback.", no_args_is_help=True)


def _control_argument(spec: str) -> tuple[str, object]:
    """``KEY=VALUE``: the value as JSON when it parses (``times=1``, ``live=false``,
    ``error=["VLAN_TAG_INVALID","5000"]``), otherwise as the text given."""
    import json

    key, sep, text = spec.partition("=")
    if not sep or not key:
        raise typer.BadParameter(f"{spec!r}: expected KEY=VALUE (e.g. times=1)")
    try:
        return key, json.loads(text)
    except ValueError:
        return key, text


def _parse_users(specs: list[str]) -> dict[str, str]:
    users: dict[str, str] = {}
    for spec in specs:
        name, sep, role = spec.partition(":")
        if not sep or not name or not role:
            raise typer.BadParameter(f"{spec!r}: expected NAME:ROLE (e.g. alice:read-only)",
                                     param_hint="--user")
        users[name] = role.lower()
    return users


def _no_document(ctx: typer.Context, what: str) -> None:
    """The simulator's commands print a URL or the simulator's own JSON answer: -o json,
    yaml or name is refused (exit 2), not ignored."""
    from xapictl.cli.options import current

    opts = current(ctx)
    if opts.output.is_data or opts.output.value == "name":
        from xapictl.cli.run import exit_codes
        from xapictl.errors import UsageError

        with exit_codes():
            raise UsageError(f"-o {opts.output.value} does not apply to `sim {what}`: "
                             + ("it prints the simulator's URLs" if what == "serve" else
                                "it prints the simulator's JSON answer as it is"))


@app.command()
def serve(
    ctx: typer.Context,
    scenario: Annotated[str, typer.Option(
        help="Scenario to build: seed, single, big, sriov, loopback.")] = "seed",
    hosts: Annotated[int | None, typer.Option(
        min=1, help="Number of hosts (scenarios that take it, e.g. big).")] = None,
    bind: Annotated[str, typer.Option(
        help="Master address; members listen on the next loopback addresses.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(
        min=0, max=65535, help="TCP port (0 picks one free on every host address).")] = 0,
    tls: Annotated[bool, typer.Option(
        "--tls", help="Serve HTTPS with a fresh self-signed certificate and print its "
        "SHA-256 fingerprint.")] = False,
    unix_socket: Annotated[Path | None, typer.Option(
        help="Also serve the master on this unix socket (XenAPI.UDSTransport).")] = None,
    state: Annotated[Path | None, typer.Option(
        help="Keep the pool in this SQLite file; it survives restarts (the scenario is "
        "built only when the file is empty).")] = None,
    latency_ms: Annotated[float, typer.Option(
        min=0.0, help="Latency added to every call, in ms.")] = 0.0,
    jitter_ms: Annotated[float, typer.Option(
        min=0.0, help="Random extra latency per call, up to this many ms.")] = 0.0,
    batch_gate: Annotated[bool, typer.Option(
        "--batch-gate", help="Hold the answers of requests a client announced as sent "
        "together until all of them have been served (exact round-trip counts).")] = False,
    password: Annotated[str, typer.Option(
        envvar="XAPICTL_SIM_PASSWORD", help="Password of root and of every --user.")
    ] = "xapictl",  # noqa: S107 - the documented sandbox default
    user: Annotated[list[str] | None, typer.Option(
        help="Extra user NAME:ROLE (pool-admin, pool-operator, vm-power-admin, vm-admin, "
        "vm-operator, read-only); repeatable.")] = None,
    request_log: Annotated[Path | None, typer.Option(
        help="Append every request to this file as JSON lines (passwords masked; mode "
        "0600).")] = None,
    control_auth: Annotated[str, typer.Option(
        "--control", help="Control endpoint access: 'none' (loopback, same-origin JSON "
        "only) or 'token' (also a token, printed at start, that `sim control --token` "
        "sends).")] = "none",
    max_connections: Annotated[int | None, typer.Option(
        min=1, help="Connections served at once; more are answered 503 (default: 800, "
        "or fewer under a low `ulimit -n`).")] = None,
    idle_timeout: Annotated[float, typer.Option(
        min=1.0, help="Seconds a connection may stay idle between requests.")] = 120.0,
) -> None:
    """Serve a simulated pool until interrupted (Ctrl-C stops cleanly).

    Refuses (exit 2, nothing opened) a non-loopback --bind with the default password."""
    import secrets
    import signal
    import threading

    from xapictl.sim.control import Control
    from xapictl.sim.engine import Simulator
    from xapictl.sim.server import SimServer, bind_refusal, is_loopback

    _no_document(ctx, "serve")
    if control_auth not in ("none", "token"):
        typer.echo(f"--control {control_auth!r}: expected 'none' or 'token'", err=True)
        raise typer.Exit(2)
    refused = bind_refusal(bind, password)
    if refused is not None:
        typer.echo(refused, err=True)
        raise typer.Exit(2)
    params = {"hosts": hosts} if hosts is not None else {}
    sim = Simulator(password=password, users=_parse_users(user or []), state_file=state)
    if state is None or not sim.host_addresses():
        sim.reset(scenario=scenario, **params)
    control = Control(sim, log_file=request_log)
    if control_auth == "token":
        control.token = secrets.token_urlsafe(24)
    if latency_ms or jitter_ms:
        control.set_latency(latency_ms, jitter_ms)
    if batch_gate:
        control.set_batch_gate(True)
    server = SimServer(sim, bind=bind, port=port, tls=tls, unix_socket=unix_socket,
                       control=control, max_connections=max_connections,
                       idle_timeout=idle_timeout)
    try:
        server.start()
    except OSError as exc:
        typer.echo(f"cannot listen on {bind}:{port}: {exc}", err=True)
        raise typer.Exit(2) from None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    typer.echo(server.url)
    if server.fingerprint:
        typer.echo(f"fingerprint sha256 {server.fingerprint}")
    if control.token is not None:
        typer.echo(f"control token {control.token}")
    for ref, url in sorted(server.urls.items(), key=lambda item: item[1]):
        role = "master" if url == server.url else "member"
        typer.echo(f"  {role:6} {url}  {ref}", err=True)
    if unix_socket is not None:
        typer.echo(f"  unix   {unix_socket}", err=True)
    # A sandbox on loopback shows its password; beyond loopback it is one the operator chose.
    shown = f"password {password}" if is_loopback(bind) else "password as given (--password)"
    typer.echo(f"scenario {scenario}; users: root (pool-admin)"
               + "".join(f", {u}" for u in user or []) + f"; {shown}; Ctrl-C to stop", err=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        sim.close()
        typer.echo("stopped", err=True)


@app.command()
def control(
    ctx: typer.Context,
    action: Annotated[str, typer.Argument(
        help="reset, load_scenario, latency, batch_gate, fault, clear_faults, faults, "
        "host_live, designate_master, expire_sessions, session_timeout, task_delay, log, "
        "clear_log, counters.")],
    arguments: Annotated[list[str] | None, typer.Argument(
        help="KEY=VALUE arguments of the action (values are JSON when they parse), e.g. "
        "method=VLAN.create kind=drop_after times=1.", show_default=False)] = None,
    url: Annotated[str, typer.Option(
        envvar="XAPICTL_SIM_URL", help="A host URL of the running simulator "
        "(the first line `xapictl sim serve` printed).")] = "http://127.0.0.1",
    timeout: Annotated[float, typer.Option(min=0.1, max=3600, help="Seconds to wait.")] = 30.0,
    insecure: Annotated[bool, typer.Option(
        "--insecure", help="Do not verify the certificate of a `--tls` simulator.")] = False,
    token: Annotated[str | None, typer.Option(
        envvar="XAPICTL_SIM_CONTROL_TOKEN", help="The control token a `sim serve --control "
        "token` printed.", show_default=False)] = None,
) -> None:
    """Steer a running simulator: faults, latency, host liveness, master, sessions, log.

    Prints the answer as JSON. Exit code 2 when the simulator refuses the request (unknown
    action or argument), 4 when it cannot be reached.
    """
    import json
    import ssl
    import urllib.error
    import urllib.request

    from xapictl.cli.exit_codes import ExitCode

    _no_document(ctx, "control")
    request = {"action": action, **dict(_control_argument(a) for a in arguments or [])}
    if not _simulator_url(url) or timeout != timeout:  # a NaN timeout passes click's range
        typer.echo(f"--url {url!r} is not the http(s)://HOST[:PORT] of a simulator"
                   if not _simulator_url(url) else "--timeout: give seconds, e.g. 30",
                   err=True)
        raise typer.Exit(ExitCode.BAD_INPUT)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    post = urllib.request.Request(  # noqa: S310 - the simulator's own http(s) URL
        url.rstrip("/") + "/_sim/control", data=json.dumps(request).encode(),
        headers=headers, method="POST")
    try:
        context = ssl._create_unverified_context() if insecure else None  # noqa: S323
        with urllib.request.urlopen(post, timeout=timeout, context=context) as reply:  # noqa: S310
            typer.echo(json.dumps(json.loads(reply.read())["result"]))
    except urllib.error.HTTPError as refused:
        try:
            message = json.loads(refused.read()).get("error", str(refused))
        except ValueError:
            message = str(refused)
        typer.echo(message, err=True)
        raise typer.Exit(ExitCode.BAD_INPUT) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:  # ValueError: the URL's form
        typer.echo(f"cannot reach the simulator at {url}: {exc}", err=True)
        raise typer.Exit(ExitCode.FAILURE) from None


def _simulator_url(url: str) -> bool:
    """Whether ``url`` is ``http(s)://HOST[:PORT]`` in ASCII, a port 1-65535 if given."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError when out of range or not digits
    except ValueError:
        return False
    return (parts.scheme in ("http", "https") and bool(parts.hostname) and url.isascii()
            and url.isprintable() and (port is None or port > 0))

