"""The one place that runs runtime binaries (nerdctl, and Podman's CLI verbs).

* argv lists only, never a shell;
* a timeout on every call (``Timeout`` once it passes, the process killed);
* each command logged at DEBUG on the ``runtimes`` logger, env values masked;
* a command prefix (``sudo``, ``sudo -n``...) and global arguments
  (``--namespace``...) added to every call;
* the binary's error output cleaned (logrus ``level=fatal msg="..."``,
  ``Error: ...``) and classified through :func:`runtimes._translate.translate`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import re
import shlex
import subprocess
import threading
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import IO, Literal

import attrs

from runtimes._redact import redact_argv, redact_exception
from runtimes._translate import Target, translate
from runtimes.errors import RuntimesError, RuntimeUnavailable, Timeout

__all__ = ["FOREVER", "Completed", "Shell", "clean_error_text", "terminate"]

#: Pass as ``timeout`` for calls that must wait as long as the caller said.
FOREVER = float("inf")

log = logging.getLogger("runtimes")

_LOGRUS = re.compile(r'level=(?P<level>\w+) msg="(?P<msg>(?:[^"\\]|\\.)*)"')
_PREFIXES = ("Error response from daemon: ", "Error: ", "error: ")


def clean_error_text(stderr: str) -> str:
    """The human part of a CLI's error output.

    nerdctl logs through logrus (``time=... level=fatal msg="1 errors:\\nno
    such container: x"``): the ``msg`` values are unescaped and joined.
    Podman and Docker print ``Error: ...``: the prefix goes.
    """
    messages: list[str] = []
    for line in stderr.splitlines():
        match = _LOGRUS.search(line)
        if match:
            msg = match["msg"].encode().decode("unicode_escape", "replace")
            messages.append(msg.replace("1 errors:\n", "").strip())
            continue
        line = line.strip()
        for prefix in _PREFIXES:
            if line.startswith(prefix):
                line = line[len(prefix) :]
        if line:
            messages.append(line)
    return "; ".join(messages)


def terminate(proc: subprocess.Popen[bytes], *, grace: float) -> None:
    """Stop a process: TERM, then KILL after ``grace`` seconds.

    TERM first, because a prefix like ``sudo`` passes it on but not KILL.
    """
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@attrs.frozen
class Completed:
    """A finished command."""

    #: The full argv that ran (not redacted; never log it as is).
    argv: tuple[str, ...]
    #: Exit code.
    returncode: int
    #: Captured stdout.
    stdout: bytes
    #: Captured stderr.
    stderr: bytes


class Shell:
    """Runs one runtime binary with fixed prefix and global arguments."""

    def __init__(
        self,
        runtime: str,
        binary: str,
        *,
        prefix: Sequence[str] | str = (),
        global_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        timeout: float = 120.0,
        install_hint: str = "",
    ) -> None:
        self.runtime = runtime
        self.binary = binary
        self.prefix = tuple(shlex.split(prefix) if isinstance(prefix, str) else prefix)
        self.global_args = tuple(global_args)
        self.env = dict(env) if env is not None else None
        self.timeout = timeout
        self.install_hint = install_hint

    def argv(self, args: Sequence[str]) -> list[str]:
        return [*self.prefix, self.binary, *self.global_args, *args]

    def _environ(self, extra: Mapping[str, str] | None) -> dict[str, str] | None:
        if not extra:
            return self.env
        return {**(self.env if self.env is not None else os.environ), **extra}

    def _log(self, argv: Sequence[str]) -> None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug("running: %s", shlex.join(redact_argv(argv)))

    def _missing(self, exc: OSError) -> RuntimeUnavailable:
        return RuntimeUnavailable(
            self.runtime, f"cannot run {self.binary!r}: {exc.strerror}", hint=self.install_hint
        )

    def run(
        self,
        args: Sequence[str],
        *,
        operation: str,
        target: Target = "none",
        ref: str | None = None,
        timeout: float | None = None,
        check: bool = True,
        stdin: bytes | None = None,
        env: Mapping[str, str] | None = None,
        registry: str | None = None,
        path: str | None = None,
    ) -> Completed:
        """Run to completion and capture output; raise the translated error
        when ``check`` and the exit code is not 0.

        ``env`` adds variables to the process's environment (for values that
        must not appear on its command line).  ``registry`` names the
        registry a verb talks to, and ``path`` the path inside the container
        it copies, for classifying its errors.
        """
        argv = self.argv(args)
        self._log(argv)
        limit: float | None = timeout if timeout is not None else self.timeout
        if limit == FOREVER:  # the caller asked to wait without limit (``wait()``)
            limit = None
        started = time.monotonic()
        try:
            proc = subprocess.run(
                argv,
                input=stdin,
                stdin=None if stdin is not None else subprocess.DEVNULL,
                capture_output=True,
                timeout=limit,
                env=self._environ(env),
                check=False,
            )
        except OSError as exc:  # missing, not executable, a directory...
            raise self._missing(exc) from None
        except subprocess.TimeoutExpired as exc:
            raise Timeout(
                f"{self.runtime} {operation} did not finish within {exc.timeout:g} s: "
                f"{shlex.join(redact_argv(argv))}"
            ) from redact_exception(exc)
        log.debug("exit %d after %.0f ms", proc.returncode, (time.monotonic() - started) * 1000)
        done = Completed(tuple(argv), proc.returncode, proc.stdout, proc.stderr)
        if check and done.returncode != 0:
            raise self.error(
                done, operation=operation, target=target, ref=ref, registry=registry, path=path
            )
        return done

    def error(
        self,
        done: Completed,
        *,
        operation: str,
        target: Target = "none",
        ref: str | None = None,
        registry: str | None = None,
        path: str | None = None,
    ) -> RuntimesError:
        """The library error for a failed command."""
        stderr = done.stderr.decode("utf-8", "replace")
        message = clean_error_text(stderr) or done.stdout.decode("utf-8", "replace").strip()
        return translate(
            self.runtime,
            operation,
            message,
            target=target,
            ref=ref,
            exit_code=done.returncode,
            command=done.argv,
            registry=registry,
            path=path,
        )

    def stream(
        self,
        args: Sequence[str],
        *,
        operation: str,
        idle_timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        stdin: bytes | IO[bytes] | None = None,
        tty: bool = False,
        on_start: Callable[[subprocess.Popen[bytes]], object] | None = None,
    ) -> Generator[tuple[Literal["stdout", "stderr", "exit"], bytes], None, None]:
        """Run and yield ``(stream, line)`` as lines arrive on either pipe:
        :meth:`stream_batches`, a line at a time; the last item is
        ``("exit", b"<code>")``."""
        batches = self.stream_batches(
            args,
            operation=operation,
            idle_timeout=idle_timeout,
            env=env,
            stdin=stdin,
            tty=tty,
            on_start=on_start,
        )
        try:
            for name, batch in batches:
                for line in batch:
                    yield name, line
        finally:
            batches.close()  # closing this one ends the process at once

    def stream_batches(
        self,
        args: Sequence[str],
        *,
        operation: str,
        idle_timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        stdin: bytes | IO[bytes] | None = None,
        tty: bool = False,
        on_start: Callable[[subprocess.Popen[bytes]], object] | None = None,
    ) -> Generator[tuple[Literal["stdout", "stderr", "exit"], list[bytes]], None, None]:
        """Run and yield ``(stream, lines)``: every whole line one read of a
        pipe gave, and at the end a last line without a newline (a large
        log's reader handles lines a batch at a time: a generator step per
        line cost about as much as the line).

        The last item is ``("exit", [b"<code>"])``.  Closing the iterator early
        kills the process.  ``idle_timeout`` is how long the process may
        print nothing (``Timeout``, the process killed), like an API's read
        timeout: a long build that keeps printing is never cut.  ``None``
        streams for as long as the caller reads (``logs --follow``).
        ``env`` adds variables to the process's environment.  ``stdin``
        (bytes, or a binary file read to its end) is written to the
        process's input from a thread, then closed; ``tty`` gives the
        process a terminal as its input instead (``exec -t`` needs one).
        ``on_start`` receives the process once started, so that another
        thread can end a stream blocked on a silent process (:func:`terminate`).
        At most ``_BACKLOG`` reads of the pipes wait for the caller: one that
        reads slower than the process writes holds the process back through
        its pipes (backpressure), so memory stays bounded on any output.
        """
        argv = self.argv(args)
        self._log(argv)
        terminal: tuple[int, int] | None = os.openpty() if tty else None
        try:
            proc = subprocess.Popen(
                argv,
                stdin=(
                    terminal[1]
                    if terminal is not None
                    else subprocess.PIPE
                    if stdin is not None
                    else subprocess.DEVNULL
                ),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=self._environ(env),
            )
        except OSError as exc:
            if terminal is not None:
                os.close(terminal[0])
                os.close(terminal[1])
            raise self._missing(exc) from None
        if terminal is not None:
            os.close(terminal[1])  # the child holds it; ours would keep it open
        if on_start is not None:
            on_start(proc)
        # Each item is every whole line one read of a pipe gave: a queue
        # operation per line cost more than the line on a large log.
        # Bounded: a reader slower than the process (a large log read line by
        # line) holds the process back through its pipes instead of
        # buffering its whole output (a 200 MB log grew memory by 59 MB).
        lines: queue.Queue[tuple[Literal["stdout", "stderr"], list[bytes] | None]] = queue.Queue(
            maxsize=_BACKLOG
        )
        ended = threading.Event()

        def put(item: tuple[Literal["stdout", "stderr"], list[bytes] | None]) -> bool:
            while not ended.is_set():  # the caller stopped reading: let the pump end
                try:
                    lines.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        feeder = None
        if stdin is not None and proc.stdin is not None:
            feeder = threading.Thread(target=_feed, args=(proc.stdin, stdin), daemon=True)
            feeder.start()

        def pump(name: Literal["stdout", "stderr"], pipe: object) -> None:
            assert hasattr(pipe, "read1")
            partial: list[bytes] = []  # a line not ended yet, in pieces (no quadratic join)
            try:
                # read1: what is there now (at least a byte), never waiting
                # for a full buffer, so a line is passed on as soon as it ends.
                while chunk := pipe.read1(1 << 16):
                    if b"\n" not in chunk:
                        partial.append(chunk)
                        continue
                    whole = (b"".join(partial) + chunk if partial else chunk).split(b"\n")
                    rest = whole.pop()
                    partial = [rest] if rest else []
                    if not put((name, [line + b"\n" for line in whole])):
                        return
                if partial:
                    put((name, [b"".join(partial)]))
            except (OSError, ValueError):  # the pipe closed under us: the caller stopped
                pass
            finally:
                put((name, None))

        readers = [
            threading.Thread(target=pump, args=("stdout", proc.stdout), daemon=True),
            threading.Thread(target=pump, args=("stderr", proc.stderr), daemon=True),
        ]
        for reader in readers:
            reader.start()
        try:
            open_pipes = 2
            while open_pipes:
                try:
                    name, batch = lines.get(timeout=idle_timeout)
                except queue.Empty:
                    raise Timeout(
                        f"{self.runtime} {operation} printed nothing for {idle_timeout:g} s: "
                        f"{shlex.join(redact_argv(argv))}"
                    ) from None
                if batch is None:
                    open_pipes -= 1
                    continue
                yield name, batch
            try:
                code = proc.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired as exc:
                raise Timeout(
                    f"{self.runtime} {operation} did not exit after closing its output"
                ) from redact_exception(exc)
            yield "exit", [str(code).encode()]
        finally:
            ended.set()
            terminate(proc, grace=5)
            for reader in readers:
                reader.join(timeout=5)
            if feeder is not None:
                feeder.join(timeout=5)
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()
            if terminal is not None:
                os.close(terminal[0])


#: Batches (each what one read of a pipe gave, up to 64 KiB) a stream holds
#: before its pipe readers wait for the caller.
_BACKLOG = 64


def _feed(pipe: IO[bytes], data: bytes | IO[bytes]) -> None:
    """Write ``data`` to a process's input, then close it (its end of file).

    A process that exits without reading it all is not an error.
    """
    try:
        if isinstance(data, bytes):
            pipe.write(data)
        else:
            while chunk := data.read(1 << 16):
                pipe.write(chunk)
    except (OSError, ValueError):  # BrokenPipeError: the process is gone
        pass
    finally:
        with contextlib.suppress(OSError, ValueError):
            pipe.close()
