"""Rejoining of split log records, as Docker and Podman send them."""

from __future__ import annotations

import io
import struct
import threading
from collections.abc import Iterator

import pytest

from runtimes._logs import LineJoiner, in_time_order, join_frames, read_frames


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def test_frames_split_at_16k_are_one_line_with_the_first_timestamp() -> None:
    line = b"x" * 40000 + b"\n"
    records = [line[i : i + 16384] for i in range(0, len(line), 16384)]
    stamps = [f"2026-11-28T20:08:56.{n:09d}Z ".encode() for n in range(len(records))]
    wire = b"".join(frame(1, s + r) for s, r in zip(stamps, records, strict=True))
    wire += frame(2, b"2026-11-28T20:08:57.000000000Z err\n")
    lines = list(
        join_frames(read_frames(io.BytesIO(wire).read), timestamps=True, framed_timestamps=True)
    )
    assert [x.data for x in lines] == [line, b"err\n"]
    assert lines[0].timestamp is not None
    assert lines[0].timestamp.microsecond == 0
    assert lines[1].stream == "stderr"


def test_short_reads_and_missing_final_newline() -> None:
    wire = frame(1, b"a\nb") + frame(1, b"c")

    class Trickle(io.BytesIO):
        def read(self, n: int = -1) -> bytes:  # at most 3 bytes at a time
            return super().read(min(n, 3))

    lines = list(
        join_frames(read_frames(Trickle(wire).read), timestamps=False, framed_timestamps=False)
    )
    assert [x.data for x in lines] == [b"a\n", b"bc"]
    assert all(x.timestamp is None for x in lines)


def test_streams_are_joined_separately() -> None:
    joiner = LineJoiner(keep_timestamps=False)
    out = [
        *joiner.feed("stdout", b"par"),
        *joiner.feed("stderr", b"e\n"),
        *joiner.feed("stdout", b"t\n"),
    ]
    assert [(x.stream, x.data) for x in out] == [("stderr", b"e\n"), ("stdout", b"part\n")]


def test_timestamp_nanos_keeps_all_nine_digits() -> None:
    from runtimes._logs import timestamp_nanos

    assert timestamp_nanos(b"2026-11-28T20:08:56.127213296Z") == 1795896536127213296
    assert timestamp_nanos(b"2026-11-28T20:08:56.1Z") == 1795896536100000000
    assert timestamp_nanos(b"2026-11-28T20:08:56Z") == 1795896536000000000
    assert timestamp_nanos(b"hello") == -1


def test_follow_mark_yields_only_what_the_follow_missed() -> None:
    from runtimes._logs import FollowMark

    mark = FollowMark()
    # The two pipes arrive out of order with each other, each in order itself.
    for stream, raw in [
        ("stderr", b"2026-11-28T20:08:56.000000003Z"),
        ("stdout", b"2026-11-28T20:08:56.000000001Z"),
        ("stdout", b"2026-11-28T20:08:56.000000002Z"),
        ("stdout", b"2026-11-28T20:08:56.000000002Z"),
    ]:
        mark.see(stream, raw)
    assert mark.since() == (1795896536000000002, b"2026-11-28T20:08:56.000000002Z")
    reread = [
        ("stdout", b"2026-11-28T20:08:56.000000001Z", False),
        ("stdout", b"2026-11-28T20:08:56.000000002Z", False),
        ("stdout", b"2026-11-28T20:08:56.000000002Z", False),
        ("stdout", b"2026-11-28T20:08:56.000000002Z", True),  # a third record at that time
        ("stderr", b"2026-11-28T20:08:56.000000003Z", False),
        ("stdout", b"2026-11-28T20:08:57Z", True),
        ("stderr", b"2026-11-28T20:08:57Z", True),
    ]
    assert [mark.is_new(s, r) for s, r, _ in reread] == [new for *_, new in reread]


def test_deadline_ends_a_silent_follow_and_releases_it() -> None:

    from runtimes import _logs
    from runtimes.errors import Timeout
    from runtimes.models import LogLine

    released = threading.Event()

    def silent() -> Iterator[LogLine]:
        yield LogLine(stream="stdout", data=b"first\n")
        released.wait(60)  # a read blocked until the connection is shut down

    source = _logs.Closing(silent(), released.set, released.set)
    lines = _logs.Deadline(source, 0.5, "still following")
    assert next(lines).text == "first"
    with pytest.raises(Timeout, match="still following"):
        next(lines)
    assert released.is_set()
    with pytest.raises(StopIteration):
        next(lines)


def test_deadline_passes_the_end_and_errors_through() -> None:
    from runtimes import _logs
    from runtimes.errors import ContainerNotFound
    from runtimes.models import LogLine

    def ends() -> Iterator[LogLine]:
        yield LogLine(stream="stderr", data=b"a\n")

    assert [x.text for x in _logs.Deadline(_logs.Closing(ends(), lambda: None), 30, "x")] == ["a"]

    def fails() -> Iterator[LogLine]:
        raise ContainerNotFound("c")
        yield  # pragma: no cover

    with pytest.raises(ContainerNotFound):
        next(_logs.Deadline(_logs.Closing(fails(), lambda: None), 30, "x"))


def _stamped(second: int, nanos: str, text: str) -> bytes:
    # nerdctl prints RFC 3339 with nanoseconds, trailing zeros trimmed.
    return f"2026-11-28T20:08:{second:02d}.{nanos}Z {text}\n".encode()


def test_in_time_order_merges_two_pipes_read_apart() -> None:
    out = [_stamped(1, "1", "o1"), _stamped(3, "25", "o3")]
    err = [_stamped(2, "123456789", "e2"), _stamped(3, "25", "e3"), _stamped(4, "5", "e4")]
    # stdout's pipe read entirely first, as a slow stderr reader would.
    items = [("stdout", line) for line in out] + [("stderr", line) for line in err]
    merged = [line.split(b" ")[1] for _, line in in_time_order(items)]  # type: ignore[arg-type]
    # Equal times: stdout first. ".25" and ".123456789" compare as times, not texts.
    assert merged == [b"o1\n", b"e2\n", b"o3\n", b"e3\n", b"e4\n"]


def test_in_time_order_puts_lines_without_a_time_last() -> None:
    items = [("stdout", b"no time\n"), ("stderr", _stamped(1, "0", "e"))]
    merged = [line for _, line in in_time_order(items)]  # type: ignore[arg-type]
    assert merged == [_stamped(1, "0", "e"), b"no time\n"]


def test_in_time_order_keys_a_line_that_is_only_a_timestamp_by_all_of_it() -> None:
    # A last line without a newline whose text is empty: no space follows its
    # stamp, and cutting at find(" ") == -1 would drop the stamp's last byte.
    bare = b"2026-11-28T20:08:03.000000000Z"
    items = [
        ("stdout", bare),
        ("stderr", _stamped(2, "0", "e2")),
        ("stderr", _stamped(4, "0", "e4")),
    ]
    merged = [line for _, line in in_time_order(items)]  # type: ignore[arg-type]
    assert merged == [_stamped(2, "0", "e2"), bare, _stamped(4, "0", "e4")]


def test_in_time_order_holds_no_more_than_its_window() -> None:
    held_most = 0
    released = 0

    def one_stream() -> Iterator[tuple[str, bytes]]:
        nonlocal held_most
        for n in range(10_000):
            held_most = max(held_most, (n - released) * 40)
            yield "stdout", _stamped(n % 60, f"{n:09d}", "x" * 8)

    for _ in in_time_order(one_stream(), window=4096):  # type: ignore[arg-type]
        released += 1
    assert released == 10_000
    assert held_most <= 4096 + 2 * 40  # a stream with nothing to wait for streams


@pytest.mark.parametrize("step", [1, 3, 7, 8, 9, 100, 1 << 16])
def test_frames_cut_from_chunks_are_the_frames_read_one_by_one(step: int) -> None:
    payloads = [b"", b"a\n", b"x" * 70000, b"b\nc", b"2026-11-28T20:08:56.1Z d\n"]
    wire = b"".join(frame(1 + i % 2, p) for i, p in enumerate(payloads))
    wire += frame(1, b"cut short")[:-3]  # a stream that ends mid-frame

    class Trickle(io.BytesIO):
        def read(self, n: int | None = -1) -> bytes:
            return super().read(min(n if n is not None and n >= 0 else step, step))

    one_by_one = list(read_frames(Trickle(wire).read))
    assert list(read_frames(Trickle(wire).read, chunk=1 << 16)) == one_by_one[:-1]
    assert [p for _, p in one_by_one[:-1]] == payloads


def test_a_record_of_exactly_one_line_is_that_line() -> None:
    joiner = LineJoiner(keep_timestamps=False)
    out = [*joiner.feed("stdout", b""), *joiner.feed("stdout", b"one\n")]
    out += [*joiner.feed("stdout", b"two\nthr"), *joiner.feed("stdout", b"ee\n")]
    assert [x.data for x in out] == [b"one\n", b"two\n", b"three\n"]


def test_timestamps_cut_off_unparsed_when_not_asked_for() -> None:
    wire = frame(1, b"2026-11-28T20:08:56.127213296Z a b\n") + frame(2, b"no-time here\n")
    lines = list(
        join_frames(read_frames(io.BytesIO(wire).read), timestamps=False, framed_timestamps=True)
    )
    assert [(x.data, x.timestamp) for x in lines] == [(b"a b\n", None), (b"no-time here\n", None)]


@pytest.mark.parametrize(
    ("stdout", "stderr"), [(True, True), (True, False), (False, True), (False, False)]
)
def test_ordered_lines_give_the_streams_asked_for(stdout: bool, stderr: bool) -> None:
    from runtimes._logs import ordered_lines
    from runtimes.specs import LogsSpec

    items = [
        ("stdout", b"2026-11-29T13:35:34.000000001Z out\n"),
        ("stderr", b"2026-11-29T13:35:34.000000002Z err\n"),
        ("stdout", b"2026-11-29T13:35:34.000000003Z end"),
    ]
    spec = LogsSpec(container="c", stdout=stdout, stderr=stderr)
    got = [(x.stream, x.data) for x in ordered_lines(items, spec, window=None)]  # type: ignore[arg-type]
    every = [("stdout", b"out\n"), ("stderr", b"err\n"), ("stdout", b"end")]
    assert got == [x for x in every if (stdout, stderr)[x[0] == "stderr"]]
