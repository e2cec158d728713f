"""Podman's plain local log read through ``podman logs --timestamps``,
pinned on its recorded output (``tests/fixtures/podman/logs_cli.json``)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from runtimes import _logs
from runtimes._shell import Shell
from runtimes.adapters.podman import PodmanRuntime, unglue_batch, unglue_records
from runtimes.errors import ContainerNotFound
from runtimes.specs import LogsSpec


class Replay(Shell):
    """A shell whose ``stream_batches`` replays recorded items: a line per
    batch, or (``grouped``) each run of one stream's lines in one batch, as
    a pipe's read gives them when the CLI is ahead of its reader."""

    def __init__(self, items: list[list[str]], *, grouped: bool = False) -> None:
        super().__init__("podman", "podman")
        self.items = items
        self.grouped = grouped
        self.seen: list[str] = []

    def stream_batches(
        self, args: Sequence[str], **kwargs: Any
    ) -> Iterator[tuple[Any, list[bytes]]]:
        self.seen = list(args)
        batches: list[tuple[Any, list[bytes]]] = []
        for stream, text in self.items:
            data = text.encode("utf-8", "surrogateescape")
            if self.grouped and batches and batches[-1][0] == stream != "exit":
                batches[-1][1].append(data)
            else:
                batches.append((stream, [data]))
        return (batch for batch in batches)


def local(items: list[list[str]], *, grouped: bool = False) -> Any:
    rt = object.__new__(PodmanRuntime)
    rt._cli_shell = Replay(items, grouped=grouped)
    rt._remote = False
    rt.default_timeout = 5.0
    return rt


def lines(recorded: Any, case: str, **spec: Any) -> list[tuple[str, bytes]]:
    rt = local(recorded("podman", "logs_cli.json")[case]["items"])
    found = [(x.stream, x.data) for x in rt._logs(LogsSpec(container="c", **spec))]
    # How the pipes' reads cut the output into batches changes nothing.
    grouped = local(recorded("podman", "logs_cli.json")[case]["items"], grouped=True)
    assert [(x.stream, x.data) for x in grouped._logs(LogsSpec(container="c", **spec))] == found
    return found


def api(recorded: Any, case: str) -> list[tuple[str, bytes]]:
    record = recorded("podman", "logs_cli.json")[case]
    return [(s, t.encode("utf-8", "surrogateescape")) for s, t in record["api"]]


def test_cli_lines_are_the_apis_lines(recorded: Any) -> None:
    # A timestamp the container printed, a partial line whose second part
    # holds one, \r and bytes that are not UTF-8, a last line without newline.
    assert lines(recorded, "container_text") == api(recorded, "container_text")


def test_records_glued_by_the_cli_are_cut_apart(recorded: Any) -> None:
    got = lines(recorded, "mixed")
    # Per stream, the API's lines: `part`+`ial` and the 10 000-byte line
    # (three records, two timestamps printed inside it) rejoined.
    for stream in ("stdout", "stderr"):
        assert [x for x in got if x[0] == stream] == [
            x for x in api(recorded, "mixed") if x[0] == stream
        ]
    # Across streams a line goes by its first record's time (its
    # timestamp), the API's by its last: `partial` began before `err1`.
    assert [d[:7] for _, d in got] == [
        b"out1\n",
        b"partial",
        b"err1\n",
        b"0000000",
        b"err2\n",
        b"noeol",
    ]


def test_stream_selection_and_timestamps(recorded: Any) -> None:
    assert lines(recorded, "mixed", stdout=False) == [("stderr", b"err1\n"), ("stderr", b"err2\n")]
    assert [d[:5] for _, d in lines(recorded, "mixed", stderr=False)] == [
        b"out1\n", b"parti", b"00000", b"noeol"
    ]  # fmt: skip
    rt = local(recorded("podman", "logs_cli.json")["mixed"]["items"])
    stamped = list(rt._logs(LogsSpec(container="c", timestamps=True)))
    # The first record's time, in whole seconds as over the API
    # (PRECISE_LOG_TIMESTAMPS is not declared).
    assert stamped[1].data == b"partial\n"
    assert stamped[1].timestamp == datetime(2026, 11, 29, 13, 35, 34, tzinfo=UTC)
    assert [x.timestamp for x in stamped] == sorted(x.timestamp for x in stamped)  # type: ignore[type-var]


def test_tail_and_since_are_passed_before_the_reference(recorded: Any) -> None:
    rt = local(recorded("podman", "logs_cli.json")["mixed"]["items"])
    list(rt._logs(LogsSpec(container="-x", tail=2, since=1795958329)))
    assert rt._cli_shell.seen == [
        "logs", "--timestamps", "--tail", "2", "--since", "1795958329", "--", "-x"
    ]  # fmt: skip


def test_missing_container_raises_before_the_first_line(recorded: Any) -> None:
    rt = local(recorded("podman", "logs_cli.json")["missing"]["items"])
    with pytest.raises(ContainerNotFound):
        rt._logs(LogsSpec(container="fixture-nope"))  # no next() needed


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"2026-11-29T13:35:34.650696345Z out1\n", None),
        (b"2026-11-29T13:35:34.650696345Z part2026-11-29T13:35:34.954001013Z ial\n",
         b"2026-11-29T13:35:34.650696345Z partial\n"),
        # Printed by the container inside a record: older than the record's stamp.
        (b"2026-11-29T13:35:34.650696345Z at 2026-11-29T13:35:34.000000000Z x\n", None),
        (b"2026-11-29T13:35:34.650696345Z a2026-11-29T13:35:35.000000000Z "
         b"2026-11-29T13:35:34.900000000Z b\n",
         b"2026-11-29T13:35:34.650696345Z a2026-11-29T13:35:34.900000000Z b\n"),
        # A record started on New Year's Eve, ended the next year.
        (b"2026-12-31T23:59:59.999999999Z a2027-01-01T00:00:00.000000001Z b\n",
         b"2026-12-31T23:59:59.999999999Z ab\n"),
        # A newer time the container printed in another form than podman's
        # own (nine digits and Z) is text, not a record's stamp.
        (b"2026-11-29T13:35:34.650696345Z next run 2026-12-01T00:00:00Z daily\n", None),
        (b"2026-11-29T13:35:34.650696345Z at 2026-12-01T00:00:00.5+01:00 x\n", None),
        # An offset instead of Z.
        (b"2026-11-29T14:35:34.650696345+01:00 a2026-11-29T13:35:35.000000000Z b\n",
         b"2026-11-29T14:35:34.650696345+01:00 ab\n"),
        (b"Error: no container\n", None),
    ],
)  # fmt: skip
def test_unglue_records(line: bytes, expected: bytes | None) -> None:
    assert unglue_records(line) == (line if expected is None else expected)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (b"2026-11-28T20:08:56.127213296Z", b"2026-11-28T20:08:56.127213296Z"),
        (b"2026-11-28T20:08:56.1Z", b"2026-11-28T20:08:56.100000000Z"),  # nerdctl trims zeros
        (b"2026-11-28T20:08:56Z", b"2026-11-28T20:08:56.000000000Z"),
        (b"2026-11-28T21:08:56.5+01:00", b"2026-11-28T20:08:56.500000000Z"),
        (b"Error:", b"\xff"),
    ],
)
def test_order_key_sorts_as_time(raw: bytes, key: bytes) -> None:
    assert _logs.order_key(raw) == key


def test_a_stream_closed_while_its_queue_is_full_ends_its_readers() -> None:
    # 20 MB to a reader that takes one line: the readers wait on the
    # bounded queue, and closing must end them, not leave them blocked.
    shell = Shell("py", sys.executable, timeout=10)
    code = "import sys\nfor _ in range(20000): sys.stdout.write('x' * 999 + '\\n')"
    before = threading.active_count()
    items = shell.stream(["-c", code], operation="test", idle_timeout=10)
    assert next(items)[0] == "stdout"
    time.sleep(0.5)  # the readers fill the queue
    started = time.monotonic()
    items.close()
    assert time.monotonic() - started < 3
    deadline = time.monotonic() + 3
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() == before


def test_a_slow_reader_gets_every_line() -> None:
    shell = Shell("py", sys.executable, timeout=10)
    code = "import sys\nfor n in range(50000): print(n); print(n, file=sys.stderr)"
    got: dict[str, int] = {"stdout": 0, "stderr": 0}
    for n, (stream, _) in enumerate(shell.stream(["-c", code], operation="test", idle_timeout=10)):
        if stream != "exit":
            got[stream] += 1
        if n % 5000 == 0:
            time.sleep(0.01)
    assert got == {"stdout": 50000, "stderr": 50000}


def test_unglue_batch_is_unglue_records_per_line() -> None:
    clean = [b"2026-11-29T13:35:34.650696345Z out%d\n" % n for n in range(3)]
    assert unglue_batch(clean) is clean  # nothing glued: not a line looked at
    glued = b"2026-11-29T13:35:34.650696345Z part2026-11-29T13:35:34.954001013Z ial\n"
    texts = [b"2026-11-29T13:35:34.650696345Z at 2026-11-29T13:35:34.000000000Z x\n"]
    batch = [*clean, glued, *texts]
    assert unglue_batch(batch) == [unglue_records(line) for line in batch]
    assert unglue_batch(batch)[3] == b"2026-11-29T13:35:34.650696345Z partial\n"
