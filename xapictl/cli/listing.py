"""The read-only groups: ``vlan list``, ``pif list``, ``host list``, ``pool show``."""

from __future__ import annotations

import typer

from xapictl.cli.options import current
from xapictl.cli.run import exit_codes

vlan_app = typer.Typer(help="VLANs, per host.", no_args_is_help=True, rich_markup_mode=None)
pif_app = typer.Typer(help="PIFs (physical, bond, VLAN interfaces), per host.",
                      no_args_is_help=True, rich_markup_mode=None)
host_app = typer.Typer(help="The pool's hosts.", no_args_is_help=True, rich_markup_mode=None)
pool_app = typer.Typer(help="The pool itself.", no_args_is_help=True, rich_markup_mode=None)


@vlan_app.command("list")
def vlan_list(ctx: typer.Context) -> None:
    """Every VLAN: host, trunk device, tag, network, plugged."""
    from xapictl.cli.render import emit_rows
    from xapictl.cli.views import read_pool, vlan_rows

    opts = current(ctx)
    with exit_codes():
        emit_rows(opts, ["Host", "Device", "Tag", "Network", "Plugged"],
                  vlan_rows(read_pool(opts)))


@pif_app.command("list")
def pif_list(ctx: typer.Context) -> None:
    """Every PIF: host, device, VLAN, kind, network, MTU, plugged, management, IP."""
    from xapictl.cli.render import emit_rows
    from xapictl.cli.views import pif_rows, read_pool

    opts = current(ctx)
    with exit_codes():
        emit_rows(opts, ["Host", "Device", "VLAN", "Kind", "Network", "MTU", "Plugged",
                         "Management", "IP"], pif_rows(read_pool(opts)))


@host_app.command("list")
def host_list(ctx: typer.Context) -> None:
    """Every host: name, uuid, address, live, role, PIF count."""
    from xapictl.cli.render import emit_rows
    from xapictl.cli.views import host_rows, read_pool

    opts = current(ctx)
    with exit_codes():
        emit_rows(opts, ["Name", "UUID", "Address", "Live", "Role", "PIFs"],
                  host_rows(read_pool(opts)))


@pool_app.command("show")
def pool_show(ctx: typer.Context) -> None:
    """The pool: name, master, and how many of everything."""
    from xapictl.cli.render import emit_pairs
    from xapictl.cli.views import pool_pairs, read_pool

    opts = current(ctx)
    with exit_codes():
        emit_pairs(opts, pool_pairs(read_pool(opts)))


__all__ = ["host_app", "pif_app", "pool_app", "vlan_app"]
