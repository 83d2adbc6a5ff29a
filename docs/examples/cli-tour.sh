# A tour of the command groups (run by tests/plan/test_plan_docs.py on the embedded pool).
xapictl pool show
xapictl -o json host list
xapictl pif list
xapictl network create --name "Storage" --device eth2 --mtu 9000
xapictl network set-mtu "Storage" 9000 --replug
xapictl network create --name "App internal"
xapictl network show "App internal"
xapictl vif attach build-01 "App internal" --device 3 --mac 02:00:00:00:03:01
xapictl vif move build-01 3 "Storage"
xapictl vif detach build-01 3
xapictl network delete "App internal"
xapictl network create --name "bad" --vlan 5000 --device eth1    # exit 2
xapictl -o yaml network list
