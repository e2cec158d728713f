"""exec with input, live output, detach and terminals: each CLI's stream read
from recorded output, and the pieces every adapter shares."""

from __future__ import annotations

import io
import socket
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

import runtimes
from runtimes import _specs
from runtimes._shell import Shell
from runtimes.adapters import _cli
from runtimes.adapters.docker import _feed_socket
from runtimes.adapters.nerdctl import exec_input as nerdctl_input
from runtimes.adapters.nerdctl import exec_result as nerdctl_result
from runtimes.adapters.podman import exec_result as podman_result
from runtimes.models import LogLine
from runtimes.specs import ExecSpec
from runtimes.streams import ExecStream, collect


class Replay(Shell):
    """A Shell whose stream is what the real CLI printed."""

    def __init__(self, runtime: str, items: list[list[str]]) -> None:
        super().__init__(runtime, runtime)
        self.items = items
        self.seen: dict[str, Any] = {}

    def stream(self, args: Sequence[str], **kwargs: Any) -> Iterator[tuple[Any, bytes]]:
        self.seen = {"args": list(args), **kwargs}
        for stream, text in self.items:
            yield stream, text.encode()


def _lines(runtime: str, recorded: Any, case: str, **spec: Any) -> tuple[Replay, Any]:
    record = recorded(runtime, "exec_stream.json")[case]
    shell = Replay(runtime, record["items"])
    if runtime == "podman":
        lines = _cli.exec_lines(
            shell,
            ExecSpec(container="c", command=("sh",), **spec),
            outcome=podman_result,
            held=lambda line, seen: not seen and line.startswith(b"Error: "),
            idle_timeout=None,
            release_on_output=True,
        )
    else:
        lines = _cli.exec_lines(
            shell,
            ExecSpec(container="c", command=("sh",), **spec),
            outcome=nerdctl_result,
            held=lambda line, seen: b"level=fatal" in line,
            idle_timeout=None,
        )
    return shell, lines


@pytest.mark.parametrize("runtime", ["nerdctl", "podman"])
def test_cli_stream_keeps_the_order_and_reads_the_exit_code(recorded: Any, runtime: str) -> None:
    shell, lines = _lines(runtime, recorded, "exit_5_partial_last_line")
    stream = ExecStream(lines)
    got = [(line.stream, line.data) for line in stream]
    # The lines as they arrived (two pipes: either may come first), less
    # nerdctl's "exec failed with exit code 5", which is its own.
    assert got == [
        (name, text.encode())
        for name, text in shell.items
        if name != "exit" and "level=fatal" not in text
    ]
    assert sorted(got) == [("stderr", b"second\n"), ("stdout", b"first\n"), ("stdout", b"partial")]
    assert stream.exit_code == 5


@pytest.mark.parametrize("runtime", ["nerdctl", "podman"])
def test_cli_stream_of_a_stopped_container_is_the_runtimes_failure(
    recorded: Any, runtime: str
) -> None:
    _, lines = _lines(runtime, recorded, "not_running")
    with pytest.raises(runtimes.CommandFailed) as info:
        list(lines)
    assert type(info.value) is runtimes.CommandFailed


@pytest.mark.parametrize("runtime", ["nerdctl", "podman"])
def test_cli_stream_of_a_missing_binary_is_127(recorded: Any, runtime: str) -> None:
    _, lines = _lines(runtime, recorded, "missing_binary")
    result = collect(lines)
    assert result.exit_code == 127
    assert b"/nonexistent" in result.stderr
    assert result.stdout == b""


@pytest.mark.parametrize("runtime", ["nerdctl", "podman"])
def test_cli_stream_with_stdin(recorded: Any, runtime: str) -> None:
    shell, lines = _lines(runtime, recorded, "stdin_cat", stdin=b"in\n")
    assert collect(lines) == runtimes.ExecResult(exit_code=0, stdout=b"in\n")
    assert shell.seen["stdin"] == b"in\n"
    assert "-i" in shell.seen["args"]
    assert shell.seen["args"][-3:] == ["--", "c", "sh"]


def test_exec_args() -> None:
    spec = ExecSpec(container="c", command=("ls", "-l"), workdir="/w", user="1", tty=True)
    assert _cli.exec_args(spec, ["--env-file", "f"]) == [
        "exec", "--env-file", "f", "-t", "-w", "/w", "-u", "1", "--", "c", "ls", "-l",
    ]  # fmt: skip
    assert _cli.exec_args(ExecSpec(container="c", command=("x",)), [], detach=True) == [
        "exec", "-d", "--", "c", "x",
    ]  # fmt: skip


def test_exec_stream_reports_the_exit_code_once_exhausted() -> None:
    released: list[bool] = []

    def lines() -> Iterator[LogLine]:
        yield LogLine(stream="stdout", data=b"a\n")
        yield LogLine(stream="stderr", data=b"b\n")
        return 7  # type: ignore[misc]

    stream = ExecStream(lines(), lambda: released.append(True))  # type: ignore[arg-type]
    assert next(stream).data == b"a\n"
    assert stream.exit_code is None
    assert stream.result() == runtimes.ExecResult(exit_code=7, stderr=b"b\n")
    assert released
    with ExecStream(lines(), lambda: released.append(False)) as early:  # type: ignore[arg-type]
        next(early)
    assert released[-1] is False
    assert early.exit_code is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"stdin": "text"},
        {"stdin": io.StringIO("text")},
        {"stdin": 1},
        {"stream": 1},
        {"detach": "yes"},
        {"tty": None},
        {"detach": True, "stream": True},
        {"detach": True, "stdin": b"x"},
        {"detach": True, "tty": True},
        {"tty": True, "stdin": b"x"},
    ],
)
def test_exec_spec_refuses(kwargs: dict[str, Any]) -> None:
    with pytest.raises(runtimes.InvalidSpec):
        _specs.exec_spec("c", ["cat"], env=None, workdir=None, user=None, **kwargs)


def test_exec_spec_takes_bytes_and_binary_files() -> None:
    spec = _specs.exec_spec("c", ["cat"], env=None, workdir=None, user=None, stdin=bytearray(b"x"))
    assert spec.stdin == b"x"
    binary = io.BytesIO(b"y")
    spec = _specs.exec_spec("c", ["cat"], env=None, workdir=None, user=None, stdin=binary)
    assert spec.stdin is binary


@pytest.mark.parametrize("data", [b"x" * 300_000, io.BytesIO(b"y" * 300_000)])
def test_docker_input_ends_with_a_half_close(data: bytes | io.BytesIO) -> None:
    ours, theirs = socket.socketpair()
    received = bytearray()

    def drain() -> None:
        while chunk := theirs.recv(65536):
            received.extend(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    _feed_socket(ours, data)
    reader.join(timeout=30)
    assert not reader.is_alive(), "the input never ended"
    assert len(received) == 300_000
    ours.close()
    theirs.close()


@pytest.mark.parametrize("empty", [b"", io.BytesIO(b"")])
def test_nerdctl_sends_an_empty_input_as_none(empty: bytes | io.BytesIO) -> None:
    # nerdctl through 2.3.5 loses an end of input that comes before its exec
    # exists (37 of 40 hung on 2.2.2): an empty input goes without `-i`.
    assert nerdctl_input(empty) is None
    assert nerdctl_input(None) is None
    spec = ExecSpec(container="c", command=("wc", "-c"), stdin=nerdctl_input(empty))
    assert "-i" not in _cli.exec_args(spec, [])


def test_nerdctl_input_keeps_every_byte_of_a_peeked_file() -> None:
    data = bytes(range(256)) * 1000  # larger than the peek
    assert nerdctl_input(b"hi") == b"hi"
    fed = nerdctl_input(io.BytesIO(data))
    assert not isinstance(fed, bytes)
    assert fed is not None
    out = bytearray()
    while chunk := fed.read(1000):
        out += chunk
    assert bytes(out) == data


def test_shell_stream_gives_whole_lines_however_the_pipe_cuts_them() -> None:
    # Pieces written apart (flushed, with pauses), a line longer than a read,
    # both pipes, and a last line without a newline.
    code = (
        "import sys, time\n"
        "out = sys.stdout.buffer\n"
        "for piece in (b'a', b'b\\nc', b'd\\n\\n', b'x' * 200000, b'\\nlast'):\n"
        "    out.write(piece); out.flush(); time.sleep(0.01)\n"
        "sys.stderr.buffer.write(b'e1\\ne2\\n')\n"
    )
    items = list(Shell("py", sys.executable).stream(["-c", code], operation="exec"))
    out = [data for stream, data in items if stream == "stdout"]
    assert out == [b"ab\n", b"cd\n", b"\n", b"x" * 200000 + b"\n", b"last"]
    assert [data for stream, data in items if stream == "stderr"] == [b"e1\n", b"e2\n"]
    assert items[-1] == ("exit", b"0")
