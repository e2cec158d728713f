"""Faults end in a typed error within the configured time, never a hang.

These need no engine: a fake ``nerdctl`` that hangs, and a unix socket that
accepts connections but never answers.
"""

from __future__ import annotations

import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import runtimes
from runtimes.adapters.docker import CONNECT_TIMEOUT


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
