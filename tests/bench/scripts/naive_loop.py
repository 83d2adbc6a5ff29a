"""The naive per-host loop that ``network create --vlan`` is measured against.

    python naive_loop.py URL PASSWORD NAME TAG DEVICE

The same job written host by host with the official ``XenAPI`` module (XML-RPC): login, one
PIF lookup, ``network.create``, then ``VLAN.create`` once per host, one after another, logout.
"""

import sys

import XenAPI

url, password, name, tag, device = sys.argv[1:6]
session = XenAPI.Session(url)
session.xenapi.login_with_password("root", password, "1.0", "naive-loop")
try:
    pifs = session.xenapi.PIF.get_all_records_where(
        f'field "device" = "{device}" and field "VLAN" = "-1" '
        'and field "physical" = "true"')
    network = session.xenapi.network.create({
        "name_label": name, "name_description": "", "MTU": "1500", "other_config": {}})
    for pif in pifs:
        session.xenapi.VLAN.create(pif, tag, network)
finally:
    session.xenapi.session.logout()
