"""Rebuild whole log lines from the records runtimes store.

Docker stores a long line as 16 KiB records and Podman as 8 KiB records, and
both APIs send each record as its own frame, each with its own timestamp
when timestamps are on.  :class:`LineJoiner` glues the records of a stream
back together until one ends with a newline, keeping the first record's
timestamp, so callers always see one :class:`LogLine` per line written.
"""

from __future__ import annotations

import contextlib
import itertools
import queue
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from datetime import UTC, datetime
from typing import Literal

from runtimes import _normalize
from runtimes.errors import Timeout
from runtimes.models import LogLine
from runtimes.specs import LogsSpec

Stream = Literal["stdout", "stderr"]
#: How much a plain (not followed) log read asks its response for at a time.
READ_CHUNK = 1 << 16
_STREAMS: dict[int, Stream] = {1: "stdout", 2: "stderr"}


class LineJoiner:
    """Accumulates records per stream and emits complete lines."""

    def __init__(self, *, keep_timestamps: bool) -> None:
        self._keep_timestamps = keep_timestamps
        self._pending: dict[Stream, tuple[datetime | None, bytearray]] = {}

    def feed(self, stream: Stream, data: bytes, ts: datetime | None = None) -> list[LogLine]:
        """Add one record; return every line it completes (a list, not a
        generator: one record is most often one line, and a generator per
        record cost more than the line)."""
        if data[-1:] == b"\n" and stream not in self._pending and data.find(b"\n") == len(data) - 1:
            # The common record: exactly one whole line, nothing pending.
            return [self._line(stream, data, ts)]
        pending = self._pending.get(stream)
        if pending is None:
            pending = (ts, bytearray())
            self._pending[stream] = pending
        buffer = pending[1]
        buffer += data
        if b"\n" not in data:
            return []
        # A record may hold several lines (CLI pipes deliver chunks).
        done = []
        start = 0
        while True:
            end = buffer.find(b"\n", start)
            if end < 0:
                break
            done.append(self._line(stream, bytes(buffer[start : end + 1]), pending[0]))
            start = end + 1
        rest = buffer[start:]
        if rest:
            self._pending[stream] = (ts, bytearray(rest))
        else:
            del self._pending[stream]
        return done

    def flush(self) -> Iterator[LogLine]:
        """Emit what is left: last lines written without a newline."""
        for stream, (ts, buffer) in list(self._pending.items()):
            if buffer:
                yield self._line(stream, bytes(buffer), ts)
        self._pending.clear()

    def _line(self, stream: Stream, data: bytes, ts: datetime | None) -> LogLine:
        return LogLine(stream=stream, data=data, timestamp=ts if self._keep_timestamps else None)


def split_timestamp(record: bytes) -> tuple[datetime | None, bytes]:
    """``b"2026-11-28T20:08:56.127213296Z hello\\n"`` -> (datetime, b"hello\\n")."""
    head, sep, rest = record.partition(b" ")
    if sep and head[:1].isdigit():
        ts = _normalize.timestamp(head.decode("ascii", "replace"))
        if ts is not None:
            return ts, rest
    return None, record


def cut_timestamp(record: bytes) -> bytes:
    """:func:`split_timestamp`'s record without parsing the time: only for
    records known to carry one, when the caller does not want it."""
    space = record.find(b" ")
    return record[space + 1 :] if space > 0 and record[:1].isdigit() else record


def in_time_order(
    items: Iterable[tuple[Stream, bytes]], *, window: int | None = None
) -> Iterator[tuple[Stream, bytes]]:
    """Merge timestamped lines of two streams into one time order.

    A CLI's ``logs --timestamps`` writes the stdout records to its stdout
    and the stderr records to its stderr, each pipe in time order; read
    concurrently, one pipe can run ahead of the other.  A line is held back
    until the other stream has shown a later one, or until more than
    ``window`` bytes are held (``None``: no limit, for a whole output read
    at once): the writer wrote both pipes in time order, so the other pipe
    cannot still hold something older once it is that far behind.  On equal
    times stdout comes first; a line without a timestamp sorts last.
    Memory stays within ``window`` whatever the log's size.
    """
    return in_time_order_batches(((stream, [line]) for stream, line in items), window=window)


def in_time_order_batches(
    batches: Iterable[tuple[Stream, list[bytes]]], *, window: int | None = None
) -> Iterator[tuple[Stream, bytes]]:
    """:func:`in_time_order` of lines that come a batch at a time, as
    :meth:`~runtimes._shell.Shell.stream_batches` reads them."""
    # Written out, no helper calls: this runs for every line of a log.
    out: deque[bytes] = deque()
    err: deque[bytes] = deque()
    queues: dict[Stream, deque[bytes]] = {"stdout": out, "stderr": err}
    out_key = err_key = b""  # the time of each queue's first line, once needed
    held = 0
    for stream, batch in batches:
        queues[stream].extend(batch)
        held += sum(map(len, batch))
        while out and err:
            if not out_key:
                out_key = order_key(_stamp_of(out[0]))
            if not err_key:
                err_key = order_key(_stamp_of(err[0]))
            if err_key < out_key:
                line, err_key = err.popleft(), b""
                held -= len(line)
                yield "stderr", line
            else:
                line, out_key = out.popleft(), b""
                held -= len(line)
                yield "stdout", line
        while window is not None and held > window:
            if out:
                line, out_key = out.popleft(), b""
                held -= len(line)
                yield "stdout", line
            else:
                line, err_key = err.popleft(), b""
                held -= len(line)
                yield "stderr", line
    # One queue at most is left: the loop empties one of them.
    for line in out:
        yield "stdout", line
    for line in err:
        yield "stderr", line


# How far stdout and stderr of `logs --timestamps` may run apart while a
# log is read (see in_time_order): far more than two pipe buffers.
ORDER_WINDOW = 4 << 20


def wanted(spec: LogsSpec) -> set[str]:
    """The streams ``spec`` asks for."""
    return {s for s, on in (("stdout", spec.stdout), ("stderr", spec.stderr)) if on}


def ordered_lines(
    items: Iterable[tuple[Stream, bytes]],
    spec: LogsSpec,
    *,
    window: int | None,
    whole_seconds: bool = False,
) -> Iterator[LogLine]:
    """The lines ``spec`` asks for in what a CLI's ``logs --timestamps``
    printed, stdout and stderr in time order.

    A last line without a newline is its stream's last record with no
    ``\\n``: a line of its own.  ``whole_seconds`` gives the timestamps
    as a runtime's other paths do.
    """
    batches = ((stream, [data]) for stream, data in items)
    return ordered_batches(batches, spec, window=window, whole_seconds=whole_seconds)


def ordered_batches(
    batches: Iterable[tuple[Stream, list[bytes]]],
    spec: LogsSpec,
    *,
    window: int | None,
    whole_seconds: bool = False,
) -> Iterator[LogLine]:
    """:func:`ordered_lines` of lines that come a batch at a time."""
    joiner = LineJoiner(keep_timestamps=spec.timestamps)
    feed = joiner.feed
    streams = wanted(spec)
    if not streams:  # logs(stdout=False, stderr=False): nothing asked for
        return
    ordered: Iterable[tuple[Stream, bytes]]
    if len(streams) == 1:  # nothing to merge
        ordered = ((s, d) for s, batch in batches if s in streams for d in batch)
    else:
        ordered = in_time_order_batches(batches, window=window)
    if spec.timestamps:
        for stream, data in ordered:
            ts, payload = split_timestamp(data)
            if whole_seconds and ts is not None:
                ts = ts.replace(microsecond=0)
            yield from feed(stream, payload, ts)
    else:
        pending = joiner._pending  # noqa: SLF001 - the same module's fast path
        for stream, data in ordered:
            # cut_timestamp and feed's common case, written out: this runs
            # for every line.
            space = data.find(b" ")
            if space > 0 and data[:1].isdigit():
                data = data[space + 1 :]
            if not pending and data.find(b"\n") == len(data) - 1 > -1:  # one whole line
                yield LogLine(stream=stream, data=data)
            else:
                yield from feed(stream, data)
    yield from joiner.flush()


def cli_lines(
    items: Generator[tuple[Literal["stdout", "stderr", "exit"], list[bytes]], None, None],
    spec: LogsSpec,
    *,
    failed: Callable[[int, bytes], BaseException],
    rewrite: Callable[[list[bytes]], list[bytes]] | None = None,
    whole_seconds: bool = False,
) -> Closing:
    """A CLI's plain ``logs --timestamps`` read to its end, streamed: memory
    stays flat whatever the log's size.

    ``items`` are a :meth:`Shell.stream_batches`'s; a stderr line without a
    timestamp is the CLI's own message, and a non-zero exit becomes
    ``failed(code, those messages)``.  ``rewrite`` rewrites each batch of
    lines first (a runtime's quirk); ``whole_seconds`` as for :func:`ordered_lines`.
    Reads up to the first record now, so that a
    missing container raises here, as on the other runtimes, not on the
    first ``next()``.
    """
    own: list[bytes] = []

    def records() -> Iterator[tuple[Stream, list[bytes]]]:
        for stream, batch in items:
            if stream == "exit":
                if batch != [b"0"]:
                    raise failed(int(batch[0]), b"".join(own))
                return
            if stream == "stderr" and not all(map(stamped, batch)):
                own.extend(data for data in batch if not stamped(data))
                batch = [data for data in batch if stamped(data)]
            if rewrite is not None:
                batch = rewrite(batch)
            if batch:
                yield stream, batch

    source = records()
    try:
        head = list(itertools.islice(source, 1))
    except BaseException:
        items.close()  # end the CLI and its pipe readers now, not at collection
        raise
    lines = ordered_batches(
        itertools.chain(head, source), spec, window=ORDER_WINDOW, whole_seconds=whole_seconds
    )
    return Closing(lines, items.close)


_LAST = b"\xff"  # sorts after every timestamp


def _stamp_of(line: bytes) -> bytes:
    """The timestamp that starts a line of ``logs --timestamps``: up to its
    first space, or all of a line that is only a timestamp."""
    space = line.find(b" ")
    return line if space < 0 else line[:space]


def order_key(raw: bytes) -> bytes:
    """A record's timestamp as bytes that sort in time order: UTC, nine
    fractional digits (``b"2026-11-28T20:08:56.127213296Z"``).

    Byte slices, not a parse: the merge compares a key for about every line
    of a log.  Docker and Podman print that form already; nerdctl trims the
    fraction's trailing zeros.  Another offset than ``Z`` takes the slow
    path; no timestamp at all sorts last.
    """
    if raw[-1:] == b"Z" and raw[10:11] == b"T":
        if len(raw) == 30 and raw[19:20] == b".":
            return raw
        if len(raw) == 20:
            return raw[:19] + b".000000000Z"
        if raw[19:20] == b"." and len(raw) < 30:
            return raw[:-1] + b"0" * (30 - len(raw)) + b"Z"
    nanos = timestamp_nanos(raw)
    if nanos < 0:
        return _LAST
    seconds, fraction = divmod(nanos, 1_000_000_000)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{fraction:09d}Z".encode()


def stamped(line: bytes) -> bool:
    """Whether a line of ``logs --timestamps`` starts with a timestamp (a
    record), not the CLI's own message (``Error: ...``, ``time=...``): a
    look at its first bytes, as it is asked of every line."""
    return line[:1].isdigit() and line[4:5] == b"-"


def read_frames(
    read: Callable[[int], bytes], *, chunk: int | None = None
) -> Iterator[tuple[Stream, bytes]]:
    """Demultiplex the Engine API's framed log/attach stream.

    Each frame is an 8-byte header (stream id, 3 zero bytes, big-endian
    length) followed by the payload.  ``read(n)`` may return fewer bytes.
    With ``chunk``, ``read`` is asked for that much at a time and the frames
    are cut out of what came: two reads per frame cost more than the frame
    on a log of short lines.  Only for a stream that ends (not a follow),
    since a read may wait until it has ``chunk`` bytes.
    """
    if chunk is not None:
        yield from _cut_frames(read, chunk)
        return
    while True:
        header = _read_exact(read, 8)
        if len(header) < 8:
            return
        stream_id, length = struct.unpack(">BxxxL", header)
        payload = _read_exact(read, length)
        yield _STREAMS.get(stream_id, "stdout"), payload
        if len(payload) < length:
            return


def _cut_frames(read: Callable[[int], bytes], chunk: int) -> Iterator[tuple[Stream, bytes]]:
    buffer = b""
    at = 0
    unpack = struct.Struct(">BxxxL").unpack_from
    # A frame cut short at the end is dropped, as read_frames does.
    while data := read(chunk):
        buffer = buffer[at:] + data if at < len(buffer) else data
        at = 0
        while len(buffer) - at >= 8:
            stream_id, length = unpack(buffer, at)
            end = at + 8 + length
            if end > len(buffer):
                break
            yield _STREAMS.get(stream_id, "stdout"), buffer[at + 8 : end]
            at = end


def _read_exact(read: Callable[[int], bytes], size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def join_frames(
    frames: Iterator[tuple[Stream, bytes]], *, timestamps: bool, framed_timestamps: bool
) -> Iterator[LogLine]:
    """Lines from API frames; ``framed_timestamps`` says each frame starts with one."""
    joiner = LineJoiner(keep_timestamps=timestamps)
    for stream, payload in frames:
        ts = None
        if framed_timestamps:
            if timestamps:
                ts, payload = split_timestamp(payload)
            else:  # parsing every line's time would be wasted
                payload = cut_timestamp(payload)
        yield from joiner.feed(stream, payload, ts)
    yield from joiner.flush()


def timestamp_nanos(raw: bytes) -> int:
    """``b"2026-11-28T20:08:56.127213296Z"`` -> nanoseconds since the epoch (-1 if not one).

    ``datetime`` keeps microseconds; telling records apart needs all nine digits.
    """
    text = raw.decode("ascii", "replace")
    fast = _normalize.utc_rfc3339(text)  # the same fast path; all nine digits kept below
    if fast is not None:
        fraction = text[20:-1]
        return int(fast.replace(microsecond=0).timestamp()) * 1_000_000_000 + int(
            (fraction + "000000000")[:9]
        )
    whole, dot, rest = text.partition(".")
    digits = "".join(itertools.takewhile(str.isdigit, rest)) if dot else ""
    parsed = _normalize.timestamp(whole + rest[len(digits) :] if dot else text)
    if parsed is None:
        return -1
    seconds = int(parsed.replace(microsecond=0).timestamp())
    return seconds * 1_000_000_000 + int((digits + "000000000")[:9])


class FollowMark:
    """Where a follow stopped, to read the rest without repeating a record.

    Some runtimes end a follow when the container exits, before the last
    records reach the reader (nerdctl 2.0 by megabytes, dockerd 20.10 by a
    last line without a newline).  A follow notes each record's timestamp
    here; a plain read ``since`` :meth:`since` then yields, through
    :meth:`is_new`, only what the follow did not.  Per stream, because each
    stream is in time order but the two together may not be.
    """

    def __init__(self) -> None:
        self._newest: dict[str, tuple[int, bytes, int]] = {}

    def see(self, stream: str, raw: bytes) -> None:
        """Note one followed record with timestamp ``raw``."""
        nanos, seen, count = self._newest.get(stream, (-1, b"", 0))
        if raw == seen:
            self._newest[stream] = (nanos, raw, count + 1)
        else:
            self._newest[stream] = (timestamp_nanos(raw), raw, 1)

    def since(self) -> tuple[int, bytes] | None:
        """The oldest of the streams' newest timestamps (nanoseconds, text), if any."""
        if not self._newest:
            return None
        nanos, raw, _ = min(self._newest.values())
        return nanos, raw

    def is_new(self, stream: str, raw: bytes) -> bool:
        """Whether a re-read record was not already followed."""
        nanos = timestamp_nanos(raw)
        newest, seen, count = self._newest.get(stream, (-1, b"", 0))
        if 0 <= nanos < newest:
            return False
        if nanos == newest and count > 0:
            self._newest[stream] = (newest, seen, count - 1)
            return False
        return True


class Closing(Iterator[LogLine]):
    """A log iterator that owns an open response from the start.

    A generator's ``finally`` runs only once iteration has begun, so a
    ``logs()`` iterator closed (or dropped) before its first ``next()``
    would leave the response to the garbage collector.  This wrapper closes
    the response itself in :meth:`close`, whenever that comes.
    """

    def __init__(
        self,
        lines: Iterator[LogLine],
        release: Callable[[], object],
        interrupt: Callable[[], object] | None = None,
    ) -> None:
        self._lines = lines
        self._release = release
        self._interrupt = interrupt

    def interrupt(self) -> None:
        """From another thread: make a read blocked in ``next()`` return
        (closing then would wait for that read's lock)."""
        if self._interrupt is not None:
            self._interrupt()

    def __next__(self) -> LogLine:
        return next(self._lines)

    def close(self) -> None:
        """Stop reading and release the connection (idempotent)."""
        try:
            close = getattr(self._lines, "close", None)
            if close is not None:
                close()
        finally:
            self._release()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown, a dead connection
            self.close()


class Deadline(Iterator[LogLine]):
    """A follow that raises :class:`~runtimes.Timeout` once its time is up.

    The source is read on a helper thread, so the caller never blocks past
    the deadline even when the container prints nothing; at the deadline
    the source's ``close()`` releases its connection or process, which ends
    the helper's blocked read.
    """

    def __init__(self, source: Closing, timeout: float, message: str) -> None:
        self._source = source
        self._deadline = time.monotonic() + timeout
        self._message = message
        self._items: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=1024)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._done = False

    def _pump(self) -> None:
        item: tuple[str, object]
        try:
            for line in self._source:
                if not self._put(("line", line)):
                    break
            item = ("end", None)
        except BaseException as exc:  # handed to the reader, raised there
            item = ("error", exc)
        finally:
            with contextlib.suppress(Exception):
                self._source.close()
        self._put(item)

    def _put(self, item: tuple[str, object]) -> bool:
        while not self._stop.is_set():
            try:
                self._items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __next__(self) -> LogLine:
        if self._done:
            raise StopIteration
        if self._thread is None:
            self._thread = threading.Thread(target=self._pump, daemon=True, name="logs-follow")
            self._thread.start()
        remaining = self._deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise queue.Empty
            kind, value = self._items.get(timeout=remaining)
        except queue.Empty:
            self.close()
            raise Timeout(self._message) from None
        if kind == "line":
            assert isinstance(value, LogLine)
            return value
        self._done = True
        if kind == "error":
            assert isinstance(value, BaseException)
            raise value
        raise StopIteration

    def close(self) -> None:
        """Stop following and release the connection or process (idempotent)."""
        self._done = True
        self._stop.set()
        if self._thread is not None and self._thread.is_alive():
            # The helper may be blocked in a read: end the read, and the
            # helper closes the source itself.
            with contextlib.suppress(Exception):
                self._source.interrupt()
            return
        with contextlib.suppress(Exception):
            self._source.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


def shutdown_response(response: object) -> None:
    """End a streamed HTTP response's reads from another thread: shut its
    socket down (closing it would wait for the blocked reader's lock)."""
    fp = getattr(getattr(getattr(response, "raw", None), "_fp", None), "fp", None)
    sock = getattr(getattr(fp, "raw", None), "_sock", None)
    if sock is not None:
        sock.shutdown(socket.SHUT_RDWR)
