"""A CSMS server on a database of its own, for API tests that break or fill it (the database
fault test, the schema fuzz) without touching the session's shared data."""
import contextlib
import os
import subprocess
import sys
import uuid

from tests import environment
from tests.conftest import ROOT, ServerProcess

SETUP = """
import django
django.setup()
from django.contrib.auth.models import User
from django.core.management import call_command
from rest_framework.authtoken.models import Token
call_command("migrate", verbosity=0)
print(Token.objects.create(user=User.objects.create_superuser("op", "", "pw")).key)
"""


@contextlib.contextmanager
def own_database_server(name, directory, postgres=False, extra_env=None):
    """Yield (server, operator token): SQLite file `directory/<name>.sqlite3`, or (postgres) a new
    database on the run's PostgreSQL with the run's Redis; tasks run in the server process."""
    if postgres:
        import psycopg

        database = f"csms_{name.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(environment.POSTGRES_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{database}"')
        env = {"DATABASE_URL": f"{environment.POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{database}",
               "CHANNEL_LAYER_PREFIX": f"csms-{name}-{uuid.uuid4().hex[:8]}", "CELERY_BROKER_URL": ""}
    else:
        database = None
        env = {"DATABASE_URL": f"sqlite:///{directory}/{name}.sqlite3", "REDIS_URL": "",
               "CELERY_BROKER_URL": ""}
    env.update(extra_env or {})
    server = None
    try:
        setup = subprocess.run([sys.executable, "-c", SETUP], cwd=ROOT, capture_output=True, text=True,
                               env=dict(os.environ, **env, DJANGO_SETTINGS_MODULE="csms.settings"),
                               timeout=300)
        assert setup.returncode == 0, setup.stderr
        server = ServerProcess(name, env).start()
        yield server, setup.stdout.split()[-1]
    finally:
        if server is not None:
            server.stop()
        if database:
            import psycopg

            with psycopg.connect(environment.POSTGRES_ADMIN_URL, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
