"""Live results of a verb: what ``exec(..., stream=True)`` returns."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator, Iterator, Mapping

from runtimes import _redact
from runtimes.models import ExecResult, LogLine

__all__ = ["ExecStream", "collect"]


class ExecStream(Iterator[LogLine]):
    """The output of ``exec(..., stream=True)``, line by line as the command
    writes it.

    Each item is a :class:`~runtimes.LogLine` tagged ``"stdout"`` or
    ``"stderr"`` (no timestamp), in the order the lines arrived.
    :attr:`exit_code` is ``None`` until the iterator is exhausted, then the
    command's exit code.  :meth:`close` (or leaving a ``with`` block) stops
    reading and releases the connection or process at once; the command
    itself may go on in the container.

    Adapters build it from a generator that yields the lines and returns
    the exit code, and what releases its connection (``release``); values
    in ``secrets`` are masked in any error raised while reading.
    """

    def __init__(
        self,
        lines: Generator[LogLine, None, int],
        release: Callable[[], object] = lambda: None,
        secrets: Mapping[str, str] | None = None,
    ) -> None:
        self._lines = lines
        self._release = release
        self._secrets = dict(secrets or {})
        #: The command's exit code, once every line has been read.
        self.exit_code: int | None = None

    def __next__(self) -> LogLine:
        with _redact.secrets(self._secrets):
            try:
                return next(self._lines)
            except StopIteration as end:
                self.exit_code = int(end.value) if end.value is not None else None
                self._release()
                raise StopIteration from None

    def result(self) -> ExecResult:
        """Read what is left and return it all as an :class:`~runtimes.ExecResult`
        (the lines already read are not in it)."""
        out, err = bytearray(), bytearray()
        for line in self:
            (out if line.stream == "stdout" else err).extend(line.data)
        assert self.exit_code is not None
        return ExecResult(exit_code=self.exit_code, stdout=bytes(out), stderr=bytes(err))

    def close(self) -> None:
        """Stop reading and release the connection or process (idempotent)."""
        try:
            self._lines.close()
        finally:
            self._release()

    def __enter__(self) -> ExecStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


def collect(lines: Generator[LogLine, None, int]) -> ExecResult:
    """For adapters: an exec's line generator, read to its end, as one result."""
    return ExecStream(lines).result()
