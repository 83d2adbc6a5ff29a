# The bond lifecycle on the embedded simulated pool (the tests run each line; a trailing
# comment gives the expected exit code when it is not 0).
xapictl bond create --members eth1,eth2 --mode lacp --hashing-algorithm src_mac --yes
xapictl bond create --members eth1,eth2 --mode lacp --hashing-algorithm src_mac
xapictl network create --name "VLAN 201" --vlan 201 --bond "Bond eth1+eth2"
xapictl bond list
xapictl bond show "Bond eth1+eth2"
xapictl bond set-mode "Bond eth1+eth2" lacp --lacp-time fast --yes
xapictl drift
xapictl bond delete "Bond eth1+eth2" --yes  # refused while VLAN 201 rides on it: exit 2
xapictl network delete "VLAN 201" --yes
xapictl bond delete "Bond eth1+eth2" --yes
xapictl bond show "Pool-wide network 1"  # no bond there: exit 2
