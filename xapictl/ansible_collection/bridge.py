"""What the modules of the Ansible collection ``xapictl.xen`` do, as plain typed functions that
know nothing of Ansible: module parameters -> an ``ensure_*`` recipe -> the library's plan
(check mode) or ``converge`` (apply) -> the result a module returns.

The modules (``plugins/modules/*.py``) only declare their options, call ``run_module`` and
hand its ``Outcome`` to ``exit_json`` / ``fail_json``; nothing of the engine is copied here
either: diff, pre-flight, apply, verify are the library's.

Results, for every writing module:

* ``changed``: the plan had steps (check mode) or a write took effect (apply); false on an
  idempotent re-run.
* ``plan``: the plan document (the shape of ``xapictl plan -o json``); ``writes``: the XAPI
  writes made (method, outcome, and the XAPI error of a refused one) — empty in check mode.
* ``diff``: one before/after pair per planned change, from the structured plan.
* on failure: ``msg``, ``exit_code`` and ``exit_class`` (the CLI's exit code and its name:
  2 ``bad_input``, 4 ``failure``, 5 ``partial``), and for an XAPI error ``xapi_code`` and
  ``xapi_params`` exactly as XAPI sent them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from xapictl import errors as e

if TYPE_CHECKING:
    from xapictl.plan.audit import AuditLog
    from xapictl.plan.desired import DesiredState
    from xapictl.state.collect import PoolConnection
    from xapictl.state.snapshot import PoolSnapshot

# exit code -> the name a playbook tests (``when: result.exit_class == 'bad_input'``)
EXIT_CLASSES = {2: "bad_input", 4: "failure", 5: "partial"}
CONNECTION_OPTIONS = ("url", "username", "password", "validate_certs", "fingerprint", "ca",
                      "profile", "timeout")


@dataclass
class Outcome:
    """What a module returns: ``failed`` decides between ``exit_json`` and ``fail_json``."""

    result: dict[str, Any] = field(default_factory=dict)
    failed: bool = False
    msg: str = ""


# --- connection -------------------------------------------------------------------------


@contextmanager
def open_pool(params: Mapping[str, Any]) -> Iterator[PoolConnection]:
    """The pool the common options name: ``profile`` (a profile of pools.toml; the other
    options override it) or ``url`` with ``username`` / ``password``. Never the embedded
    simulated pool: a module with neither is refused (exit class ``bad_input``)."""
    import xapictl

    options: dict[str, Any] = {}
    if params.get("validate_certs") is False:
        options["insecure"] = True
    if params.get("fingerprint"):
        options["fingerprint"] = params["fingerprint"]
    if params.get("ca"):
        options["ca"] = params["ca"]
    if params.get("timeout") is not None:
        from xapictl.xapi.retry import RetryPolicy

        timeout = float(params["timeout"])
        options.update(retry=RetryPolicy(deadline=timeout), timeout=timeout,
                       connect_timeout=min(timeout, 10.0))
    if params.get("profile"):
        if params.get("url"):
            raise e.UsageError("url and profile both name a pool: give one of them")
        if params.get("username"):
            options["username"] = params["username"]
        if params.get("password") is not None:
            options["password"] = params["password"]
        conn = xapictl.connect_profile(params["profile"], **options)
    elif params.get("url"):
        if params.get("password") is None:
            raise e.ConfigError("no password: give password (no_log) or set XAPICTL_PASSWORD, "
                                "or use a profile")
        conn = xapictl.connect(params["url"], username=params.get("username") or "root",
                               password=params["password"], **options)
    else:
        raise e.UsageError("no pool: give url (or XAPICTL_URL) or profile (or XAPICTL_POOL)")
    with conn:
        yield conn


# --- the writing modules ----------------------------------------------------------------


def network_recipe(params: Mapping[str, Any]) -> DesiredState:
    """``xapictl.xen.network``: a VLAN network (``vlan`` with ``device`` or ``bond``), a
    private network (``tunnel``: ``protocol`` over the ``transport`` network), an SR-IOV
    network (``sriov`` with ``device``) or a plain / NIC network; ``state: absent`` removes
    it. The kinds exclude each other as the library's recipes do. ``replug`` (a NIC or plain
    network's new ``mtu`` re-plugged), ``raise_trunk_mtu`` (a VLAN's trunk raised first) and
    ``replug_management`` (either may re-plug the management interface) as in recipes."""
    from xapictl.recipes import (
        ensure_network,
        ensure_private_network,
        ensure_sriov_network,
        ensure_vlan_network,
    )

    present = params.get("state", "present") == "present"
    common: dict[str, Any] = {"mtu": params.get("mtu"),
                              "description": params.get("description"),
                              "adopt": bool(params.get("adopt"))}
    tunnel = params.get("tunnel")
    if tunnel is not None:
        _refuse_with("tunnel", "a private network rides on its transport network", params,
                     ("vlan", "device", "bond", "sriov"))
        if not isinstance(tunnel, Mapping) or not tunnel.get("transport"):
            raise e.UsageError("tunnel needs transport: the network whose PIFs have an IP "
                               "(tunnel: {protocol: gre|vxlan, transport: NETWORK})")
        return ensure_private_network(params["name"], tunnel["transport"],
                                      protocol=tunnel.get("protocol") or "gre",
                                      present=present, **common)
    if params.get("sriov"):
        _refuse_with("sriov", "an SR-IOV network is one NIC's", params, ("vlan", "bond"))
        if not params.get("device"):
            raise e.UsageError("sriov needs its NIC: add device (eth1)")
        return ensure_sriov_network(params["name"], params["device"], present=present,
                                    **common)
    if params.get("vlan") is not None:
        if params.get("replug"):
            raise e.UsageError("replug re-plugs a NIC or plain network's PIFs and VIFs at its "
                               "new mtu; a VLAN's trunk is raised with raise_trunk_mtu: drop "
                               "replug")
        return ensure_vlan_network(params["name"], params["vlan"], device=params.get("device"),
                                   bond=params.get("bond"), present=present,
                                   raise_trunk_mtu=bool(params.get("raise_trunk_mtu")),
                                   replug_management=bool(params.get("replug_management")),
                                   **common)
    if params.get("bond"):
        raise e.UsageError("bond is the trunk of a VLAN: add vlan (a tag 0-4094)")
    if params.get("raise_trunk_mtu"):
        raise e.UsageError("raise_trunk_mtu raises the trunk of a VLAN network: add vlan, or "
                           "drop raise_trunk_mtu")
    return ensure_network(params["name"], device=params.get("device"), present=present,
                          replug=bool(params.get("replug")),
                          replug_management=bool(params.get("replug_management")), **common)


def _refuse_with(option: str, why: str, params: Mapping[str, Any],
                 others: tuple[str, ...]) -> None:
    """A ``UsageError`` naming the options of ``others`` given with ``option``."""
    given = [name for name in others if params.get(name) not in (None, False)]
    if given:
        raise e.UsageError(f"{option} excludes {', '.join(given)}: {why}; drop "
                           f"{' and '.join(given)}")


def vif_recipe(params: Mapping[str, Any]) -> DesiredState:
    """``xapictl.xen.vif``: VM ``vm`` attached to ``network`` on VIF ``device``."""
    from xapictl.recipes import ensure_vm_attached

    return ensure_vm_attached(
        params["vm"], params["network"], device=params.get("device") or "auto",
        present=params.get("state", "present") == "present", mac=params.get("mac"),
        mtu=params.get("mtu"), locking_mode=params.get("locking_mode"),
        ipv4_allowed=params.get("ipv4_allowed"), ipv6_allowed=params.get("ipv6_allowed"),
        qos_kbps=params.get("qos_kbps"))


def bond_recipe(params: Mapping[str, Any]) -> DesiredState:
    """``xapictl.xen.bond``: a bond of ``members`` on every host, on network ``network``."""
    from xapictl.recipes import ensure_bond

    return ensure_bond(params["network"], params.get("members") or [], mode=params.get("mode"),
                       hashing_algorithm=params.get("hashing_algorithm"),
                       mtu=params.get("mtu"),
                       present=params.get("state", "present") == "present",
                       adopt=bool(params.get("adopt")))


def recipe_recipe(params: Mapping[str, Any]) -> DesiredState:
    """``xapictl.xen.recipe``: a recipe file (``src``) or an inline mapping (``recipe``)."""
    from xapictl.plan.desired import load_file, load_text

    src, inline = params.get("src"), params.get("recipe")
    if (src is None) == (inline is None):
        raise e.UsageError("give one of src (a recipe file) or recipe (an inline mapping)")
    if src is not None:
        return load_file(src)
    if not isinstance(inline, Mapping):
        raise e.UsageError("recipe must be a mapping (version, networks, bonds, vifs), as in "
                           "a recipe file")
    return load_text(yaml.safe_dump(dict(inline), sort_keys=False), source="<recipe option>")


RECIPES: dict[str, Callable[[Mapping[str, Any]], DesiredState]] = {
    "network": network_recipe, "vif": vif_recipe, "bond": bond_recipe,
    "recipe": recipe_recipe}


def _audit_log() -> AuditLog:
    """The audit log of the run: ``XAPICTL_AUDIT_LOG`` when set (the CLI's file), else kept
    in memory (the module returns the writes either way)."""
    from xapictl.plan.audit import AuditLog

    path = os.environ.get("XAPICTL_AUDIT_LOG")
    return AuditLog(Path(path) if path else None)


def converge_module(kind: str, params: Mapping[str, Any], *, check_mode: bool) -> Outcome:
    """The whole run of a writing module; every known error becomes a failed ``Outcome``."""
    audit = _audit_log()
    try:
        desired = RECIPES[kind](params)
        with open_pool(params) as conn:
            audit.pool = str(getattr(conn, "url", ""))
            return _plan_or_converge(desired, conn, audit, check_mode=check_mode)
    except e.XapictlError as exc:
        return failure(exc, audit)
    finally:
        audit.close()


def _plan_or_converge(desired: DesiredState, conn: PoolConnection, audit: AuditLog, *,
                      check_mode: bool) -> Outcome:
    from xapictl.plan.apply import converge
    from xapictl.plan.backend import XapiBackend, classes_needed
    from xapictl.plan.diff import diff
    from xapictl.plan.document import PoolInfo, plan_document, to_json
    from xapictl.plan.preflight import preflight

    backend = XapiBackend(conn, audit=audit)
    url = str(getattr(conn, "url", "")) or None
    if check_mode:
        snap = backend.collect(classes_needed(desired))
        plan = diff(desired, snap)
        preflight(plan, backend.permissions(), reach=backend.reach)
        doc = plan_document(plan, snap, pool=PoolInfo(url=url))
        return Outcome(_result(to_json(doc), changed=bool(plan.steps), writes=[],
                               verified=None))
    run = converge(desired, backend)
    doc = plan_document(run.plan, run.snapshot, pool=PoolInfo(url=url))
    results = [{"change": i, "status": r.status.value, "detail": r.detail,
                "subject": r.step.subject} for i, r in enumerate(run.report.results)]
    out = _result(to_json(doc), changed=run.applied and audit.effective > 0,
                  writes=writes_of(audit),
                  verified=None if run.replan is None or not run.applied
                  else run.replan.is_empty)
    out["results"] = results
    out["settled"] = run.settled
    return Outcome(out)


def _result(plan: dict[str, Any], *, changed: bool, writes: list[dict[str, Any]],
            verified: bool | None) -> dict[str, Any]:
    return {"changed": changed, "plan": plan, "writes": writes, "verified": verified,
            "diff": plan_diff(plan)}


def writes_of(audit: AuditLog) -> list[dict[str, Any]]:
    """The writes made: method, outcome (ok / failed / unknown), host, and the XAPI error
    (code first, then its parameters) of a refused one."""
    return [{"method": r["method"], "outcome": r["outcome"], "host": r.get("host", ""),
             **({"error": r["error"]} if "error" in r else {})} for r in audit.outcomes]


def plan_diff(plan: Mapping[str, Any]) -> list[dict[str, str]]:
    """Ansible's diff (``--diff``): one before/after pair per planned change, as YAML of the
    fields the change sets (an object created has an empty before, one destroyed an empty
    after)."""
    out = []
    for change in plan.get("changes", []):
        before, after = change.get("before"), change.get("after")
        if change["action"] == "create" and after is None:
            after = {"exists": True}
        if change["action"] == "destroy" and before is None:
            before = {"exists": True}
        subject = change["subject"]
        out.append({"before_header": subject, "after_header": f"{subject} ({change['title']})",
                    "before": _yaml(before), "after": _yaml(after)})
    return out


def _yaml(data: Mapping[str, Any] | None) -> str:
    if not data:
        return ""
    return yaml.safe_dump(dict(data), sort_keys=True, default_flow_style=False)


# --- failures ---------------------------------------------------------------------------


def failure(exc: e.XapictlError, audit: AuditLog | None = None) -> Outcome:
    """A failed ``Outcome``: the message, the CLI's exit code and its class, and the typed
    XAPI error (``xapi_code``, ``xapi_params``) when XAPI refused something."""
    changed = audit is not None and audit.effective > 0
    code = exit_code(exc, changed=changed)
    result: dict[str, Any] = {"exit_code": code, "exit_class": EXIT_CLASSES[code],
                              "changed": changed, "error_type": type(exc).__name__,
                              "writes": writes_of(audit) if audit is not None else []}
    xapi = xapi_failure_of(exc, audit)
    if xapi is not None:
        result["xapi_code"], result["xapi_params"] = xapi
    problems = getattr(exc, "problems", None)
    msg = "; ".join(str(p) for p in problems) if problems else str(exc)
    if xapi is not None and xapi[0] == "SESSION_AUTHENTICATION_FAILED":
        msg += ("; check username (or XAPICTL_USER; default root) and password (or "
                "XAPICTL_PASSWORD). Nothing was sent.")
    return Outcome(result, failed=True, msg=msg)


def exit_code(exc: e.XapictlError, *, changed: bool) -> int:
    """The CLI's exit code for ``exc`` (docs/exit-codes.md): 2 nothing sent, bad input or a
    refusal before any write; 5 a write took effect then something failed; else 4."""
    if isinstance(exc, e.UsageError | e.PreflightError | e.AmbiguousObjectError):
        return 2
    if isinstance(exc, e.VerificationError | e.PlanDriftError):
        return 5
    if isinstance(exc, e.ApplyError):
        report = exc.report
        return 5 if getattr(report, "done", None) or getattr(report, "writes", 0) else 4
    return 5 if changed else 4


def xapi_failure_of(exc: BaseException, audit: AuditLog | None) -> tuple[str, list[str]] | None:
    """The XAPI error behind ``exc``: itself, its cause, or the refused write the audit log
    recorded (an apply that stopped)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, e.XapiFailure):
            return seen.code, list(seen.params)
        failure_of = getattr(seen, "failure", None)  # TaskFailed
        if isinstance(failure_of, e.XapiFailure):
            return failure_of.code, list(failure_of.params)
        seen = seen.__cause__
    for record in reversed(audit.outcomes if audit is not None else []):
        if record.get("error") and record["outcome"] == "failed":
            code, *params = record["error"]
            return str(code), [str(p) for p in params]
    return None


# --- the info modules -------------------------------------------------------------------


def info_module(kind: str, params: Mapping[str, Any]) -> Outcome:
    """``pool_info`` / ``network_info``: one read of the pool, as the facts of ``xapictl pool
    show -o json`` / ``xapictl network list -o json`` (``name`` filters networks)."""
    from xapictl.cli.views import network_detail, pool_item
    from xapictl.state.collect import collect_once

    try:
        with open_pool(params) as conn:
            snap = collect_once(conn)
            url = str(getattr(conn, "url", ""))
    except e.XapictlError as exc:
        return failure(exc)
    if kind == "pool_info":
        return Outcome({"changed": False, "url": url,
                        "pool": pool_item(snap).model_dump(mode="json")})
    name = params.get("name")
    refs = [ref for ref, n in snap.networks.items()
            if name is None or name in (n.name_label, n.uuid)]
    networks = [network_detail(snap, ref).model_dump(mode="json") for ref in refs]
    networks.sort(key=lambda n: (n["name"], n["uuid"]))
    return Outcome({"changed": False, "url": url, "networks": networks})


# --- the inventory plugin ---------------------------------------------------------------


def pool_inventory(params: Mapping[str, Any]) -> dict[str, Any]:
    """One read of the pool the connection options name, as the inventory plugin
    ``xapictl.xen.xapi`` uses it: the pool (name, uuid, url) and its members: every XAPI host
    and guest VM with its uuid, address, power state, networks and VLAN tags. Plain data (the
    plugin caches it as JSON). Raises the library's errors."""
    from xapictl.state.collect import collect_once

    with open_pool(params) as conn:
        return inventory_of(collect_once(conn), str(getattr(conn, "url", "")))


def fleet_inventory(path: str, select: str | None = None) -> dict[str, dict[str, Any]]:
    """``pool_inventory`` of every selected pool of a fleet file (``xapictl rollout``'s; the
    pools named as there, credentials from their sources), pool by pool: pool name -> its
    inventory, or ``{"error": message}`` for a pool that could not be read."""
    from xapictl.fleet.connect import PoolConnector
    from xapictl.fleet.fleetfile import load_fleet
    from xapictl.state.collect import collect_once

    pools = load_fleet(path).select(select)
    connector = PoolConnector()
    out: dict[str, dict[str, Any]] = {}
    for pool in pools:
        try:
            with connector.connect(pool) as conn:
                found = inventory_of(collect_once(conn), str(getattr(conn, "url", "")))
        except e.XapictlError as exc:
            out[pool.name] = {"error": f"{pool.where}: {exc}"}
            continue
        found["pool"]["name"] = pool.name
        out[pool.name] = found
    return out


def inventory_of(snap: PoolSnapshot, url: str) -> dict[str, Any]:
    """The pool and its members (see ``pool_inventory``) from one snapshot."""
    pool = snap.pool
    tags = {ref: sorted({snap.pifs[p].vlan for p in n.pifs
                         if p in snap.pifs and snap.pifs[p].vlan >= 0})
            for ref, n in snap.networks.items()}
    members: list[dict[str, Any]] = []
    for ref, host in sorted(snap.hosts.items(), key=lambda i: i[1].name_label):
        nets = {snap.pifs[p].network for p in host.pifs if p in snap.pifs}
        members.append(_member(snap, "host", host.name_label, host.uuid, host.address,
                               "running" if snap.host_is_live(ref) else "halted", nets, tags,
                               master=ref == pool.master))
    for vm in sorted(snap.guest_vms().values(), key=lambda v: (v.name_label, v.uuid)):
        nets = {snap.vifs[v].network for v in vm.vifs if v in snap.vifs}
        metrics = snap.vm_guest_metrics.get(vm.guest_metrics)
        ips = sorted(v for k, v in (metrics.networks.items() if metrics else ())
                     if k.endswith("/ip") or "/ipv4/" in k)
        members.append(_member(snap, "vm", vm.name_label, vm.uuid, ips[0] if ips else None,
                               vm.power_state.value.lower(), nets, tags))
    return {"pool": {"name": pool.name_label or pool.uuid, "uuid": pool.uuid, "url": url},
            "members": members}


def _member(snap: Any, kind: str, name: str, uuid: str, address: str | None, power: str,
            networks: set[Any], tags: Mapping[Any, list[int]], **extra: Any
            ) -> dict[str, Any]:
    names = sorted(snap.networks[n].name_label for n in networks if n in snap.networks)
    vlans = sorted({t for n in networks for t in tags.get(n, [])})
    return {"name": name, "type": kind, "uuid": uuid, "address": address or None,
            "power_state": power, "networks": names, "vlans": vlans, **extra}


def run_module(kind: str, params: Mapping[str, Any], *, check_mode: bool) -> Outcome:
    """The one entry point of every module of the collection."""
    if kind in RECIPES:
        return converge_module(kind, params, check_mode=check_mode)
    return info_module(kind, params)


__all__ = ["CONNECTION_OPTIONS", "EXIT_CLASSES", "RECIPES", "Outcome", "converge_module",
           "exit_code", "failure", "fleet_inventory", "info_module", "inventory_of", "open_pool",
           "plan_diff", "pool_inventory", "run_module", "writes_of", "xapi_failure_of"]
