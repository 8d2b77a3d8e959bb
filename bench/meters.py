"""What each part of a deployment spends during one phase of a bench (the joins,
the vote burst), for bench/vote_load.py: CPU and RSS of every server process
(the supervisor of ``serve --workers N``, each web process, a theming worker),
PostgreSQL's work for the bench's database (transactions, rows, WAL, and the
CPU of its backends) and Redis's (commands, publishes, bytes, CPU).

Server and PostgreSQL processes are read from /proc, so their CPU does not
depend on what the neighbours do. A PostgreSQL backend that ends within a phase
(the pool closes its overflow connections) is counted up to its last sample: a
thread samples every backend four times a second.

PostgreSQL's own counters (``pg_stat_database``) reach the view up to 10 s after
the transactions (a backend flushes its statistics at most once a second, and
when it falls idle, up to 10 s later), so they blur the edges of a phase; the
transaction ids and WAL position are read directly and do not lag (they are the
whole cluster's, not this database's).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

TICK = os.sysconf("SC_CLK_TCK")
PG_BACKGROUND = ("checkpointer", "background writer", "walwriter", "autovacuum", "logical rep")
PG_STATS = "xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted, tup_fetched"


@dataclass
class Proc:
    label: str
    user: float
    system: float
    rss_mib: float
    clients: int


@dataclass
class Snapshot:
    at: float
    procs: dict[int, Proc]
    generator: float = field(default_factory=time.process_time)  # this process's CPU
    pg: dict[str, int] = field(default_factory=dict)
    pg_cpu: dict[str, float] = field(default_factory=dict)
    redis: dict[str, float] = field(default_factory=dict)


def _stat(pid: int) -> tuple[int, float, float]:
    """(parent pid, user seconds, system seconds) of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[11]) / TICK, int(fields[12]) / TICK


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with_children = task / "children"
        if with_children.exists():
            out += [int(p) for p in with_children.read_text().split()]
    return out


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")


def _client_sockets(port: int) -> set[str]:
    """The inodes of the TCP connections established to ``port`` (the server's side)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            cols = row.split()
            if cols[3] == "01" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(cols[9])
    return inodes


def _clients(pid: int, inodes: set[str]) -> int:
    """How many of the connections ``inodes`` this process holds."""
    n = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            n += os.readlink(fd)[8:-1] in inodes  # socket:[INODE]
        except OSError:
            continue
    return n


def rss_mib(pid: int) -> float:
    """A process's resident memory (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def server_processes(root: int, port: int) -> dict[int, Proc]:
    """The server's processes: ``root`` (the supervisor with --workers, else the
    one web process) and its descendants, each labelled from its command line,
    with the clients' connections (phones, screens) each holds on ``port``."""
    out: dict[int, Proc] = {}
    inodes = _client_sockets(port)
    todo = [root]
    while todo:
        pid = todo.pop()
        try:
            _, user, system = _stat(pid)
            line = _cmdline(pid)
            todo += _children(pid)
            label = _label(pid == root, line, bool(_children(pid)))
            out[pid] = Proc(label, user, system, rss_mib(pid), _clients(pid, inodes))
        except (FileNotFoundError, ProcessLookupError):
            continue
    return out


def _label(root: bool, cmdline: str, has_children: bool) -> str:
    if "theming-worker" in cmdline:
        return "theming worker"
    if "resource_tracker" in cmdline:
        return "resource tracker"
    if root:
        return "supervisor" if has_children else "web process"
    return "web worker" if "spawn_main" in cmdline or "multiprocessing" in cmdline else "child"


class PostgresMeter:
    """The bench database's counters and the CPU of PostgreSQL's processes, by kind:
    this database's backends, the background processes, other databases' backends."""

    def __init__(self, db_url: str) -> None:
        url = make_url(db_url)
        self.database = url.database or ""
        self._psql = ["psql", "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432)]
        self._psql += ["-U", url.username or "postgres", "-d", self.database, "-AtX", "-F", " "]
        self._postmaster = _stat(int(self._query("SELECT pg_backend_pid()")[0]))[0]
        self._last: dict[int, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def _query(self, sql: str) -> list[str]:
        return subprocess.run(
            [*self._psql, "-c", sql], capture_output=True, text=True, check=True, timeout=30
        ).stdout.split()

    def sample(self) -> None:
        """Note every PostgreSQL process's CPU so far (called by Meters' thread)."""
        for pid in _children(self._postmaster):
            try:
                _, user, system = _stat(pid)
                line = _cmdline(pid)
            except (FileNotFoundError, ProcessLookupError):
                continue
            if f" {self.database} " in line:
                kind = "backends"
            elif any(name in line for name in PG_BACKGROUND):
                kind = "background"
            else:
                kind = "other databases"
            with self._lock:
                self._last[pid] = (kind, user + system)

    def cpu(self) -> dict[str, float]:
        self.sample()
        totals = {"backends": 0.0, "background": 0.0, "other databases": 0.0}
        with self._lock:
            for kind, seconds in self._last.values():
                totals[kind] += seconds
        return totals

    def counters(self) -> dict[str, int]:
        values = self._query(
            f"SELECT {PG_STATS}, pg_snapshot_xmax(pg_current_snapshot())::text::bigint,"
            " pg_current_wal_lsn() - '0/0'::pg_lsn"
            f" FROM pg_stat_database WHERE datname = '{self.database}'"
        )
        names = [*PG_STATS.split(", "), "next_xid", "wal_bytes"]
        return {name: int(float(v)) for name, v in zip(names, values, strict=True)}


class RedisMeter:
    def __init__(self, url: str) -> None:
        import redis  # the benches' own dependency, as the server's hub uses it

        self._redis = redis.Redis.from_url(url)
        self.peak_ops = 0

    def sample(self) -> None:
        ops = int(self._redis.info("stats")["instantaneous_ops_per_sec"])
        self.peak_ops = max(self.peak_ops, ops)

    def counters(self) -> dict[str, float]:
        info: dict[str, Any] = self._redis.info("everything")
        keys = ["total_commands_processed", "total_net_input_bytes", "total_net_output_bytes"]
        keys += ["used_cpu_user", "used_cpu_sys", "connected_clients"]
        commands = {
            "cmd " + k.removeprefix("cmdstat_"): float(v["calls"])
            for k, v in info.items()
            if k.startswith("cmdstat_")
        }
        return {"cmd publish": 0.0, **{k: float(info[k]) for k in keys}, **commands}


class Meters:
    """Snapshots of the server's processes, PostgreSQL (for a PostgreSQL database)
    and Redis (when ``hub_url`` is given), taken at the edges of a phase."""

    def __init__(self, server_pid: int, port: int, db_url: str, hub_url: str | None) -> None:
        self.server_pid = server_pid
        self.port = port
        self.pg = PostgresMeter(db_url) if db_url.startswith("postgresql") else None
        self.redis = RedisMeter(hub_url) if hub_url else None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="meters", daemon=True)

    def __enter__(self) -> Meters:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        tick = 0
        while not self._stop.wait(0.25):
            tick += 1
            try:
                if self.pg is not None:
                    self.pg.sample()
                if self.redis is not None and tick % 4 == 0:
                    self.redis.sample()
            except Exception as exc:  # a meter must not stop the bench
                print(f"  (meters: {exc!r})", flush=True)

    def snapshot(self) -> Snapshot:
        snap = Snapshot(time.monotonic(), server_processes(self.server_pid, self.port))
        if self.pg is not None:
            snap.pg_cpu = self.pg.cpu()
            snap.pg = self.pg.counters()
        if self.redis is not None:
            snap.redis = self.redis.counters()
            snap.redis["peak_ops"] = float(self.redis.peak_ops)
            self.redis.peak_ops = 0
        return snap


def report(
    phase: str, a: Snapshot, b: Snapshot, work: int, unit: str, pg_end: Snapshot | None = None
) -> list[str]:
    """Lines for one phase: ``work`` units (phones joined, votes acked) done between
    snapshots ``a`` and ``b``; ``pg_end``: a later snapshot for PostgreSQL's
    lagging counters (taken once they settled)."""
    wall = b.at - a.at
    lines = [f"{phase}: {wall:.1f} s between the snapshots; each server process:"]
    web = 0.0
    for pid, p in sorted(b.procs.items()):
        was = a.procs.get(pid)
        cpu = p.user + p.system - (was.user + was.system if was else 0.0)
        kernel = p.system - (was.system if was else 0.0)
        if p.label.startswith("web"):
            web += cpu
        lines.append(
            f"  {p.label} (pid {pid}): CPU {cpu:.1f} s ({kernel:.1f} s in the kernel; "
            f"{cpu / wall:.2f} of a core), RSS {p.rss_mib:.0f} MiB, {p.clients} clients connected"
        )
    mine = b.generator - a.generator
    lines.append(
        f"  web processes together: CPU {web:.1f} s for {work} {unit}s = "
        f"{web / max(1, work) * 1000:.2f} ms per {unit}; the load generator (this "
        f"process): {mine:.1f} s ({mine / wall:.2f} of its core)"
    )
    if b.pg:
        lines += _pg_lines(a, pg_end or b, wall, b)
    if b.redis:
        lines += _redis_lines(a, b, wall)
    return lines


def _pg_lines(a: Snapshot, end: Snapshot, wall: float, b: Snapshot) -> list[str]:
    d = {k: end.pg[k] - a.pg[k] for k in a.pg}
    exact = {k: b.pg[k] - a.pg[k] for k in ("next_xid", "wal_bytes")}
    cpu = {k: b.pg_cpu[k] - a.pg_cpu[k] for k in a.pg_cpu}
    later = " (read once settled)" if end is not b else ""
    return [
        f"  PostgreSQL, this database{later}: {d['xact_commit']} commits "
        f"({d['xact_commit'] / wall:.0f}/s), {d['xact_rollback']} rollbacks (read-only "
        "sessions end so), "
        f"rows {d['tup_inserted']} inserted ({d['tup_inserted'] / wall:.0f}/s), "
        f"{d['tup_updated']} updated, {d['tup_deleted']} deleted, {d['tup_fetched']} fetched",
        f"  PostgreSQL, whole cluster: {exact['next_xid']} write transactions "
        f"({exact['next_xid'] / wall:.0f}/s), WAL {exact['wal_bytes'] / 2**20:.1f} MiB "
        f"({exact['wal_bytes'] / 2**20 / wall:.2f} MiB/s)",
        f"  PostgreSQL CPU: this database's backends {cpu['backends']:.1f} s "
        f"({cpu['backends'] / wall:.2f} of a core), background processes "
        f"{cpu['background']:.1f} s, other databases' backends {cpu['other databases']:.1f} s",
    ]


def _redis_lines(a: Snapshot, b: Snapshot, wall: float) -> list[str]:
    d = {k: b.redis[k] - a.redis.get(k, 0.0) for k in b.redis}
    cpu = d["used_cpu_user"] + d["used_cpu_sys"]
    calls = sorted(((v, k[4:]) for k, v in d.items() if k.startswith("cmd ") and v), reverse=True)
    return [
        f"  Redis: {d['total_commands_processed']:.0f} commands "
        f"({d['total_commands_processed'] / wall:.0f}/s, peak {b.redis['peak_ops']:.0f} ops/s), "
        f"{d['cmd publish']:.0f} PUBLISH ({d['cmd publish'] / wall:.0f}/s), "
        f"{d['total_net_input_bytes'] / 2**20:.1f} MiB in, "
        f"{d['total_net_output_bytes'] / 2**20:.1f} MiB out "
        f"({d['total_net_output_bytes'] / 2**20 / wall:.2f} MiB/s); CPU {cpu:.2f} s "
        f"({cpu / wall:.3f} of a core; user {d['used_cpu_user']:.2f}, "
        f"system {d['used_cpu_sys']:.2f})",
        "  Redis commands by name: "
        + ", ".join(f"{name} {n:.0f}" for n, name in calls[:6])
        + f"; {b.redis['connected_clients']:.0f} clients connected to Redis at the end",
    ]
