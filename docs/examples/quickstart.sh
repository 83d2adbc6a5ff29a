# The quickstart, command by command (tests/plan/test_plan_docs.py runs every line against
# the embedded simulated pool and checks the exit code given after "# exit").
xapictl host list
xapictl network create --name "VLAN 105" --vlan 105 --device eth1
xapictl network create --name "VLAN 105" --vlan 105 --device eth1
xapictl vlan list
xapictl vif attach web-01 "VLAN 105"
xapictl vif list --vm web-01
xapictl plan recipes/trunk-vlans.yaml    # exit 3
xapictl apply recipes/trunk-vlans.yaml --yes
xapictl plan recipes/trunk-vlans.yaml    # exit 0
