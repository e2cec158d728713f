"""Faults end in a typed error within the configured time, never a hang.

A fake ``nerdctl`` that hangs, a unix socket that accepts connections but
never answers, a Podman service killed while a follow reads from it, and a
container killed while it is followed.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import runtimes
from runtimes.adapters.docker import CONNECT_TIMEOUT
from runtimes.testing import cleanup
from runtimes.testing.images import build_test_image


@pytest.fixture
def hung_nerdctl(tmp_path: Path) -> str:
    """A ``nerdctl`` that answers ``version`` and then hangs on anything else."""
    fake = tmp_path / "nerdctl"
    fake.write_text(
        "#!/bin/sh\n"
        'case "$*" in *version*) echo \'{"Client":{},"Server":{}}\'; exit 0;; esac\n'
        "exec sleep 600\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    return str(fake)


@pytest.fixture
def silent_socket(tmp_path: Path) -> Iterator[str]:
    """A unix socket that accepts every connection and never says a word."""
    path = tmp_path / "silent.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"unix://{path}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in accepted:
            conn.close()
        server.close()


def test_hung_binary_ps_times_out(hung_nerdctl: str, tmp_path: Path) -> None:
    rt = runtimes.connect("nerdctl", binary=hung_nerdctl, address=str(tmp_path), timeout=1)
    started = time.monotonic()
    with pytest.raises(runtimes.Timeout, match="did not finish within 1 s"):
        rt.ps()
    assert time.monotonic() - started < 10


def test_hung_binary_build_times_out(hung_nerdctl: str, tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM scratch\n")
    rt = runtimes.connect("nerdctl", binary=hung_nerdctl, address=str(tmp_path), timeout=1)
    started = time.monotonic()
    with pytest.raises(runtimes.Timeout, match="printed nothing for 1 s"):
        rt.build(context)
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("name", ["docker", "podman"])
def test_socket_that_never_answers(name: str, silent_socket: str) -> None:
    started = time.monotonic()
    with pytest.raises(runtimes.RuntimeUnavailable) as info:
        runtimes.connect(name, host=silent_socket, timeout=120)
    # The first answer is bounded apart from the 120 s per-call timeout.
    assert time.monotonic() - started < CONNECT_TIMEOUT + 5
    assert silent_socket in str(info.value)


def test_podman_service_killed_during_follow(
    monkeypatch: pytest.MonkeyPatch, session_labels: dict[str, str], runtimes_session_id: str
) -> None:
    monkeypatch.delenv("CONTAINER_HOST", raising=False)
    rt = runtimes.connect("podman")
    service = rt._service  # type: ignore[attr-defined]
    assert service is not None, "expected a private Podman service on this machine"
    tag = f"runtimes-test/faults:{runtimes_session_id}"
    mine = {**session_labels, "runtimes.test.case": f"podman-killed-{uuid.uuid4().hex[:8]}"}
    try:
        build_test_image(rt, tag, mine)
        c = rt.run(tag, ["sh", "-c", "while true; do echo tick; sleep 0.1; done"], labels=mine)
        lines = rt.logs(c, follow=True)
        assert next(lines).text == "tick"
        killed = service._proc.pid
        os.kill(killed, signal.SIGKILL)
        service._proc.wait(timeout=30)  # dead, so that the next call starts a new one
        # A follow on Podman is made of plain reads (the service's own
        # follow loses records): the next read starts a new service, and the
        # log goes on; the container never depended on the service.
        started = time.monotonic()
        assert [next(lines).text for _ in range(5)] == ["tick"] * 5
        assert time.monotonic() - started < 30
        assert service._proc.pid != killed
        lines.close()
    finally:
        rt.close()
        # Through a new connection: the killed service may take the first
        # call after it down with it, and this test's objects must go anyway.
        with runtimes.connect("podman") as fresh:
            assert cleanup(fresh, mine) == []


def test_container_killed_during_follow(
    container_runtime: runtimes.Runtime, test_image: str, session_labels: dict[str, str]
) -> None:
    rt = container_runtime
    c = rt.run(
        test_image,
        ["sh", "-c", "while true; do echo tick; sleep 0.1; done"],
        labels=session_labels,
    )
    try:
        lines = rt.logs(c, follow=True)
        assert next(lines).text == "tick"
        rt.kill(c)
        started = time.monotonic()
        rest = list(lines)  # ends, without an error, once the container is gone
        assert all(line.text == "tick" for line in rest)
        assert time.monotonic() - started < 30
        assert rt.wait(c, timeout=10) == 137
    finally:
        rt.remove(c, force=True)


def test_run_that_cannot_be_inspected_leaves_nothing(
    container_runtime: runtimes.Runtime,
    test_image: str,
    session_labels: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The container is created and started, then the inspect that run()
    # returns from times out: the caller has no handle, so run removes it.
    rt = container_runtime
    name = f"rt-fault-{uuid.uuid4().hex[:8]}"

    def timing_out(ref: str) -> runtimes.Container:
        raise runtimes.Timeout("inspect did not answer in time (injected)")

    monkeypatch.setattr(rt, "_inspect", timing_out)
    with pytest.raises(runtimes.Timeout):
        rt.run(test_image, ["sleep", "60"], name=name, labels=session_labels)
    monkeypatch.undo()
    assert rt.ps(all=True, name=name) == []


def test_logs_closed_before_reading_releases_the_connection(
    container_runtime: runtimes.Runtime, test_image: str, session_labels: dict[str, str]
) -> None:
    import gc
    import warnings

    rt = container_runtime
    c = rt.run(test_image, ["sh", "-c", "echo one; sleep 60"], labels=session_labels)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            for follow in (False, True):
                lines = rt.logs(c, follow=follow)
                lines.close()  # type: ignore[attr-defined]
                del lines
                gc.collect()
        leaked = [w for w in caught if issubclass(w.category, ResourceWarning)]
        assert leaked == [], [str(w.message) for w in leaked]
    finally:
        rt.remove(c, force=True)
