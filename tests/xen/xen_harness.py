"""The real-Xen tier (opt-in): Debian's Xen 4.17 under QEMU (software emulation: this
machine's /dev/kvm cannot run a stock kernel) with the Debian kernel as PV dom0, the host's
root visible read-only through 9p with a tmpfs overlay (KERNEL-VM.md, Q2).

Everything is fetched with ``apt-get download`` + ``dpkg-deb -x`` into a cache
(``XAPICTL_XEN_CACHE``, default ~/.cache/xapictl-xen); QEMU, kmod and busybox-static are
installed with ``apt-get install`` when missing. Every failure raises ``XenTierError``.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
HOST_PACKAGES = {"qemu-system-x86_64": "qemu-system-x86", "depmod": "kmod",
                 "busybox": "busybox-static"}
XEN_PACKAGES = [
    "xen-hypervisor-4.17-amd64", "xen-utils-4.17", "xen-utils-common", "xenstore-utils",
    "libxencall1", "libxenevtchn1", "libxenforeignmemory1", "libxengnttab1", "libxenmisc4.17",
    "libxenstore4", "libxentoollog1", "libxendevicemodel1", "libxenhypfs1", "libxentoolcore1",
    "libyajl2",
]
DOM0_MAC = "52:54:00:12:34:56"
INITRD_MODULES = ["virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev",
                  "virtio_pci", "virtio_mmio", "netfs", "fscache", "9pnet", "9pnet_virtio", "9p",
                  "overlay"]


class XenTierError(RuntimeError):
    """Xen, the kernel or QEMU could not be fetched, built or booted."""


def cache_dir() -> Path:
    return Path(os.environ.get("XAPICTL_XEN_CACHE", "~/.cache/xapictl-xen")).expanduser()


def _run(cmd: list[str], cwd: Path | None = None, **kw: object) -> str:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, **kw)  # type: ignore[call-overload]
    if done.returncode != 0:
        raise XenTierError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()}")
    return str(done.stdout)


def ensure_host_tools() -> None:
    missing = [pkg for exe, pkg in HOST_PACKAGES.items() if shutil.which(exe) is None
               and not Path("/usr/sbin", exe).exists() and not Path("/sbin", exe).exists()]
    if missing:
        _run(["apt-get", "update"])
        _run(["apt-get", "install", "-y", "--no-install-recommends", *missing],
             env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def _download(packages: list[str], into: Path) -> None:
    """apt-get download + dpkg-deb -x each package into ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=into.parent) as tmp:
        try:
            _run(["apt-get", "download", *packages], cwd=Path(tmp))
        except XenTierError:
            _run(["apt-get", "update"])
            _run(["apt-get", "download", *packages], cwd=Path(tmp))
        for deb in sorted(Path(tmp).glob("*.deb")):
            _run(["dpkg-deb", "-x", str(deb), str(into)])


def fetch_kernel() -> tuple[Path, str]:
    """(root of the extracted Debian kernel package, kernel version)."""
    out = _run(["apt-cache", "depends", "linux-image-amd64"])
    pkgs = [line.split()[-1] for line in out.splitlines() if "Depends: linux-image-" in line]
    if not pkgs:
        raise XenTierError("apt-cache depends linux-image-amd64 names no kernel package")
    version = pkgs[0].removeprefix("linux-image-")
    root = cache_dir() / f"kernel-{version}"
    if not (root / "boot" / f"vmlinuz-{version}").exists():
        _download([pkgs[0]], root)
        _run(["depmod", "-b", str(root), version])  # Debian's .deb ships no modules.dep
    return root, version


def fetch_xen() -> tuple[Path, Path]:
    """(extracted Xen tools root, the uncompressed hypervisor ELF QEMU boots)."""
    root = cache_dir() / "xenroot"
    hv = cache_dir() / "xen.elf"
    if not hv.exists():
        _download(XEN_PACKAGES, root)
        gz = sorted((root / "boot").glob("xen-4.17-amd64.gz"))
        if not gz:
            raise XenTierError(f"no boot/xen-4.17-amd64.gz in {root}")
        hv.write_bytes(gzip.decompress(gz[0].read_bytes()))
    return root, hv


def _cpio(tree: Path, out: Path) -> None:
    busybox = shutil.which("busybox") or "/bin/busybox"
    files = subprocess.run(["find", "."], cwd=tree, capture_output=True, check=True).stdout
    with out.open("wb") as fh:
        subprocess.run([busybox, "cpio", "-o", "-H", "newc"], cwd=tree, input=files,
                       stdout=fh, stderr=subprocess.DEVNULL, check=True)


def _busybox_tree(tree: Path, init: str) -> None:
    for d in ("bin", "dev", "proc", "sys", "mod", "lower", "upper", "newroot", "mnt", "tmp"):
        (tree / d).mkdir(parents=True, exist_ok=True)
    busybox = shutil.which("busybox") or "/bin/busybox"
    shutil.copy(busybox, tree / "bin" / "busybox")
    for applet in ("sh", "mount", "insmod", "mkdir", "switch_root", "poweroff", "cat",
                   "sleep", "echo", "ip", "ls", "ping"):
        (tree / "bin" / applet).symlink_to("busybox")
    os.mknod(tree / "dev" / "console", 0o600 | 0o020000, os.makedev(5, 1))
    os.mknod(tree / "dev" / "null", 0o666 | 0o020000, os.makedev(1, 3))
    (tree / "init").write_text(init)
    (tree / "init").chmod(0o755)


DOM0_INIT = """#!/bin/sh
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in {modules}; do insmod /mod/$m.ko; done
o9p="trans=virtio,version=9p2000.L,msize=512000"
mount -t 9p -o $o9p,ro,cache=loose hostroot /lower || poweroff -f
mount -t tmpfs -o size=1g tmpfs /upper; mkdir -p /upper/u /upper/w
mount -t overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w overlay /newroot \
  || poweroff -f
for a in $(cat /proc/cmdline); do case $a in vmrun.out=*) OUT=${{a#vmrun.out=}};; esac; done
mkdir -p /newroot$OUT && mount -t 9p -o $o9p vmout /newroot$OUT
mount --move /proc /newroot/proc; mount --move /sys /newroot/sys; mount --move /dev /newroot/dev
exec switch_root /newroot /bin/sh $OUT/stage2.sh
"""

DOMU_INIT = """#!/bin/sh
# a test guest: with xt.ip=CIDR on its command line it brings up its netfront eth0 with that
# address and pings every xt.ping= peer once a second, printing PING-OK/PING-FAIL lines on
# its console (xenconsoled logs them in dom0)
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys
IP=; PEERS=
for a in $(cat /proc/cmdline); do case $a in
  xt.ip=*) IP=${a#xt.ip=};; xt.ping=*) PEERS="$PEERS ${a#xt.ping=}";; esac; done
echo "xapictl test domU is up"
if [ -n "$IP" ]; then
  insmod /mod/xen-netfront.ko
  ip link set eth0 up && ip addr add "$IP" dev eth0 && echo "NET-UP $IP"
  while :; do
    for p in $PEERS; do
      if ping -c 1 -W 1 "$p" >/dev/null 2>&1; then echo "PING-OK $p"; else echo "PING-FAIL $p"; fi
    done
    sleep 1
  done
fi
while :; do sleep 60; done
"""

STAGE2 = """#!/bin/sh
OUT=$(dirname "$0")
for a in $(cat /proc/cmdline); do case $a in vmrun.mods=*) MODS=${a#vmrun.mods=};; esac; done
mount -t tmpfs tmpfs /run
mkdir -p /dev/pts /dev/shm /run/netns /run/lock
mount -t devpts devpts /dev/pts; mount -t tmpfs tmpfs /dev/shm
mkdir -p /lib/modules && ln -sfn "$MODS" /lib/modules/$(uname -r)
echo 1 > /proc/sys/kernel/printk
ip link set lo up
/bin/sh "$OUT/job.sh" < /dev/console > /dev/console 2>&1
echo $? > "$OUT/rc"
sync
echo o > /proc/sysrq-trigger
exec >/dev/null 2>&1; while :; do sleep 1; done
"""


def _copy_modules(moddir: Path, names: list[str], into: Path) -> None:
    for name in names:
        found = list(moddir.rglob(f"{name}.ko")) or list(
            moddir.rglob(f"{name.replace('_', '-')}.ko"))
        if not found:
            raise XenTierError(f"module {name} not in {moddir}")
        shutil.copy(found[0], into / f"{name}.ko")


def build_ramdisks(kroot: Path, version: str) -> tuple[Path, Path]:
    """(dom0 initramfs with virtio/9p/overlay, the domU's busybox ramdisk with netfront)."""
    cache = cache_dir()
    stamp = hashlib.sha256(DOMU_INIT.encode()).hexdigest()[:8]  # a new init, a new image
    dom0_img = cache / f"dom0-initrd-{version}.cpio"
    domu_img = cache / f"domu-initrd-{version}-{stamp}.cpio"
    moddir = kroot / "lib" / "modules" / version
    if not dom0_img.exists():
        with tempfile.TemporaryDirectory() as tmp:
            tree = Path(tmp)
            _busybox_tree(tree, DOM0_INIT.format(modules=" ".join(INITRD_MODULES)))
            _copy_modules(moddir, INITRD_MODULES, tree / "mod")
            _cpio(tree, dom0_img)
    if not domu_img.exists():
        with tempfile.TemporaryDirectory() as tmp:
            _busybox_tree(Path(tmp), DOMU_INIT)
            _copy_modules(moddir, ["xen-netfront"], Path(tmp) / "mod")
            _cpio(Path(tmp), domu_img)
    return dom0_img, domu_img


def precompile() -> None:
    """Bytecode for xapictl in its __pycache__ (git ignores it), compiled on the host: dom0
    reads it through 9p instead of compiling every module under QEMU's emulation (the host
    environment may carry PYTHONDONTWRITEBYTECODE, and then no test run left any). The
    standard library and the venv's packages ship theirs."""
    _run([sys.executable, "-m", "compileall", "-q", str(HERE.parents[1] / "xapictl")])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_in_dom0(command: list[str], *, timeout: float = 1500,
                env: dict[str, str] | None = None) -> int:
    """Boot Xen + PV dom0 under QEMU TCG, run ``command`` in dom0 (cwd and environment kept,
    plus XEN_TIER_* paths), stream the console, return the command's status."""
    ensure_host_tools()
    kroot, version = fetch_kernel()
    xenroot, hypervisor = fetch_xen()
    dom0_img, domu_img = build_ramdisks(kroot, version)
    vmlinuz = kroot / "boot" / f"vmlinuz-{version}"
    for p in (vmlinuz, dom0_img, hypervisor):
        if "," in str(p):
            raise XenTierError(f"{p}: QEMU's multiboot loader cannot take paths with commas")
    precompile()
    out = Path(tempfile.mkdtemp(prefix="xapictl-xen-", dir="/tmp"))
    try:
        (out / "stage2.sh").write_text(STAGE2)
        job_env = {**os.environ, **(env or {}), "XEN_TIER_XENROOT": str(xenroot),
                   "XEN_TIER_KERNEL": str(vmlinuz), "XEN_TIER_DOMU_RAMDISK": str(domu_img),
                   "XEN_TIER_OUT": str(out),
                   # dom0 copies the guests' images out of 9p and checks them against these
                   "XEN_TIER_KERNEL_SHA256": _sha256(vmlinuz),
                   "XEN_TIER_DOMU_RAMDISK_SHA256": _sha256(domu_img)}
        lines = ["#!/bin/sh"]
        lines += [f"export {k}={shlex.quote(v)}" for k, v in job_env.items() if k.isidentifier()]
        lines.append(f"cd {shlex.quote(os.getcwd())}")
        lines.append("exec " + " ".join(shlex.quote(c) for c in command))
        (out / "job.sh").write_text("\n".join(lines) + "\n")
        mods = kroot / "lib" / "modules" / version
        qemu = [
            "qemu-system-x86_64", "-M", "pc", "-accel", "tcg,thread=multi",
            "-cpu", "max,-smap,-smep", "-smp", "2", "-m", "2048", "-nographic", "-nodefaults",
            "-no-reboot", "-serial", "stdio", "-kernel", str(hypervisor),
            "-append", "console=com1 com1=115200,8n1 dom0_mem=768M,max:768M loglvl=warning",
            "-initrd", f"{vmlinuz} console=hvc0 quiet panic=-1 vmrun.out={out}"
            f" vmrun.mods={mods},{dom0_img}",
            "-fsdev", "local,id=fs0,path=/,security_model=none,readonly=on,multidevs=remap",
            "-device", "virtio-9p-pci,fsdev=fs0,mount_tag=hostroot",
            "-fsdev", f"local,id=fs1,path={out},security_model=none",
            "-device", "virtio-9p-pci,fsdev=fs1,mount_tag=vmout",
            # dom0's uplink NIC (eth0): QEMU's user networking, restricted: the guest
            # reaches QEMU's gateway 10.0.2.2 and nothing beyond it, host included
            "-netdev", "user,id=n0,restrict=on,ipv6=off,net=10.0.2.0/24",
            "-device", f"virtio-net-pci,netdev=n0,mac={DOM0_MAC}",
        ]
        try:
            subprocess.run(qemu, stdin=subprocess.DEVNULL, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise XenTierError(f"Xen under QEMU did not finish within {timeout:.0f} s") from exc
        rc = out / "rc"
        if not rc.exists():
            raise XenTierError("QEMU exited without the job's status: Xen or dom0 failed to"
                               " boot (see the console output above)")
        return int(rc.read_text().strip() or "125")
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(run_in_dom0(sys.argv[1:] or ["true"]))
    except XenTierError as err:
        print(f"Xen tier: {err}", file=sys.stderr)
        sys.exit(2)
