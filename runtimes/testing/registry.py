"""Throwaway container registries on 127.0.0.1, for tests that push and pull.

:class:`LocalRegistry` runs ``docker-registry serve CONFIG`` (CNCF
Distribution 2.x; Debian: ``apt-get install docker-registry``) on a free port
of 127.0.0.1 with its own temporary storage, in one of three shapes:

* plain HTTP (the default);
* HTTP basic auth from an htpasswd file (``auth=True``; the bcrypt entry is
  made by ``htpasswd -niB``, from Debian's ``apache2-utils``, which reads the
  password on stdin);
* TLS (``tls=True``) with a certificate for the IP address 127.0.0.1 signed
  by a throwaway CA that ``openssl`` makes for this registry only; clients
  trust it through :attr:`LocalRegistry.ca_path`.

``auth`` and ``tls`` combine.  The registry counts what reaches it: every
HTTP request is read back from its access log (:meth:`LocalRegistry.requests`),
so a test can prove that a call contacted the registry, or did not.
:class:`UnreachableRegistry` is the opposite: an address where a port is held
but nothing listens, so a connection is refused at once.

Only fully qualified references to these registries are ever built
(:meth:`LocalRegistry.ref` gives ``127.0.0.1:PORT/name:tag``): nothing here
can make a runtime reach out to the internet.

::

    from runtimes.testing.registry import LocalRegistry

    with LocalRegistry(auth=True, tls=True) as registry:
        ref = registry.ref("demo/web", "1")   # "127.0.0.1:41234/demo/web:1"
        ...                                   # registry.ca_path, registry.credentials
        assert registry.request_count() > 0

Everything a registry creates lives in one temporary directory (its config,
storage, keys, htpasswd file and logs) that :meth:`LocalRegistry.stop`
removes together with the process, also when the ``with`` body raised.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import types
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import attrs

from runtimes._shell import terminate
from runtimes.errors import RuntimesError

__all__ = [
    "LocalRegistry",
    "RegistryCredentials",
    "RegistryRequest",
    "RegistryStartFailed",
    "RegistryToolMissing",
    "UnreachableRegistry",
    "address_towards",
    "find_registry_binary",
]

#: Address every registry here listens on unless told otherwise: loopback.
HOST_IP = "127.0.0.1"

_BINARY_NAMES = ("docker-registry", "registry")
_INSTALL_HINT = (
    "install it (Debian: apt-get install docker-registry) or set RUNTIMES_REGISTRY_BINARY"
)
_HTPASSWD_HINT = "install htpasswd (Debian: apt-get install apache2-utils)"
_OPENSSL_HINT = "install openssl (Debian: apt-get install openssl)"
_TOOL_TIMEOUT = 30.0
_PORT_ATTEMPTS = 5
# One access-log line in the Apache combined format gorilla/handlers writes.
_ACCESS_LINE = re.compile(
    r'^\S+ \S+ \S+ \[[^\]]*\] "(?P<method>\S+) (?P<path>\S+) [^"]*" '
    r'(?P<status>\d{3}) \S+ "(?:[^"\\]|\\.)*" "(?P<agent>(?:[^"\\]|\\.)*)"$'
)
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_NAME = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_ESCAPE = re.compile(r"\\(.)")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


class RegistryToolMissing(RuntimesError, OSError):
    """A tool a local registry needs (the registry binary, ``htpasswd``,
    ``openssl``) is not installed.  The message says how to install it."""


class RegistryStartFailed(RuntimesError, RuntimeError):
    """The registry process did not come up (or a key or htpasswd entry
    could not be made).  The message ends with the tail of its log."""


@attrs.frozen
class RegistryCredentials:
    """The one user of a registry started with ``auth=True``."""

    #: User name in the htpasswd file.
    username: str
    #: Its password: never in ``repr()``, never on a command line.
    password: str = attrs.field(repr=False)


@attrs.frozen
class RegistryRequest:
    """One HTTP request that reached a :class:`LocalRegistry`."""

    #: HTTP method (``GET``, ``HEAD``, ``PUT``...).
    method: str
    #: Request path with its query (``/v2/demo/manifests/1``).
    path: str
    #: HTTP status the registry answered.
    status: int
    #: The client's ``User-Agent`` (tells docker, podman and containerd apart).
    user_agent: str


def find_registry_binary(binary: str | None = None) -> str:
    """Path of the registry binary: ``binary``, ``RUNTIMES_REGISTRY_BINARY``,
    or ``docker-registry`` (Debian) / ``registry`` (upstream) on ``PATH``.

    Raises :class:`RegistryToolMissing` when there is none.
    """
    wanted = binary or os.environ.get("RUNTIMES_REGISTRY_BINARY")
    candidates = (wanted,) if wanted else _BINARY_NAMES
    for name in candidates:
        found = shutil.which(name)
        if found:
            return found
    raise RegistryToolMissing(
        f"no container registry binary found (looked for {', '.join(candidates)}): " + _INSTALL_HINT
    )


class LocalRegistry:
    """A registry process on ``127.0.0.1:PORT``, for one test or session.

    Use it as a context manager (or call :meth:`start` and :meth:`stop`).
    ``auth=True`` protects it with HTTP basic auth for one user (name and
    password given, or generated); ``tls=True`` serves HTTPS with a
    certificate from a CA made for it alone (:attr:`ca_path`).
    ``startup_timeout`` bounds the wait for ``GET /v2/`` to answer.
    ``host_ip`` is the address it listens on: ``127.0.0.1`` unless an engine
    that cannot reach this machine's loopback must reach it (a remote
    engine's tests give this machine's address on the way to it,
    :func:`address_towards`); it must be an address of this machine.
    """

    def __init__(
        self,
        *,
        tls: bool = False,
        auth: bool = False,
        username: str | None = None,
        password: str | None = None,
        binary: str | None = None,
        startup_timeout: float = 30.0,
        prefix: str = "runtimes-registry-",
        host_ip: str = HOST_IP,
    ) -> None:
        if (username is not None or password is not None) and not auth:
            raise ValueError("username/password given without auth=True")
        if username is not None and (not username or any(c in username for c in ":\r\n")):
            raise ValueError("username must be non-empty, without ':' or line breaks")
        if password is not None and (not password or any(c in password for c in "\r\n")):
            raise ValueError("password must be non-empty, without line breaks")
        #: Whether the registry serves HTTPS.
        self.tls = tls
        #: The address it listens on.
        self.host_ip = str(ipaddress.ip_address(host_ip))
        #: Credentials of its one user, or ``None`` without ``auth``.
        self.credentials = (
            RegistryCredentials(
                username or f"user-{secrets.token_hex(3)}", password or secrets.token_urlsafe(18)
            )
            if auth
            else None
        )
        self._binary = binary
        self._startup_timeout = startup_timeout
        self._prefix = prefix
        self._port: int | None = None
        self._dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._logs: list[IO[bytes]] = []
        # Readiness probes carry this user agent and are left out of requests().
        self._probe_agent = f"runtimes-registry-probe/{secrets.token_hex(6)}"

    # -- addresses ---------------------------------------------------------

    @property
    def port(self) -> int:
        """TCP port on :attr:`host_ip` (only once started)."""
        if self._port is None:
            raise RuntimeError("the registry is not started")
        return self._port

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT`` (``host_ip:PORT``): the registry part of every reference."""
        return f"{self.host_ip}:{self.port}"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` or ``https://...`` with ``tls``."""
        return f"{'https' if self.tls else 'http'}://{self.host}"

    @property
    def directory(self) -> Path:
        """The temporary directory holding config, storage, keys and logs."""
        if self._dir is None:
            raise RuntimeError("the registry is not started")
        return self._dir

    @property
    def ca_path(self) -> Path | None:
        """PEM file of the CA that signed the server certificate (``tls`` only).

        Hand it to clients: ``requests`` ``verify=``, a Docker
        ``certs.d/HOST:PORT/ca.crt``, Podman's ``--cert-dir``, a containerd
        ``hosts.toml`` ``ca =``.
        """
        return self.directory / "ca.pem" if self.tls else None

    def ref(self, name: str, tag: str = "latest") -> str:
        """Fully qualified reference ``127.0.0.1:PORT/name:tag`` into this registry."""
        if not _NAME.match(name):
            raise ValueError(f"invalid repository name {name!r}")
        if not _TAG.match(tag):
            raise ValueError(f"invalid tag {tag!r}")
        return f"{self.host}/{name}:{tag}"

    def __repr__(self) -> str:
        where = self.url if self._port is not None and self._proc is not None else "stopped"
        user = self.credentials.username if self.credentials else None
        return f"LocalRegistry({where}, tls={self.tls}, user={user!r})"

    # -- lifecycle -----------------------------------------------------------

    def __enter__(self) -> LocalRegistry:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> LocalRegistry:
        """Start the registry and wait until ``GET /v2/`` answers.

        Raises :class:`RegistryToolMissing` when a tool is missing and
        :class:`RegistryStartFailed` (with the log tail) when it does not
        come up within ``startup_timeout``; nothing is left behind then.
        """
        if self._proc is not None:
            raise RuntimeError("the registry is already started")
        binary = find_registry_binary(self._binary)
        self._dir = Path(tempfile.mkdtemp(prefix=self._prefix))
        try:
            (self._dir / "data").mkdir()
            if self.credentials is not None:
                _write_htpasswd(self._dir / "htpasswd", self.credentials)
            if self.tls:
                _make_certificates(self._dir, self.host_ip)
            self._start_on_free_port(binary)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the process and remove the temporary directory (idempotent)."""
        proc, self._proc = self._proc, None
        try:
            if proc is not None:
                terminate(proc, grace=5)
        finally:
            for log in self._logs:
                log.close()
            self._logs = []
            directory, self._dir = self._dir, None
            if directory is not None:
                shutil.rmtree(directory, ignore_errors=True)

    @property
    def running(self) -> bool:
        """Whether the registry process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def _start_on_free_port(self, binary: str) -> None:
        # The port is free when chosen, but another process may take it
        # before the registry binds it: retry on a fresh port then.
        for _ in range(_PORT_ATTEMPTS):
            self._port = _free_port(self.host_ip)
            config = self.directory / "config.yml"
            config.write_text(self._config())
            self._spawn(binary, config)
            problem = self._wait_ready()
            if problem is None:
                return
            in_use = "address already in use" in self.log_tail()
            assert self._proc is not None
            terminate(self._proc, grace=5)
            self._proc = None
            if not in_use:
                break
        raise RegistryStartFailed(
            f"{binary} on {self.host}: {problem}; its log ends with:\n{self.log_tail()}"
        )

    def _spawn(self, binary: str, config: Path) -> None:
        for log in self._logs:
            log.close()
        # stdout is the access log (one line per request, written before the
        # response is flushed to the client); stderr is the application log.
        access = open(self.directory / "access.log", "wb")  # noqa: SIM115
        errors = open(self.directory / "registry.log", "wb")  # noqa: SIM115
        self._logs = [access, errors]
        try:
            self._proc = subprocess.Popen(
                [binary, "serve", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=access,
                stderr=errors,
                cwd=self.directory,
            )
        except OSError as exc:
            raise RegistryToolMissing(f"cannot run {binary}: {exc.strerror}") from None

    def _wait_ready(self) -> str | None:
        """``None`` once ``GET /v2/`` answers, else what went wrong."""
        deadline = time.monotonic() + self._startup_timeout
        context = ssl.create_default_context(cafile=str(self.ca_path)) if self.tls else None
        # No proxy, whatever the environment says: the registry is local.
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
        )
        request = urllib.request.Request(
            f"{self.url}/v2/", headers={"User-Agent": self._probe_agent}
        )
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self._proc is not None
            code = self._proc.poll()
            if code is not None:
                return f"exited with code {code} before answering GET /v2/"
            try:
                with opener.open(request, timeout=2):
                    return None
            except urllib.error.HTTPError:  # 401 with auth: it answers
                return None
            except (urllib.error.URLError, OSError) as exc:
                last = exc
                time.sleep(0.05)
        return f"did not answer GET /v2/ within {self._startup_timeout:g} s (last: {last})"

    def _config(self) -> str:
        directory = self.directory
        lines = [
            "version: 0.1",
            "log:",
            "  level: info",
            "  formatter: json",
            "  accesslog:",
            "    disabled: false",
            "storage:",
            "  filesystem:",
            f"    rootdirectory: {_yaml_str(directory / 'data')}",
            "  delete:",
            "    enabled: true",
            "  maintenance:",
            "    uploadpurging:",
            "      enabled: false",
            "http:",
            f"  addr: {self.host_ip}:{self.port}",
            f"  secret: {secrets.token_hex(16)}",
        ]
        if self.tls:
            lines += [
                "  tls:",
                f"    certificate: {_yaml_str(directory / 'server.pem')}",
                f"    key: {_yaml_str(directory / 'server.key')}",
            ]
        if self.credentials is not None:
            lines += [
                "auth:",
                "  htpasswd:",
                "    realm: runtimes-local-registry",
                f"    path: {_yaml_str(directory / 'htpasswd')}",
            ]
        return "\n".join(lines) + "\n"

    # -- what reached it -----------------------------------------------------

    def requests(self) -> list[RegistryRequest]:
        """Every HTTP request that reached the registry since it started, in order.

        Read from its access log, which the registry writes before the
        response leaves: once a client has its answer, its request is here.
        The readiness probes of :meth:`start` are left out.
        """
        path = self.directory / "access.log"
        found: list[RegistryRequest] = []
        for line in path.read_text("utf-8", "replace").splitlines():
            match = _ACCESS_LINE.match(line)
            if match is None or match["agent"] == self._probe_agent:
                continue
            # The log escapes quotes and backslashes in the user agent.
            agent = _ESCAPE.sub(r"\1", match["agent"])
            found.append(
                RegistryRequest(match["method"], match["path"], int(match["status"]), agent)
            )
        return found

    def request_count(self) -> int:
        """How many HTTP requests reached the registry (see :meth:`requests`)."""
        return len(self.requests())

    def log_tail(self, lines: int = 30) -> str:
        """The last ``lines`` lines of the registry's application log."""
        if self._dir is None:
            return ""
        try:
            text = (self._dir / "registry.log").read_text("utf-8", "replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class UnreachableRegistry:
    """A registry address where nothing answers: connections are refused.

    It holds a TCP port on 127.0.0.1 bound but not listening, so the
    kernel refuses connections at once and no other process can take the
    port while the ``with`` block runs.
    """

    def __init__(self) -> None:
        self._socket: socket.socket | None = None

    def __enter__(self) -> UnreachableRegistry:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((HOST_IP, 0))
        self._socket = sock
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the port (idempotent)."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    @property
    def port(self) -> int:
        """The held port."""
        if self._socket is None:
            raise RuntimeError("the address is not held")
        port: int = self._socket.getsockname()[1]
        return port

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``."""
        return f"{HOST_IP}:{self.port}"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}"

    def ref(self, name: str, tag: str = "latest") -> str:
        """Fully qualified reference ``127.0.0.1:PORT/name:tag`` into nowhere."""
        if not _NAME.match(name) or not _TAG.match(tag):
            raise ValueError(f"invalid repository name or tag: {name!r}:{tag!r}")
        return f"{self.host}/{name}:{tag}"

    def __repr__(self) -> str:
        where = self.host if self._socket is not None else "released"
        return f"UnreachableRegistry({where})"


def address_towards(host: str) -> str:
    """This machine's address on the way to ``host`` (no packet is sent):
    where a registry must listen for an engine on ``host`` to reach it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        probe.connect((host, 9))
        address: str = probe.getsockname()[0]
        return address


def _free_port(host_ip: str = HOST_IP) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host_ip, 0))
        port: int = sock.getsockname()[1]
        return port


def _yaml_str(path: Path) -> str:
    # Double-quoted YAML scalar: a temp dir may hold characters YAML reads.
    escaped = str(path).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _run_tool(argv: Sequence[str], *, hint: str, what: str, stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(
            list(argv),
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            timeout=_TOOL_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise RegistryToolMissing(f"{argv[0]} is not installed: {hint}") from None
    except subprocess.TimeoutExpired:
        raise RegistryStartFailed(
            f"{what}: {argv[0]} did not finish in {_TOOL_TIMEOUT:g} s"
        ) from None
    if done.returncode != 0:
        raise RegistryStartFailed(
            f"{what}: {argv[0]} exited {done.returncode}: "
            f"{done.stderr.decode('utf-8', 'replace').strip()}"
        )
    return done.stdout


def _write_htpasswd(path: Path, credentials: RegistryCredentials) -> None:
    # -i reads the password from stdin, so it never appears on a command line;
    # -B makes the bcrypt entry Distribution requires.
    entry = _run_tool(
        ["htpasswd", "-niB", "-C", "5", credentials.username],
        hint=_HTPASSWD_HINT,
        what="making the htpasswd entry",
        stdin=credentials.password.encode() + b"\n",
    )
    path.write_bytes(entry.strip() + b"\n")
    path.chmod(0o600)


def _make_certificates(directory: Path, host_ip: str = HOST_IP) -> None:
    """A throwaway CA (``ca.pem``) and a server certificate for ``host_ip``."""
    ip = ipaddress.ip_address(host_ip)
    ca_key, ca_pem = directory / "ca.key", directory / "ca.pem"
    key, csr, pem = directory / "server.key", directory / "server.csr", directory / "server.pem"
    ext = directory / "server.ext"
    what = "making the registry's TLS certificate"
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _run_tool(
        ["openssl", "req", "-x509", *ec, "-keyout", str(ca_key), "-out", str(ca_pem),
         "-days", "2", "-subj", f"/CN=runtimes throwaway CA {secrets.token_hex(4)}",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        hint=_OPENSSL_HINT, what=what,
    )  # fmt: skip
    _run_tool(
        ["openssl", "req", *ec, "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={ip}"],
        hint=_OPENSSL_HINT, what=what,
    )  # fmt: skip
    ext.write_text(
        f"subjectAltName=IP:{ip}\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
    )
    _run_tool(
        ["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca_pem), "-CAkey", str(ca_key),
         "-set_serial", str(int.from_bytes(secrets.token_bytes(8), "big")),
         "-days", "2", "-extfile", str(ext), "-out", str(pem)],
        hint=_OPENSSL_HINT, what=what,
    )  # fmt: skip
    # The CA key has signed its one certificate: nothing else may be signed.
    with contextlib.suppress(OSError):
        ca_key.unlink()
