"""Reaching an engine over SSH through the ``ssh`` client (OpenSSH).

Process supervision only, like :mod:`runtimes.adapters._podman_service`:
both shapes give the SDKs and CLIs a Unix socket in a private directory, so
that every verb, API or CLI, reaches the same engine the same way.

* :class:`CommandBridge` (Docker): each connection to the local socket
  starts ``ssh HOST docker system dial-stdio`` with the connection itself as
  the process's stdin and stdout (no copying here).  One multiplexed master
  connection (``ControlMaster``) carries them all, so only the first pays
  for the SSH handshake.
* :class:`SocketTunnel` (Podman): one ``ssh -N -L LOCAL:REMOTE`` forwards the
  local socket to the engine's socket on the remote host, as ``podman
  --remote`` does.

Authentication and host keys are the ssh client's business, as configured
for the user (``~/.ssh/config``, ``known_hosts``, agent), plus an optional
identity file and known-hosts file.  ``BatchMode=yes``: never a prompt.
What ssh prints when it fails is kept, so errors can say why
(:func:`runtimes._transport.ssh_failure`).
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Sequence
from typing import IO, Any, Protocol

import attrs
import requests.adapters
import urllib3.connection
import urllib3.connectionpool

from runtimes._shell import terminate
from runtimes._transport import ConnectFailure, ssh_failure
from runtimes.errors import InvalidSpec

__all__ = ["CommandBridge", "SocketTunnel", "SshDestination", "SshOptions", "UnixAdapter"]

SSH_CLIENT_HINT = "install the OpenSSH client (Debian: apt-get install openssh-client)"


@attrs.frozen
class SshDestination:
    """``ssh://[user@]host[:port][/path]``, taken apart."""

    #: Host name or address, as given (an ``~/.ssh/config`` alias works).
    host: str
    #: Login name, or ``None`` for ssh's default.
    user: str | None = None
    #: Port, or ``None`` for ssh's default.
    port: int | None = None
    #: Path on the remote host (Podman's socket), or ``""``.
    path: str = ""

    @classmethod
    def parse(cls, url: str) -> SshDestination:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "ssh" or not parts.hostname:
            raise InvalidSpec(f"not an ssh://[user@]host[:port] URL: {url!r}")
        try:
            port = parts.port
        except ValueError:
            raise InvalidSpec(f"invalid port in {url!r}") from None
        return cls(host=parts.hostname, user=parts.username or None, port=port, path=parts.path)

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port else ""
        return f"ssh://{user}{host}{port}"


@attrs.frozen
class SshOptions:
    """How to run ``ssh`` to one destination."""

    destination: SshDestination
    #: Private key file (``-i``; then only that key is offered).
    identity: str | None = None
    #: A known-hosts file to check the host key against, besides the user's.
    known_hosts: str | None = None
    #: Seconds for the TCP connection and the SSH handshake.
    connect_timeout: float = 5.0
    #: The client binary.
    binary: str = "ssh"

    def argv(self, *extra: str, control_path: str | None = None) -> list[str]:
        """``ssh`` with these options, then ``extra`` options, then ``-- host``."""
        argv = [self.binary, "-T", "-o", "BatchMode=yes"]
        argv += ["-o", f"ConnectTimeout={max(1, math.ceil(self.connect_timeout))}"]
        if self.identity:
            argv += ["-i", self.identity, "-o", "IdentitiesOnly=yes"]
        if self.known_hosts:
            # The user's own files stay in force: this one is added.
            files = f"{_quote(self.known_hosts)} ~/.ssh/known_hosts ~/.ssh/known_hosts2"
            argv += ["-o", f"UserKnownHostsFile={files}"]
        if control_path:
            argv += ["-o", "ControlMaster=auto", "-o", f"ControlPath={_quote(control_path)}"]
            # A master left behind by a killed interpreter exits once idle.
            argv += ["-o", "ControlPersist=60"]
        if self.destination.port:
            argv += ["-p", str(self.destination.port)]
        if self.destination.user:
            argv += ["-l", self.destination.user]
        return [*argv, *extra, "--", self.destination.host]


def _quote(path: str) -> str:
    return f'"{path}"' if any(c.isspace() for c in path) else path


class SshUnavailable(Exception):
    """Why ssh could not reach the engine (a :class:`ConnectFailure`)."""

    def __init__(self, failure: ConnectFailure) -> None:
        self.failure = failure
        super().__init__(failure.text)


def _spawn(argv: Sequence[str], **kwargs: object) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(argv, **kwargs)  # type: ignore[call-overload,no-any-return]
    except FileNotFoundError:
        raise SshUnavailable(
            ConnectFailure("ssh-client-missing", f"no {argv[0]} client: {SSH_CLIENT_HINT}")
        ) from None


def _read_back(stream: IO[bytes]) -> str:
    stream.seek(0)
    return stream.read().decode("utf-8", "replace")


class _Closeable(Protocol):
    def close(self) -> None: ...


# Bridges and tunnels still open; closed at interpreter exit even when the
# runtime object was never closed.
_live: set[_Closeable] = set()


@atexit.register
def _close_all() -> None:
    for item in list(_live):
        item.close()


class CommandBridge:
    """A local Unix socket whose every connection runs ``ssh HOST COMMAND``."""

    def __init__(self, options: SshOptions, command: Sequence[str]) -> None:
        self._options = options
        self._dir = tempfile.mkdtemp(prefix="runtimes-ssh-")
        self._control = os.path.join(self._dir, "master")
        self._argv = [*options.argv(control_path=self._control), *command]
        self.path = os.path.join(self._dir, "engine.sock")
        #: ``unix://`` URL of the local end.
        self.url = f"unix://{self.path}"
        self._lock = threading.Lock()
        self._procs: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []
        self._failures: list[ConnectFailure] = []
        self._closed = False
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._listener.bind(self.path)
            self._listener.listen(32)
            self._listener.settimeout(0.2)
        except OSError:
            self._listener.close()
            shutil.rmtree(self._dir, ignore_errors=True)
            raise
        _live.add(self)
        self._thread = threading.Thread(target=self._serve, name="runtimes-ssh", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                self._reap()
                continue
            except OSError:
                return  # closed
            with conn:  # the child has its own copy of the connection
                err = tempfile.TemporaryFile()  # noqa: SIM115 - closed once reaped
                try:
                    proc = _spawn(self._argv, stdin=conn.fileno(), stdout=conn.fileno(), stderr=err)
                except SshUnavailable as exc:
                    err.close()
                    with self._lock:
                        self._failures.append(exc.failure)
                    continue
            with self._lock:
                self._procs.append((proc, err))
            self._reap()

    def _reap(self) -> None:
        with self._lock:
            running = []
            for proc, err in self._procs:
                if proc.poll() is None:
                    running.append((proc, err))
                    continue
                if proc.returncode not in (0, -15):
                    self._failures.append(ssh_failure(_read_back(err), proc.returncode))
                err.close()
            self._procs = running

    def failure(self, wait: float = 1.0) -> ConnectFailure | None:
        """Why the last ssh process failed, waiting up to ``wait`` seconds
        for one that is still starting; ``None`` if none failed."""
        deadline = time.monotonic() + wait
        while True:
            self._reap()
            with self._lock:
                if self._failures:
                    return self._failures[-1]
                if not self._procs or time.monotonic() > deadline:
                    return None
            time.sleep(0.05)

    def close(self) -> None:
        """Stop accepting, end every ssh process and the master; remove the directory."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            procs, self._procs = self._procs, []
        self._listener.close()
        self._thread.join(timeout=5)
        for proc, err in procs:
            terminate(proc, grace=2)
            err.close()
        if os.path.exists(self._control):
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                subprocess.run(
                    self._options.argv("-O", "exit", control_path=self._control),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    timeout=5,
                    check=False,
                )
        shutil.rmtree(self._dir, ignore_errors=True)
        _live.discard(self)


class SocketTunnel:
    """``ssh -N -L LOCAL:REMOTE``: a local socket forwarded to ``remote_path``."""

    def __init__(self, options: SshOptions, remote_path: str) -> None:
        self._options = options
        self._remote = remote_path
        self._dir = tempfile.mkdtemp(prefix="runtimes-ssh-")
        self.path = os.path.join(self._dir, "engine.sock")
        #: ``unix://`` URL of the local end.
        self.url = f"unix://{self.path}"
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._err: IO[bytes] | None = None
        _live.add(self)

    def ensure(self) -> None:
        """Start the tunnel, or start it again if ssh exited; raise
        :class:`SshUnavailable` with the cause when it cannot."""
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                return
            self._release()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
            self._err = tempfile.TemporaryFile()  # noqa: SIM115 - closed in _release
            argv = self._options.argv(
                "-N", "-o", "ExitOnForwardFailure=yes", "-L", f"{self.path}:{self._remote}"
            )
            try:
                self._proc = _spawn(
                    argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._err
                )
            except SshUnavailable:
                self._release()
                raise
            # ssh binds the local socket once it has logged in and set up the forward.
            deadline = time.monotonic() + self._options.connect_timeout + 5
            while not os.path.exists(self.path):
                code = self._proc.poll()
                if code is not None:
                    failure = ssh_failure(_read_back(self._err), code)
                    self._release()
                    raise SshUnavailable(failure)
                if time.monotonic() > deadline:
                    self._release()
                    raise SshUnavailable(
                        ConnectFailure(
                            "unreachable",
                            f"{self._options.destination} did not let ssh in within "
                            f"{self._options.connect_timeout + 5:g} s",
                        )
                    )
                time.sleep(0.02)

    def failure(self) -> ConnectFailure | None:
        """What ssh said about a forward it could not open (no socket at
        the remote path, forwarding refused), if anything."""
        with self._lock:
            if self._err is None:
                return None
            said = _read_back(self._err)
        if "open failed" not in said and "forwarding" not in said:
            return None
        return ssh_failure(said, None)

    def _release(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            terminate(proc, grace=2)
        if self._err is not None:
            self._err.close()
            self._err = None

    def close(self) -> None:
        """End ssh and remove the local socket's directory."""
        with self._lock:
            self._release()
        shutil.rmtree(self._dir, ignore_errors=True)
        _live.discard(self)


class _UnixConnection(urllib3.connection.HTTPConnection):
    def __init__(self, path: str, timeout: float | None) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self._path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


class _UnixPool(urllib3.connectionpool.HTTPConnectionPool):
    def __init__(self, path: str, timeout: float, maxsize: int) -> None:
        super().__init__("localhost", timeout=timeout, maxsize=maxsize)
        self._path = path

    def _new_conn(self) -> _UnixConnection:
        seconds = self.timeout.connect_timeout
        return _UnixConnection(self._path, seconds if isinstance(seconds, (int, float)) else None)


class UnixAdapter(requests.adapters.HTTPAdapter):
    """``requests`` over one Unix socket with ONE connection pool.

    docker-py's own adapter keeps a pool per URL (path included), so every
    new path opens a new connection: free on a local socket, an SSH session
    through a :class:`CommandBridge`.
    """

    def __init__(self, path: str, timeout: float, maxsize: int = 10) -> None:
        super().__init__()
        self._pool = _UnixPool(path, timeout, maxsize)

    def get_connection_with_tls_context(
        self, request: Any, verify: Any, proxies: Any = None, cert: Any = None
    ) -> urllib3.connectionpool.HTTPConnectionPool:
        return self._pool

    def get_connection(
        self, url: Any, proxies: Any = None
    ) -> urllib3.connectionpool.HTTPConnectionPool:
        return self._pool

    def request_url(self, request: Any, proxies: Any) -> str:
        return str(request.path_url)

    def close(self) -> None:
        self._pool.close()
        super().close()
