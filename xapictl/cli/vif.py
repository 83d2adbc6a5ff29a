"""``xapictl vif``: attach, detach, move, list — VM attachments, idempotent."""

from __future__ import annotations

import typer

from xapictl.cli.options import current
from xapictl.cli.run import cli_values, converge, exit_codes

app = typer.Typer(help="VM network attachments (VIFs).", no_args_is_help=True,
                  rich_markup_mode=None)
ATTACH_FLAGS = {"vm": "VM", "network": "NETWORK", "device": "--device", "mac": "--mac",
                "mtu": "--mtu", "locking_mode": "--locking-mode", "ipv4_allowed": "--allow-ip",
                "qos_kbps": "--qos-kbps"}
ALLOW_IP = typer.Option(None, "--allow-ip", help="An allowed IPv4 address (repeat; with "
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
    qos_kbps: int | None = typer.Option(None, "--qos-kbps", help="Rate limit in kB/s."),
) -> None:
    """Attach the VM to the network (create the VIF, plug it if the VM runs); nothing to do
    if it is already attached there."""
    opts = current(ctx)
    with exit_codes():
        from xapictl.recipes import ensure_vm_attached

        with cli_values(ATTACH_FLAGS):
            desired = ensure_vm_attached(vm, network, device=device, mac=mac, mtu=mtu,
                                         locking_mode=locking_mode,
                                         ipv4_allowed=allow_ip or None, qos_kbps=qos_kbps)
        converge(opts, desired, ask=False, yes=True)


@app.command()
def detach(
    ctx: typer.Context,
    vm: str = typer.Argument(..., help="The VM, by name or uuid."),
    device: str = typer.Argument(..., help="The VIF device number."),
) -> None:
    """Unplug (if plugged) and destroy VIF DEVICE of the VM."""
    opts = current(ctx)
    with exit_codes():
        from xapictl.recipes import ensure_vm_attached

        with cli_values({"vm": "VM", "device": "DEVICE"}):
            desired = ensure_vm_attached(vm, "-", device=device, present=False)
        converge(opts, desired, ask=False, yes=True)


@app.command()
def move(
    ctx: typer.Context,
    vm: str = typer.Argument(..., help="The VM, by name or uuid."),
    device: str = typer.Argument(..., help="The VIF device number."),
    network: str = typer.Argument(..., help="The network to move it to."),
) -> None:
    """Move VIF DEVICE to another network in place (``VIF.move``: same VIF, MAC, device)."""
    opts = current(ctx)
    with exit_codes():
        from xapictl.recipes import ensure_vm_attached

        with cli_values({"vm": "VM", "device": "DEVICE", "network": "NETWORK"}):
            desired = ensure_vm_attached(vm, network, device=device)
        converge(opts, desired, ask=False, yes=True)


@app.command("list")
def list_(ctx: typer.Context,
          vm: str | None = typer.Option(None, "--vm", help="Only this VM (name or uuid).")
          ) -> None:
    """VIFs of guest VMs: VM, device, network, MAC, MTU, plugged, locking, power state."""
    from xapictl.cli.render import emit_rows
    from xapictl.cli.views import read_pool, vif_rows

    opts = current(ctx)
    with exit_codes():
        snap = read_pool(opts)
        ref = None
        if vm is not None:
            from xapictl.errors import UsageError
            from xapictl.plan.identity import find_vm

            ref = find_vm(snap, vm)
            if ref is None:
                raise UsageError(f"no VM named {vm!r}")
        emit_rows(opts, ["VM", "Device", "Network", "MAC", "MTU", "Plugged", "Locking",
                         "Power"], vif_rows(snap, ref))


__all__ = ["app"]
