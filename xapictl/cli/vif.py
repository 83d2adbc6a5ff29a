"""``xapictl vif``: attach, detach, move, list — VM attachments, idempotent; each on one
pool, or with ``--fleet`` on every selected pool (writes as a rollout)."""


from pathlib import Path
from typing import Any

import typer

from xapictl.cli.fleet_forms import FLEET, SELECT, YES, converge_on
from xapictl.cli.run import cli_values, exit_codes

app = typer.Typer(help="VM network attachments (VIFs).", no_args_is_help=True,
                  rich_markup_mode=None)
ATTACH_FLAGS = {"vm": "VM", "network": "NETWORK", "device": "--device", "mac": "--mac",
                "mtu": "--mtu", "locking_mode": "--locking-mode", "ipv4_allowed": "--allow-ip",
                "qos_kbps": "--qos-kbps", "ipv6_allowed": "--allow-ipv6", "replug": "--replug"}
ALLOW_IP = typer.Option(None, "--allow-ip", help="An allowed IPv4 address (repeat; with "
                        "--locking-mode locked).")
ALLOW_IPV6 = typer.Option(None, "--allow-ipv6", help="An allowed IPv6 address (repeat; with "
                          "--locking-mode locked).")


@app.command()
def attach(
    ctx: typer.Context,
    vm: str = typer.Argument(..., help="The VM, by name or uuid."),
    network: str = typer.Argument(..., help="The network, by name."),
    device: str = typer.Option("auto", "--device", help='VIF device 0-15, or "auto".'),
    mac: str | None = typer.Option(None, "--mac", help="A fixed MAC (default: generated)."),
    mtu: int | None = typer.Option(None, "--mtu", help="MTU of this VIF."),
    locking_mode: str | None = typer.Option(None, "--locking-mode",
                                            help="network_default, locked, unlocked, disabled"),
    allow_ip: list[str] | None = ALLOW_IP,
    allow_ipv6: list[str] | None = ALLOW_IPV6,
    qos_kbps: int | None = typer.Option(None, "--qos-kbps", help="Rate limit in kB/s."),
    replug: bool = typer.Option(False, "--replug", help="Re-plug a plugged VIF so a QoS "
                                "change applies now (otherwise at its next plug)."),
    fleet: Path | None = FLEET, select: str | None = SELECT, yes: bool = YES,
) -> None:
    """Attach the VM to the network (create the VIF, plug it if the VM runs); nothing to do
    if it is already attached there."""
    with exit_codes():
        from xapictl.recipes import ensure_vm_attached

        with cli_values(ATTACH_FLAGS):
            desired = ensure_vm_attached(vm, network, device=device, mac=mac, mtu=mtu,
                                         locking_mode=locking_mode,
                                         ipv4_allowed=allow_ip or None,
                                         ipv6_allowed=allow_ipv6 or None, qos_kbps=qos_kbps,
                                         replug=replug)
        converge_on(ctx, desired, fleet, select, yes=yes)


@app.command()
def detach(
    ctx: typer.Context,
    vm: str = typer.Argument(..., help="The VM, by name or uuid."),
    device: str = typer.Argument(..., help="The VIF device number."),
    fleet: Path | None = FLEET, select: str | None = SELECT, yes: bool = YES,
) -> None:
    """Unplug (if plugged) and destroy VIF DEVICE of the VM."""
    with exit_codes():
        from xapictl.recipes import ensure_vm_attached

        with cli_values({"vm": "VM", "device": "DEVICE"}):
            desired = ensure_vm_attached(vm, "-", device=device, present=False)
        converge_on(ctx, desired, fleet, select, yes=yes)


@app.command()
def move(
    ctx: typer.Context,
    vm: str = typer.Argument(..., help="The VM, by name or uuid."),
    device: str = typer.Argument(..., help="The VIF device number."),
    network: str = typer.Argument(..., help="The network to move it to."),
    fleet: Path | None = FLEET, select: str | None = SELECT, yes: bool = YES,
) -> None:
    """Move VIF DEVICE to another network in place (VIF.move: same VIF, MAC, device)."""
    with exit_codes():
        from xapictl.recipes import ensure_vm_attached

        with cli_values({"vm": "VM", "device": "DEVICE", "network": "NETWORK"}):
            desired = ensure_vm_attached(vm, network, device=device)
        converge_on(ctx, desired, fleet, select, yes=yes)


@app.command("list")
def list_(ctx: typer.Context,
          vm: str | None = typer.Option(None, "--vm", help="Only this VM (name or uuid)."),
          fleet: Path | None = FLEET, select: str | None = SELECT) -> None:
    """VIFs of guest VMs: VM, device, network, MAC, MTU, plugged, locking, power state."""
    from xapictl.cli.fleet_forms import show_list
    from xapictl.cli.views import vif_items

    seen: list[bool] = []  # with a fleet, the VM needs to be on one pool, not on every one

    def items(snap: Any) -> list[Any]:
        if vm is None:
            return vif_items(snap)
        from xapictl.errors import UsageError
        from xapictl.plan.identity import find_vm

        ref = find_vm(snap, vm)
        if ref is None and fleet is None:
            raise UsageError(f"no VM named {vm!r}")
        seen.append(ref is not None)
        return vif_items(snap, ref) if ref is not None else []

    with exit_codes():
        if fleet is not None and vm is not None:
            from xapictl.cli.fleet_forms import emit_fleet_list, read_fleet
            from xapictl.errors import UsageError

            found = read_fleet(ctx, fleet, select, items)
            if not any(seen) and not found.errors:
                raise UsageError(f"no VM named {vm!r} on any selected pool")
            emit_fleet_list(ctx, "VifList", found)
            return
        show_list(ctx, "VifList", items, fleet, select)


__all__ = ["app"]
