"""A PostgreSQL server of the test run's own, for fault tests that stop and start the database.

initdb/pg_ctl from /usr/lib/postgresql/*/bin, run as the `postgres` user, trust auth on a free
port, data in a temporary directory removed at exit; the machine's shared server is never touched.
"""
import atexit
import glob
import os
import shutil
import subprocess
import tempfile
import time

import psycopg
import pytest

from tests.conftest import free_port

USER = "postgres"


def _bin_dir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                   key=lambda path: int(path.split("/")[4]))
    if not found:
        raise RuntimeError("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin")
    return os.path.dirname(found[-1])


def available():
    """Why a private server cannot run here, or None when it can."""
    if not glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"):
        return "no PostgreSQL server binaries (initdb/pg_ctl) in /usr/lib/postgresql/*/bin"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser"
    return None


class PrivatePostgres:
    def __init__(self):
        self.bin = _bin_dir()
        self.port = free_port()
        self.root = tempfile.mkdtemp(prefix="csms-private-pg-")
        self.data = os.path.join(self.root, "data")
        self.log_path = os.path.join(self.root, "postgres.log")
        self.admin_url = f"postgresql://{USER}@127.0.0.1:{self.port}/postgres"
        if os.geteuid() == 0:
            # The server refuses to run as root: the directory belongs to the postgres user.
            shutil.chown(self.root, USER, USER)
        atexit.register(self.cleanup)

    def _run(self, *arguments, check=True):
        command = [os.path.join(self.bin, arguments[0]), *arguments[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", USER, "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=60)

    def initdb(self):
        self._run("initdb", "-D", self.data, "-U", USER, "--auth=trust", "-E", "UTF8",
                  "--no-sync", "--no-instructions")
        return self

    def start(self):
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", self.data, "-l", self.log_path, "-o", options, "-w", "-t", "30",
                  "start")
        return self

    def stop(self, mode="fast"):
        """Stop the server: `fast` ends every session (clients see their connection terminated),
        as a restart does; `immediate` is a crash."""
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "30", "stop")

    def restart(self, down_seconds=0):
        self.stop()
        time.sleep(down_seconds)
        self.start()

    def running(self):
        return self._run("pg_ctl", "-D", self.data, "status", check=False).returncode == 0

    def create_database(self, name):
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{name}"

    def cleanup(self):
        if os.path.isdir(self.data) and self.running():
            self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def private_postgres():
    """A running private server for the test session (import this fixture into a test module)."""
    reason = available()
    if reason:
        pytest.skip(reason)
    server = PrivatePostgres().initdb().start()
    yield server
    server.cleanup()
