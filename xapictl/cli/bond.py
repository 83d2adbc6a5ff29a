"""``xapictl bond``: create (idempotent, every host, the pool master last), list, show,
delete, set-mode. A thin layer over ``ensure_bond``: the plan names what XAPI moves onto or
off the bond (VLANs, IP configuration, the management interface), and a host that fails
rolls the others back unless ``--on-failure stop``."""


from pathlib import Path
from typing import Any

import typer

from xapictl.cli.fleet_forms import FLEET, SELECT, YES, converge_on
from xapictl.cli.run import cli_values, exit_codes

app = typer.Typer(help="Bonds: the same member NICs bonded on every host of the pool.",
                  no_args_is_help=True, rich_markup_mode=None)
FLAGS = {"network": "--name", "members": "--members", "mode": "--mode",
         "hashing_algorithm": "--hashing-algorithm", "lacp_time": "--lacp-time",
         "lacp_aggregation_key": "--lacp-aggregation-key",
         "lacp_fallback_ab": "--lacp-fallback-ab", "mtu": "--mtu", "on_failure": "--on-failure"}

MODE_HELP = "balance-slb, active-backup or lacp."
HASHING = typer.Option(None, "--hashing-algorithm",
                       help="LACP hashing: src_mac or tcpudp_ports (lacp only).")
LACP_TIME = typer.Option(None, "--lacp-time", help="LACP rate: fast or slow (lacp only).")
LACP_KEY = typer.Option(None, "--lacp-aggregation-key",
                        help="LACP aggregation key 0-65535 (lacp only).")
LACP_FALLBACK = typer.Option(None, "--lacp-fallback-ab/--no-lacp-fallback-ab",
                             help="Fall back to active-backup without a LACP partner "
                                  "(lacp only).")
ADOPT = typer.Option(False, "--adopt", help="Take over a bond network that xapictl did not "
                     "make.")


def _members(text: str) -> list[str]:
    return [m.strip() for m in text.split(",") if m.strip()]


@app.command()
def create(
    ctx: typer.Context,
    members: str = typer.Option(..., "--members", help="Member NICs, comma-separated "
                                "(eth1,eth2), the same devices on every host."),
    name: str | None = typer.Option(None, "--name", help="The bond's network name (default "
                                    "'Bond eth1+eth2')."),
    mode: str | None = typer.Option(None, "--mode", help=MODE_HELP + " Default balance-slb."),
    hashing_algorithm: str | None = HASHING, lacp_time: str | None = LACP_TIME,
    lacp_aggregation_key: int | None = LACP_KEY, lacp_fallback_ab: bool | None = LACP_FALLBACK,
    mtu: int | None = typer.Option(None, "--mtu", help="MTU of the bond network."),
    on_failure: str = typer.Option("rollback", "--on-failure", help="When one host's bond "
                                   "fails: rollback (destroy the bonds this run made) or stop "
                                   "(keep them; the same command again resumes)."),
    adopt: bool = ADOPT,
    fleet: Path | None = FLEET, select: str | None = SELECT, yes: bool = YES,
) -> None:
    """Bond the NICs on every host (the pool master last) if they are not; a second run
    says it is already in place. The plan names what XAPI moves onto the bond."""
    with exit_codes():
        from xapictl.recipes import ensure_bond

        devices = _members(members)
        with cli_values(FLAGS):
            desired = ensure_bond(
                name or f"Bond {'+'.join(devices)}", devices, mode=mode,
                hashing_algorithm=hashing_algorithm, lacp_time=lacp_time,
                lacp_aggregation_key=lacp_aggregation_key, lacp_fallback_ab=lacp_fallback_ab,
                mtu=mtu, adopt=adopt, on_failure=on_failure)
        converge_on(ctx, desired, fleet, select, yes=yes)


@app.command("list")
def list_(ctx: typer.Context, fleet: Path | None = FLEET, select: str | None = SELECT) -> None:
    """Every host's bond: network, members, mode, links up, management."""
    from xapictl.cli.fleet_forms import show_list
    from xapictl.cli.views import bond_items

    with exit_codes():
        show_list(ctx, "BondList", bond_items, fleet, select)


@app.command()
def show(ctx: typer.Context, name: str = typer.Argument(..., help="The bond's network, by "
                                                                  "name or uuid."),
         fleet: Path | None = FLEET, select: str | None = SELECT) -> None:
    """One bond network: each host's bond, the hosts without one, whether they agree."""
    from xapictl.cli.fleet_forms import show_one
    from xapictl.cli.views import bond_detail

    with exit_codes():
        show_one(ctx, "Bond", "BondDetailList", lambda snap: bond_detail(snap, name), fleet,
                 select)


def _existing(ctx: typer.Context, name: str, members: str | None, fleet: Path | None,
              select: str | None) -> tuple[list[str], list[str] | None]:
    """The members as given, or read from the pool's bonds on ``name`` (with a fleet: the
    same on every selected pool that has the bond, and those pools)."""
    from xapictl.plan.identity import bond_members

    if members is not None and fleet is None:
        return _members(members), None
    if fleet is None:
        from xapictl.cli.options import current
        from xapictl.cli.views import read_pool

        return list(bond_members(read_pool(current(ctx)), name)), None
    from xapictl.cli.fleet_forms import read_fleet
    from xapictl.errors import UsageError
    from xapictl.fleet.forms import common_identity

    def identity(snap: Any) -> dict[str, Any] | None:
        try:
            return {"members": "+".join(bond_members(snap, name))}
        except UsageError:  # no such bond there: nothing to do on that pool
            return None

    found, pools = common_identity(name, read_fleet(ctx, fleet, select, identity))
    return (_members(members) if members is not None
            else str(found["members"]).split("+")), pools


EXISTING_MEMBERS = typer.Option(None, "--members", help="The members (eth1,eth2), when the "
                                "hosts' bonds differ; read from the pool otherwise.")


@app.command()
def delete(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The bond's network name."),
    members: str | None = EXISTING_MEMBERS,
    fleet: Path | None = FLEET, select: str | None = SELECT, yes: bool = YES,
) -> None:
    """Destroy the bond on every host (XAPI moves its VLANs, IP configuration and the
    management interface back onto the primary member), then its network if xapictl made
    it. Refused while VLAN networks ride on it."""
    with exit_codes():
        from xapictl.recipes import ensure_bond

        devices, pools = _existing(ctx, name, members, fleet, select)
        with cli_values(FLAGS):
            desired = ensure_bond(name, devices, present=False)
        converge_on(ctx, desired, fleet, select, yes=yes, only=pools)


@app.command("set-mode")
def set_mode(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The bond's network name."),
    mode: str = typer.Argument(..., help=MODE_HELP),
    hashing_algorithm: str | None = HASHING, lacp_time: str | None = LACP_TIME,
    lacp_aggregation_key: int | None = LACP_KEY, lacp_fallback_ab: bool | None = LACP_FALLBACK,
    members: str | None = EXISTING_MEMBERS, adopt: bool = ADOPT,
    fleet: Path | None = FLEET, select: str | None = SELECT, yes: bool = YES,
) -> None:
    """Change the bond's mode (and LACP properties) in place on every host: Bond.set_mode,
    then Bond.set_property (XAPI re-plugs the bond); never rebuilt."""
    with exit_codes():
        from xapictl.recipes import ensure_bond

        devices, pools = _existing(ctx, name, members, fleet, select)
        with cli_values(FLAGS):
            desired: Any = ensure_bond(
                name, devices, mode=mode, hashing_algorithm=hashing_algorithm,
                lacp_time=lacp_time, lacp_aggregation_key=lacp_aggregation_key,
                lacp_fallback_ab=lacp_fallback_ab, adopt=adopt)
        converge_on(ctx, desired, fleet, select, yes=yes, only=pools)


__all__ = ["app"]
