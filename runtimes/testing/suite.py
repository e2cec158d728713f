"""The contract every adapter must pass, as pytest test classes.

Bind it to runtimes with a one-line subclass in a test module::

    from runtimes.testing import RuntimeContract

    class TestContract(RuntimeContract):      # every selected runtime
        pass

    class TestMyAdapter(RuntimeContract):     # a third-party adapter only
        runtime_name = "myruntime"

The tests use only the public API and the fixtures of
:mod:`runtimes.testing.plugin`.  None is specific to one runtime: where
runtimes legitimately differ, a test checks the adapter's declared
``Capability`` instead of its name.
"""

from __future__ import annotations

import _thread
import contextlib
import ipaddress
import os
import random
import shutil
import signal
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

import runtimes
import runtimes.stacks
from runtimes._runopts import CAPABILITY_BITS
from runtimes.base import Runtime
from runtimes.models import (
    Capability,
    Container,
    ContainerState,
    LogLine,
    Network,
    PortBinding,
    PortMapping,
)
from runtimes.testing._base import CONTAINER_VERBS, _Base, need
from runtimes.testing.bad_input import BadInputContract
from runtimes.testing.images import write_busybox_context
from runtimes.testing.plugin import SESSION_LABEL

__all__ = [
    "BadInputContract",
    "BuildContract",
    "ControlContract",
    "CopyContract",
    "ErrorsContract",
    "ExecContract",
    "HealthContract",
    "ImagesContract",
    "LifecycleContract",
    "LogsContract",
    "NetworksContract",
    "ReadinessContract",
    "RegistryContract",
    "RunContract",
    "StacksContract",
    "RunOptionsContract",
    "RuntimeContract",
    "VolumesContract",
]

Launch = Callable[..., Container]
MakeNetwork = Callable[..., Network]
BB = "/bin/busybox"


def wait_for_output(
    rt: Runtime, container: Container, needle: str, timeout: float = 20
) -> list[LogLine]:
    """Poll the logs until a line contains ``needle``; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        lines = list(rt.logs(container))
        if any(needle in line.text for line in lines):
            return lines
        if time.monotonic() > deadline:
            pytest.fail(f"{needle!r} never appeared in the logs; got {[x.text for x in lines]}")
        time.sleep(0.1)


def http_get(binding: PortBinding | int, path: str = "/index.html", timeout: float = 20) -> str:
    """GET from a published port where a client reaches it
    (:attr:`PortBinding.host <runtimes.PortBinding.host>`; a bare port
    number means 127.0.0.1), retrying until the server answers or ``timeout``."""
    deadline = time.monotonic() + timeout
    if isinstance(binding, int):
        host, port = "127.0.0.1", binding
    else:
        host = f"[{binding.host}]" if ":" in binding.host else binding.host
        port = binding.host_port
    url = f"http://{host}:{port}{path}"
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                body: bytes = response.read()
                return body.decode()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def published_text(rt: Runtime, container_port: int) -> str:
    """:func:`published` as a port text, for specs that take text (a stack's services)."""
    return f"127.0.0.1::{container_port}" if rt.engine_host is None else str(container_port)


def published(rt: Runtime, container_port: int, host_port: int | None = None) -> PortMapping:
    """A port to publish on 127.0.0.1, or on every address of a remote
    engine (its loopback is not this machine's)."""
    return PortMapping(
        container_port=container_port,
        host_ip=None if rt.engine_host is not None else "127.0.0.1",
        host_port=host_port,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def texts(lines: list[LogLine]) -> list[str]:
    return [line.text for line in lines]


# -- build ----------------------------------------------------------------------


class BuildContract(_Base):
    requires = frozenset({Capability.BUILD})

    def _context(self, tmp_path: Path, dockerfile: str) -> Path:
        return write_busybox_context(tmp_path / "ctx", dockerfile)

    def test_build_args_target_labels(
        self,
        rt: Runtime,
        tmp_path: Path,
        session_labels: dict[str, str],
        launch: Launch,
        runtimes_session_id: str,
    ) -> None:
        context = self._context(
            tmp_path,
            f"""\
FROM scratch AS base
COPY busybox {BB}
ARG GREETING=unset
RUN ["{BB}", "sh", "-c", "echo $GREETING > /greeting"]
FROM base AS wanted
RUN ["{BB}", "sh", "-c", "echo wanted > /stage"]
FROM base AS last
RUN ["{BB}", "sh", "-c", "echo last > /stage"]
""",
        )
        tag = f"runtimes-test/build-args:{runtimes_session_id}"
        image = rt.build(
            context,
            tag=tag,
            build_args={"GREETING": "hello-arg"},
            target="wanted",
            labels={**session_labels, "runtimes.test.kind": "args"},
        )
        assert image.id.startswith("sha256:")
        assert len(image.id) == 71
        assert tag in image.tags
        assert image.labels["runtimes.test.kind"] == "args"
        c = launch([BB, "cat", "/greeting", "/stage"], image=tag)
        assert rt.wait(c, timeout=60) == 0
        assert texts(list(rt.logs(c))) == ["hello-arg", "wanted"]

    def test_failing_run_raises_build_failed_with_output(
        self, rt: Runtime, tmp_path: Path, session_labels: dict[str, str]
    ) -> None:
        context = self._context(
            tmp_path,
            f"FROM scratch\nCOPY busybox {BB}\n"
            f'RUN ["{BB}", "sh", "-c", "echo failing-$((40+2)); exit 7"]\n',
        )
        images_before = {i.id for i in rt.images()}
        containers_before = {c.id for c in rt.ps(all=True)}
        try:
            with pytest.raises(runtimes.BuildFailed) as info:
                rt.build(context, labels=session_labels, no_cache=True)
            assert info.value.exit_code == 7
            assert any("failing-42" in line for line in info.value.output)
            assert "failing-42" in str(info.value)
            # No intermediate container survives a failed build.
            assert {c.id for c in rt.ps(all=True)} <= containers_before
        finally:
            for image in rt.images():
                if image.id not in images_before and not image.tags:
                    rt.remove_image(image.id, force=True)

    def test_missing_base_image_is_never_pulled(
        self, rt: Runtime, tmp_path: Path, session_labels: dict[str, str]
    ) -> None:
        # A "registry" on loopback that counts connections: the build must
        # fail without ever reaching it.
        with socket.socket() as registry:
            registry.bind(("127.0.0.1", 0))
            registry.listen(8)
            registry.settimeout(0.1)
            port = registry.getsockname()[1]
            context = self._context(tmp_path, f"FROM 127.0.0.1:{port}/runtimes-absent/base:1\n")
            with pytest.raises(runtimes.BuildFailed, match=r"pull policy is 'never'"):
                rt.build(context, labels=session_labels)
            contacted = 0
            with contextlib.suppress(TimeoutError):
                while True:
                    conn, _ = registry.accept()
                    conn.close()
                    contacted += 1
        assert contacted == 0

    def test_on_output_is_live(
        self, rt: Runtime, tmp_path: Path, session_labels: dict[str, str]
    ) -> None:
        context = self._context(
            tmp_path,
            f"FROM scratch\nCOPY busybox {BB}\n"
            f'RUN ["{BB}", "sh", "-c", "echo live-$((6*7))"]\n'
            f'RUN ["{BB}", "sleep", "2"]\n',
        )
        seen: dict[str, float] = {}

        def on_output(line: str) -> None:
            assert "\n" not in line
            if "live-42" in line and "live" not in seen:
                seen["live"] = time.monotonic()

        rt.build(context, labels=session_labels, no_cache=True, on_output=on_output)
        finished = time.monotonic()
        assert "live" in seen, "the RUN step's output never reached on_output"
        assert finished - seen["live"] >= 1.5, "output arrived only after the build finished"


# -- images -----------------------------------------------------------------------


class ImagesContract(_Base):
    def test_image_listing_and_lookup(
        self, rt: Runtime, test_image: str, session_labels: dict[str, str]
    ) -> None:
        need(rt, Capability.IMAGE_STORE)
        image = rt.image(test_image)
        assert image.id.startswith("sha256:")
        assert len(image.id) == 71
        assert test_image in image.tags
        listed = rt.images(labels=session_labels)
        assert image.id in {i.id for i in listed}
        assert all(i.id.startswith("sha256:") for i in listed)
        assert rt.image(image.id).id == image.id

    def test_missing_image(self, rt: Runtime, runtimes_session_id: str) -> None:
        need(rt, Capability.IMAGE_STORE)
        ref = f"runtimes-test/missing:{runtimes_session_id}"
        with pytest.raises(runtimes.ImageNotFound):
            rt.image(ref)
        with pytest.raises(runtimes.ImageNotFound):
            rt.remove_image(ref)

    def test_run_never_pulls(
        self, rt: Runtime, runtimes_session_id: str, session_labels: dict[str, str]
    ) -> None:
        with pytest.raises(runtimes.ImageNotFound) as info:
            rt.run(f"runtimes-test/missing:{runtimes_session_id}", labels=session_labels)
        assert isinstance(info.value, LookupError)
        missing = f"runtimes-test/missing:{runtimes_session_id}"
        assert all(c.image != missing for c in rt.ps(all=True, labels=session_labels))


# -- run --------------------------------------------------------------------------------


class RunContract(_Base):
    def test_run_options(
        self, rt: Runtime, launch: Launch, unique_name: Callable[[str], str]
    ) -> None:
        name = unique_name("opts")
        c = launch(
            ["-c", 'echo "$GREETING"; pwd; id -u'],
            name=name,
            env={"GREETING": "hi there"},
            labels={"runtimes.test.kind": "opts"},
            workdir="/tmp",
            user="1000",
            entrypoint=["sh"],
        )
        assert c.name == name
        assert len(c.id) == 64
        assert c.labels["runtimes.test.kind"] == "opts"
        assert c.runtime == rt.name
        assert rt.wait(c, timeout=60) == 0
        assert texts(list(rt.logs(c))) == ["hi there", "/tmp", "1000"]
        inspected = rt.inspect(name)
        assert inspected.id == c.id
        assert inspected.state is ContainerState.EXITED
        assert inspected.exit_code == 0
        assert inspected.command[-2:] == ("-c", 'echo "$GREETING"; pwd; id -u')
        assert inspected.created_at is not None
        assert inspected.created_at.tzinfo is not None
        assert inspected.started_at is not None
        assert inspected.finished_at is not None

    def test_command_without_entrypoint(self, rt: Runtime, launch: Launch) -> None:
        c = launch(["echo", "plain", "command"])
        assert rt.wait(c, timeout=60) == 0
        assert texts(list(rt.logs(c))) == ["plain command"]

    def test_ports_serve_http(self, rt: Runtime, launch: Launch) -> None:
        fixed = free_port()
        c = launch(
            ["httpd", "-f", "-p", "8080", "-h", "/www"],
            ports=[published(rt, 8080), published(rt, 8081, fixed)],
        )
        auto = c.port(8080)
        if rt.engine_host is None:
            assert auto.host_ip == "127.0.0.1"
            assert auto.host == "127.0.0.1"
        else:
            # A remote engine's port is reached at the engine's host.
            assert auto.host == rt.engine_host
        assert auto.host_port > 0
        assert c.port(8081).host_port == fixed
        assert http_get(auto).strip() == "hello from runtimes"
        listed = rt.ps(name=c.name)
        assert listed[0].port(8080).host_port == auto.host_port
        assert listed[0].port(8080).host == auto.host
        assert rt.inspect(c).port(8080).host == auto.host
        # The same binary on the fixed port really listens there too.
        c2 = launch(
            ["httpd", "-f", "-p", "8081", "-h", "/www"], ports=[published(rt, 8081, free_port())]
        )
        assert http_get(c2.port(8081)).strip() == "hello from runtimes"

    def test_bind_mounts(self, rt: Runtime, launch: Launch, tmp_path: Path) -> None:
        src = tmp_path / "data"
        src.mkdir()
        (src / "in.txt").write_text("from host\n")
        out = tmp_path / "out"
        out.mkdir()
        out.chmod(0o777)
        c = launch(
            ["sh", "-c", "cat /data/in.txt; echo back > /out/out.txt; touch /data/x || echo ro-ok"],
            volumes=[f"{src}:/data:ro", runtimes.Mount(source=str(out), target="/out")],
        )
        assert rt.wait(c, timeout=60) == 0
        assert "from host" in texts(list(rt.logs(c)))
        assert "ro-ok" in texts(list(rt.logs(c)))
        assert (out / "out.txt").read_text() == "back\n"

    def test_named_volume_persists(
        self,
        rt: Runtime,
        launch: Launch,
        unique_name: Callable[[str], str],
        session_labels: dict[str, str],
    ) -> None:
        need(rt, Capability.VOLUMES)
        name = unique_name("vol")
        rt.create_volume(name, labels=session_labels)
        users: list[Container] = []
        try:
            users.append(launch(["sh", "-c", "echo kept > /v/file"], volumes=[f"{name}:/v"]))
            assert rt.wait(users[0], timeout=60) == 0
            users.append(launch(["cat", "/v/file"], volumes=[f"{name}:/v:ro"]))
            assert rt.wait(users[1], timeout=60) == 0
            assert texts(list(rt.logs(users[1]))) == ["kept"]
            assert name in {v.name for v in rt.volumes(labels=session_labels)}
        finally:
            for user in users:  # a volume in use cannot be removed
                rt.remove(user, force=True)
            rt.remove_volume(name)
        assert name not in {v.name for v in rt.volumes()}

    def test_ps_filters(
        self,
        rt: Runtime,
        launch: Launch,
        unique_name: Callable[[str], str],
        session_labels: dict[str, str],
    ) -> None:
        mark = {"runtimes.test.ps": unique_name("ps")}
        running = launch(["sleep", "1000"], labels=mark, name=unique_name("run"))
        done = launch(["true"], labels=mark, name=unique_name("done"))
        rt.wait(done, timeout=60)
        ids = {c.id for c in rt.ps(labels=mark)}
        assert ids == {running.id}
        every = {c.id: c for c in rt.ps(all=True, labels=mark)}
        assert set(every) == {running.id, done.id}
        listed_done = every[done.id]
        assert listed_done.state is ContainerState.EXITED
        assert listed_done.exit_code == 0
        assert listed_done.name == done.name
        assert listed_done.labels[SESSION_LABEL] == session_labels[SESSION_LABEL]
        assert listed_done.created_at is not None
        assert every[running.id].state is ContainerState.RUNNING
        assert every[running.id].command == ("sleep", "1000")
        by_name = rt.ps(all=True, name=done.name)
        assert [c.id for c in by_name] == [done.id]
        # exact match only, never a substring
        assert rt.ps(all=True, name=done.name[:-1]) == []

    def test_running_removes_on_error(
        self, rt: Runtime, test_image: str, session_labels: dict[str, str]
    ) -> None:
        holder: list[Container] = []
        with (  # noqa: PT012 - the block is what is under test
            pytest.raises(RuntimeError, match="boom"),
            rt.running(test_image, ["sleep", "1000"], labels=session_labels) as c,
        ):
            holder.append(c)
            assert rt.inspect(c).state is ContainerState.RUNNING
            raise RuntimeError("boom")
        with pytest.raises(runtimes.ContainerNotFound):
            rt.inspect(holder[0])


# -- logs -------------------------------------------------------------------------------


class LogsContract(_Base):
    def test_streams_are_tagged(self, rt: Runtime, launch: Launch) -> None:
        need(rt, Capability.LOG_STREAMS)
        c = launch(["sh", "-c", "echo out; echo err >&2"])
        assert rt.wait(c, timeout=60) == 0
        lines = list(rt.logs(c))
        assert sorted((x.stream, x.text) for x in lines) == [("stderr", "err"), ("stdout", "out")]
        assert [x.data for x in lines if x.stream == "stdout"] == [b"out\n"]
        assert texts(list(rt.logs(c, stdout=False))) == ["err"]
        assert texts(list(rt.logs(c, stderr=False))) == ["out"]
        assert all(x.timestamp is None for x in lines)

    def test_follow_ends_when_container_exits(self, rt: Runtime, launch: Launch) -> None:
        c = launch(["sh", "-c", "for i in 1 2 3; do echo line-$i; sleep 0.3; done"])
        got: list[str] = []
        worker = threading.Thread(target=lambda: got.extend(texts(list(rt.logs(c, follow=True)))))
        worker.start()
        worker.join(timeout=60)
        assert not worker.is_alive(), "logs(follow=True) did not end after the container exited"
        assert got == ["line-1", "line-2", "line-3"]

    def test_follow_gives_a_slow_reader_everything(self, rt: Runtime, launch: Launch) -> None:
        # The container is long gone before the reader has had half of it
        # (Podman 4.3's API follow used to drop the rest: a remote engine's
        # reader is slow, so is a busy consumer).
        c = launch(
            [
                "sh",
                "-c",
                "i=0; while [ $i -lt 400 ]; do printf '%05d%0995d\\n' $i 0; i=$((i+1)); done",
            ]
        )
        assert rt.wait(c, timeout=60) == 0
        got = []
        for line in rt.logs(c, follow=True):
            got.append(line.data)
            if len(got) % 40 == 0:
                time.sleep(0.1)
        assert len(got) == 400
        assert [int(data[:5]) for data in got] == list(range(400))
        assert all(len(data) == 1001 for data in got)

    @pytest.mark.parametrize("follow", [False, True], ids=["read", "follow"])
    def test_log_integrity(self, rt: Runtime, launch: Launch, tmp_path: Path, follow: bool) -> None:
        need(rt, Capability.LOG_STREAMS)
        # 20 MB in 100 KB lines, a carriage return inside a line, UTF-8, and
        # a last line without its newline, on each stream.
        big = b"".join(b"%06d" % i + b"x" * 99_993 + b"\n" for i in range(200))
        special = "cr\rinside\nh\u00e9llo \u20ac \u4e16\u754c\n".encode()
        out = big + special + b"stdout-without-newline"
        err = special + b"x" * 150_000 + b"\n" + b"stderr-without-newline"
        data = tmp_path / "data"
        data.mkdir()
        (data / "out").write_bytes(out)
        (data / "err").write_bytes(err)
        c = launch(["sh", "-c", "cat /d/out; cat /d/err >&2"], volumes=[f"{data}:/d:ro"])
        if not follow:
            assert rt.wait(c, timeout=120) == 0
        lines = list(rt.logs(c, follow=follow))
        got = {
            stream: b"".join(line.data for line in lines if line.stream == stream)
            for stream in ("stdout", "stderr")
        }
        want = {"stdout": out, "stderr": err}
        if Capability.KEEPS_UNTERMINATED_LAST_LINE not in rt.capabilities:
            # Declared loss: the runtime may drop a last line that has no
            # newline (nerdctl 2.0 always, 2.2 now and then), and nothing else.
            for stream, last in (
                ("stdout", b"stdout-without-newline"),
                ("stderr", b"stderr-without-newline"),
            ):
                if not got[stream].endswith(last):
                    want[stream] = want[stream].removesuffix(last)
        assert len(got["stdout"]) == len(want["stdout"])
        assert got["stdout"] == want["stdout"]
        assert got["stderr"] == want["stderr"]

    def test_timestamp_precision_is_as_declared(self, rt: Runtime, launch: Launch) -> None:
        c = launch(["sh", "-c", "for i in 1 2 3 4 5 6 7 8; do echo $i; done"])
        assert rt.wait(c, timeout=60) == 0
        stamps = [line.timestamp for line in rt.logs(c, timestamps=True)]
        assert len(stamps) == 8
        assert all(stamp is not None for stamp in stamps)
        fractions = {stamp.microsecond for stamp in stamps if stamp is not None}
        if Capability.PRECISE_LOG_TIMESTAMPS in rt.capabilities:
            assert fractions != {0}, "declared sub-second timestamps, got whole seconds"
        else:
            assert fractions == {0}, "sub-second timestamps: declare PRECISE_LOG_TIMESTAMPS"

    def test_tail_and_timestamps(self, rt: Runtime, launch: Launch) -> None:
        c = launch(["sh", "-c", "echo one; echo two; echo three"])
        assert rt.wait(c, timeout=60) == 0
        assert texts(list(rt.logs(c, tail=2))) == ["two", "three"]
        stamped = list(rt.logs(c, timestamps=True))
        assert texts(stamped) == ["one", "two", "three"]
        created = rt.inspect(c).created_at
        assert created is not None
        for line in stamped:
            assert line.timestamp is not None
            assert line.timestamp.tzinfo is not None
            assert abs((line.timestamp - created).total_seconds()) < 120

    def test_non_utf8_never_breaks_the_stream(self, rt: Runtime, launch: Launch) -> None:
        c = launch(["sh", "-c", r"printf 'a\377\376b\n'; echo after"])
        assert rt.wait(c, timeout=60) == 0
        lines = list(rt.logs(c))
        assert [x.stream for x in lines] == ["stdout", "stdout"]
        assert lines[1].data == b"after\n"
        if Capability.LOSSLESS_LOGS in rt.capabilities:
            assert lines[0].data == b"a\xff\xfeb\n"
        else:
            assert lines[0].data.startswith(b"a")
            assert lines[0].data.endswith(b"b\n")
        assert lines[0].text.startswith("a")
        assert lines[0].text.endswith("b")

    @pytest.mark.parametrize("timestamps", [False, True], ids=["plain", "timestamps"])
    def test_long_line_is_one_logline(self, rt: Runtime, launch: Launch, timestamps: bool) -> None:
        c = launch(["sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x; echo; echo short"])
        assert rt.wait(c, timeout=60) == 0
        lines = list(rt.logs(c, timestamps=timestamps))
        assert [len(x.data) for x in lines] == [100001, 6]
        assert lines[0].data == b"x" * 100000 + b"\n"
        assert lines[1].text == "short"
        assert all((x.timestamp is not None) is timestamps for x in lines)


# -- lifecycle ------------------------------------------------------------------------------


class LifecycleContract(_Base):
    def test_stop_trapping_process_exits_cleanly(self, rt: Runtime, launch: Launch) -> None:
        c = launch(
            [
                "sh",
                "-c",
                'trap "echo got-term; exit 0" TERM; echo ready; while true; do sleep 0.1; done',
            ]
        )
        wait_for_output(rt, c, "ready")
        started = time.monotonic()
        rt.stop(c, timeout=20)
        assert time.monotonic() - started < 15
        inspected = rt.inspect(c)
        assert inspected.state is ContainerState.EXITED
        assert inspected.exit_code == 0
        assert "got-term" in texts(list(rt.logs(c)))

    def test_stop_kills_after_timeout(self, rt: Runtime, launch: Launch) -> None:
        c = launch(["sleep", "1000"])
        rt.stop(c, timeout=1)
        inspected = rt.inspect(c)
        assert inspected.state is ContainerState.EXITED
        assert inspected.exit_code == 137

    def test_kill_and_signals(self, rt: Runtime, launch: Launch) -> None:
        c = launch(["sleep", "1000"])
        rt.kill(c)
        assert rt.wait(c, timeout=60) == 137
        trapped = launch(
            ["sh", "-c", 'trap "exit 5" USR1; echo ready; while true; do sleep 0.1; done']
        )
        wait_for_output(rt, trapped, "ready")
        rt.kill(trapped, "SIGUSR1")
        assert rt.wait(trapped, timeout=60) == 5

    def test_wait(self, rt: Runtime, launch: Launch) -> None:
        c = launch(["sh", "-c", "exit 3"])
        assert rt.wait(c, timeout=60) == 3
        inspected = rt.inspect(c)
        assert inspected.exit_code == 3
        assert inspected.state is ContainerState.EXITED
        sleeper = launch(["sleep", "1000"])
        with pytest.raises(runtimes.Timeout):
            rt.wait(sleeper, timeout=1)
        assert rt.inspect(sleeper).state is ContainerState.RUNNING

    def test_remove(self, rt: Runtime, launch: Launch) -> None:
        c = launch(["sleep", "1000"])
        with pytest.raises(runtimes.CommandFailed):
            rt.remove(c)
        rt.remove(c, force=True)
        with pytest.raises(runtimes.ContainerNotFound):
            rt.inspect(c.id)

    def test_remove_flag_deletes_after_exit(self, rt: Runtime, launch: Launch) -> None:
        need(rt, Capability.AUTO_REMOVE)
        c = launch(["sh", "-c", "sleep 0.5"], remove=True)
        deadline = time.monotonic() + 30
        while rt.ps(all=True, name=c.name):
            assert time.monotonic() < deadline, "remove=True left the container behind"
            time.sleep(0.2)


# -- exec -------------------------------------------------------------------------------


class ExecContract(_Base):
    def test_exec(self, rt: Runtime, launch: Launch) -> None:
        need(rt, Capability.EXEC_OPTIONS)
        c = launch(["sleep", "1000"])
        result = rt.exec(
            c,
            ["sh", "-c", 'echo "$FOO"; pwd; id -u; echo oops >&2; exit 4'],
            env={"FOO": "bar baz"},
            workdir="/www",
            user="1000",
        )
        assert result.exit_code == 4
        assert result.stdout == b"bar baz\n/www\n1000\n"
        assert result.stderr == b"oops\n"
        assert rt.exec(c.name, "true").exit_code == 0

    def test_stdin(self, rt: Runtime, launch: Launch, tmp_path: Path) -> None:
        need(rt, Capability.EXEC_IO)
        c = launch(["sleep", "1000"])
        if Capability.EXEC_STDIN not in rt.capabilities:
            # Declared: refused before anything runs, never a command left
            # waiting for an end of input that cannot come.
            for stream in (False, True):
                with pytest.raises(runtimes.Unsupported) as info:
                    rt.exec(c, ["cat"], stdin=b"x", stream=stream)
                assert info.value.capability is Capability.EXEC_STDIN
            assert [p.command for p in rt.top(c)] == ["sleep 1000"]
            return
        assert rt.exec(c, ["cat"], stdin=b"hello\nworld").stdout == b"hello\nworld"
        data = os.urandom(1 << 20)
        (tmp_path / "input").write_bytes(data)
        with (tmp_path / "input").open("rb") as fh:
            result = rt.exec(c, ["cat"], stdin=fh)
        assert result.exit_code == 0
        assert result.stdout == data
        assert rt.exec(c, ["wc", "-c"], stdin=b"").stdout.split() == [b"0"]
        # Without stdin the command reads end of file at once.
        assert rt.exec(c, ["cat"]).stdout == b""
        with rt.exec(c, ["sh", "-c", "cat; exit 2"], stdin=b"a\nb\n", stream=True) as lines:
            assert texts(list(lines)) == ["a", "b"]
        assert lines.exit_code == 2

    def test_stream_is_live(self, rt: Runtime, launch: Launch) -> None:
        need(rt, Capability.EXEC_IO)
        """The first line arrives while the command still runs: it waits for
        a file that the test creates only once it has that line."""
        c = launch(["sleep", "1000"])
        go = "/tmp/runtimes-go"
        stream = rt.exec(
            c,
            ["sh", "-c", f"echo first; until [ -e {go} ]; do sleep 0.05; done; "
             "echo second; echo oops >&2; exit 3"],
            stream=True,
        )  # fmt: skip
        assert stream.exit_code is None
        got: list[LogLine] = []
        reader = threading.Thread(target=lambda: got.extend(stream), daemon=True)
        reader.start()
        deadline = time.monotonic() + 60
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
        before_go = list(got)
        rt.exec(c, ["touch", go])  # lets the command end whatever happened
        reader.join(timeout=60)
        assert texts(before_go) == ["first"], "no line arrived before the command could end"
        assert not reader.is_alive()
        assert (got[0].stream, got[0].data) == ("stdout", b"first\n")
        assert sorted((x.stream, x.text) for x in got[1:]) == [
            ("stderr", "oops"),
            ("stdout", "second"),
        ]
        assert stream.exit_code == 3

    def test_stream_closed_early_and_errors(
        self, rt: Runtime, launch: Launch, runtimes_session_id: str
    ) -> None:
        need(rt, Capability.EXEC_IO)
        c = launch(["sleep", "1000"])
        ticking = rt.exec(
            c, ["sh", "-c", "while true; do echo tick; sleep 0.05; done"], stream=True
        )
        assert next(ticking).text == "tick"
        ticking.close()
        assert ticking.exit_code is None
        assert list(ticking) == []
        assert rt.exec(c, ["true"]).exit_code == 0  # the runtime is still usable
        with pytest.raises(runtimes.ContainerNotFound):
            rt.exec(f"rt-{runtimes_session_id}-no-container", ["true"], stream=True)
        stopped = launch(["true"])
        assert rt.wait(stopped, timeout=60) == 0
        for stream in (False, True):
            with pytest.raises(runtimes.CommandFailed):
                rt.exec(stopped, ["true"], stream=stream)

    def test_detach_returns_at_once(self, rt: Runtime, launch: Launch) -> None:
        need(rt, Capability.EXEC_IO)
        """exec(detach=True) returns while the command still waits for a file
        that is created only after it returned."""
        c = launch(["sleep", "1000"])
        command = "until [ -e /tmp/go ]; do sleep 0.05; done; echo done > /tmp/done"
        assert rt.exec(c, ["sh", "-c", command], detach=True) is None
        assert rt.exec(c, ["cat", "/tmp/done"]).exit_code != 0
        rt.exec(c, ["touch", "/tmp/go"])
        deadline = time.monotonic() + 60
        while rt.exec(c, ["cat", "/tmp/done"]).stdout != b"done\n":
            assert time.monotonic() < deadline, "the detached command never finished"
            time.sleep(0.1)

    def test_tty(self, rt: Runtime, launch: Launch) -> None:
        need(rt, Capability.EXEC_IO)
        c = launch(["sleep", "1000"])
        result = rt.exec(c, ["sh", "-c", "tty; echo out; echo err >&2; exit 3"], tty=True)
        assert result.exit_code == 3
        assert result.stderr == b""
        lines = result.stdout.split(b"\r\n")
        assert lines[0].startswith(b"/dev/pts/")
        assert lines[1:] == [b"out", b"err", b""]
        streamed = list(rt.exec(c, ["sh", "-c", "echo a; echo b >&2"], tty=True, stream=True))
        assert [(x.stream, x.data) for x in streamed] == [
            ("stdout", b"a\r\n"),
            ("stdout", b"b\r\n"),
        ]


# -- files in and out -----------------------------------------------------------------


def tree_listing(root: Path) -> dict[str, tuple[str, int, bytes | str | None]]:
    """``{relative path: (kind, mode, content or link target)}`` of a local tree."""
    found: dict[str, tuple[str, int, bytes | str | None]] = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        relative = str(path.relative_to(root))
        if path.is_symlink():
            found[relative] = ("link", 0, os.readlink(path))
        elif path.is_dir():
            found[relative] = ("dir", info.st_mode & 0o7777, None)
        else:
            found[relative] = ("file", info.st_mode & 0o7777, path.read_bytes())
    return found


def make_tree(root: Path) -> Path:
    """A small tree with modes, an empty directory, a link and a binary file."""
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "top.txt").write_text("top\n")
    (root / "sub" / "run.sh").write_text("#!/bin/sh\necho ran\n")
    (root / "sub" / "deeper" / "data.bin").write_bytes(bytes(range(256)) * 40)
    (root / "sub" / "deeper" / "secret").write_text("s\n")
    (root / "link").symlink_to("sub/run.sh")
    (root / "top.txt").chmod(0o644)
    (root / "sub" / "run.sh").chmod(0o755)
    (root / "sub" / "deeper" / "secret").chmod(0o600)
    (root / "sub" / "deeper").chmod(0o750)
    (root / "empty").chmod(0o700)
    root.chmod(0o755)
    return root


class CopyContract(_Base):
    requires = frozenset({Capability.COPY})

    @pytest.fixture(params=["running", "stopped"])
    def target(self, request: pytest.FixtureRequest, rt: Runtime, launch: Launch) -> Container:
        """A container to copy to and from: running, or exited."""
        if request.param == "running":
            return launch(["sleep", "1000"])
        need(rt, Capability.COPY_STOPPED)
        c = launch(["true"])
        assert rt.wait(c, timeout=60) == 0
        return c

    def test_file_round_trip_10mb(self, rt: Runtime, target: Container, tmp_path: Path) -> None:
        data = os.urandom(10 * 1024 * 1024)
        source = tmp_path / "big.bin"
        source.write_bytes(data)
        source.chmod(0o640)
        rt.copy_to(target, source, "/tmp/big.bin")
        assert rt.copy_from(target, "/tmp/big.bin") == data
        back = tmp_path / "back.bin"
        assert rt.copy_from(target, "/tmp/big.bin", back) is None
        assert back.read_bytes() == data
        assert back.stat().st_mode & 0o7777 == 0o640
        # Bytes name the file themselves; an existing file is replaced.
        rt.copy_to(target.name, b"first\n", "/tmp/note.txt")
        rt.copy_to(target.id, b"second\n", "/tmp/note.txt")
        assert rt.copy_from(target, "/tmp/note.txt") == b"second\n"
        rt.copy_from(target, "/tmp/note.txt", tmp_path / "note.txt")
        assert (tmp_path / "note.txt").stat().st_mode & 0o7777 == 0o644

    def test_tree_round_trip(self, rt: Runtime, target: Container, tmp_path: Path) -> None:
        tree = make_tree(tmp_path / "tree")
        rt.copy_to(target, tree, "/tmp/tree")
        rt.copy_from(target, "/tmp/tree", tmp_path / "back")
        assert tree_listing(tmp_path / "back") == tree_listing(tree)
        assert (tmp_path / "back").stat().st_mode & 0o777 == 0o755
        # The destination names the copy: a second copy merges into it,
        # never nests as /tmp/tree/tree; so does a copy out to a local dir.
        (tree / "added.txt").write_text("added\n")
        rt.copy_to(target, tree, "/tmp/tree")
        rt.copy_from(target, "/tmp/tree", tmp_path / "back")
        assert tree_listing(tmp_path / "back") == tree_listing(tree)
        # A file copied onto a directory goes inside it, under its own name.
        rt.copy_to(target, tree / "top.txt", "/tmp/tree/sub")
        assert rt.copy_from(target, "/tmp/tree/sub/top.txt") == b"top\n"
        rt.copy_from(target, "/tmp/tree/sub/run.sh", tmp_path / "back")
        assert (tmp_path / "back" / "run.sh").read_bytes() == (tree / "sub" / "run.sh").read_bytes()
        assert (tmp_path / "back" / "run.sh").stat().st_mode & 0o777 == 0o755

    def test_a_link_at_the_top_is_followed(
        self, rt: Runtime, launch: Launch, tmp_path: Path
    ) -> None:
        c = launch(["sleep", "1000"])
        assert rt.exec(c, ["ln", "-s", "/www/index.html", "/tmp/abs-link"]).exit_code == 0
        assert rt.exec(c, ["ln", "-s", "../www/index.html", "/tmp/rel-link"]).exit_code == 0
        assert rt.copy_from(c, "/tmp/abs-link") == b"hello from runtimes\n"
        assert rt.copy_from(c, "/tmp/rel-link") == b"hello from runtimes\n"
        local = tmp_path / "local-link"
        local.symlink_to(make_tree(tmp_path / "tree") / "top.txt")
        rt.copy_to(c, local, "/tmp/from-link.txt")
        assert rt.copy_from(c, "/tmp/from-link.txt") == b"top\n"

    def test_missing_paths_and_containers(
        self, rt: Runtime, target: Container, tmp_path: Path, runtimes_session_id: str
    ) -> None:
        calls: list[Callable[[], object]] = [
            lambda: rt.copy_from(target, "/no/such/file"),
            lambda: rt.copy_from(target, "/no/such/dir", tmp_path / "out"),
            lambda: rt.copy_to(target, b"x", "/no/such/dir/file"),
            lambda: rt.copy_to(target, make_tree(tmp_path / "t"), "/no/such/dir/tree"),
        ]
        for call in calls:
            with pytest.raises(runtimes.PathNotFound) as info:
                call()
            assert isinstance(info.value, FileNotFoundError)
            assert isinstance(info.value, runtimes.NotFound)
        assert not (tmp_path / "out").exists()
        missing = f"rt-{runtimes_session_id}-no-container"
        with pytest.raises(runtimes.ContainerNotFound):
            rt.copy_to(missing, b"x", "/tmp/x")
        with pytest.raises(runtimes.ContainerNotFound):
            rt.copy_from(missing, "/etc/passwd")
        with pytest.raises(runtimes.InvalidSpec, match="directory"):
            rt.copy_from(target, "/www")


# -- the rest of the lifecycle ----------------------------------------------------------


class ControlContract(_Base):
    @pytest.fixture
    def create(
        self, rt: Runtime, test_image: str, session_labels: dict[str, str]
    ) -> Iterator[Launch]:
        """``create(command, **kwargs)`` of the test image, removed after the test."""
        made: list[Container] = []

        def make(command: Any = None, **kwargs: Any) -> Container:
            labels = {**session_labels, **kwargs.pop("labels", {})}
            c = rt.create(test_image, command, labels=labels, **kwargs)
            made.append(c)
            return c

        yield make
        for c in made:
            with contextlib.suppress(runtimes.RuntimesError):
                rt.remove(c, force=True)

    def test_create_then_start(
        self, rt: Runtime, create: Launch, unique_name: Callable[[str], str]
    ) -> None:
        need(rt, Capability.CREATE)
        name = unique_name("created")
        c = create(
            ["httpd", "-f", "-p", "8080", "-h", "/www"],
            name=name,
            ports=[published_text(rt, 8080)],
            env={"MODE": "created"},
        )
        assert c.state is ContainerState.CREATED
        assert c.name == name
        assert [x.state for x in rt.ps(all=True, name=name)] == [ContainerState.CREATED]
        assert rt.ps(name=name) == []  # not running
        rt.start(name)
        started = rt.inspect(c)
        assert started.state is ContainerState.RUNNING
        assert started.id == c.id
        assert http_get(started.port(8080)).strip() == "hello from runtimes"
        assert rt.exec(c, ["sh", "-c", "echo $MODE"]).stdout == b"created\n"
        rt.start(c)  # already running: nothing happens
        assert rt.inspect(c).started_at == started.started_at

    def test_start_failure_keeps_the_container(self, rt: Runtime, create: Launch) -> None:
        need(rt, Capability.CREATE)
        c = create(["/runtimes-no-such-binary"])
        with pytest.raises(runtimes.CommandFailed):
            rt.start(c)
        assert rt.inspect(c).state is not ContainerState.RUNNING

    def test_created_with_remove_goes_after_its_run(self, rt: Runtime, create: Launch) -> None:
        need(rt, Capability.CREATE, Capability.AUTO_REMOVE)
        c = create(["sh", "-c", "sleep 0.5"], remove=True)
        assert rt.inspect(c).state is ContainerState.CREATED
        rt.start(c)
        deadline = time.monotonic() + 30
        while rt.ps(all=True, name=c.name):
            assert time.monotonic() < deadline, "create(remove=True) left the container behind"
            time.sleep(0.2)

    def test_restart_keeps_id_files_and_volumes(
        self,
        rt: Runtime,
        launch: Launch,
        unique_name: Callable[[str], str],
        session_labels: dict[str, str],
    ) -> None:
        need(rt, Capability.CONTROL)
        volume = rt.create_volume(unique_name("restart"), labels=session_labels).name
        try:
            c = launch(["sleep", "1000"], volumes=[f"{volume}:/v"])
            assert rt.exec(c, ["sh", "-c", "echo kept > /v/data; echo fs > /tmp/fs"]).exit_code == 0
            before = rt.inspect(c)
            rt.restart(c, timeout=1)
            after = rt.inspect(c)
            assert after.id == before.id
            assert after.state is ContainerState.RUNNING
            assert after.started_at is not None
            assert before.started_at is not None
            assert after.started_at > before.started_at
            assert rt.exec(c, ["cat", "/v/data", "/tmp/fs"]).stdout == b"kept\nfs\n"
            rt.stop(c, timeout=0)
            rt.restart(c, timeout=1)  # a stopped container is started
            assert rt.inspect(c).state is ContainerState.RUNNING
            rt.remove(c, force=True)
        finally:
            rt.remove_volume(volume, force=True)

    def test_pause_and_unpause(self, rt: Runtime, launch: Launch, create: Launch) -> None:
        need(rt, Capability.CONTROL)
        c = launch(["sleep", "1000"])
        rt.pause(c)
        assert rt.inspect(c).state is ContainerState.PAUSED
        assert [x.state for x in rt.ps(all=True, name=c.name)] == [ContainerState.PAUSED]
        with pytest.raises(runtimes.CommandFailed):
            rt.pause(c)
        rt.unpause(c)
        assert rt.inspect(c).state is ContainerState.RUNNING
        with pytest.raises(runtimes.CommandFailed):
            rt.unpause(c)
        with pytest.raises(runtimes.CommandFailed):
            rt.pause(create(["true"]))

    def test_rename(self, rt: Runtime, launch: Launch, unique_name: Callable[[str], str]) -> None:
        need(rt, Capability.CONTROL)
        c = launch(["sleep", "1000"])
        other = launch(["sleep", "1000"])
        new = unique_name("renamed")
        rt.rename(c, new)
        assert rt.inspect(new).id == c.id
        assert [x.id for x in rt.ps(name=new)] == [c.id]
        with pytest.raises(runtimes.ContainerNotFound):
            rt.inspect(c.name)
        with pytest.raises(runtimes.NameConflict) as info:
            rt.rename(new, other.name)
        assert info.value.name == other.name
        assert rt.inspect(other.name).id == other.id

    def test_stats(self, rt: Runtime, launch: Launch) -> None:
        need(rt, Capability.STATS)
        busy = launch(["sh", "-c", "while :; do :; done"])
        sample = rt.stats(busy)
        if Capability.STATS_CPU in rt.capabilities:
            assert sample.cpu_percent is not None
            assert sample.cpu_percent > 0
        else:
            assert sample.cpu_percent is None
        assert sample.memory_usage is not None
        assert sample.memory_usage > 0
        assert sample.memory_limit is not None
        assert sample.memory_limit >= sample.memory_usage
        figures = (sample.network_rx, sample.network_tx, sample.block_read, sample.block_write)
        if Capability.STATS_IO in rt.capabilities:
            assert sample.pids is not None
            assert sample.pids >= 1
            assert None not in figures
        # A figure the runtime does not report is None, never a made-up 0.
        assert sample.pids is None or sample.pids >= 1
        assert all(figure is None or figure >= 0 for figure in figures)
        rt.kill(busy)
        rt.wait(busy, timeout=60)
        idle = rt.stats(busy)
        assert (idle.memory_usage, idle.pids, idle.network_rx, idle.block_write) == (0, 0, 0, 0)
        assert idle.cpu_percent in (0, None)

    def test_top(self, rt: Runtime, launch: Launch) -> None:
        need(rt, Capability.TOP)
        c = launch(["sleep", "1000"])
        rt.exec(c, ["sleep", "999"], user="1000", detach=True)
        deadline = time.monotonic() + 30
        while len(found := rt.top(c)) < 2:
            assert time.monotonic() < deadline, f"the exec'd process never showed: {found}"
            time.sleep(0.1)
        by_command = {p.command: p for p in found}
        assert set(by_command) == {"sleep 1000", "sleep 999"}
        assert by_command["sleep 1000"].user == "root"
        assert by_command["sleep 999"].user not in ("", "root")
        assert len({p.pid for p in found}) == 2
        assert all(p.pid > 1 for p in found)  # host pids, not the container's
        rt.stop(c, timeout=0)
        with pytest.raises(runtimes.CommandFailed):
            rt.top(c)

    def test_prune(
        self,
        rt: Runtime,
        launch: Launch,
        create: Launch,
        tmp_path: Path,
        unique_name: Callable[[str], str],
        session_labels: dict[str, str],
    ) -> None:
        need(rt, Capability.BUILD, Capability.IMAGE_STORE, Capability.VOLUMES, Capability.CREATE)
        mark = {**session_labels, "runtimes.test.prune": unique_name("prune")}
        # In use, so kept: a running container, the volume it mounts, the image it runs.
        kept_volume = rt.create_volume(unique_name("kept"), labels=mark).name
        gone_volume = rt.create_volume(unique_name("gone"), labels=mark).name
        context = write_busybox_context(tmp_path / "ctx", f"FROM scratch\nCOPY busybox {BB}\n")
        tag = f"runtimes-test/{mark['runtimes.test.prune']}"
        used_image = rt.build(context, tag=f"{tag}:used", labels={**mark, "which": "used"})
        unused_image = rt.build(context, tag=f"{tag}:unused", labels={**mark, "which": "unused"})
        running = launch(["sleep", "1000"], labels=mark, volumes=[f"{kept_volume}:/v"])
        running_image = launch([BB, "sleep", "1000"], labels=mark, image=f"{tag}:used")
        exited = launch(["true"], labels=mark)
        rt.wait(exited, timeout=60)
        created = create(["true"], labels=mark)
        unmarked = launch(["true"])  # not carrying the mark: never a candidate
        rt.wait(unmarked, timeout=60)
        try:
            report = rt.prune(labels={"runtimes.test.prune": mark["runtimes.test.prune"]})
            assert set(report.containers) == {exited.id, created.id}
            assert report.volumes == (gone_volume,)
            assert report.images == (unused_image.id,)
            assert {c.id for c in rt.ps(all=True, labels=mark)} == {running.id, running_image.id}
            assert rt.inspect(unmarked).id == unmarked.id
            assert {v.name for v in rt.volumes(labels=mark)} == {kept_volume}
            assert {i.id for i in rt.images(labels=mark)} == {used_image.id}
            assert rt.prune(labels=mark) == runtimes.PruneReport()
        finally:
            for c in (running, running_image):
                rt.remove(c, force=True)
            for volume in (kept_volume, gone_volume):
                with contextlib.suppress(runtimes.VolumeNotFound):
                    rt.remove_volume(volume, force=True)
            for image in (used_image, unused_image):
                with contextlib.suppress(runtimes.ImageNotFound):
                    rt.remove_image(image.id, force=True)


# -- run options --------------------------------------------------------------------------------

#: Prints the memory limit in bytes, then the CPU quota and period, from the
#: container's own cgroup (v2 files, else v1's).
CGROUP_LIMITS = (
    "if [ -f /sys/fs/cgroup/memory.max ]; then cat /sys/fs/cgroup/memory.max; "
    "cat /sys/fs/cgroup/cpu.max; else cat /sys/fs/cgroup/memory/memory.limit_in_bytes; "
    "echo $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us); fi"
)
#: What each engine runs as PID 1 with ``init=True``.
INIT_BINARIES = frozenset({"docker-init", "catatonit", "podman-init", "tini", "tini-static"})


def output_of(rt: Runtime, launch: Launch, script: str, **options: Any) -> list[str]:
    """Run ``sh -c script`` with ``options``; its output lines (it must exit 0)."""
    c = launch(["sh", "-c", script], **options)
    assert rt.wait(c, timeout=60) == 0, texts(list(rt.logs(c)))
    return texts(list(rt.logs(c)))


def refused_without(rt: Runtime, capability: Capability, call: Callable[[], object]) -> None:
    """Where ``rt`` lacks ``capability``: ``call`` must raise
    :class:`~runtimes.Unsupported` naming it (before anything is created,
    which the session cleanup would otherwise find), then the test is
    skipped, counted by capability.  Where it has it, nothing happens."""
    if capability in rt.capabilities:
        return
    with pytest.raises(runtimes.Unsupported) as info:
        call()
    assert info.value.capability is capability
    need(rt, capability)


def host_lacks_capabilities() -> list[str]:
    """Capabilities of this kernel missing from this process's bounding set
    (the machine is itself a restricted container): what no engine here can grant."""
    try:
        last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
        status = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return []
    bounding = next((line for line in status if line.startswith("CapBnd:")), "CapBnd: 0")
    value = int(bounding.split()[1], 16)
    return sorted(n for n, bit in CAPABILITY_BITS.items() if bit <= last and not value >> bit & 1)


def cap_eff(lines: list[str]) -> set[str]:
    """Capability names set in the ``CapEff:`` line of ``/proc/self/status``."""
    value = int(next(line for line in lines if line.startswith("CapEff:")).split()[1], 16)
    return {name for name, bit in CAPABILITY_BITS.items() if value >> bit & 1}


def mount_options(lines: list[str], target: str) -> list[str]:
    """The options of the mount at ``target`` in ``/proc/mounts`` lines."""
    for line in lines:
        fields = line.split()
        if len(fields) >= 4 and fields[1] == target:
            return fields[3].split(",")
    pytest.fail(f"nothing mounted at {target}: {lines}")


class RunOptionsContract(_Base):
    """Each option of ``run``/``create``, seen from inside the container."""

    def test_memory_and_cpus(self, rt: Runtime, launch: Launch) -> None:
        memory, quota = output_of(rt, launch, CGROUP_LIMITS, memory="64m", cpus=0.5)
        assert int(memory) == 64 * 1024 * 1024
        used, period = quota.split()
        assert int(used) / int(period) == 0.5
        unlimited, _ = output_of(rt, launch, CGROUP_LIMITS)
        assert unlimited == "max" or int(unlimited) > 2**40

    def test_capabilities(self, rt: Runtime, launch: Launch) -> None:
        status = "grep Cap /proc/self/status"
        default = cap_eff(output_of(rt, launch, status))
        assert {"CHOWN", "KILL"} <= default
        assert "NET_ADMIN" not in default
        assert "SYS_ADMIN" not in default
        changed = cap_eff(
            output_of(rt, launch, status, cap_add=["net_admin"], cap_drop="CAP_CHOWN")
        )
        assert changed == (default | {"NET_ADMIN"}) - {"CHOWN"}
        only = cap_eff(output_of(rt, launch, status, cap_drop=["ALL"], cap_add=["KILL"]))
        assert only == {"KILL"}

    def test_privileged(self, rt: Runtime, launch: Launch) -> None:
        status = "grep Cap /proc/self/status"
        try:
            privileged = output_of(rt, launch, status, privileged=True)
        except runtimes.CommandFailed as exc:
            missing = host_lacks_capabilities()
            if not ("apply caps" in str(exc) and missing):
                raise
            # Docker 20.10 asks runc for every capability it knows, even
            # those the host itself lacks (a sandbox without
            # CAP_SYS_RESOURCE); Podman and nerdctl take the host's bounding
            # set.  What the library owes then: the engine's refusal as a
            # typed error, at once, naming the operation.
            assert exc.operation in ("run", "create"), exc  # noqa: PT017 - checked only on this path
            return
        assert {"SYS_ADMIN", "NET_ADMIN", "SYS_MODULE"} <= cap_eff(privileged)
        bounding = next(line for line in privileged if line.startswith("CapBnd:"))
        assert (
            bounding.split()[1]
            == next(line for line in privileged if line.startswith("CapEff:")).split()[1]
        )

    def test_dns_and_extra_hosts(self, rt: Runtime, launch: Launch) -> None:
        lines = output_of(
            rt,
            launch,
            "cat /etc/hosts /etc/resolv.conf",
            dns=["10.0.0.53", "10.0.0.54"],
            extra_hosts={"runopts-db": "10.1.2.3", "runopts-v6": "fd00::7"},
        )
        hosts = {tuple(line.split()[:2]) for line in lines if line and not line.startswith("#")}
        assert ("10.1.2.3", "runopts-db") in hosts
        assert ("fd00::7", "runopts-v6") in hosts
        servers = [line.split()[1] for line in lines if line.startswith("nameserver")]
        assert servers == ["10.0.0.53", "10.0.0.54"]

    def test_read_only_tmpfs_and_shm(self, rt: Runtime, launch: Launch) -> None:
        if Capability.TMPFS_OPTIONS not in rt.capabilities:
            # Only size= maps (a pod's memory-backed emptyDir): the rest is refused.
            with pytest.raises(runtimes.Unsupported) as info:
                launch(["true"], tmpfs={"/scratch": "size=1m,mode=777"})
            assert info.value.capability is Capability.TMPFS_OPTIONS
        scratch = "size=1m,mode=777" if Capability.TMPFS_OPTIONS in rt.capabilities else "size=1m"
        lines = output_of(
            rt,
            launch,
            "cat /proc/mounts; echo x > /scratch/f && echo scratch-writable; "
            "echo x > /runopts-f 2>/dev/null || echo root-read-only; "
            "echo x > /run2/f && echo run2-writable",
            read_only=True,
            tmpfs={"/scratch": scratch, "/run2": ""},
            shm_size="8m",
        )
        assert "ro" in mount_options(lines, "/")
        assert "size=1024k" in mount_options(lines, "/scratch")
        if Capability.TMPFS_OPTIONS in rt.capabilities:
            assert "mode=777" in mount_options(lines, "/scratch")
        mount_options(lines, "/run2")
        assert "size=8192k" in mount_options(lines, "/dev/shm")
        assert {"scratch-writable", "root-read-only", "run2-writable"} <= set(lines)
        plain = output_of(rt, launch, "cat /proc/mounts", tmpfs=["/scratch"])
        assert "rw" in mount_options(plain, "/")
        mount_options(plain, "/scratch")

    def test_ulimits(self, rt: Runtime, launch: Launch) -> None:
        # nproc given too: a remote Podman service drops its configured
        # defaults once any limit is given and raises nproc past what a host
        # without CAP_SYS_RESOURCE allows; the client cannot read the
        # service's defaults to pass them back (docs/differences.md).
        script = "ulimit -Sn; ulimit -Hn; ulimit -Sc; ulimit -Hc; ulimit -Su"
        limits = {"nofile": "512:1024", "core": 0, "nproc": "1024:1024"}
        refused_without(rt, Capability.ULIMITS, lambda: launch(["true"], ulimits=limits))
        assert output_of(rt, launch, script, ulimits=limits) == ["512", "1024", "0", "0", "1024"]
        only = {"nofile": (256, 256), "nproc": (1024, 1024)}
        assert output_of(rt, launch, "ulimit -Sn; ulimit -Hn", ulimits=only) == ["256", "256"]

    def test_init_is_pid_1(self, rt: Runtime, launch: Launch) -> None:
        script = "tr '\\0' ' ' < /proc/1/cmdline; echo; echo $$"
        refused_without(rt, Capability.INIT, lambda: launch(["true"], init=True))
        first, own_pid = output_of(rt, launch, script, init=True)
        assert os.path.basename(first.split()[0]) in INIT_BINARIES, first
        assert own_pid != "1"
        first, own_pid = output_of(rt, launch, script)
        assert first.split()[0] == "sh"
        assert own_pid == "1"
        # The init forwards the stop signal to the command (which, as PID 1,
        # would ignore it) and exits with it: SIGTERM, 128 + 15.
        c = launch(["sleep", "1000"], init=True)
        started = time.monotonic()
        rt.stop(c, timeout=30)
        assert time.monotonic() - started < 15
        assert rt.wait(c, timeout=30) == 143

    def test_restart_policy(self, rt: Runtime, launch: Launch) -> None:
        assert rt.inspect(launch(["true"])).restart_policy == "no"
        always = launch(["true"], restart_policy="always")
        assert always.restart_policy == "always"
        rt.stop(always, timeout=5)
        assert rt.inspect(always).restart_policy == "always"
        if Capability.RESTART_POLICIES not in rt.capabilities:
            for policy in ("on-failure:2", "on-failure", "unless-stopped"):
                with pytest.raises(runtimes.Unsupported):
                    launch(["true"], restart_policy=policy)
            return
        c = launch(["sh", "-c", "echo started; exit 1"], restart_policy="on-failure:2")
        assert c.restart_policy == "on-failure:2"
        deadline = time.monotonic() + 90
        while True:
            current = rt.inspect(c)
            runs = texts(list(rt.logs(c))).count("started")
            if current.restart_count == 2 and runs == 3 and current.state is ContainerState.EXITED:
                break
            assert time.monotonic() < deadline, (current.restart_count, runs, current.state)
            time.sleep(0.5)
        assert current.exit_code == 1
        assert rt.inspect(launch(["true"], restart_policy="on-failure")).restart_policy == (
            "on-failure"
        )
        stopped = launch(["sleep", "1000"], restart_policy="unless-stopped")
        assert stopped.restart_policy == "unless-stopped"
        rt.stop(stopped, timeout=0)
        assert rt.inspect(stopped).state is ContainerState.EXITED

    def test_stop_signal_and_timeout(self, rt: Runtime, launch: Launch) -> None:
        plain = rt.inspect(launch(["true"]))
        assert (plain.stop_signal, plain.stop_timeout) == ("SIGTERM", 10)
        # stop() without a timeout waits the container's own: sleep as PID 1
        # ignores SIGTERM, so it is killed after 1 s rather than 10.
        sleeper = launch(["sleep", "1000"], stop_timeout=1)
        started = time.monotonic()
        rt.stop(sleeper)
        assert time.monotonic() - started < 8
        assert rt.wait(sleeper, timeout=30) == 137
        refused_without(rt, Capability.STOP_SIGNAL, lambda: launch(["true"], stop_signal="USR1"))
        c = launch(
            [
                "sh",
                "-c",
                "trap 'echo got USR1; exit 0' USR1; echo ready; while :; do sleep 1; done",
            ],
            stop_signal="USR1",
            stop_timeout=3,
        )
        assert (c.stop_signal, c.stop_timeout) == ("SIGUSR1", 3)
        wait_for_output(rt, c, "ready")
        rt.stop(c, timeout=30)
        assert rt.wait(c, timeout=30) == 0
        assert "got USR1" in texts(list(rt.logs(c)))

    def test_platform(self, rt: Runtime, launch: Launch, test_image: str) -> None:
        info = rt.info()
        own = f"{info.os or 'linux'}/{info.arch or 'amd64'}"
        refused_without(rt, Capability.PLATFORM, lambda: launch(["true"], platform=own))
        c = launch(["true"], platform=own)
        assert rt.wait(c, timeout=60) == 0
        other = "linux/arm64" if own != "linux/arm64" else "linux/amd64"
        with pytest.raises(runtimes.ImageNotFound):
            launch(["true"], platform=other)

    def test_create_takes_the_options(
        self, rt: Runtime, test_image: str, session_labels: dict[str, str]
    ) -> None:
        need(rt, Capability.CREATE)
        # SIGUSR1 where a stop signal can be set; SIGTERM, the default, elsewhere.
        signal = 10 if Capability.STOP_SIGNAL in rt.capabilities else None
        c = rt.create(
            test_image,
            ["sh", "-c", f"{CGROUP_LIMITS}; exec sleep 1000"],
            labels=session_labels,
            memory=32 * 1024 * 1024,
            restart_policy="always",
            stop_signal=signal,
        )
        try:
            assert c.state is ContainerState.CREATED
            expected = "SIGUSR1" if signal else "SIGTERM"
            assert (c.restart_policy, c.stop_signal) == ("always", expected)
            rt.start(c)
            lines = texts(wait_for_output(rt, c, "00"))  # the quota line, "N 100000"
            assert int(lines[0]) == 32 * 1024 * 1024
        finally:
            rt.remove(c, force=True)


# -- errors -----------------------------------------------------------------------------------


class ErrorsContract(_Base):
    CONTAINER_VERBS: ClassVar[dict[str, Callable[[Any, Any], object]]] = CONTAINER_VERBS

    @pytest.mark.parametrize("verb", sorted(CONTAINER_VERBS))
    def test_container_not_found(self, rt: Runtime, verb: str, runtimes_session_id: str) -> None:
        ref = f"rt-{runtimes_session_id}-does-not-exist"
        with pytest.raises(runtimes.ContainerNotFound) as info:
            self.CONTAINER_VERBS[verb](rt, ref)
        assert isinstance(info.value, LookupError)
        assert ref in str(info.value)

    def test_ambiguous_prefix(self, rt: Runtime, launch: Launch) -> None:
        # Two containers whose ids start alike: 17 make it certain.
        by_prefix: dict[str, Container] = {}
        for _ in range(17):
            c = launch(["sleep", "1000"])
            if c.id[0] in by_prefix:
                pair = (by_prefix[c.id[0]], c)
                break
            by_prefix[c.id[0]] = c
        prefix = pair[1].id[0]
        for call in (rt.inspect, lambda ref: rt.remove(ref, force=True)):
            with pytest.raises(runtimes.CommandFailed, match="ambiguous reference"):
                call(prefix)
        assert {rt.inspect(c.id).id for c in pair} == {c.id for c in pair}

    def test_volume_not_found(self, rt: Runtime, runtimes_session_id: str) -> None:
        need(rt, Capability.VOLUMES)
        with pytest.raises(runtimes.VolumeNotFound):
            rt.remove_volume(f"rt-{runtimes_session_id}-no-volume")

    def test_name_conflicts(
        self,
        rt: Runtime,
        launch: Launch,
        unique_name: Callable[[str], str],
        session_labels: dict[str, str],
    ) -> None:
        name = unique_name("dup")
        launch(["sleep", "1000"], name=name)
        with pytest.raises(runtimes.NameConflict):
            launch(["sleep", "1000"], name=name)
        assert len(rt.ps(all=True, name=name)) == 1
        if Capability.VOLUMES not in rt.capabilities:
            return
        volume = unique_name("dupvol")
        rt.create_volume(volume, labels=session_labels)
        try:
            with pytest.raises(runtimes.NameConflict):
                rt.create_volume(volume, labels=session_labels)
        finally:
            rt.remove_volume(volume)

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"ports": ["99999"]},
            {"ports": ["http"]},
            {"ports": ["8080/xyz"]},
            {"ports": ["1.2.3:8080:80"]},
            {"volumes": ["just-a-name"]},
            {"volumes": ["/no/such/dir/for/runtimes:/x"]},
            {"volumes": ["vol:relative/target"]},
            {"env": {"BAD=KEY": "x"}},
            {"env": {"": "x"}},
            {"labels": {"bad key": "v"}},
            {"name": "bad name!"},
            {"workdir": "relative"},
            {"image": "Not/A:Valid:Ref"},
        ],
        ids=lambda kw: next(iter(kw)) + ":" + str(next(iter(kw.values()))),
    )
    def test_invalid_specs(
        self,
        rt: Runtime,
        test_image: str,
        session_labels: dict[str, str],
        kwargs: dict[str, Any],
    ) -> None:
        kwargs = dict(kwargs)  # parametrize shares one dict between runtimes
        before = {c.id for c in rt.ps(all=True, labels=session_labels)}
        image = kwargs.pop("image", test_image)
        labels = {**session_labels, **kwargs.pop("labels", {})}
        with pytest.raises(runtimes.InvalidSpec) as info:
            rt.run(image, ["true"], labels=labels, **kwargs)
        assert isinstance(info.value, ValueError)
        assert {c.id for c in rt.ps(all=True, labels=session_labels)} == before


class VolumesContract(_Base):
    requires = frozenset({Capability.VOLUMES})

    def test_volume_lifecycle(
        self, rt: Runtime, unique_name: Callable[[str], str], session_labels: dict[str, str]
    ) -> None:
        name = unique_name("life")
        created = rt.create_volume(name, labels={**session_labels, "runtimes.test.v": "1"})
        assert created.name == name
        listed = {v.name: v for v in rt.volumes(labels={"runtimes.test.v": "1", **session_labels})}
        assert listed[name].labels["runtimes.test.v"] == "1"
        rt.remove_volume(name)
        assert name not in {v.name for v in rt.volumes(labels=session_labels)}


# -- networks ---------------------------------------------------------------------------


def uuid_hex() -> str:
    return uuid.uuid4().hex[:12]


def reaches(rt: Runtime, client: Container, host: str) -> bool:
    """Whether ``client`` resolves ``host`` and gets an answer from it.

    One ICMP echo: valid on every runtime, whether names come from a DNS
    server (Docker, Podman) or from ``/etc/hosts`` (nerdctl).
    """
    return rt.exec(client, ["ping", "-c", "1", "-W", "2", host]).exit_code == 0


def network_with_free_subnet(make_network: MakeNetwork, **kwargs: Any) -> Network:
    """A network on a random /24 of 10.213.0.0/16; another try when the
    subnet is taken (the engines are shared with other sessions)."""
    for attempt in range(8):
        subnet = f"10.213.{random.randrange(256)}.0/24"
        try:
            return make_network(subnet=subnet, **kwargs)
        except runtimes.CommandFailed:
            if attempt == 7:
                raise
    raise AssertionError("unreachable")


class NetworksContract(_Base):
    requires = frozenset({Capability.NETWORKS})

    def test_network_lifecycle_labels_and_filters(
        self, rt: Runtime, make_network: MakeNetwork, session_labels: dict[str, str]
    ) -> None:
        mark = {"runtimes.test.net": uuid_hex()}
        net = make_network("life", labels=mark)
        other = make_network("other")
        assert net.labels == {**session_labels, **mark}
        assert net.subnets, "a network always has a subnet, chosen by the runtime if not given"
        assert not net.internal
        assert rt.network(net.name) == net
        if net.id:
            assert rt.network(net.id).name == net.name
        listed = {n.name: n for n in rt.networks(labels=mark)}
        assert set(listed) == {net.name}
        assert listed[net.name].labels == net.labels
        both = {n.name for n in rt.networks(labels=session_labels)}
        assert {net.name, other.name} <= both
        assert rt.networks(labels={**mark, "runtimes.test.net": "other-value"}) == []
        every = {n.name for n in rt.networks()}
        assert {net.name, other.name} <= every
        assert not every & {"host", "none"}, "host and none are modes, not networks"
        with pytest.raises(runtimes.NameConflict):
            rt.create_network(net.name, labels=session_labels)
        rt.remove_network(net.name)
        assert net.name not in {n.name for n in rt.networks()}
        with pytest.raises(runtimes.NetworkNotFound) as info:
            rt.network(net.name)
        assert isinstance(info.value, LookupError)
        with pytest.raises(runtimes.NetworkNotFound):
            rt.remove_network(net.name)
        for mode in ("host", "none"):
            with pytest.raises(runtimes.NetworkNotFound):
                rt.network(mode)

    def test_subnet_and_overlap(
        self,
        rt: Runtime,
        make_network: MakeNetwork,
        launch: Launch,
        unique_name: Callable[[str], str],
        session_labels: dict[str, str],
    ) -> None:
        if Capability.NETWORK_SUBNETS not in rt.capabilities:
            name = unique_name("subnet")
            with pytest.raises(runtimes.Unsupported) as info:
                rt.create_network(name, labels=session_labels, subnet="10.213.7.0/24")
            assert info.value.capability is Capability.NETWORK_SUBNETS
            assert name not in {n.name for n in rt.networks()}
            # The subnet is the runtime's: every address on the network is in it.
            net = make_network("picked")
            assert net.subnets
            c = launch(["sleep", "1000"], network=net.name)
            ip = c.network(net.name).ip_address
            assert ip is not None
            assert any(ipaddress.ip_address(ip) in ipaddress.ip_network(s) for s in net.subnets)
            return
        net = network_with_free_subnet(make_network)
        (subnet,) = net.subnets
        c = launch(["sleep", "1000"], network=net.name)
        ip = c.network(net.name).ip_address
        assert ip is not None
        assert ipaddress.ip_address(ip) in ipaddress.ip_network(subnet)
        # The same subnet again overlaps: refused by every runtime, nothing created.
        name = unique_name("overlap")
        try:
            with pytest.raises(runtimes.CommandFailed, match=r"(?i)overlap|already used"):
                rt.create_network(name, labels=session_labels, subnet=subnet)
        finally:
            created = name in {n.name for n in rt.networks(labels=session_labels)}
            if created:
                rt.remove_network(name)
        assert not created

    def test_name_hostname_and_alias_resolution(
        self, rt: Runtime, make_network: MakeNetwork, launch: Launch, unique_name: Any
    ) -> None:
        net = make_network("dns")
        aliases = ["db", "primary.db"]
        hostname = unique_name("h")[-20:].strip("-")
        if Capability.NETWORK_ALIASES in rt.capabilities:
            server = launch(["sleep", "1000"], network=net.name, hostname=hostname, aliases=aliases)
        else:
            before = {c.id for c in rt.ps(all=True)}
            with pytest.raises(runtimes.Unsupported) as info:
                launch(["sleep", "1000"], network=net.name, aliases=aliases)
            assert info.value.capability is Capability.NETWORK_ALIASES
            assert "hostname" in str(info.value)  # says what to do instead
            assert {c.id for c in rt.ps(all=True)} <= before
            aliases = []
            server = launch(["sleep", "1000"], network=net.name, hostname=hostname)
        client = launch(["sleep", "1000"], network=net.name)
        for name in [server.name, hostname, *aliases]:
            assert reaches(rt, client, name), f"{client.name} cannot reach {name}"
        # And back: the server, started first, learns the newcomer's name.
        assert reaches(rt, server, client.name)
        assert rt.exec(server, ["hostname"]).stdout.decode().strip() == hostname

    def test_networks_isolate_containers(
        self, rt: Runtime, make_network: MakeNetwork, launch: Launch
    ) -> None:
        first, second = make_network("iso1"), make_network("iso2")
        target = launch(["sleep", "1000"], network=first.name)
        neighbour = launch(["sleep", "1000"], network=first.name)
        stranger = launch(["sleep", "1000"], network=second.name)
        address = target.network(first.name).ip_address
        assert address is not None
        assert reaches(rt, neighbour, target.name)
        assert reaches(rt, neighbour, address)
        assert not reaches(rt, stranger, target.name), "a name resolved across networks"
        if Capability.ISOLATED_NETWORKS in rt.capabilities:
            assert not reaches(rt, stranger, address), "an address reached across networks"

    def test_connect_network_to_a_running_container(
        self, rt: Runtime, make_network: MakeNetwork, launch: Launch
    ) -> None:
        home, extra = make_network("home"), make_network("extra")
        c = launch(["sleep", "1000"], network=home.name)
        peer = launch(["sleep", "1000"], network=extra.name)
        if Capability.NETWORK_CONNECT not in rt.capabilities:
            calls: list[Callable[[], None]] = [
                lambda: rt.connect_network(c, extra.name),
                lambda: rt.disconnect_network(c, home.name),
            ]
            for call in calls:
                with pytest.raises(runtimes.Unsupported) as info:
                    call()
                assert info.value.capability is Capability.NETWORK_CONNECT
            assert [a.network for a in rt.inspect(c).networks] == [home.name]
            return
        aliases = ["late"] if Capability.NETWORK_ALIASES in rt.capabilities else []
        rt.connect_network(c, extra.name, aliases=aliases)
        attached = rt.inspect(c)
        assert {a.network for a in attached.networks} == {home.name, extra.name}
        joined = attached.network(extra.name)
        assert joined.ip_address is not None
        assert ipaddress.ip_address(joined.ip_address) in ipaddress.ip_network(extra.subnets[0])
        assert joined.aliases == tuple(aliases)
        for name in [c.name, *aliases]:
            assert reaches(rt, peer, name), f"{peer.name} cannot reach {name} after connect"
        with pytest.raises(runtimes.CommandFailed):
            rt.connect_network(c, extra.name)
        rt.disconnect_network(c, extra.name)
        assert [a.network for a in rt.inspect(c).networks] == [home.name]
        assert not reaches(rt, peer, c.name)
        with pytest.raises(runtimes.CommandFailed):
            rt.disconnect_network(c, extra.name)

    def test_container_networks(
        self, rt: Runtime, make_network: MakeNetwork, launch: Launch
    ) -> None:
        net = make_network("content")
        aliases = ("api", "web") if Capability.NETWORK_ALIASES in rt.capabilities else ()
        c = launch(["sleep", "1000"], network=net.name, hostname="content-host", aliases=aliases)
        (attachment,) = rt.inspect(c).networks
        assert attachment.network == net.name
        assert attachment.aliases == aliases  # never the name, hostname or short id
        assert attachment.ip_address is not None
        assert ipaddress.ip_address(attachment.ip_address) in ipaddress.ip_network(net.subnets[0])
        own = rt.exec(c, ["ip", "-4", "-o", "addr", "show"]).stdout.decode()
        assert f"inet {attachment.ip_address}/" in own
        (listed,) = rt.ps(name=c.name)
        assert [a.network for a in listed.networks] == [net.name]
        rt.stop(c, timeout=0)
        (stopped,) = rt.inspect(c).networks
        assert stopped.network == net.name
        assert stopped.ip_address is None
        default = launch(["sleep", "1000"])
        (on_default,) = rt.inspect(default).networks
        assert on_default.ip_address is not None
        assert on_default.network in {n.name for n in rt.networks()}

    def test_prune_networks(
        self,
        rt: Runtime,
        launch: Launch,
        make_network: MakeNetwork,
        unique_name: Callable[[str], str],
    ) -> None:
        mark = {"runtimes.test.prune": unique_name("prune-net")}
        gone = make_network("gone", labels=mark)
        used_running = make_network("running", labels=mark)
        used_stopped = make_network("stopped", labels=mark)
        unmarked = make_network("unmarked")
        running = launch(["sleep", "1000"], network=used_running.name)
        stopped = launch(["true"], network=used_stopped.name)
        rt.wait(stopped, timeout=60)
        # Only networks: the stopped container stays, and keeps its network.
        report = rt.prune(labels=mark, containers=False, volumes=False, images=False)
        assert report == runtimes.PruneReport(networks=(gone.name,))
        names = {n.name for n in rt.networks()}
        assert gone.name not in names
        assert {used_running.name, used_stopped.name, unmarked.name} <= names
        assert rt.inspect(running).state is ContainerState.RUNNING
        assert rt.inspect(stopped).state is ContainerState.EXITED
        # Once its stopped container is gone, that network is unused too.
        rt.remove(stopped)
        assert rt.prune(labels=mark).networks == (used_stopped.name,)
        assert rt.prune(labels=mark) == runtimes.PruneReport()
        assert rt.network(used_running.name).name == used_running.name

    def test_remove_network_in_use(
        self, rt: Runtime, make_network: MakeNetwork, launch: Launch
    ) -> None:
        net = make_network("busy")
        running = launch(["sleep", "1000"], network=net.name)
        stopped = launch(["true"], network=net.name)
        assert rt.wait(stopped, timeout=60) == 0
        with pytest.raises(runtimes.NetworkInUse) as info:
            rt.remove_network(net.name)
        assert set(info.value.containers) == {running.name, stopped.name}
        rt.remove(running, force=True)
        # Stopped users count too, on every runtime.
        with pytest.raises(runtimes.NetworkInUse):
            rt.remove_network(net.name)
        assert rt.network(net.name).name == net.name
        rt.remove(stopped)
        rt.remove_network(net.name)
        with pytest.raises(runtimes.NetworkNotFound):
            rt.network(net.name)

    def test_internal_network(
        self, rt: Runtime, make_network: MakeNetwork, launch: Launch, unique_name: Any
    ) -> None:
        if Capability.INTERNAL_NETWORKS not in rt.capabilities:
            name = unique_name("internal")
            with pytest.raises(runtimes.Unsupported) as info:
                rt.create_network(name, internal=True)
            assert info.value.capability is Capability.INTERNAL_NETWORKS
            assert name not in {n.name for n in rt.networks()}
            return
        net = make_network("internal", internal=True)
        assert net.internal
        assert rt.network(net.name).internal
        a = launch(["sleep", "1000"], network=net.name)
        b = launch(["sleep", "1000"], network=net.name)
        assert reaches(rt, b, a.name)
        # Nothing beyond the network: not a container on an ordinary one,
        # which Podman, isolating nothing, would otherwise route to.
        ordinary = make_network("ordinary")
        outside = launch(["sleep", "1000"], network=ordinary.name)
        address = outside.network(ordinary.name).ip_address
        assert address is not None
        assert not reaches(rt, b, address), "an internal network routes outside"


# -- registries -------------------------------------------------------------------


@contextlib.contextmanager
def registry_settings(rt: Runtime, **settings: Any) -> Iterator[Runtime]:
    """``rt.configure(**settings)`` for one block, restored after."""
    saved = (rt.pull_policy, rt.insecure_registries, rt.registry_certs)
    try:
        yield rt.configure(**settings)
    finally:
        rt.pull_policy, rt.insecure_registries, rt.registry_certs = saved


@contextlib.contextmanager
def trusted_ca(rt: Runtime, registry: Any, tmp_path: Path) -> Iterator[None]:
    """Make ``rt`` trust the CA of a TLS ``registry`` for one block: through
    the ``registry_certs`` option where the adapter applies it per call, else
    in the directory its engine reads (and removed after)."""
    if Capability.PER_CALL_REGISTRY_TLS in rt.capabilities:
        directory = tmp_path / "certs.d" / registry.host
        directory.mkdir(parents=True)
        shutil.copy(registry.ca_path, directory / "ca.crt")
        with registry_settings(rt, registry_certs=tmp_path / "certs.d"):
            yield
        return
    assert rt.engine_certs_dir, f"{rt.name} has neither per-call TLS nor an engine certs dir"
    directory = Path(rt.engine_certs_dir) / registry.host
    directory.mkdir(parents=True)
    try:
        shutil.copy(registry.ca_path, directory / "ca.crt")
        yield
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def empty_auth_file(directory: Path) -> Path:
    """A credential file with no entry (Podman refuses a REGISTRY_AUTH_FILE
    that does not exist)."""
    path = directory / "containers-auth.json"
    path.write_text('{"auths": {}}')
    path.chmod(0o600)
    return path


class RegistryContract(_Base):
    """Pull, push, tag and credentials against real registries on loopback
    (:mod:`runtimes.testing.registry`); nothing is pulled from elsewhere.

    The registries are those the engine reaches (``engine_registry``): on
    127.0.0.1, or on this machine's address towards a remote engine.
    """

    @pytest.fixture
    def local_registry(self, engine_registry: Callable[[str], Any]) -> Any:
        return engine_registry("plain")

    @pytest.fixture
    def local_registry_auth(self, engine_registry: Callable[[str], Any]) -> Any:
        return engine_registry("auth")

    @pytest.fixture
    def local_registry_tls(self, engine_registry: Callable[[str], Any]) -> Any:
        return engine_registry("tls")

    requires = frozenset({Capability.IMAGE_STORE})

    @pytest.fixture
    def private_credential_store(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """``login`` writes to stores of this test only, not the user's."""
        monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
        monkeypatch.setenv("REGISTRY_AUTH_FILE", str(empty_auth_file(tmp_path)))

    @pytest.fixture
    def pushed(
        self, rt: Runtime, test_image: str, local_registry: Any, runtimes_session_id: str
    ) -> Iterator[tuple[str, str]]:
        """``(reference, local image id)`` of the test image pushed to a
        plain-HTTP registry, and no longer tagged locally with it."""
        ref = local_registry.ref(f"rt-{runtimes_session_id}/bb", uuid.uuid4().hex[:8])
        with registry_settings(rt, insecure_registries=[local_registry.host]):
            image = rt.tag(test_image, ref)
            try:
                rt.push(ref)
            finally:
                rt.remove_image(ref)
            yield ref, image.id
            with contextlib.suppress(runtimes.ImageNotFound):
                rt.remove_image(ref)

    def test_push_then_pull_round_trip(
        self, rt: Runtime, test_image: str, local_registry: Any, runtimes_session_id: str
    ) -> None:
        ref = local_registry.ref(f"rt-{runtimes_session_id}/round", "1")
        events: list[runtimes.Progress] = []
        with registry_settings(rt, insecure_registries=[local_registry.host]):
            original = rt.tag(test_image, ref)
            assert ref in original.tags
            try:
                digest = rt.push(ref, on_progress=events.append)
                assert digest.startswith("sha256:")
                assert len(digest) == 71
                assert any(e.action == "push" for e in events)
                rt.remove_image(ref)
                with pytest.raises(runtimes.ImageNotFound):
                    rt.image(ref)
                events.clear()
                pulled = rt.pull(ref, on_progress=events.append)
                assert pulled.id == original.id
                assert ref in pulled.tags
                assert events
                assert all(e.action == "pull" for e in events)
            finally:
                with contextlib.suppress(runtimes.ImageNotFound):
                    rt.remove_image(ref)

    def test_progress_is_live(
        self,
        rt: Runtime,
        local_registry: Any,
        runtimes_session_id: str,
        session_labels: dict[str, str],
        tmp_path: Path,
    ) -> None:
        need(rt, Capability.BUILD)
        # The first event must arrive while the registry is still being
        # talked to, not replayed after the transfer.  A 128 MB layer of its
        # own makes the push outlast nerdctl's 100 ms progress ticks (32 MB
        # did not, on a quiet machine).
        context = write_busybox_context(
            tmp_path / "ctx", f"FROM scratch\nCOPY busybox {BB}\nCOPY blob /blob\n"
        )
        (context / "blob").write_bytes(os.urandom(128 << 20))
        ref = local_registry.ref(f"rt-{runtimes_session_id}/live", "1")
        seen: list[int] = []

        def on_progress(event: runtimes.Progress) -> None:
            seen.append(local_registry.request_count())

        with registry_settings(rt, insecure_registries=[local_registry.host]):
            image = rt.build(context, tag=ref, labels=session_labels)
            try:
                rt.push(ref, on_progress=on_progress)
            finally:
                rt.remove_image(image.id, force=True)
        assert seen, "no progress event"
        assert seen[0] < local_registry.request_count(), "progress arrived only at the end"

    def test_pull_policies(
        self, rt: Runtime, pushed: tuple[str, str], launch: Launch, local_registry: Any
    ) -> None:
        ref, image_id = pushed
        registry = local_registry
        with registry_settings(rt, insecure_registries=[registry.host]):
            before = registry.request_count()
            with pytest.raises(runtimes.ImageNotFound, match="pull"):
                launch(["true"], image=ref)  # the default policy is "never"
            with pytest.raises(runtimes.ImageNotFound):
                launch(["true"], image=ref, pull="never")
            assert registry.request_count() == before, "pull='never' contacted the registry"
            c = launch(["true"], image=ref, pull="missing")
            assert rt.wait(c, timeout=30) == 0
            after_first = registry.request_count()
            assert after_first > before
            launch(["true"], image=ref, pull="missing")
            assert registry.request_count() == after_first, "pull='missing' pulled again"
            launch(["true"], image=ref, pull="always")
            assert registry.request_count() > after_first
            assert rt.image(ref).id == image_id

    def test_build_pulls_a_missing_base_only_when_asked(
        self,
        rt: Runtime,
        pushed: tuple[str, str],
        local_registry: Any,
        session_labels: dict[str, str],
        tmp_path: Path,
    ) -> None:
        need(rt, Capability.BUILD)
        ref, image_id = pushed
        context = tmp_path / "ctx"
        context.mkdir()
        (context / "Dockerfile").write_text(f"FROM {ref}\nLABEL derived=1\n")
        with registry_settings(rt, insecure_registries=[local_registry.host]):
            before = local_registry.request_count()
            with pytest.raises(runtimes.BuildFailed, match="pull"):
                rt.build(context, labels=session_labels)
            assert local_registry.request_count() == before
            built = rt.build(context, labels=session_labels, pull="missing")
            assert built.labels["derived"] == "1"
            assert rt.image(ref).id == image_id
            rt.remove_image(built.id, force=True)

    def test_missing_tag_and_repository(
        self, rt: Runtime, pushed: tuple[str, str], local_registry: Any
    ) -> None:
        ref, _ = pushed
        with registry_settings(rt, insecure_registries=[local_registry.host]):
            with pytest.raises(runtimes.ImageNotFound):
                rt.pull(ref.rsplit(":", 1)[0] + ":no-such-tag")
            with pytest.raises(runtimes.ImageNotFound):
                rt.pull(local_registry.ref("no-such/repository", "1"))

    def test_registry_down_fails_typed(self, rt: Runtime) -> None:
        from runtimes.testing.registry import UnreachableRegistry

        with UnreachableRegistry() as down, registry_settings(rt, insecure_registries=[down.host]):
            with pytest.raises(runtimes.RegistryUnavailable) as info:
                rt.pull(down.ref("x/y", "1"))
            assert isinstance(info.value, ConnectionError)
            assert down.host in str(info.value)

    def test_authentication(
        self,
        rt: Runtime,
        test_image: str,
        local_registry_auth: Any,
        runtimes_session_id: str,
        private_credential_store: None,
    ) -> None:
        registry = local_registry_auth
        creds = registry.credentials
        ref = registry.ref(f"rt-{runtimes_session_id}/auth", "1")
        right = runtimes.RegistryAuth(creds.username, creds.password)
        wrong = runtimes.RegistryAuth(creds.username, creds.password + "-wrong")
        with registry_settings(rt, insecure_registries=[registry.host]):
            rt.tag(test_image, ref)
            try:
                with pytest.raises(runtimes.AuthenticationFailed) as info:
                    rt.push(ref)
                assert isinstance(info.value, PermissionError)
                with pytest.raises(runtimes.AuthenticationFailed) as info:
                    rt.push(ref, auth=wrong)
                assert wrong.password not in str(info.value)
                assert wrong.password not in repr(info.value)
                assert rt.push(ref, auth=right).startswith("sha256:")
            finally:
                rt.remove_image(ref)
            with pytest.raises(runtimes.AuthenticationFailed):
                rt.pull(ref)
            rt.pull(ref, auth=right)
            rt.remove_image(ref)
            # login keeps the credentials in the runtime's own store
            with pytest.raises(runtimes.AuthenticationFailed):
                rt.login(registry.host, creds.username, wrong.password)
            rt.login(registry.host, creds.username, creds.password)
            try:
                rt.pull(ref)
                rt.remove_image(ref)
            finally:
                rt.logout(registry.host)
            with pytest.raises(runtimes.AuthenticationFailed):
                rt.pull(ref)
            rt.logout(registry.host)  # a second logout is not an error

    def test_tls_needs_the_ca(
        self,
        rt: Runtime,
        test_image: str,
        local_registry_tls: Any,
        runtimes_session_id: str,
        tmp_path: Path,
    ) -> None:
        registry = local_registry_tls
        ref = registry.ref(f"rt-{runtimes_session_id}/tls", "1")
        rt.tag(test_image, ref)
        try:
            if rt.registry_is_insecure(registry.host):
                # dockerd never verifies a loopback registry (127.0.0.0/8 is
                # hard-coded insecure): it says so, and the push goes through.
                assert rt.push(ref).startswith("sha256:")
            else:
                with pytest.raises(runtimes.RegistryUnavailable):
                    rt.push(ref)
            with trusted_ca(rt, registry, tmp_path):
                assert rt.push(ref).startswith("sha256:")
                rt.remove_image(ref)
                assert rt.pull(ref).id == rt.image(test_image).id
        finally:
            with contextlib.suppress(runtimes.ImageNotFound):
                rt.remove_image(ref)


class ReadinessContract(_Base):
    def test_wait_for_each_condition(self, rt: Runtime, launch: Launch) -> None:
        # The server starts late, so every condition is first false, then true.
        c = launch(
            [
                "sh",
                "-c",
                "sleep 1; touch /tmp/up; echo server is up; exec httpd -f -p 8080 -h /www",
            ],
            ports=[published_text(rt, 8080)],
        )
        ready = rt.wait_for(c, log=r"server is \w+", timeout=60)
        assert ready.state is ContainerState.RUNNING
        assert any("server is up" in line.text for line in rt.logs(c))
        assert rt.wait_for(c, exec=["test", "-e", "/tmp/up"], timeout=60).id == c.id
        rt.wait_for(c, port=8080, timeout=60)
        rt.wait_for(c, port=8080, http="/index.html", timeout=60)
        assert http_get(c.port(8080)).strip() == "hello from runtimes"
        # All at once, too.
        rt.wait_for(c, log="up", port=8080, http="/index.html", exec="true", timeout=60)

    def test_wait_for_times_out_with_the_last_log_lines(self, rt: Runtime, launch: Launch) -> None:
        c = launch(
            ["sh", "-c", "echo still booting; exec sleep 1000"], ports=[published_text(rt, 8080)]
        )
        wait_for_output(rt, c, "still booting")
        for condition in (
            {"log": "never printed"},
            {"port": 8080},
            {"port": 8080, "http": "/"},
            {"exec": ["false"]},
        ):
            with pytest.raises(runtimes.WaitTimeout) as info:
                rt.wait_for(c, timeout=1.5, **condition)
            assert isinstance(info.value, runtimes.Timeout)
            assert isinstance(info.value, TimeoutError)
            assert "still booting" in info.value.logs
            assert "still booting" in str(info.value)
        assert rt.inspect(c).state is ContainerState.RUNNING, "wait_for left it alone"

    def test_wait_for_fails_fast_when_the_container_exits(
        self, rt: Runtime, launch: Launch
    ) -> None:
        c = launch(["sh", "-c", "echo cannot connect to the database >&2; sleep 1; exit 3"])
        with pytest.raises(runtimes.ContainerExited) as info:
            rt.wait_for(c, log="listening", timeout=600)
        assert info.value.exit_code == 3
        assert "cannot connect to the database" in info.value.logs
        assert "cannot connect to the database" in str(info.value)
        assert not isinstance(info.value, runtimes.Timeout)

    def test_wait_for_refuses_bad_conditions(self, rt: Runtime, launch: Launch) -> None:
        c = launch(["sleep", "1000"], ports=[published_text(rt, 8080)])
        cases: list[dict[str, Any]] = [
            {},
            {"port": 9999},
            {"http": "/"},
            {"log": "("},
            {"port": 0},
            {"exec": []},
            {"healthy": True},  # no healthcheck
            {"log": "x", "timeout": -1},
        ]
        for bad in cases:
            with pytest.raises(runtimes.InvalidSpec):
                rt.wait_for(c, **bad)

    def test_follow_timeout_ends_a_silent_follow(self, rt: Runtime, launch: Launch) -> None:
        c = launch(["sh", "-c", "echo first; exec sleep 1000"])
        wait_for_output(rt, c, "first")
        got: list[str] = []
        failure: list[BaseException] = []

        def follow() -> None:
            try:
                got.extend(line.text for line in rt.logs(c, follow=True, timeout=2))
            except BaseException as exc:
                failure.append(exc)

        worker = threading.Thread(target=follow)
        worker.start()
        worker.join(timeout=120)
        assert not worker.is_alive(), "logs(follow=True, timeout=2) never returned"
        assert got == ["first"]
        assert len(failure) == 1
        assert isinstance(failure[0], runtimes.Timeout)
        # A follow that ends first ends normally.
        done = launch(["sh", "-c", "echo a; echo b"])
        assert rt.wait(done, timeout=60) == 0
        assert texts(list(rt.logs(done, follow=True, timeout=60))) == ["a", "b"]


class HealthContract(_Base):
    def test_health_states(self, rt: Runtime, launch: Launch) -> None:
        check = runtimes.Healthcheck(test="test -e /tmp/ok", interval=0.5, timeout=5, retries=2)
        c = launch(["sh", "-c", "sleep 2; touch /tmp/ok; exec sleep 1000"], healthcheck=check)
        assert c.health == "starting"
        ready = rt.wait_for(c, healthy=True, timeout=120)
        assert ready.health == "healthy"
        assert rt.inspect(c).health == "healthy"
        assert rt.check_health(c) == "healthy"
        # The check's definition is kept with the container.
        stored = c.labels["runtimes.healthcheck"]
        assert "test -e /tmp/ok" in stored

    def test_unhealthy(self, rt: Runtime, launch: Launch) -> None:
        check = runtimes.Healthcheck(test=["false"], interval=0.3, timeout=5, retries=2)
        c = launch(["sleep", "1000"], healthcheck=check)
        deadline = time.monotonic() + 120
        while rt.check_health(c) != "unhealthy":
            assert time.monotonic() < deadline, "never became unhealthy"
            time.sleep(0.3)
        assert rt.inspect(c).health == "unhealthy"
        with pytest.raises(runtimes.WaitTimeout, match="unhealthy"):
            rt.wait_for(c, healthy=True, timeout=1)

    def test_no_healthcheck_no_health(self, rt: Runtime, launch: Launch) -> None:
        c = launch(["sleep", "1000"])
        assert c.health is None
        assert rt.check_health(c) is None

    @pytest.mark.parametrize(
        "check",
        [
            {"test": ""},
            {"test": []},
            {"test": "true", "interval": 0},
            {"test": "true", "timeout": -1},
            {"test": "true", "retries": 0},
            {"test": "true", "retries": 1.5},
            {"test": "true", "start_period": float("nan")},
        ],
    )
    def test_bad_healthcheck(
        self, rt: Runtime, test_image: str, session_labels: dict[str, str], check: dict[str, Any]
    ) -> None:
        mark = {**session_labels, "runtimes.test.case": uuid_hex()}
        with pytest.raises(runtimes.InvalidSpec):
            rt.run(
                test_image, ["sleep", "1"], labels=mark, healthcheck=runtimes.Healthcheck(**check)
            )
        assert rt.ps(all=True, labels=mark) == []


def stack_leftovers(rt: Runtime, name: str) -> list[str]:
    """What still carries the stack's label."""
    label = {runtimes.stacks.STACK_LABEL: name}
    return (
        [f"container {c.name}" for c in rt.ps(all=True, labels=label)]
        + [f"network {n.name}" for n in rt.networks(labels=label)]
        + (
            [f"volume {v.name}" for v in rt.volumes(labels=label)]
            if Capability.VOLUMES in rt.capabilities
            else []
        )
    )


def stack_volumes(rt: Runtime, *volumes: str) -> list[str]:
    """``volumes`` for a service, where the runtime has named volumes (a
    cluster's stack has none: networks are what stacks need)."""
    return list(volumes) if Capability.VOLUMES in rt.capabilities else []


class StacksContract(_Base):
    requires = frozenset({Capability.NETWORKS})

    def _web_stack(self, rt: Runtime, name: str, test_image: str, **app: Any) -> runtimes.Stack:
        return runtimes.Stack(
            name,
            services={
                "db": runtimes.Service(
                    image=test_image,
                    command=[
                        "sh",
                        "-c",
                        "sleep 1; echo db-data > /www/db.txt; exec httpd -f -p 80 -h /www",
                    ],
                    volumes=stack_volumes(rt, "data:/data"),
                    healthcheck=runtimes.Healthcheck(
                        test="wget -q -O- http://127.0.0.1/db.txt", interval=0.5, retries=3
                    ),
                ),
                "app": runtimes.Service(
                    image=test_image,
                    command=[
                        "sh",
                        "-c",
                        "wget -q -O /www/from-db.txt http://db/db.txt && echo app up "
                        "&& exec httpd -f -p 8080 -h /www",
                    ],
                    ports=[published_text(rt, 8080)],
                    depends_on={"db": "healthy"},
                    ready={"log": "app up", "port": 8080, "http": "/from-db.txt"},
                    **app,
                ),
            },
        )

    def test_up_starts_in_order_and_removes_everything(
        self, rt: Runtime, test_image: str, unique_name: Any, session_labels: dict[str, str]
    ) -> None:
        name = unique_name("stk")
        with rt.up(self._web_stack(rt, name, test_image), labels=session_labels) as s:
            assert set(s) == {"db", "app"}
            assert http_get(s["app"].port(8080), "/from-db.txt").strip() == "db-data"
            assert s.exec("app", ["cat", "/www/from-db.txt"]).stdout == b"db-data\n"
            assert "app up" in texts(s.logs()["app"])
            assert rt.inspect(s["db"]).health == "healthy" or (
                Capability.SCHEDULES_HEALTHCHECKS not in rt.capabilities
            )
            assert s["db"].labels[runtimes.stacks.STACK_LABEL] == name
            assert s["db"].network(s.network)
            if Capability.VOLUMES in rt.capabilities:
                assert rt.volume(f"{name}-data").labels[runtimes.stacks.STACK_LABEL] == name
            assert stack_leftovers(rt, name)
        assert stack_leftovers(rt, name) == []

    def test_failing_service_leaves_nothing(
        self, rt: Runtime, test_image: str, unique_name: Any, session_labels: dict[str, str]
    ) -> None:
        name = unique_name("stk")
        stack = runtimes.Stack(
            name,
            services={
                "ok": runtimes.Service(image=test_image, command=["sleep", "1000"]),
                "bad": runtimes.Service(
                    image=test_image,
                    command=["sh", "-c", "echo no config found >&2; exit 4"],
                    depends_on={"ok": "started"},
                    ready={"log": "listening"},
                    volumes=stack_volumes(rt, "cache:/cache"),
                ),
            },
        )
        with pytest.raises(runtimes.StackFailed) as info, rt.up(stack, labels=session_labels):
            pytest.fail("up did not raise")
        assert info.value.service == "bad"
        assert "no config found" in str(info.value)
        assert isinstance(info.value.__cause__, runtimes.ContainerExited)
        assert stack_leftovers(rt, name) == []

    def test_keyboard_interrupt_during_up_leaves_nothing(
        self, rt: Runtime, test_image: str, unique_name: Any, session_labels: dict[str, str]
    ) -> None:
        name = unique_name("stk")
        stack = runtimes.Stack(
            name,
            services={
                "slow": runtimes.Service(
                    image=test_image, command=["sleep", "1000"], ready={"log": "never"}
                ),
            },
        )
        label = {runtimes.stacks.STACK_LABEL: name}

        failures: list[BaseException] = []

        def interrupt_once_started() -> None:
            # Always interrupt: a listing that fails here must not leave up()
            # waiting out its whole timeout.
            try:
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    try:
                        if rt.ps(labels=label):
                            break
                    except runtimes.RuntimesError as exc:
                        failures.append(exc)
                    time.sleep(0.2)
            finally:
                _thread.interrupt_main()

        # A process started as a background job ignores SIGINT, and then
        # interrupt_main() does nothing: Python's own handler for this test.
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        trigger = threading.Thread(target=interrupt_once_started, daemon=True)
        trigger.start()
        try:
            with pytest.raises(KeyboardInterrupt), rt.up(stack, labels=session_labels, timeout=600):
                pytest.fail("up did not wait")
        finally:
            signal.signal(signal.SIGINT, previous)
        trigger.join(timeout=5)
        assert stack_leftovers(rt, name) == []
        # A listing from another thread may meet a connection in use, never more.
        assert len(failures) < 3, failures

    def test_down_sweeps_a_crashed_stack(
        self, rt: Runtime, test_image: str, unique_name: Any, session_labels: dict[str, str]
    ) -> None:
        name = unique_name("stk")
        stack = runtimes.Stack(
            name,
            services={
                "a": runtimes.Service(
                    image=test_image, command=["sleep", "1000"], volumes=stack_volumes(rt, "v:/v")
                )
            },
        )
        # A container and a network, and a volume where there are volumes.
        made = 3 if Capability.VOLUMES in rt.capabilities else 2
        manager = rt.up(stack, labels=session_labels)
        manager.__enter__()  # a crash: __exit__ never runs
        try:
            assert len(stack_leftovers(rt, name)) == made
        finally:
            removed = rt.down(name)
        assert len(removed) == made
        assert stack_leftovers(rt, name) == []
        assert rt.down(name) == []

    @pytest.mark.parametrize(
        ("services", "match"),
        [
            (
                {"a": {"depends_on": {"b": "started"}}, "b": {"depends_on": {"a": "started"}}},
                "cycle",
            ),
            ({"a": {"depends_on": {"a": "started"}}}, "cycle"),
            ({"a": {"depends_on": {"ghost": "started"}}}, "ghost"),
            ({"a": {}, "b": {"depends_on": {"a": "ready"}}}, "condition"),
            ({"a": {}, "b": {"depends_on": {"a": "healthy"}}}, "healthcheck"),
            ({"a": {"image": None}}, "image"),
            ({"a": {"ready": {"bogus": 1}}}, "ready"),
            ({"a": {"healthcheck": runtimes.Healthcheck(test="true", retries=0)}}, "retries"),
            ({"bad name!": {}}, "service name"),
        ],
    )
    def test_bad_stacks_create_nothing(
        self,
        rt: Runtime,
        test_image: str,
        unique_name: Any,
        session_labels: dict[str, str],
        services: dict[str, dict[str, Any]],
        match: str,
    ) -> None:
        name = unique_name("stk")
        stack = runtimes.Stack(
            name,
            services={
                svc: runtimes.Service(**{"image": test_image, "command": ["sleep", "9"], **opts})
                for svc, opts in services.items()
            },
        )
        with pytest.raises(runtimes.InvalidSpec, match=match), rt.up(stack, labels=session_labels):
            pytest.fail("up accepted a bad stack")
        assert stack_leftovers(rt, name) == []


class RuntimeContract(
    StacksContract,
    ReadinessContract,
    HealthContract,
    BadInputContract,
    BuildContract,
    ImagesContract,
    RunContract,
    RunOptionsContract,
    LogsContract,
    LifecycleContract,
    ExecContract,
    CopyContract,
    ControlContract,
    ErrorsContract,
    VolumesContract,
    NetworksContract,
    RegistryContract,
):
    """Every contract test; subclass it once per adapter (or once for all)."""
