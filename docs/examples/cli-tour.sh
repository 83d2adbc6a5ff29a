# A tour of the command groups (run by tests/plan/test_plan_docs.py on the embedded pool).
xapictl pool show
xapictl -o json host list
xapictl pif list
xapictl network create --name "Storage" --device eth2    # named otherwise: exit 2
xapictl apply recipes/storage-network.yaml --yes          # a recipe renames it (rename: true)
xapictl network set-mtu "Storage" 9000 --replug --yes
xapictl network create --name "App internal"
xapictl network show "App internal"
xapictl vif attach build-01 "App internal" --device 3 --mac 02:00:00:00:03:01
xapictl vif move build-01 3 "Storage" --yes              # disruptive: --yes off a terminal
xapictl vif detach build-01 3 --yes
xapictl network delete "App internal" --yes
xapictl network create --name "bad" --vlan 5000 --device eth1    # exit 2
xapictl -o yaml network list
