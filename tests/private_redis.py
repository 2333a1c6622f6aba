"""A redis-server of a fault test's own (killed and restarted at will) and the CSMS processes on it.

The machine's shared Redis is never touched: the test's servers, worker and beat use this one.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from tests import environment
from tests.conftest import LOG_DIR, ROOT, ServerProcess, free_port


class PrivateRedis:
    """`redis-server` on a free port, without persistence: a restart starts empty, as after a crash."""

    def __init__(self, name="redis-private"):
        self.name = name
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.directory = tempfile.mkdtemp(prefix=f"{name}-", dir=environment.RUN_DIR)
        self.log_path = LOG_DIR / f"{name}.log"
        self.process = None

    def start(self):
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.directory],
            stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            if self.ping():
                return self
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on {self.port} within 10 s")

    def ping(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self):
        """Die at once (SIGKILL), dropping every connection and every key."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
            self.log.close()

    def restart(self):
        self.kill()
        return self.start()

    stop = kill


def stack_env(redis, broker=None, **settings):
    """Environment of CSMS processes on `redis` (and `broker`, if the broker is another Redis):
    their own channel prefix and Celery queue."""
    run = uuid.uuid4().hex[:8]
    env = {
        "REDIS_URL": f"{redis.url}/0",
        "CELERY_BROKER_URL": f"{(broker or redis).url}/1",
        "CHANNEL_LAYER_PREFIX": f"csms-fault-{run}",
        "CELERY_TASK_DEFAULT_QUEUE": f"csms-fault-{run}",
    }
    env.update({name: str(value) for name, value in settings.items()})
    return env


class CeleryProcess:
    """`celery worker` or `celery beat` with the given environment (as conftest's, on its own)."""

    def __init__(self, kind, env):
        self.kind = kind
        self.env = env
        self.name = f"celery-{kind}-{uuid.uuid4().hex[:6]}"
        self.log_path = LOG_DIR / f"{self.name}.log"
        self.process = None

    def start(self):
        if self.kind == "worker":
            arguments = ["worker", "--pool", "threads", "--concurrency", "4", "--without-gossip",
                         "--without-mingle", "--without-heartbeat",
                         "--queues", self.env["CELERY_TASK_DEFAULT_QUEUE"]]
        else:
            arguments = ["beat", "--schedule", str(Path(environment.RUN_DIR) / f"{self.name}-schedule")]
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "csms", *arguments, "--loglevel", "INFO"],
            cwd=ROOT, env=dict(os.environ, **self.env), stdout=self.log, stderr=subprocess.STDOUT,
        )
        return self

    def running(self):
        return self.process is not None and self.process.poll() is None

    def kill(self):
        if self.running():
            self.process.kill()
            self.process.wait()
            self.log.close()

    def stop(self):
        if self.running():
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.log.close()


class Stack:
    """Servers, a worker and a beat on one private Redis; stopped (or killed) together at the end."""

    def __init__(self, redis, servers=1, broker=None, **settings):
        self.redis = redis
        self.env = stack_env(redis, broker, **settings)
        self.servers = [ServerProcess(f"fault-server-{uuid.uuid4().hex[:6]}", extra_env=self.env)
                        for _ in range(servers)]
        self.worker = CeleryProcess("worker", self.env)
        self.beat = CeleryProcess("beat", self.env)

    def start(self):
        self.worker.start()
        self.beat.start()
        for server in self.servers:
            server.start()
        return self

    def new_worker(self):
        self.worker = CeleryProcess("worker", self.env).start()
        return self.worker

    def stop(self):
        for server in self.servers:
            if server.process is not None and server.process.poll() is None:
                server.stop()
        self.worker.stop()
        self.beat.stop()
