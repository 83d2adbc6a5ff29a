"""The real-kernel tier: fetch Debian's User-Mode Linux kernel, boot it with the host's `/`
visible read-only (writes go to a tmpfs overlay), run one command inside, return its status.

KERNEL-VM.md route 1. Nothing is installed: ``apt-get download`` + ``dpkg-deb -x`` into a
cache (``XAPICTL_UML_CACHE``, default ~/.cache/xapictl-uml). Every failure to fetch or boot
raises ``UmlError`` with what went wrong: this tier must never pass by not running.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = "user-mode-linux"


class UmlUnsupported(RuntimeError):
    """UML boots but cannot run a single program on this host (its init dies of SIGSEGV
    before doing anything): a property of the host, not of the code under test."""


class UmlError(RuntimeError):
    """The UML kernel could not be fetched, unpacked or booted."""


def cache_dir() -> Path:
    return Path(os.environ.get("XAPICTL_UML_CACHE", "~/.cache/xapictl-uml")).expanduser()


def _run(cmd: list[str], cwd: Path) -> None:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise UmlError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()}")


def fetch() -> tuple[Path, Path]:
    """(linux.uml, module dir), downloading and unpacking the Debian package if needed."""
    cache = cache_dir()
    kernel = cache / "usr" / "bin" / "linux.uml"
    if not kernel.exists():
        for tool in ("apt-get", "dpkg-deb"):
            if shutil.which(tool) is None:
                raise UmlError(f"{tool} not found: the UML tier needs a Debian-family host")
        cache.mkdir(parents=True, exist_ok=True)
        try:
            _run(["apt-get", "download", PACKAGE], cache)
        except UmlError:
            _run(["apt-get", "update"], cache)  # stale package lists: refresh once
            _run(["apt-get", "download", PACKAGE], cache)
        debs = sorted(cache.glob(f"{PACKAGE}_*.deb"))
        if not debs:
            raise UmlError(f"apt-get download {PACKAGE} left no .deb in {cache}")
        _run(["dpkg-deb", "-x", str(debs[-1]), "."], cache)
        for deb in debs:
            deb.unlink()
        if not kernel.exists():
            raise UmlError(f"{debs[-1].name} has no usr/bin/linux.uml")
    mods = sorted((cache / "usr" / "lib" / "uml" / "modules").glob("*"))
    if not mods:
        raise UmlError(f"no module tree under {cache}/usr/lib/uml/modules")
    return kernel, mods[-1]


INIT = """#!/bin/sh
# PID 1 inside UML: overlay a tmpfs on the read-only host root, then chroot (KERNEL-VM.md)
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -n -t proc proc /proc; mount -n -t sysfs sys /sys
mountpoint -q /dev || mount -t devtmpfs dev /dev
OUT={out}; MODS={mods}
mount -n -t tmpfs -o size=2g tmpfs /mnt; mkdir -p /mnt/u /mnt/w /mnt/r
{python} {modprobe} "$MODS" overlay || echo "uml-init: cannot load overlay"
mount -n -t overlay -o lowerdir=/,upperdir=/mnt/u,workdir=/mnt/w overlay /mnt/r \
  || {{ echo "uml-init: overlay mount failed"; echo o > /proc/sysrq-trigger; }}
mount -n -t hostfs -o "$OUT" none /mnt/r$OUT
for d in {shared}; do mount -n -t hostfs -o "$d" none "/mnt/r$d"; done
mount -n --move /proc /mnt/r/proc; mount -n --move /sys /mnt/r/sys; mount -n --move /dev /mnt/r/dev
exec chroot /mnt/r /bin/sh "$OUT/stage2.sh"
"""

STAGE2 = """#!/bin/sh
OUT=$(dirname "$0")
mount -t tmpfs tmpfs /run
mkdir -p /dev/pts /dev/shm /run/netns
mount -t devpts devpts /dev/pts; mount -t tmpfs tmpfs /dev/shm
echo 1 > /proc/sys/kernel/printk
ip link set lo up
/bin/sh "$OUT/job.sh" < /dev/console > /dev/console 2>&1
echo $? > "$OUT/rc"
sync
echo o > /proc/sysrq-trigger
exec >/dev/null 2>&1; while :; do sleep 1; done
"""


INIT_SEGFAULT = "Attempted to kill init! exitcode=0x0000000b"


def _cpu_hint() -> str:
    """Seen on hosts whose CPU has AMX (a larger XSAVE state than UML 6.1 expects)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""
    return "; this host's CPU has AMX (amx_tile), where UML 6.1 was seen to fail so" \
        if "amx_tile" in flags else ""


def run(command: list[str], *, modules: tuple[str, ...] = (), timeout: float = 900,
        mem: str = "1024M", env: dict[str, str] | None = None, probe: bool = False,
        shared: tuple[Path, ...] = ()) -> int:
    """Boot UML, load ``modules``, run ``command`` in the current directory with the current
    environment (plus ``env``); stream its output; return its exit status. With ``probe``
    the console is captured, and an init killed by SIGSEGV raises ``UmlUnsupported``.
    ``shared`` host directories are mounted writable at the same paths (everything else
    the job writes is on a tmpfs overlay, gone when UML powers off): what a reboot keeps."""
    kernel, mods = fetch()
    out = Path(tempfile.mkdtemp(prefix="xapictl-uml-", dir="/tmp"))
    try:
        python = sys.executable
        modprobe = HERE / "uml_modprobe.py"
        (out / "init.sh").write_text(INIT.format(
            out=out, mods=mods, python=python, modprobe=modprobe,
            shared=" ".join(shlex.quote(str(d)) for d in shared)))
        (out / "stage2.sh").write_text(STAGE2)
        job_env = {**os.environ, **(env or {})}
        lines = ["#!/bin/sh"]
        lines += [f"export {k}={shlex.quote(v)}" for k, v in job_env.items()
                  if k.isidentifier()]
        lines.append(f"cd {shlex.quote(os.getcwd())}")
        if modules:
            lines.append(f"{python} {modprobe} {mods} {' '.join(modules)} || exit 97")
        lines.append("exec " + " ".join(shlex.quote(c) for c in command))
        (out / "job.sh").write_text("\n".join(lines) + "\n")
        for f in ("init.sh", "stage2.sh", "job.sh"):
            (out / f).chmod(0o755)
        cmd = [str(kernel), f"mem={mem}", "root=/dev/root", "rootfstype=hostfs", "rootflags=/",
               "ro", "con=null", "con0=null,fd:1", "ssl=null", "quiet", "loglevel=1",
               f"init={out / 'init.sh'}"]
        try:
            booted = subprocess.run(cmd, stdin=subprocess.DEVNULL, timeout=timeout,
                                    check=False, capture_output=probe, text=True,
                                    env={**os.environ, "TMPDIR": "/dev/shm"})
        except subprocess.TimeoutExpired as exc:
            raise UmlError(f"UML did not finish within {timeout:.0f} s") from exc
        rc_file = out / "rc"
        if probe and not rc_file.exists() and INIT_SEGFAULT in (booted.stdout or ""):
            raise UmlUnsupported(
                "User-Mode Linux starts, but its first program (/bin/sh as init) is killed "
                f"by SIGSEGV before running a line ({INIT_SEGFAULT!r}){_cpu_hint()}")
        if probe and not rc_file.exists():
            sys.stdout.write(booted.stdout or "")
        if not rc_file.exists():
            raise UmlError("UML exited without the job's status: the kernel or init failed"
                           " (see the console output above)")
        return int(rc_file.read_text().strip() or "125")
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(run(sys.argv[1:] or ["true"]))
    except UmlError as err:
        print(f"UML tier: {err}", file=sys.stderr)
        sys.exit(2)
