"""``xapictl network``: create (idempotent; plain, VLAN, NIC, private, SR-IOV), list, show,
delete, set-mtu; each on one pool, or with ``--fleet`` on every selected pool (writes as a
rollout)."""


from pathlib import Path
from typing import Any

import typer

from xapictl.cli.fleet_forms import FLEET, SELECT, YES, converge_on
from xapictl.cli.run import cli_values, exit_codes

app = typer.Typer(help="Networks: plain, VLAN (trunked across the pool), NIC, private "
                  "(tunnels) and SR-IOV networks.",
                  no_args_is_help=True, rich_markup_mode=None)
CREATE_FLAGS = {"name": "--name", "vlan": "--vlan", "device": "--device", "bond": "--bond",
                "mtu": "--mtu", "description": "--description", "tunnel": "--tunnel",
                "tunnel.protocol": "--tunnel", "protocol": "--tunnel",
                "tunnel.transport": "--transport", "transport": "--transport",
                "sriov": "--sriov"}


@app.command()
def create(
    ctx: typer.Context,
    name: str = typer.Option(..., "--name", help="The network's name label."),
    vlan: int | None = typer.Option(None, "--vlan", help="VLAN tag 0-4094 (needs --device or "
                                    "--bond): the VLAN on every host of the pool."),
    device: str | None = typer.Option(None, "--device", help="Trunk NIC of the VLAN (eth1)."),
    bond: str | None = typer.Option(None, "--bond", help="Trunk bond, by its network name."),
    mtu: int | None = typer.Option(None, "--mtu", help="MTU in octets."),
    description: str | None = typer.Option(None, "--description", help="Description."),
    tunnel: str | None = typer.Option(None, "--tunnel", help="A private network: gre or vxlan "
                                      "tunnels on every host (needs --transport)."),
    transport: str | None = typer.Option(None, "--transport", help="The network whose PIFs "
                                         "carry the tunnels (they need an IP)."),
    sriov: bool = typer.Option(False, "--sriov", help="An SR-IOV network on NIC --device of "
                               "every host that can do it."),
    adopt: bool = typer.Option(False, "--adopt", help="Take over a matching network that "
                               "xapictl did not make."),
    raise_trunk_mtu: bool = typer.Option(False, "--raise-trunk-mtu", help="A VLAN whose "
                                         "--mtu is above its trunk's: raise the trunk's "
                                         "network first (re-plugs its PIFs and VIFs)."),
    replug_management: bool = typer.Option(False, "--replug-management", help="With "
                                           "--raise-trunk-mtu: also re-plug the management "
                                           "interface (explicit confirmation)."),
    fleet: Path | None = FLEET, select: str | None = SELECT, yes: bool = YES,
) -> None:
    """Create the network if it is not there; a second run says it is already in place.
    A VLAN's --mtu above its trunk's is refused unless --raise-trunk-mtu."""
    with exit_codes():
        import xapictl.recipes as recipes  # each kind's module loaded only when used
        from xapictl.errors import UsageError

        if vlan is None and bond is not None:
            raise UsageError("--bond is the trunk of a VLAN: add --vlan TAG")
        if (tunnel is None) != (transport is None):
            raise UsageError("a private network needs both --tunnel gre|vxlan and --transport "
                             "NETWORK (the network whose PIFs carry the tunnels)")
        if sriov and device is None:
            raise UsageError("--sriov needs its NIC: add --device eth1")
        if raise_trunk_mtu and (vlan is None or mtu is None):
            raise UsageError("--raise-trunk-mtu raises the trunk of a VLAN to its MTU: add "
                             "--vlan TAG and --mtu N, or drop it")
        if replug_management and not raise_trunk_mtu:
            raise UsageError("--replug-management on network create confirms re-plugging "
                             "the management interface when --raise-trunk-mtu raises its "
                             "trunk: add --raise-trunk-mtu, or drop it")
        if sriov and (tunnel is not None or vlan is not None):
            raise UsageError("--sriov makes the SR-IOV network of one NIC: drop --tunnel, "
                             "--vlan and --bond")
        with cli_values(CREATE_FLAGS):
            if tunnel is not None and transport is not None:
                if vlan is not None or device is not None:
                    raise UsageError("a private network (--tunnel) rides on its transport "
                                     "network, not on a trunk: drop --vlan, --device, --bond")
                desired = recipes.ensure_private_network(
                    name, transport, protocol=tunnel, mtu=mtu, description=description,
                    adopt=adopt)
            elif sriov and device is not None:
                desired = recipes.ensure_sriov_network(name, device, mtu=mtu,
                                                       description=description, adopt=adopt)
            elif vlan is not None:
                desired = recipes.ensure_vlan_network(
                    name, vlan, device=device, bond=bond, mtu=mtu, description=description,
                    adopt=adopt, raise_trunk_mtu=raise_trunk_mtu,
                    replug_management=replug_management)
            else:
                desired = recipes.ensure_network(name, device=device, mtu=mtu,
                                                 description=description, adopt=adopt)
        converge_on(ctx, desired, fleet, select, yes=yes)


@app.command("list")
def list_(ctx: typer.Context, fleet: Path | None = FLEET, select: str | None = SELECT) -> None:
    """Every network: name, bridge, MTU, VLAN tags, hosts, VIFs, made by xapictl or not."""
    from xapictl.cli.fleet_forms import show_list
    from xapictl.cli.views import network_items

    with exit_codes():
        show_list(ctx, "NetworkList", network_items, fleet, select)


@app.command()
def show(ctx: typer.Context, name: str = typer.Argument(..., help="Name or uuid."),
         fleet: Path | None = FLEET, select: str | None = SELECT) -> None:
    """One network in detail (an ambiguous name lists every candidate)."""
    from xapictl.cli.fleet_forms import show_one
    from xapictl.cli.views import network_detail, one_network

    with exit_codes():
        show_one(ctx, "Network", "NetworkDetailList",
                 lambda snap: network_detail(snap, one_network(snap, name)), fleet, select,
                 sriov_vfs=True)


def _spec_args(ctx: typer.Context, name: str, fleet: Path | None, select: str | None
               ) -> tuple[dict[str, Any], list[str] | None]:
    """How the existing network ``name`` is identified, and with a fleet the selected pools
    that have it (the others are left alone)."""
    from xapictl.cli.options import current
    from xapictl.cli.views import read_pool
    from xapictl.plan.identity import network_identity

    if fleet is None:
        return network_identity(read_pool(current(ctx)), name), None
    from xapictl.cli.fleet_forms import read_fleet
    from xapictl.errors import UsageError
    from xapictl.fleet.forms import common_identity

    def identity(snap: Any) -> dict[str, Any] | None:
        try:
            return network_identity(snap, name)
        except UsageError:  # not on this pool: nothing to do there
            return None

    return common_identity(name, read_fleet(ctx, fleet, select, identity))


class _Lookup:
    """``_spec_args`` when the library asks for the identity; keeps the pools it found."""

    def __init__(self, ctx: typer.Context, fleet: Path | None, select: str | None) -> None:
        self.ctx, self.fleet, self.select = ctx, fleet, select
        self.pools: list[str] | None = None

    def __call__(self, name: str) -> dict[str, Any]:
        identity, self.pools = _spec_args(self.ctx, name, self.fleet, self.select)
        return identity


@app.command()
def delete(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The network's name."),
    adopt: bool = typer.Option(False, "--adopt", help="Also delete a network xapictl did "
                               "not make."),
    fleet: Path | None = FLEET, select: str | None = SELECT, yes: bool = YES,
) -> None:
    """Remove the network: its VLAN on every host, then the network (refused, naming the
    VMs, while VIFs are plugged in)."""
    with exit_codes():
        from xapictl.recipes import ensure_deleted

        identity, pools = _spec_args(ctx, name, fleet, select)
        converge_on(ctx, ensure_deleted(identity, adopt=adopt), fleet, select, yes=yes,
                    only=pools)


@app.command("set-mtu")
def set_mtu(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The network's name."),
    mtu: int = typer.Argument(..., help="The new MTU."),
    replug: bool = typer.Option(False, "--replug", help="Re-plug the PIFs and VIFs that still "
                                "carry the old MTU."),
    replug_management: bool = typer.Option(False, "--replug-management", help="Also re-plug "
                                           "the management interface (explicit "
                                           "confirmation)."),
    adopt: bool = typer.Option(False, "--adopt", help="Also change a network xapictl did not "
                               "make."),
    raise_trunk_mtu: bool = typer.Option(False, "--raise-trunk-mtu", help="A VLAN network "
                                         "raised above its trunk's MTU: raise the trunk's "
                                         "network first (re-plugs its PIFs and VIFs)."),
    fleet: Path | None = FLEET, select: str | None = SELECT, yes: bool = YES,
) -> None:
    """network.set_MTU in place; lists (or with --replug re-plugs) what carries the old
    MTU. Never re-plugs the management interface without --replug-management, never raises
    a VLAN above its trunk without --raise-trunk-mtu, never lowers a trunk below its VLANs."""
    with exit_codes():
        from xapictl.recipes import ensure_mtu_of

        lookup = _Lookup(ctx, fleet, select)
        with cli_values({"mtu": "MTU"}):
            desired = ensure_mtu_of(name, mtu, lookup, replug=replug,
                                    replug_management=replug_management, adopt=adopt,
                                    raise_trunk_mtu=raise_trunk_mtu)
        converge_on(ctx, desired, fleet, select, yes=yes, only=lookup.pools)


__all__ = ["app"]
