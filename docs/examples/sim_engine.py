"""The engine without sockets: a call in, a Python value (or a SimFailure) out."""

from xapictl.sim.engine import Simulator
from xapictl.sim.errors import SimFailure

sim = Simulator(password="xapictl", users={"ro": "read-only"})  # noqa: S106 - sandbox
sim.load_scenario("seed")
session = sim.call("session.login_with_password", ["root", "xapictl"])
networks = sim.call("network.get_all_records", [session])  # {ref: record}
print(sorted(record["bridge"] for record in networks.values()))

ro = sim.call("session.login_with_password", ["ro", "xapictl"])
try:
    sim.call("network.create", [ro, {"name_label": "lab", "other_config": {}}])
except SimFailure as failure:
    print(failure.description[:2])
sim.close()
# ['xenapi', 'xenbr0', 'xenbr1', 'xenbr2']
# ['RBAC_PERMISSION_DENIED', 'network.create']
