"""Shared plumbing of the benchmarks: start a CSMS (daphne or uvicorn) on a chosen backend,
read its memory, and describe the machine; every process started here is stopped here."""

import atexit
import contextlib
import datetime
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
POSTGRES_ADMIN_URL = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_BASE_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
# Redis DB numbers of our own, so a flush never touches anyone else's keys.
REDIS_CHANNEL_DB, REDIS_BROKER_DB = 11, 12


def raise_open_files_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else hard
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, process, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {timeout} s")


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def runqueue_wait_seconds(pid):
    """Time a process has spent runnable but waiting for a CPU (/proc/<pid>/schedstat): on a
    shared box, how much it was held back by other work."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9


def descendants(pid):
    """The pids of every process below `pid` (children, their children, ...), read from /proc."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def tree_cpu_seconds(pid):
    """{pid: CPU seconds so far} of a process and all its descendants (those alive now)."""
    seconds = {}
    for member in [pid, *descendants(pid)]:
        with contextlib.suppress(OSError):
            seconds[member] = cpu_seconds(member)
    return seconds


def machine():
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory_gib:.0f} GiB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def load_average():
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def now():
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


class Backend:
    """The database, channel layer and task runner a benchmarked CSMS uses.

    embedded: SQLite + in-memory channel layer + in-process tasks.
    services: a fresh PostgreSQL database + Redis channel layer (+ a Celery worker when asked).
    """

    def __init__(self, kind, celery_worker=False):
        self.kind = kind
        self.run_id = uuid.uuid4().hex[:8]
        self.dir = Path(tempfile.mkdtemp(prefix=f"csms-bench-{self.run_id}-"))
        self.env = {
            "CSMS_DATA_DIR": str(self.dir),
            "LOG_LEVEL": "WARNING",
            "SECRET_KEY": f"bench-{self.run_id}",
            # A lab run on loopback over plain HTTP, not a deployment (no https redirect, any host).
            "PRODUCTION": "false",
            "OCPP_UNKNOWN_STATION_POLICY": "accept",
            "TRANSACTIONS_UNKNOWN_ID_TOKEN_POLICY": "accept",
        }
        self.database = None
        self.worker = None
        if kind == "embedded":
            self.env["DATABASE_URL"] = f"sqlite:///{self.dir}/csms.sqlite3"
        elif kind == "services":
            import psycopg

            self.database = f"csms_bench_{self.run_id}"
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
                connection.execute(f'CREATE DATABASE "{self.database}"')
            admin = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
            self.env.update(
                {
                    "DATABASE_URL": f"{admin}/{self.database}",
                    "REDIS_URL": f"{REDIS_BASE_URL}/{REDIS_CHANNEL_DB}",
                    "CHANNEL_LAYER_PREFIX": f"csms-bench-{self.run_id}",
                }
            )
            if celery_worker:
                self.env.update(
                    {
                        "CELERY_BROKER_URL": f"{REDIS_BASE_URL}/{REDIS_BROKER_DB}",
                        "CELERY_TASK_DEFAULT_QUEUE": f"csms-bench-{self.run_id}",
                    }
                )
        else:
            raise SystemExit(f"unknown backend {kind!r}")
        atexit.register(self.close)
        self.migrate()

    def environ(self, **extra):
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
        env.update(self.env)
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def migrate(self):
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=self.environ(), check=True)

    def describe(self):
        if self.kind == "embedded":
            return "SQLite (WAL), in-memory channel layer, tasks in-process"
        worker = ", Celery worker (4 threads)" if "CELERY_BROKER_URL" in self.env else ", tasks in-process"
        return f"PostgreSQL, Redis channel layer{worker}"

    def start_worker(self):
        log = open(self.dir / "worker.log", "ab")
        self.worker = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "csms",
                "worker",
                "--pool",
                "threads",
                "--concurrency",
                "4",
                "--queues",
                self.env["CELERY_TASK_DEFAULT_QUEUE"],
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=self.environ(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        time.sleep(3)
        return self.worker

    def close(self):
        if self.worker is not None and self.worker.poll() is None:
            self.worker.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.worker.wait(10)
            if self.worker.poll() is None:
                self.worker.kill()
        self.worker = None
        if self.database:
            import psycopg

            with contextlib.suppress(Exception):
                with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
                    connection.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            self.database = None
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)


class Server:
    """One CSMS server process: `daphne` (manage.py runcsms, the default) or `uvicorn`."""

    def __init__(self, kind, backend, extra_args=(), **settings):
        self.kind = kind
        self.backend = backend
        self.extra_args = list(extra_args)  # appended to the server's command line
        self.port = free_port()
        self.url = f"ws://127.0.0.1:{self.port}/ocpp"
        self.http = f"http://127.0.0.1:{self.port}"
        self.settings = settings
        self.process = None

    def start(self):
        if self.kind == "daphne":
            command = [PYTHON, "manage.py", "runcsms", "--port", str(self.port), *self.extra_args]
        elif self.kind == "uvicorn":
            command = [
                PYTHON,
                "-m",
                "uvicorn",
                "csms.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--ws",
                "websockets",
                "--lifespan",
                "off",
                "--no-access-log",
                "--log-level",
                "warning",
                "--ws-ping-interval",
                "20",
                "--ws-ping-timeout",
                "40",
            ]
        else:
            raise SystemExit(f"unknown server {self.kind!r}")
        self.log = open(self.backend.dir / f"{self.kind}-{self.port}.log", "ab")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.backend.environ(**self.settings),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            preexec_fn=raise_open_files_limit,
        )
        atexit.register(self.stop)
        wait_for_port(self.port, self.process)
        time.sleep(1.0)
        return self

    def rss_kib(self):
        """The server's resident memory: the process and its workers (runcsms --workers)."""
        total = 0
        for pid in [self.process.pid, *descendants(self.process.pid)]:
            try:
                total += rss_kib(pid)
            except OSError:
                pass  # exited meanwhile
        return total

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(15)
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        self.process = None

    def describe(self):
        described = {"daphne": "daphne (manage.py runcsms)", "uvicorn": "uvicorn (websockets)"}[self.kind]
        return f"{described} {' '.join(self.extra_args)}".rstrip() if self.extra_args \
            else f"{described}, 1 process"


def record(name, lines):
    """Print a result block and keep it in benchmarks/results/<name>.txt."""
    text = "\n".join(lines) + "\n"
    print(text)
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / f"{name}.txt").write_text(text)
