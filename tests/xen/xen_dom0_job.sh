#!/bin/sh
# Runs as the job inside the Xen dom0 (xen_harness.run_in_dom0): "install" the extracted Xen
# tools into the throw-away overlay root, start the Xen daemons, then run "$@".
set -e
XR="$XEN_TIER_XENROOT"
cp -a "$XR/usr" "$XR/etc" / && ldconfig
export PATH="/usr/lib/xen-4.17/bin:$PATH"
modprobe -a xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs xen-netback bridge 8021q \
  virtio_net
mkdir -p /proc/xen && mount -t xenfs xenfs /proc/xen
mkdir -p /var/run/xenstored /var/lib/xenstored /var/log/xen /var/lib/xen /run/xen
xenstored --pid-file /var/run/xenstored.pid
xen-init-dom0
mkdir -p /var/log/xen/console  # guests' consoles logged: the test guests print ping results
xenconsoled --pid-file=/var/run/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console
xl list
exec "$@"
