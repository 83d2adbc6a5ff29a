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
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = "user-mode-linux"
# Debian 12's UML 6.1 dies at init on CPUs with AMX; the fix is in newer kernels (7.2 in sid
# works here, trixie's 6.12 does not). harness.py falls back to this suite when 6.1 fails.
FALLBACK_SUITE = os.environ.get("XAPICTL_UML_FALLBACK_SUITE", "sid")
MIRROR = os.environ.get("XAPICTL_UML_MIRROR", "http://deb.debian.org/debian")
HOST_INTERP = b"/lib64/ld-linux-x86-64.so.2\0"
LOADER = "ld-uml.so"


class UmlUnsupported(RuntimeError):
    """UML boots but cannot run a single program on this host (its init dies of SIGSEGV
    before doing anything): a property of the host, not of the code under test."""


class UmlError(RuntimeError):
    """The UML kernel could not be fetched, unpacked or booted."""


@dataclass(frozen=True)
class Kernel:
    """An unpacked UML kernel: the binary, its module tree, the directory it starts in, and
    the C library it needs when that is not the host's (None: the host's)."""

    binary: Path
    modules: Path
    home: Path
    libs: Path | None

    @property
    def version(self) -> str:
        return self.modules.name


def cache_dir() -> Path:
    return Path(os.environ.get("XAPICTL_UML_CACHE", "~/.cache/xapictl-uml")).expanduser()


def _run(cmd: list[str], cwd: Path) -> None:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise UmlError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()}")


def fetch(suite: str | None = None) -> Kernel:
    """The kernel of ``suite`` (None: ``$XAPICTL_UML_SUITE``, empty for the host's own apt
    sources), downloading and unpacking it if needed."""
    suite = os.environ.get("XAPICTL_UML_SUITE", "") if suite is None else suite
    if suite:
        return _fetch_suite(suite)
    cache = cache_dir()
    kernel = cache / "usr" / "bin" / "linux.uml"
    if not kernel.exists():
        _need_apt()
        cache.mkdir(parents=True, exist_ok=True)
        try:
            _run(["apt-get", "download", PACKAGE], cache)
        except UmlError:
            _run(["apt-get", "update"], cache)  # stale package lists: refresh once
            _run(["apt-get", "download", PACKAGE], cache)
        _unpack(cache, PACKAGE)
        if not kernel.exists():
            raise UmlError(f"{PACKAGE} has no usr/bin/linux.uml")
    return Kernel(kernel, _modules(cache), cache, None)


def _need_apt() -> None:
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise UmlError(f"{tool} not found: the UML tier needs a Debian-family host")


def _unpack(cache: Path, *packages: str) -> None:
    """dpkg-deb -x each downloaded package into ``cache``, then delete the .deb files."""
    for package in packages:
        debs = sorted(cache.glob(f"{package}_*.deb"))
        if not debs:
            raise UmlError(f"apt-get download {package} left no .deb in {cache}")
        _run(["dpkg-deb", "-x", str(debs[-1]), "."], cache)
        for deb in debs:
            deb.unlink()


def _modules(cache: Path) -> Path:
    mods = sorted((cache / "usr" / "lib" / "uml" / "modules").glob("*"))
    if not mods:
        raise UmlError(f"no module tree under {cache}/usr/lib/uml/modules")
    return mods[-1]


def _fetch_suite(suite: str) -> Kernel:
    """``user-mode-linux`` and the C library it was built against from another Debian suite
    (``$XAPICTL_UML_MIRROR``), through a private apt configuration in the cache: the host's
    apt sources and package state are not touched. The kernel binary's ELF interpreter is
    pointed at that suite's loader (``LOADER``, relative: UML starts in the cache directory)
    and ``LD_LIBRARY_PATH`` at its libraries, so it runs on an older host C library."""
    cache = cache_dir() / f"suite-{suite}"
    kernel = cache / "usr" / "bin" / "linux.uml"
    libs = cache / "usr" / "lib" / "x86_64-linux-gnu"
    if not kernel.exists():
        _need_apt()
        apt = cache / "apt"
        (apt / "lists" / "partial").mkdir(parents=True, exist_ok=True)
        (apt / "cache" / "archives" / "partial").mkdir(parents=True, exist_ok=True)
        (apt / "sources.list").write_text(f"deb {MIRROR} {suite} main\n")
        opts = [f"-oDir::Etc::SourceList={apt / 'sources.list'}",
                "-oDir::Etc::SourceParts=/dev/null", f"-oDir::State::Lists={apt / 'lists'}",
                f"-oDir::Cache={apt / 'cache'}", "-oAPT::Sandbox::User=root"]
        _run(["apt-get", *opts, "update"], cache)
        _run(["apt-get", *opts, "download", PACKAGE, "libc6"], cache)
        shutil.rmtree(apt)
        _unpack(cache, PACKAGE, "libc6")
        (cache / LOADER).symlink_to(libs.relative_to(cache) / "ld-linux-x86-64.so.2")
        _set_interpreter(cache / "usr" / "bin" / "linux.uml")
    return Kernel(kernel, _modules(cache), cache, libs)


def _set_interpreter(binary: Path) -> None:
    """Rewrite PT_INTERP in place (the new path is shorter, so it fits)."""
    data = bytearray(binary.read_bytes())
    at = data.find(HOST_INTERP)
    if at < 0:
        raise UmlError(f"{binary} does not name {HOST_INTERP[:-1].decode()} as its loader")
    data[at:at + len(HOST_INTERP)] = LOADER.encode().ljust(len(HOST_INTERP), b"\0")
    binary.write_bytes(bytes(data))


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
    kernel = fetch()
    mods = kernel.modules
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
        cmd = [str(kernel.binary), f"mem={mem}", "root=/dev/root", "rootfstype=hostfs",
               "rootflags=/", "ro", "con=null", "con0=null,fd:1", "ssl=null", "quiet", "loglevel=1",
               f"init={out / 'init.sh'}"]
        uml_env = {**os.environ, "TMPDIR": "/dev/shm"}
        if kernel.libs is not None:
            uml_env["LD_LIBRARY_PATH"] = str(kernel.libs)
        try:
            booted = subprocess.run(cmd, stdin=subprocess.DEVNULL, timeout=timeout,
                                    check=False, capture_output=probe, text=True,
                                    env=uml_env, cwd=kernel.home)
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
