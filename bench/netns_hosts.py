"""The failover drill's hosts: one network namespace per host on this machine, each with its own
`lo` and one veth into a bridge that lives in a "switch" namespace of its own, so the root
namespace gets no new address, link or route. Addresses are in 10.87.0.0/24; nothing outside
the namespaces (and their loopbacks) is ever bound.

    wm-sw       the switch: bridge br0 and one veth end per host, no address
    wm-lb       10.87.0.2    HAProxy
    wm-web1     10.87.0.11   gunicorn
    wm-web2     10.87.0.12   gunicorn
    wm-worker   10.87.0.21   Celery worker and beat
    wm-db       10.87.0.31   PostgreSQL primary, PgBouncer
    wm-db2      10.87.0.32   PostgreSQL streaming replica (promoted on failover)
    wm-svc      10.87.0.41   redis-server, localstripe, moto_server (S3)
    wm-client   10.87.0.51   the people, the staff members, the drill's own checks

A process is put on a host with `ip netns exec wm-<host> ...` (Hosts.run_on). Teardown kills
every process left in each wm-* namespace (by pid, from `ip netns pids`) and deletes the
namespaces, which takes their veth ends with them; it runs from try/finally, atexit and the
signal handlers, and the same clean-up runs before building, for what a killed earlier run left.
"""

import atexit
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time

PREFIX = "wm-"
SUBNET = "10.87.0"
SWITCH = f"{PREFIX}sw"
BRIDGE = "br0"
LOCK = "/run/lock/waymark-scale-drill-hosts.lock"
HOSTS = {
    "lb": 2,
    "web1": 11,
    "web2": 12,
    "worker": 21,
    "db": 31,
    "db2": 32,
    "svc": 41,
    "client": 51,
}


PROBE = """
import socket, sys, time
deadline = time.monotonic() + float(sys.argv[1])
waiting = set(sys.argv[2:])
while waiting and time.monotonic() < deadline:
    for address in list(waiting):
        try:
            socket.create_connection((address, 9), timeout=0.5).close()
        except ConnectionRefusedError:
            waiting.discard(address)
        except OSError:
            time.sleep(0.1)
        else:
            waiting.discard(address)
print(" ".join(sorted(waiting)))
sys.exit(1 if waiting else 0)
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ip(*arguments: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *arguments], check=check, capture_output=True, text=True, timeout=30)


def unavailable() -> str | None:
    """Why namespaces cannot be made here, or None."""
    if sys.platform != "linux":
        return f"network namespaces are Linux's ({sys.platform} here)"
    if not shutil.which("ip"):
        return "no `ip` command (Debian's iproute2)"
    if os.geteuid() != 0:
        return "not root (ip netns needs CAP_SYS_ADMIN)"
    return None


def ours() -> list[str]:
    listing = ip("netns", "list", check=False).stdout
    return [line.split()[0] for line in listing.splitlines() if line.startswith(PREFIX)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def remove_all() -> list[str]:
    """Every wm-* namespace, with whatever still runs in it, and any wm-* link in the root
    namespace (a veth half-made by a run killed mid-build). Returns the namespaces removed."""
    names = ours()
    pids = []
    for name in names:
        pids += [int(p) for p in ip("netns", "pids", name, check=False).stdout.split()]
    pids = [pid for pid in pids if pid != os.getpid()]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        pids = [pid for pid in pids if _alive(pid)]
        if not pids:
            break
    for name in names:
        ip("netns", "del", name, check=False)
    for line in ip("-o", "link", "show", check=False).stdout.splitlines():
        link = line.split(":")[1].strip().split("@")[0]
        if link.startswith(PREFIX):
            ip("link", "del", link, check=False)
    return names


class Hosts:
    """The namespaces, their veths and the bridge. up() builds them (removing leftovers
    first); down() removes them, and is safe to call twice."""

    def __init__(self):
        self.addresses = {name: f"{SUBNET}.{number}" for name, number in HOSTS.items()}
        self.built = False

    @staticmethod
    def namespace(host: str) -> str:
        return f"{PREFIX}{host}"

    def run_on(self, host: str) -> list[str]:
        """The prefix that runs a command on `host`."""
        return ["ip", "netns", "exec", self.namespace(host)]

    def up(self) -> None:
        # One drill's hosts at a time: the names are fixed, and the start-up clean-up would kill
        # another run's servers. A second run waits for the first.
        self.lock = open(LOCK, "w")  # noqa: SIM115 - held until the process ends
        try:
            fcntl.flock(self.lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"another drill holds {LOCK}: waiting for it to finish")
            fcntl.flock(self.lock, fcntl.LOCK_EX)
        left = remove_all()
        if left:
            log(f"removed namespaces an earlier run left: {', '.join(left)}")
        self.built = True
        atexit.register(self.down)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            # SystemExit unwinds the caller's try/finally, which calls down().
            signal.signal(sig, lambda number, _frame: sys.exit(128 + number))
        ip("netns", "add", SWITCH)
        ip("-n", SWITCH, "link", "set", "lo", "up")
        ip("-n", SWITCH, "link", "add", BRIDGE, "type", "bridge")
        ip("-n", SWITCH, "link", "set", BRIDGE, "up")
        for host, address in self.addresses.items():
            namespace = self.namespace(host)
            ip("netns", "add", namespace)
            # Made inside the switch, the other end moved straight into the host: no end ever
            # appears in the root namespace.
            port = f"p-{host}"
            ip("-n", SWITCH, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", namespace)
            ip("-n", SWITCH, "link", "set", port, "master", BRIDGE, "up")
            ip("-n", namespace, "link", "set", "lo", "up")
            ip("-n", namespace, "addr", "add", f"{address}/24", "dev", "eth0")
            ip("-n", namespace, "link", "set", "eth0", "up")
        self.wait_reachable()

    def wait_reachable(self, seconds: float = 10) -> None:
        """Until the client reaches every other host (the bridge forwards once its ports are
        up): a TCP connection to a closed port is refused at once by a host that is there."""
        others = [a for h, a in self.addresses.items() if h != "client"]
        probe = subprocess.run(
            [*self.run_on("client"), sys.executable, "-c", PROBE, str(seconds), *others],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode != 0:
            raise RuntimeError(f"the client cannot reach {probe.stdout.strip() or probe.stderr.strip()}")

    def down(self) -> None:
        if not self.built:
            return
        self.built = False
        removed = remove_all()
        self.lock.close()  # releases the flock
        left = ours()
        log(f"hosts removed: {len(removed)} namespaces" + (f"; STILL PRESENT: {', '.join(left)}" if left else ""))

    def describe(self) -> list[str]:
        return [f"{self.namespace(h)} {a}" for h, a in self.addresses.items()]
