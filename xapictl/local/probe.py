"""Connectivity probe in pure Python: ICMP echo over a raw socket opened inside the
namespace (no ``ping`` binary: build machines have none), and a paced pinger for tests.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import select
import signal
import socket
import struct
import time
from collections.abc import Callable

from xapictl._frozen import Frozen, frozen
from xapictl.local.netlink import socket_in_netns

__all__ = ["PingResult", "ping", "reachable"]


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return int(~total & 0xFFFF)


def _echo(ident: int, seq: int, v6: bool) -> bytes:
    kind = 128 if v6 else 8
    payload = b"xapictl-probe"
    header = struct.pack("!BBHHH", kind, 0, 0, ident, seq)
    if v6:  # the kernel fills the ICMPv6 checksum (it needs the pseudo-header)
        return header + payload
    csum = _checksum(header + payload)
    return struct.pack("!BBHHH", kind, 0, csum, ident, seq) + payload


def _reply(packet: bytes, ident: int, v6: bool) -> int | None:
    """The sequence number of an echo reply meant for us, else None."""
    if not v6:
        packet = packet[(packet[0] & 0x0F) * 4:]  # raw IPv4 sockets include the IP header
    if len(packet) < 8:
        return None
    kind, _, _, rid, seq = struct.unpack("!BBHHH", packet[:8])
    if kind == (129 if v6 else 0) and rid == ident:
        return int(seq)
    return None


@frozen
class PingResult(Frozen):
    """``started``/``finished`` are CLOCK_MONOTONIC readings: comparable across processes."""

    target: str
    sent: int
    received: int
    started: float = 0.0
    finished: float = 0.0

    @property
    def lost(self) -> int:
        return self.sent - self.received


def ping(target: str, *, netns: str | None = None, count: int = 3, interval: float = 0.2,
         timeout: float = 1.0, enough: int | None = None,
         stop: Callable[[], bool] | None = None,
         on_first_echo: Callable[[], None] | None = None) -> PingResult:
    """Send ``count`` echoes ``interval`` s apart; wait ``timeout`` s after the last.

    With ``enough``, stop as soon as that many replies are in (a probe needs just one). With
    ``stop``, send no more echoes once it returns True (then wait for the replies as usual):
    a test's pinger runs until the change it watches is over, however long that takes.
    ``on_first_echo`` is called once the first echo is on its way (``started`` is already
    read), so whoever waits for it knows the pinger's window has begun."""
    v6 = ":" in target
    sock = socket_in_netns(
        netns, socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW,
        socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP,
    )
    ident = (os.getpid() ^ id(sock)) & 0xFFFF
    replies: set[int] = set()
    sent = 0
    try:
        start = time.monotonic()
        while True:
            now = time.monotonic()
            if stop is not None and sent < count and sent > 0 and stop():
                count = sent  # the last echo is the one already sent
            if sent < count and now >= start + sent * interval:
                with contextlib.suppress(OSError):  # no route yet: counts as lost
                    sock.sendto(_echo(ident, sent & 0xFFFF, v6), (target, 0))
                sent += 1
                if sent == 1 and on_first_echo is not None:
                    on_first_echo()
                continue
            deadline = (start + sent * interval) if sent < count else (
                start + (count - 1) * interval + timeout)
            if enough is not None and len(replies) >= enough:
                break
            if sent >= count and (now >= deadline or len(replies) >= count):
                break
            wait = max(0.0, deadline - now)
            if stop is not None and sent < count:
                wait = min(wait, interval)  # look at ``stop`` between echoes
            ready, _, _ = select.select([sock], [], [], wait)
            if ready:
                seq = _reply(sock.recv(2048), ident, v6)
                if seq is not None:
                    replies.add(seq)
    finally:
        sock.close()
    return PingResult(target, sent, len(replies), start, time.monotonic())


def reachable(target: str, *, netns: str | None = None, attempts: int = 3,
              timeout: float = 1.0) -> bool:
    """True once any echo of ``attempts`` comes back."""
    return ping(target, netns=netns, count=attempts, interval=0.1, timeout=timeout,
                enough=1).received > 0


def main(argv: list[str] | None = None) -> int:
    """``python -m xapictl.local.probe [--netns NS] [--count N] [--interval S] TARGET``:
    prints a JSON result (used by the tests' pinger namespace)."""
    parser = argparse.ArgumentParser(prog="xapictl-probe")
    parser.add_argument("target")
    parser.add_argument("--netns")
    parser.add_argument("--count", type=int, default=3)
    parser.add_argument("--interval", type=float, default=0.2)
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("--announce", action="store_true",
                        help="print 'ready' once the first echo is sent (for tests)")
    parser.add_argument("--until-sigterm", action="store_true",
                        help="send echoes (up to --count) until SIGTERM, then wait for the "
                             "replies and print the result (for tests)")
    args = parser.parse_args(argv)
    stopped: list[bool] = []
    if args.until_sigterm:
        signal.signal(signal.SIGTERM, lambda _signum, _frame: stopped.append(True))
    def announce() -> None:
        print("ready", flush=True)

    result = ping(args.target, netns=args.netns, count=args.count, interval=args.interval,
                  timeout=args.timeout, stop=(lambda: bool(stopped)) if args.until_sigterm
                  else None, on_first_echo=announce if args.announce else None)
    print(json.dumps({"target": result.target, "sent": result.sent,
                      "received": result.received, "started": result.started,
                      "finished": result.finished}))
    return 0 if result.received else 1


if __name__ == "__main__":
    raise SystemExit(main())
