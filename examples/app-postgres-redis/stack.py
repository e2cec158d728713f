"""An app, a Postgres and a Redis, started together by ``rt.up``.

The app is busybox ``httpd`` with one CGI script: each GET of
``/cgi-bin/hit`` counts the hit in Redis (``INCR``) and writes a row to
Postgres, and answers ``hits=<count> rows=<rows>``.  Every image is built
``FROM scratch`` out of the host's Debian binaries (nothing is pulled):
``runtimes.testing.rootfs`` makes the Postgres and Redis ones, and the
app's holds ``psql``, ``redis-cli`` and busybox.

Run it (any runtime: ``RUNTIMES_DEFAULT=podman`` picks one)::

    python examples/app-postgres-redis/stack.py
"""

from __future__ import annotations

import sys
import tempfile
import urllib.request
from pathlib import Path

import runtimes
from runtimes.testing.rootfs import (
    POSTGRES_BIN,
    postgres_context,
    redis_context,
    write_binary_context,
)

PSQL = f"{POSTGRES_BIN}/psql -X -q -t -A -h db -U postgres -d app"

# The app starts once Postgres and Redis are healthy: it creates its table,
# then serves.
RUN = f"""#!/bin/sh
set -e
{PSQL} -c "CREATE TABLE IF NOT EXISTS visits (id serial PRIMARY KEY, hit int NOT NULL)"
echo "app listening on 8080"
exec httpd -f -p 8080 -h /www
"""

HIT = f"""#!/bin/sh
n=$(/usr/bin/redis-cli -h redis INCR hits)
{PSQL} -c "INSERT INTO visits (hit) VALUES ($n)" >/dev/null
rows=$({PSQL} -c "SELECT count(*) FROM visits")
printf 'Content-Type: text/plain\\r\\n\\r\\n'
echo "hits=$n rows=$rows"
"""


def app_context(directory: Path) -> Path:
    """The app's build context: psql, redis-cli, busybox and two scripts."""
    return write_binary_context(
        directory,
        [f"{POSTGRES_BIN}/psql", "/usr/bin/redis-cli"],
        path=[POSTGRES_BIN],
        extra_files={
            "/etc/passwd": "root:x:0:0:root:/root:/bin/sh\n",
            "/app/run.sh": RUN,
            "/www/index.html": "ok\n",
            "/www/cgi-bin/hit": HIT,
        },
        dockerfile_tail='CMD ["/app/run.sh"]\n',
    )


def make_stack(name: str, workdir: Path) -> runtimes.Stack:
    """The three services; build contexts are written under ``workdir``."""
    return runtimes.Stack(
        name,
        services={
            "db": runtimes.Service(
                build=str(postgres_context(workdir / "postgres")),
                env={"POSTGRES_DB": "app", "POSTGRES_HOST_AUTH_METHOD": "trust"},
                volumes=["pgdata:/var/lib/postgresql/data"],
                healthcheck=runtimes.Healthcheck(
                    test=["pg_isready", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "app"],
                    interval=0.5,
                    timeout=10,
                    retries=5,
                    start_period=60,
                ),
            ),
            "redis": runtimes.Service(
                build=str(redis_context(workdir / "redis")),
                healthcheck=runtimes.Healthcheck(
                    test=["redis-cli", "ping"], interval=0.5, timeout=10, retries=5
                ),
            ),
            "app": runtimes.Service(
                build=str(app_context(workdir / "app")),
                ports=["127.0.0.1::8080"],
                depends_on={"db": "healthy", "redis": "healthy"},
                ready={"log": "app listening", "http": "/index.html", "port": 8080},
            ),
        },
    )


def hit(stack: runtimes.stacks.RunningStack) -> str:
    """One GET of the app's counter, over the published port."""
    port = stack["app"].port(8080).host_port
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/cgi-bin/hit", timeout=30) as response:
        body: bytes = response.read()
    return body.decode().strip()


def main() -> int:
    with (
        runtimes.connect() as rt,
        tempfile.TemporaryDirectory() as tmp,
        rt.up(make_stack("app-postgres-redis", Path(tmp)), timeout=180) as s,
    ):
        for _ in range(3):
            print(hit(s))
        count = ["psql", "-X", "-At", "-U", "postgres", "-d", "app"]
        rows = s.exec("db", [*count, "-c", "SELECT count(*) FROM visits"])
        print(rows.stdout.decode().strip(), "rows in Postgres")
    return 0


if __name__ == "__main__":
    sys.exit(main())
