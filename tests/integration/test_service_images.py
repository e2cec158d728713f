"""The Postgres and Redis images of ``runtimes.testing.rootfs`` on every runtime.

Each image is built ``FROM scratch`` out of the host's Debian binaries
(nothing pulled), run with a published port on 127.0.0.1, waited for with
its own readiness command (``pg_isready``, ``redis-cli ping``) and then
used from the host: ``psql`` for Postgres, a raw socket for Redis.  Both
servers must be PID 1, run as their own user, and stop cleanly (exit code
0) on the image's stop signal.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence

import attrs
import pytest

from runtimes.base import Runtime
from runtimes.errors import NotFound, RuntimesError
from runtimes.models import Container, ContainerState
from runtimes.testing.rootfs import (
    POSTGRES_BIN,
    POSTGRES_PORT,
    REDIS_PORT,
    postgres_context,
    redis_context,
)

# Bounds, not assertions on speed: a start takes seconds; a hang fails here.
READY_WITHIN = 120.0
PSQL_TIMEOUT = 30.0


@attrs.frozen
class ServiceImages:
    postgres: str
    redis: str


@pytest.fixture(scope="session")
def service_images(
    container_runtime: Runtime,
    session_labels: dict[str, str],
    runtimes_session_id: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServiceImages]:
    """Both images, built once per runtime; removed when the session ends."""
    rt = container_runtime
    contexts = tmp_path_factory.mktemp(f"service-images-{rt.name}")
    tags = ServiceImages(
        postgres=f"runtimes-test/postgres:{runtimes_session_id}",
        redis=f"runtimes-test/redis:{runtimes_session_id}",
    )
    built: list[str] = []
    try:
        for tag, write in ((tags.postgres, postgres_context), (tags.redis, redis_context)):
            context = write(contexts / tag.split("/")[1].split(":")[0])
            built.append(rt.build(context, tag=tag, labels=session_labels).id)
        yield tags
    finally:
        for image_id in built:
            with contextlib.suppress(NotFound):
                rt.remove_image(image_id, force=True)


@pytest.fixture
def start(
    container_runtime: Runtime, session_labels: dict[str, str], unique_name: Callable[[str], str]
) -> Iterator[Callable[..., Container]]:
    """``start(image, **run_kwargs)``: a labelled container, removed after the test."""
    started: list[Container] = []

    def run(image: str, **kwargs: object) -> Container:
        container = container_runtime.run(
            image, name=unique_name("svc"), labels=session_labels, **kwargs
        )
        started.append(container)
        return container

    try:
        yield run
    finally:
        for container in started:
            with contextlib.suppress(RuntimesError):
                container_runtime.remove(container, force=True)


def wait_until_ready(rt: Runtime, container: Container, command: Sequence[str]) -> None:
    """Poll ``command`` in the container until it exits 0; fail with the
    container's last log lines if it exits first or ``READY_WITHIN`` passes."""
    deadline = time.monotonic() + READY_WITHIN
    while True:
        current = rt.inspect(container)
        if current.state is not ContainerState.RUNNING:
            pytest.fail(f"{container.name} is {current.state}: {tail_of_logs(rt, container)}")
        if rt.exec(container, list(command)).exit_code == 0:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"{command} never succeeded: {tail_of_logs(rt, container)}")
        time.sleep(0.25)


def tail_of_logs(rt: Runtime, container: Container) -> str:
    return "\n".join(line.text for line in rt.logs(container, tail=30))


def published_port(rt: Runtime, container: Container, port: int) -> int:
    mapped = rt.inspect(container).port(port)
    assert mapped.host_ip == "127.0.0.1"
    return mapped.host_port


def main_process(rt: Runtime, container: Container) -> tuple[str, str]:
    """PID 1's name and real uid, read in the container."""
    status = rt.exec(container, ["cat", "/proc/1/status"])
    assert status.exit_code == 0, status.stderr
    fields = dict(line.split(":", 1) for line in status.stdout.decode().splitlines() if ":" in line)
    return fields["Name"].strip(), fields["Uid"].split()[0]


def stop_exit_code(rt: Runtime, container: Container) -> int:
    # 137 would mean SIGKILL after the grace period: the server ignored the
    # image's stop signal, or was not PID 1.
    rt.stop(container, timeout=30)
    return rt.wait(container, timeout=30)


def psql(port: int, user: str, database: str, sql: str, password: str | None = None) -> str:
    """Run ``sql`` with the host's psql over TCP; return its unaligned output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGCONNECT_TIMEOUT"] = "10"
    if password is not None:
        env["PGPASSWORD"] = password  # in the environment, never on argv
    target = ["-h", "127.0.0.1", "-p", str(port), "-U", user, "-d", database]
    done = subprocess.run(
        [f"{POSTGRES_BIN}/psql", "-X", "-tA", "-v", "ON_ERROR_STOP=1", "-c", sql, *target],
        capture_output=True,
        text=True,
        env=env,
        timeout=PSQL_TIMEOUT,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        raise PsqlFailed(done.stderr.strip())
    return done.stdout.strip()


class PsqlFailed(Exception):
    pass


def redis_exchange(port: int, request: bytes, replies: int) -> list[bytes]:
    """Send RESP inline commands to Redis on 127.0.0.1; return ``replies`` lines."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        received = b""
        while received.count(b"\r\n") < replies:
            chunk = conn.recv(4096)
            if not chunk:
                break
            received += chunk
    return received.split(b"\r\n")[:replies]


def test_postgres_with_a_password_serves_the_host(
    container_runtime: Runtime, service_images: ServiceImages, start: Callable[..., Container]
) -> None:
    rt = container_runtime
    password = secrets.token_urlsafe(16)
    db = start(
        service_images.postgres,
        env={"POSTGRES_PASSWORD": password, "POSTGRES_DB": "app"},
        ports=[f"127.0.0.1::{POSTGRES_PORT}"],
    )
    wait_until_ready(rt, db, ["pg_isready", "-q", "-U", "postgres", "-d", "app"])
    port = published_port(rt, db, POSTGRES_PORT)

    assert psql(port, "postgres", "app", "select 1", password) == "1"
    psql(
        port, "postgres", "app", "create table hits (n int); insert into hits values (7)", password
    )
    assert psql(port, "postgres", "app", "select n from hits", password) == "7"
    assert psql(port, "postgres", "app", "show timezone", password) == "UTC"
    with pytest.raises(PsqlFailed, match="password authentication failed"):
        psql(port, "postgres", "app", "select 1", "not-" + password)
    # The server inside the image, over its socket, as the official image allows.
    inside = rt.exec(
        db, ["psql", "-U", "postgres", "-d", "app", "-tAc", "select count(*) from hits"]
    )
    assert (inside.exit_code, inside.stdout.strip()) == (0, b"1")

    assert main_process(rt, db) == ("postgres", "999")
    assert password.encode() not in b"".join(line.text.encode() for line in rt.logs(db)), (
        "the password reached the container's logs"
    )
    assert stop_exit_code(rt, db) == 0


def test_postgres_without_a_password_trusts_and_creates_the_named_database(
    container_runtime: Runtime, service_images: ServiceImages, start: Callable[..., Container]
) -> None:
    rt = container_runtime
    name = 'odd "db" name'
    db = start(
        service_images.postgres,
        env={"POSTGRES_USER": "tester", "POSTGRES_DB": name},
        ports=[f"127.0.0.1::{POSTGRES_PORT}"],
    )
    wait_until_ready(rt, db, ["pg_isready", "-q", "-U", "tester", "-d", name])
    port = published_port(rt, db, POSTGRES_PORT)
    assert psql(port, "tester", name, "select current_user, current_database()") == (
        f"tester|{name}"
    )
    assert stop_exit_code(rt, db) == 0


def test_redis_serves_the_host(
    container_runtime: Runtime, service_images: ServiceImages, start: Callable[..., Container]
) -> None:
    rt = container_runtime
    cache = start(service_images.redis, ports=[f"127.0.0.1::{REDIS_PORT}"])
    wait_until_ready(rt, cache, ["sh", "-c", "redis-cli ping | grep -qx PONG"])
    port = published_port(rt, cache, REDIS_PORT)

    assert redis_exchange(port, b"PING\r\n", 1) == [b"+PONG"]
    assert redis_exchange(port, b"INCR hits\r\nINCR hits\r\n", 2) == [b":1", b":2"]
    counted = rt.exec(cache, ["redis-cli", "get", "hits"])
    assert (counted.exit_code, counted.stdout.strip()) == (0, b"2")

    assert main_process(rt, cache) == ("redis-server", "999")
    assert stop_exit_code(rt, cache) == 0


def test_a_command_other_than_the_server_runs_as_given(
    container_runtime: Runtime, service_images: ServiceImages, start: Callable[..., Container]
) -> None:
    rt = container_runtime
    for image, program in ((service_images.postgres, "psql"), (service_images.redis, "redis-cli")):
        shell = start(image, command=["sh", "-c", f"command -v {program} && id -u"])
        assert rt.wait(shell, timeout=60) == 0
        lines = [line.text for line in rt.logs(shell)]
        assert lines[-1] == "0", lines  # the entrypoint did not switch user
        assert lines[0].endswith(f"/{program}"), lines


def test_images_stay_small(container_runtime: Runtime, service_images: ServiceImages) -> None:
    # Every image build and push in CI pays for each megabyte: a guard
    # against copying the LLVM JIT (libLLVM, 100 MB) or docs by accident.
    # Sizes here: Postgres about 83 MB, Redis about 20 MB.
    for ref, limit in ((service_images.postgres, 120), (service_images.redis, 40)):
        size = container_runtime.image(ref).size
        assert size is not None
        assert 0 < size < limit * 1_000_000, f"{ref} is {size / 1e6:.0f} MB"
