"""Serve a simulated pool on loopback and talk to it with the official XenAPI client."""

import XenAPI

from xapictl.sim.engine import Simulator
from xapictl.sim.server import SimServer

sim = Simulator(password="xapictl")  # noqa: S106 - the documented sandbox password
sim.load_scenario("seed")
with SimServer(sim) as server:  # 127.0.0.1 (master), 127.0.0.2, 127.0.0.3; one port
    server.control.set_latency(5, jitter_ms=2)  # every call
    server.control.inject_fault("VLAN.create", "drop_after", times=1)  # reply lost
    with XenAPI.Session(server.url) as session:
        session.login_with_password("root", "xapictl", "1.0", "docs")
        networks = session.xenapi.network.get_all_records()
        session.xenapi.session.logout()
    log = server.control.request_log()  # passwords masked
sim.close()
print(len(networks), "networks;", log[0]["method"], log[0]["params"][1])
# 4 networks; session.login_with_password ******
