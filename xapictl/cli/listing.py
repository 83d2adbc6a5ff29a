"""The per-host groups: ``vlan list``, ``pif list``, ``host list``, ``pool show``; each on
one pool, or with ``--fleet`` on every selected pool. And ``pif scan`` (``PIF.scan``: NIC
rediscovery, additive), ``pif set-ip`` (``PIF.reconfigure_ip``, ``PIF.reconfigure_ipv6``,
``PIF.set_primary_address_type``) and ``host set-management`` (``host.management_reconfigure``),
on one pool or a fleet's."""


from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from xapictl.cli.fleet_forms import FLEET, SELECT, YES
from xapictl.cli.run import cli_values, exit_codes

vlan_app = typer.Typer(help="VLANs, per host.", no_args_is_help=True, rich_markup_mode=None)
pif_app = typer.Typer(help="PIFs (physical, bond, VLAN interfaces), per host.",
                      no_args_is_help=True, rich_markup_mode=None)
host_app = typer.Typer(help="The pool's hosts.", no_args_is_help=True, rich_markup_mode=None)
pool_app = typer.Typer(help="The pool itself.", no_args_is_help=True, rich_markup_mode=None)


@vlan_app.command("list")
def vlan_list(ctx: typer.Context, fleet: Path | None = FLEET, select: str | None = SELECT
              ) -> None:
    """Every VLAN: host, trunk device, tag, network, plugged."""
    from xapictl.cli.fleet_forms import show_list
    from xapictl.cli.views import vlan_items

    with exit_codes():
        show_list(ctx, "VlanList", vlan_items, fleet, select)


@pif_app.command("list")
def pif_list(ctx: typer.Context, fleet: Path | None = FLEET, select: str | None = SELECT
             ) -> None:
    """Every PIF: host, device, VLAN, kind, network, MTU, plugged, management, IP."""
    from xapictl.cli.fleet_forms import show_list
    from xapictl.cli.views import pif_items

    with exit_codes():
        show_list(ctx, "PifList", pif_items, fleet, select)


@pif_app.command("scan")
def pif_scan(ctx: typer.Context, host: str | None = typer.Argument(
        None, help="The host (name or uuid); default: every live host."),
        fleet: Path | None = FLEET, select: str | None = SELECT) -> None:
    """PIF.scan: introduce the NICs a host has without a PIF (never removes one); lists the
    PIFs it found. With --fleet, on every selected pool (HOST, if given, on each)."""
    from xapictl.cli.connection import audit_log_path, open_pool, pool_label
    from xapictl.cli.documents import PifItem, PifList
    from xapictl.cli.options import current
    from xapictl.cli.render import emit_list
    from xapictl.cli.run import count_writes
    from xapictl.plan.audit import AuditLog

    opts = current(ctx)
    with exit_codes():
        if fleet is not None:
            _scan_fleet(ctx, host, fleet, select)
            return
        audit = AuditLog(audit_log_path())
        count_writes(audit)
        try:
            with open_pool(opts) as conn:
                audit.pool = opts.pool_label or str(conn.url)
                items = _scan_pool(conn, audit, host, opts.lock_timeout)
        finally:
            audit.close()
        emit_list(opts, PifList(pool=pool_label(opts), items=items), PifItem)


def _scan_pool(conn: Any, audit: Any, host: str | None, lock_timeout: float | None, *,
               label: str = "") -> list[Any]:
    """``PIF.scan`` of ``host`` (default: every live host, the offline ones named on stderr)
    under the pool's write lease; the PIFs found, as ``pif list`` items."""
    from xapictl.cli.views import pif_items
    from xapictl.plan.backend import XapiBackend
    from xapictl.plan.identity import host_by_name_or_uuid, host_name
    from xapictl.plan.scan import scan_nics
    from xapictl.state.collect import collect_once

    before = collect_once(conn)
    live, offline = before.live_and_offline()
    targets = [host_by_name_or_uuid(before, host)] if host is not None else live
    if host is None and offline:
        typer.echo(f"{label}offline, not scanned: "
                   f"{', '.join(host_name(before, h) for h in offline)}", err=True)
    backend = XapiBackend(conn, audit=audit, lock_timeout=lock_timeout)
    after, found = scan_nics(backend, before, targets)
    uuids = {after.pifs[r].uuid for r in found}
    return [i for i in pif_items(after) if i.uuid in uuids]


def _scan_fleet(ctx: typer.Context, host: str | None, fleet: Path, select: str | None
                ) -> None:
    """``pif scan`` on every selected pool, in parallel, each under its own write lease and
    in the audit log (a record per pool); one ``PifList`` naming each item's pool. A pool
    that could not be read or scanned is reported (exit 4); the others are scanned."""
    from xapictl.cli.connection import audit_log_path
    from xapictl.cli.fleet_forms import emit_fleet_list
    from xapictl.cli.inventory import fleet_connector
    from xapictl.cli.options import current
    from xapictl.cli.run import count_writes
    from xapictl.fleet.each import for_each_pool
    from xapictl.fleet.fleetfile import load_fleet
    from xapictl.plan.audit import AuditLog

    opts = current(ctx)
    pools = load_fleet(fleet).select(select)
    connector = fleet_connector(ctx)
    connector.prime(pools)
    path = audit_log_path()
    audits = {pool.name: AuditLog(path, pool=pool.name) for pool in pools}
    for audit in audits.values():  # counted here: the pools' threads do not see this context
        count_writes(audit)
    try:
        found = for_each_pool(pools, connector, lambda pool, conn: _scan_pool(
            conn, audits[pool.name], host, opts.lock_timeout, label=f"pool {pool.name}: "))
    finally:
        for audit in audits.values():
            audit.close()
    emit_fleet_list(ctx, "PifList", found)


SET_IP_FLAGS = {"hosts": "HOST", "device": "DEVICE", "ipv4": "--mode", "addresses": "--address",
                "gateway": "--gateway", "dns": "--dns", "ipv6": "--mode6",
                "addresses6": "--address6", "gateway6": "--gateway6", "dns6": "--dns6",
                "primary_address_type": "--primary-address-type"}


DNS = typer.Option(None, "--dns", help="static: a DNS server (repeat).")
DNS6 = typer.Option(None, "--dns6", help="--mode6 static: an IPv6 DNS server (repeat).")


@pif_app.command("set-ip")
def pif_set_ip(
    ctx: typer.Context,
    host: str = typer.Argument(..., help="The host, by name or uuid."),
    device: str = typer.Argument(..., help="The NIC (its untagged PIF), e.g. eth1."),
    mode: str | None = typer.Option(None, "--mode", help="IPv4: none, dhcp or static."),
    address: str | None = typer.Option(None, "--address", help="static: address/prefix, "
                                       "e.g. 198.51.100.11/24."),
    gateway: str | None = typer.Option(None, "--gateway", help="static: the gateway (in "
                                       "the subnet)."),
    dns: list[str] | None = DNS,
    mode6: str | None = typer.Option(None, "--mode6", help="IPv6: none, dhcp, autoconf or "
                                     "static."),
    address6: str | None = typer.Option(None, "--address6", help="--mode6 static: IPv6 "
                                        "address/prefix, e.g. 2001:db8:5::11/64."),
    gateway6: str | None = typer.Option(None, "--gateway6", help="--mode6 static: the IPv6 "
                                        "gateway (in the prefix)."),
    dns6: list[str] | None = DNS6,
    primary: str | None = typer.Option(None, "--primary-address-type", help="ipv4 or ipv6: "
                                       "the family XAPI uses on it as management."),
    fleet: Path | None = FLEET, select: str | None = SELECT, yes: bool = YES,
) -> None:
    """Configure the IPv4 (--mode) and/or IPv6 (--mode6) address of DEVICE on HOST
    (PIF.reconfigure_ip, PIF.reconfigure_ipv6) and its primary address type; nothing to do
    when it already is. Refused before any write: an address another PIF has, a gateway
    outside the subnet, the management interface's address (move management instead)."""
    from xapictl.cli.fleet_forms import converge_on

    with exit_codes():
        from xapictl.errors import UsageError
        from xapictl.recipes import ensure_interface

        if mode is None and mode6 is None and primary is None:
            raise UsageError("pif set-ip: give --mode (IPv4), --mode6 (IPv6) or "
                             "--primary-address-type, e.g. --mode dhcp")
        with cli_values(SET_IP_FLAGS):
            desired = ensure_interface(
                device=device, hosts=[host], ipv4=mode,
                addresses={host: address} if address else None, gateway=gateway,
                dns=dns or None, ipv6=mode6, addresses6={host: address6} if address6 else None,
                gateway6=gateway6, dns6=dns6 or None, primary_address_type=primary)
        converge_on(ctx, desired, fleet, select, yes=yes)


SET_MANAGEMENT_FLAGS = {"network": "--network", "hosts": "--host"}
HOSTS = typer.Option(None, "--host", help="Only this host (name or uuid; repeat); default "
                     "every host.")


@host_app.command("set-management")
def host_set_management(
    ctx: typer.Context,
    network: str = typer.Option(..., "--network", help="The network whose PIF on each host "
                                "carries the management interface."),
    host: list[str] | None = HOSTS,
    fleet: Path | None = FLEET, select: str | None = SELECT, yes: bool = YES,
) -> None:
    """Move the management interface onto NETWORK (host.management_reconfigure: members
    first, the master last, then pool.recover_slaves); nothing to do when it is there.
    Always disruptive: asks on a terminal, needs --yes off one. Refused before any write: HA
    enabled, a host without a PIF on NETWORK, a PIF without an address, an address this
    client cannot reach. A member that does not answer on its new address is moved back."""
    from xapictl.cli.fleet_forms import converge_on

    with exit_codes():
        from xapictl.recipes import ensure_management

        with cli_values(SET_MANAGEMENT_FLAGS):
            desired = ensure_management(network, hosts=host or None)
        converge_on(ctx, desired, fleet, select, yes=yes)


@host_app.command("list")
def host_list(ctx: typer.Context, fleet: Path | None = FLEET, select: str | None = SELECT
              ) -> None:
    """Every host: name, uuid, address, live, role, PIF count."""
    from xapictl.cli.fleet_forms import show_list
    from xapictl.cli.views import host_items

    with exit_codes():
        show_list(ctx, "HostList", host_items, fleet, select)


@pool_app.command("show")
def pool_show(ctx: typer.Context, fleet: Path | None = FLEET, select: str | None = SELECT
              ) -> None:
    """The pool: name, master, and how many of everything."""
    from xapictl.cli.fleet_forms import show_one
    from xapictl.cli.views import pool_item

    with exit_codes():
        show_one(ctx, "Pool", "PoolDetailList", pool_item, fleet, select)


@pool_app.command("unlock")
def pool_unlock(ctx: typer.Context, yes: bool = typer.Option(
        False, "--yes", "-y", help="Remove it without asking (needed off a terminal).")
                ) -> None:
    """Remove the pool's write lease left by a run that is gone (names it; asks first)."""
    from xapictl.cli import run
    from xapictl.cli.connection import open_pool
    from xapictl.cli.exit_codes import ExitCode
    from xapictl.cli.options import current
    from xapictl.cli.render import say
    from xapictl.client.lease import break_lease, lease_holders
    from xapictl.errors import UsageError

    opts = current(ctx)
    with exit_codes():
        from xapictl.cli.render import refuse_data

        refuse_data(opts, "pool unlock", "its answer is its exit code and one line")
    with exit_codes(), open_pool(opts) as conn:
        holders = lease_holders(conn, conn.pool_ref)
        if not holders:
            say(opts, "The pool's write lease is free: nothing to remove.")
            return
        holder = list(holders.values())[-1]
        typer.echo(f"The pool's write lease is held by {holder.describe()}.", err=True)
        if not yes:
            if not run.interactive():
                raise UsageError("pool unlock removes another run's write lease: pass --yes "
                                 "(only when that run is surely gone; a dead run's lease also "
                                 "expires by itself 60 s after its last renewal)")
            if not typer.confirm("Remove it? A run that still holds it stops at its next "
                                 "renewal, but may write until then", default=False):
                run.fail(ExitCode.CHANGES_PENDING, "not removed")
        break_lease(conn, conn.pool_ref, list(holders))
        say(opts, f"Removed the write lease of {holder.describe()}.")



def schema(ctx: typer.Context,
           name: str | None = typer.Argument(None, help="A document kind (e.g. NetworkList); "
                                             "without it, the list of kinds.")) -> None:
    """Print the JSON Schema (Draft 2020-12) of a document kind that -o json|yaml prints, or
    of a file format (Recipe, LocalRecipe, InventoryExport); without NAME, list them all
    (docs/output.md)."""
    from xapictl.cli.options import Output, current

    with exit_codes():
        from xapictl.cli.documents import DOCUMENTS, schema_of
        from xapictl.cli.render import emit_data
        from xapictl.errors import UsageError

        opts = current(ctx)
        formats = _file_formats()
        if name is None:
            kinds = sorted(DOCUMENTS) + sorted(formats)
            if opts.output.is_data:
                emit_data(opts, kinds)
            else:
                typer.echo("\n".join(kinds))
            return
        shown = opts if opts.output is Output.yaml else type(opts)(output=Output.json)
        if name in formats:
            emit_data(shown, formats[name]())
            return
        if name not in DOCUMENTS:
            import difflib

            near = difflib.get_close_matches(name, [*DOCUMENTS, *formats], n=1)
            hint = f" (did you mean {near[0]}?)" if near else " (xapictl schema lists them)"
            raise UsageError(f"no document kind {name!r}{hint}")
        emit_data(shown, schema_of(name))


def _file_formats() -> dict[str, Callable[[], dict[str, Any]]]:
    """The files xapictl reads or writes beside its output documents, each schema generated
    from the definition the code validates with (docs/recipe.schema.json,
    docs/local-recipe.schema.json, docs/inventory.schema.json are these, committed)."""

    def recipe() -> dict[str, Any]:
        from xapictl.plan.recipe_model import json_schema

        return json_schema()

    def local_recipe() -> dict[str, Any]:
        from xapictl.local.recipe_model import json_schema

        return json_schema()

    def inventory() -> dict[str, Any]:
        from xapictl.inventory.schema import json_schema

        return json_schema()

    return {"Recipe": recipe, "LocalRecipe": local_recipe, "InventoryExport": inventory}


__all__ = ["host_app", "pif_app", "pool_app", "schema", "vlan_app"]
