"""A loopback-only network namespace for media tests (../shared/MEDIA.md).

Chromium gathers ICE candidates on every interface and Janus skips loopback-flagged
interfaces, so media tests run inside a namespace of their own whose only interfaces are
``lo`` and a veth pair (both ends inside) carrying 127.0.0.2/8, with IPv6 off and no route
but 127/8: a packet cannot leave it. ``create`` makes one with a unique name, ``remove``
always deletes it, ``check_sealed`` asserts the routing facts above, and ``counters`` reads
per-interface packet counts so a test can show no packet went anywhere but loopback/veth.
"""

from __future__ import annotations

import atexit
import ipaddress
import json
import os
import shutil
import subprocess
import uuid

PREFIX = "practica-media-"
JANUS_ADDRESS = "127.0.0.2"  # on the veth end vA: what Janus's ice_enforce_list names
ENV_NAME = "PRACTICA_NETNS"  # set inside: the namespace the process runs in


class NetnsUnavailable(RuntimeError):
    """This machine cannot make network namespaces (not root, no `ip`)."""


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check,
                          timeout=20)


def run_in(name: str, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command inside the namespace."""
    return _ip("netns", "exec", name, *command, check=check)


def unavailable_reason() -> str | None:
    """Why namespaces cannot be made here, or None."""
    if shutil.which("ip") is None:
        return "no `ip` command (iproute2)"
    if os.geteuid() != 0:
        return "not root: `ip netns add` needs CAP_SYS_ADMIN"
    return None


def inside() -> str | None:
    """The namespace this process was started in by the harness, or None."""
    return os.environ.get(ENV_NAME) or None


def _owner_alive(name: str) -> bool:
    try:
        pid = int(name[len(PREFIX):].split("-")[0])
    except ValueError:
        return False
    return os.path.exists(f"/proc/{pid}")


def sweep_stale() -> list[str]:
    """Delete namespaces a crashed earlier run left behind (their owner pid is gone)."""
    removed = []
    listing = _ip("netns", "list", check=False).stdout.split("\n")
    for line in listing:
        name = line.split(" ")[0].strip()
        if name.startswith(PREFIX) and not _owner_alive(name):
            _ip("netns", "del", name, check=False)
            removed.append(name)
    return removed


def create() -> str:
    """A fresh sealed namespace; removed at exit even if the caller forgets."""
    reason = unavailable_reason()
    if reason:
        raise NetnsUnavailable(reason)
    sweep_stale()
    name = f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    _ip("netns", "add", name)
    atexit.register(remove, name)
    try:
        run_in(name, "ip", "link", "set", "lo", "up")
        run_in(name, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1")
        run_in(name, "sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1")
        run_in(name, "ip", "link", "add", "vA", "type", "veth", "peer", "name", "vB")
        run_in(name, "ip", "addr", "add", f"{JANUS_ADDRESS}/8", "dev", "vA")
        run_in(name, "ip", "link", "set", "vA", "up")
        run_in(name, "ip", "link", "set", "vB", "up")
        check_sealed(name)
    except BaseException:
        remove(name)
        raise
    return name


def remove(name: str) -> None:
    """Delete the namespace (idempotent); its veth pair goes with it."""
    _ip("netns", "del", name, check=False)


def exists(name: str) -> bool:
    listing = _ip("netns", "list", check=False).stdout
    return any(line.split(" ")[0] == name for line in listing.splitlines())


def check_sealed(name: str) -> None:
    """Assert every address is in 127/8, every route points into 127/8, and no IPv6."""
    addresses = json.loads(run_in(name, "ip", "-j", "addr", "show").stdout)
    interfaces = sorted(a["ifname"] for a in addresses)
    if interfaces != ["lo", "vA", "vB"]:
        raise AssertionError(f"unexpected interfaces in {name}: {interfaces}")
    loopback = ipaddress.ip_network("127.0.0.0/8")
    for link in addresses:
        for info in link.get("addr_info", []):
            if info["family"] != "inet" or ipaddress.ip_address(info["local"]) not in loopback:
                raise AssertionError(f"non-loopback address in {name}: {info}")
    for table in ("main", "local"):
        routes = json.loads(run_in(name, "ip", "-j", "route", "show", "table", table).stdout)
        for route in routes:
            dst = route["dst"]
            if dst == "default" or not ipaddress.ip_network(dst, strict=False).subnet_of(
                    loopback):
                raise AssertionError(f"route out of loopback in {name}: {route}")
    ipv6 = run_in(name, "sysctl", "-n", "net.ipv6.conf.all.disable_ipv6").stdout.strip()
    if ipv6 != "1":
        raise AssertionError(f"IPv6 is on in {name}")


def counters(name: str) -> dict[str, dict[str, int]]:
    """Packets sent/received per interface inside the namespace."""
    stats = json.loads(run_in(name, "ip", "-j", "-s", "link", "show").stdout)
    return {link["ifname"]: {"tx": int(link["stats64"]["tx"]["packets"]),
                             "rx": int(link["stats64"]["rx"]["packets"])}
            for link in stats}
