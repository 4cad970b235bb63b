"""WAN delay line: a TUN device that gives back every IPv4 packet after a one-way delay, with
jitter and a bandwidth limit — what ``tc qdisc netem`` would do, on kernels without netem.

The router namespace (tools/bootstrap/wan.sh) sends every packet arriving from a site host into
the TUN device by policy routing (``ip rule iif <site link> lookup <table>``, table default dev
tun); what this program writes back re-enters the namespace from the TUN device and is routed by
the main table to the other site. One FIFO per destination /24 (per direction): a packet leaves
the link when the link is free (bandwidth: size / rate after the previous one) and arrives
``delay ± jitter`` later, never before the packet ahead of it (no reordering, as on one link).

Settings: a JSON file ``{"delay_ms": 5, "jitter_ms": 0, "rate_mbit": 0, "partition": false}``
(rate 0 = unlimited), re-read on SIGHUP; ``partition`` drops every packet (a cut link).
Counters (packets passed, dropped) go to the log on SIGUSR1 and at exit.

    python3 delayline.py --dev wan0 --settings /path/settings.json
"""

from __future__ import annotations

import argparse
import collections
import fcntl
import heapq
import json
import logging
import os
import random
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
QUEUE_LIMIT = 10_000  # packets per direction, then tail drop (netem's default limit is 1000)
log = logging.getLogger("delayline")


class Settings:
    def __init__(self, delay_ms: float = 5.0, jitter_ms: float = 0.0, rate_mbit: float = 0.0,
                 partition: bool = False) -> None:
        if delay_ms < 0 or jitter_ms < 0 or rate_mbit < 0 or jitter_ms > delay_ms:
            raise ValueError(f"delay_ms, jitter_ms, rate_mbit must be >= 0 and jitter_ms <= delay_ms "
                             f"(got {delay_ms}, {jitter_ms}, {rate_mbit})")
        self.delay, self.jitter = delay_ms / 1000, jitter_ms / 1000
        self.byte_time = 8 / (rate_mbit * 1e6) if rate_mbit else 0.0
        self.partition = bool(partition)

    @classmethod
    def load(cls, path: str) -> "Settings":
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
        unknown = set(raw) - {"delay_ms", "jitter_ms", "rate_mbit", "partition"}
        if unknown:
            raise ValueError(f"{path}: unknown settings {sorted(unknown)}")
        return cls(**raw)

    def sentence(self) -> str:
        rate = f"{8 / self.byte_time / 1e6:g} Mbit/s" if self.byte_time else "unlimited"
        return (f"one-way delay {self.delay * 1000:g} ms ± {self.jitter * 1000:g} ms, rate {rate}"
                + (", PARTITIONED" if self.partition else ""))


def open_tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


class Link:
    """The queues of the link; ``due`` holds (release time, sequence, packet) for all directions."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.free_at: dict[bytes, float] = collections.defaultdict(float)  # direction -> link free from
        self.last_out: dict[bytes, float] = collections.defaultdict(float)  # direction -> last release
        self.queued: dict[bytes, int] = collections.defaultdict(int)
        self.due: list[tuple[float, int, bytes, bytes]] = []
        self.seq = 0
        self.passed = self.dropped = 0

    def accept(self, packet: bytes, now: float) -> None:
        s = self.settings
        if s.partition or len(packet) < 20 or packet[0] >> 4 != 4:
            self.dropped += 1
            return
        direction = packet[16:19]  # destination /24
        if self.queued[direction] >= QUEUE_LIMIT:
            self.dropped += 1
            return
        start = max(now, self.free_at[direction])
        sent = start + len(packet) * s.byte_time
        self.free_at[direction] = sent
        release = sent + s.delay + (random.uniform(-s.jitter, s.jitter) if s.jitter else 0.0)
        release = max(release, self.last_out[direction])
        self.last_out[direction] = release
        self.seq += 1
        self.queued[direction] += 1
        heapq.heappush(self.due, (release, self.seq, direction, packet))

    def release(self, now: float, write) -> float | None:
        """Write every packet due by ``now``; return the seconds until the next one (None: empty)."""
        while self.due and self.due[0][0] <= now:
            _t, _s, direction, packet = heapq.heappop(self.due)
            self.queued[direction] -= 1
            if self.settings.partition:
                self.dropped += 1
                continue
            try:
                write(packet)
                self.passed += 1
            except BlockingIOError:
                self.dropped += 1
        return (self.due[0][0] - now) if self.due else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dev", required=True, help="TUN device name")
    ap.add_argument("--settings", required=True, help="JSON settings file (re-read on SIGHUP)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s delayline %(message)s", stream=sys.stderr)
    link = Link(Settings.load(args.settings))
    fd = open_tun(args.dev)
    flags = {"reload": False, "report": False, "stop": False}
    # a signal must wake the select at once: with an empty queue it waits without a timeout, and a
    # reload seen only with the next packet would let that packet cross with the old settings
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGHUP, lambda *_: flags.__setitem__("reload", True))
    signal.signal(signal.SIGUSR1, lambda *_: flags.__setitem__("report", True))
    signal.signal(signal.SIGTERM, lambda *_: flags.__setitem__("stop", True))
    log.info("device %s up: %s", args.dev, link.settings.sentence())
    write = lambda p: os.write(fd, p)  # noqa: E731
    wait: float | None = None
    while not flags["stop"]:
        try:
            readable, _, _ = select.select([fd, wake_r], [], [], wait)
        except InterruptedError:
            readable = []
        if wake_r in readable:
            while True:
                try:
                    if not os.read(wake_r, 512):
                        break
                except BlockingIOError:
                    break
        if flags["reload"]:
            flags["reload"] = False
            try:
                link.settings = Settings.load(args.settings)
                log.info("settings reloaded: %s", link.settings.sentence())
            except (OSError, ValueError) as exc:
                log.error("settings not reloaded, keeping %s: %s", link.settings.sentence(), exc)
        now = time.monotonic()
        if fd in readable:
            for _ in range(256):  # drain a burst, then release what is due
                try:
                    link.accept(os.read(fd, 65536), now)
                except BlockingIOError:
                    break
        wait = link.release(time.monotonic(), write)
        if flags["report"]:
            flags["report"] = False
            log.info("passed %d, dropped %d, queued %d", link.passed, link.dropped, len(link.due))
    log.info("stopping: passed %d, dropped %d", link.passed, link.dropped)
    return 0


if __name__ == "__main__":
    sys.exit(main())
