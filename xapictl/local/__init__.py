"""The plain-Xen backend: bridges, VLAN trunks, bonds and guest vifs on an ``xl`` host,
through netlink (pyroute2; the only package that imports it).

    desired.py    the ``local:`` recipe -> HostNetwork (validated, file/line/field errors)
    recipe_model.py  its entries as typed models (the published JSON Schema)
    xl_vif.py     xl's ``vlan=`` syntax -> PVID + untagged + tagged sets
    observe.py    one netlink dump -> HostSnapshot (JSON round-trip for canned tests)
    ops.py        the steps (xapictl.plan.core.Step), each with its inverse
    planner.py    (desired, snapshot) -> Plan; pure
    preflight.py  refusals with reasons, before any write
    apply.py      lock, undo file, apply, verify, probe, commit or roll back
    netlink.py    namespace entry and the netlink call behind each step
    lean_pyroute2.py  pyroute2 without its every-family __init__, for the hotplug process
    probe.py      ICMP echo from a raw socket (no ping binary)
    antispoof.py  a guest vif's ``ip=`` antispoofing, as Xen's vif-common.sh
    dhcp.py       DHCP-addressed uplinks: the DHCP client moves with the address
    persist.py    the last confirmed recipe, re-applied at boot (``local boot``)
    lock.py, deadman.py (+ deadman_process.py), wait.py, check.py, hotplug.py,
    recipe_words.py

Importing this package imports nothing from pyroute2; the modules that need it do.
"""
