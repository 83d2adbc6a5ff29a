# Copyright: The xapictl developers
# BSD 2-Clause License (see LICENSE of the xapictl package)

from __future__ import annotations

DOCUMENTATION = r"""
name: xapi
short_description: Hosts and VMs of XenServer / XCP-ng pools, grouped by pool, power state,
  network and VLAN tag
version_added: 0.1.0
author:
  - The xapictl developers (@xapictl)
description:
  - Reads each pool once with xapictl (one round of reads, whatever the pool's size) and adds
    its XAPI hosts and guest VMs as inventory hosts.
  - Groups C(xapi_pool_<pool>), C(xapi_hosts), C(xapi_vms), C(xapi_power_<state>),
    C(xapi_network_<network>), C(xapi_vlan_<tag>); host variables C(xapi_uuid),
    C(xapi_type), C(xapi_pool), C(xapi_pool_uuid), C(xapi_address), C(xapi_power_state),
    C(xapi_networks), C(xapi_vlans), and C(ansible_host) when an address is known.
  - The inventory file's name must end in C(.xapi.yml) or C(.xapi.yaml).
extends_documentation_fragment:
  - constructed
  - inventory_cache
options:
  plugin:
    description: The name of this plugin.
    required: true
    choices: [xapictl.xen.xapi]
    type: str
  url:
    description: URL of one pool's master (else E(XAPICTL_URL)); or use O(pools).
    type: str
    env:
      - name: XAPICTL_URL
  username:
    description: XAPI user (default C(root)).
    type: str
    env:
      - name: XAPICTL_USER
  password:
    description: Password (else E(XAPICTL_PASSWORD)).
    type: str
    env:
      - name: XAPICTL_PASSWORD
  validate_certs:
    description: Verify the pools' TLS certificates.
    type: bool
    default: true
  fingerprint:
    description: Pinned SHA-256 fingerprint of the master's certificate.
    type: str
  profile:
    description: A profile of xapictl's C(pools.toml) instead of O(url).
    type: str
  pools:
    description:
      - Several pools, each a mapping of the connection options (C(url) or C(profile),
        C(username), C(password), ...) and an optional C(name); options not given there come
        from the top level.
    type: list
    elements: dict
    default: []
  fleet:
    description:
      - A fleet file of xapictl (the one C(xapictl rollout) reads) - its pools, named as
        there, each with its URL or profile and password source. Instead of O(url) and
        O(pools).
      - A relative path is relative to the inventory file's folder.
    type: str
  select:
    description: With O(fleet), the pools to read (names, globs, C(tag:T), and/or/not).
    type: str
  hostnames:
    description:
      - How hosts are named; C(pool_name) prefixes the pool (names repeat across pools).
    type: str
    choices: [name, uuid, pool_name]
    default: name
"""

EXAMPLES = r"""
# pool-a.xapi.yml
plugin: xapictl.xen.xapi
url: https://pool-a.example.com
keyed_groups:
  - key: xapi_type
    prefix: type
compose:
  ansible_host: xapi_address
"""

import json
import os

from ansible.errors import AnsibleError
from ansible.inventory.group import to_safe_group_name
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

try:
    from xapictl.ansible_collection.bridge import (
        CONNECTION_OPTIONS,
        fleet_inventory,
        pool_inventory,
    )
    from xapictl.errors import XapictlError
except ImportError as exc:
    pool_inventory = None
    XAPICTL_IMPORT_ERROR = exc
else:
    XAPICTL_IMPORT_ERROR = None


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "xapictl.xen.xapi"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith((".xapi.yml", ".xapi.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        if pool_inventory is None:
            raise AnsibleError(f"the xapictl.xen.xapi inventory needs the xapictl Python "
                               f"package: pip install xapictl ({XAPICTL_IMPORT_ERROR})")
        self._read_config_data(path)
        key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        found = None
        if use_cache:
            try:
                found = self._cache[key]
            except KeyError:
                found = None
        if found is None:
            if self.get_option("fleet"):
                found = self._read_fleet(os.path.dirname(path))
            else:
                found = [self._read(options) for options in self._pools()]
            if self.get_option("cache"):
                self._cache[key] = found
        for pool in found:
            self._add_pool(pool)

    def _pools(self):
        top = {name: self.get_option(name) for name in CONNECTION_OPTIONS
               if name in ("url", "username", "password", "validate_certs", "fingerprint",
                           "profile")}
        pools = self.get_option("pools") or []
        if not pools:
            return [top]
        return [{**{k: v for k, v in top.items() if k not in ("url", "profile")}, **pool}
                for pool in pools]

    def _read(self, options):
        try:
            found = pool_inventory(options)
        except XapictlError as exc:
            where = options.get("name") or options.get("url") or options.get("profile")
            raise AnsibleError(f"xapictl.xen.xapi: pool {where}: {to_native(exc)}") from exc
        if options.get("name"):
            found["pool"]["name"] = options["name"]
        return json.loads(json.dumps(found))  # plain data, as the cache keeps it

    def _read_fleet(self, folder):
        fleet = os.path.join(folder, os.path.expanduser(self.get_option("fleet")))
        try:
            pools = fleet_inventory(fleet, self.get_option("select"))
        except XapictlError as exc:
            raise AnsibleError(f"xapictl.xen.xapi: fleet {self.get_option('fleet')}: "
                               f"{to_native(exc)}") from exc
        failed = {name: pool["error"] for name, pool in pools.items() if "error" in pool}
        if failed:
            raise AnsibleError("xapictl.xen.xapi: " + "; ".join(
                f"pool {name}: {error}" for name, error in sorted(failed.items())))
        return json.loads(json.dumps(list(pools.values())))

    def _add_pool(self, found):
        pool = found["pool"]
        strict = self.get_option("strict")
        pool_group = self._group(f"xapi_pool_{pool['name']}")
        for member in found["members"]:
            name = self._hostname(pool, member)
            self.inventory.add_host(name, group=pool_group)
            self.inventory.add_host(name, group=self._group(f"xapi_{member['type']}s"))
            self.inventory.add_host(name, group=self._group(f"xapi_power_{member['power_state']}"))
            for network in member["networks"]:
                self.inventory.add_host(name, group=self._group(f"xapi_network_{network}"))
            for tag in member["vlans"]:
                self.inventory.add_host(name, group=self._group(f"xapi_vlan_{tag}"))
            variables = {
                "xapi_uuid": member["uuid"], "xapi_type": member["type"],
                "xapi_name": member["name"], "xapi_pool": pool["name"],
                "xapi_pool_uuid": pool["uuid"], "xapi_pool_url": pool["url"],
                "xapi_address": member["address"], "xapi_power_state": member["power_state"],
                "xapi_networks": member["networks"], "xapi_vlans": member["vlans"],
                "xapi_is_master": bool(member.get("master"))}
            if member["address"]:
                variables["ansible_host"] = member["address"]
            for var, value in variables.items():
                self.inventory.set_variable(name, var, value)
            self._set_composite_vars(self.get_option("compose"), variables, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), variables, name,
                                              strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, name,
                                           strict=strict)

    def _group(self, name):
        return self.inventory.add_group(to_safe_group_name(name.replace(" ", "_").lower(),
                                                           force=True, silent=True))

    def _hostname(self, pool, member):
        how = self.get_option("hostnames")
        if how == "uuid":
            return member["uuid"]
        if how == "pool_name":
            return f"{pool['name']}_{member['name']}"
        return member["name"]
