"""The 5-call XenAPI script that ``network create --vlan`` is measured against.

    python five_calls.py URL PASSWORD NAME TAG DEVICE

What an operator writes by hand with the official ``XenAPI`` module (XML-RPC, its only
protocol): login, PIF lookup, ``network.create``, ``pool.create_VLAN_from_PIF``, logout. No
checks, no idempotence, no verify: the floor a tool that does more is compared with.
"""

import sys

import XenAPI

url, password, name, tag, device = sys.argv[1:6]
session = XenAPI.Session(url)
session.xenapi.login_with_password("root", password, "1.0", "five-calls")      # 1
try:
    pifs = session.xenapi.PIF.get_all_records_where(                              # 2
        f'field "device" = "{device}" and field "VLAN" = "-1" '
        'and field "physical" = "true"')
    pif = next(iter(pifs))
    network = session.xenapi.network.create({                                     # 3
        "name_label": name, "name_description": "", "MTU": "1500", "other_config": {}})
    session.xenapi.pool.create_VLAN_from_PIF(pif, network, tag)                   # 4
finally:
    session.xenapi.session.logout()                                               # 5
