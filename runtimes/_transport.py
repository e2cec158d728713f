"""The one mapper of transport failures for adapters that speak HTTP to an engine.

Docker (through docker-py), Podman (through podman-py's API client) and any
later HTTP adapter raise the same families of exceptions: an API error that
carries an HTTP status and the engine's message, a ``requests`` or
``urllib3`` timeout, or a lost connection.  :func:`http_errors` turns each
into the library's error, classifying engine messages with
:func:`runtimes._translate.translate`, and chains the original (scrubbed of
secrets) as ``__cause__``.

Only adapters import this module, so importing ``requests`` here costs
``import runtimes`` nothing.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import urllib.parse
from collections.abc import Iterator
from typing import NamedTuple

import requests.exceptions
import urllib3.exceptions

from runtimes._redact import RedactingFilter, redact_exception
from runtimes._translate import Target, translate
from runtimes.errors import RuntimesError, RuntimeUnavailable, Timeout

__all__ = [
    "ConnectFailure",
    "Endpoint",
    "connect_failure",
    "engine_host",
    "http_errors",
    "map_http_error",
    "message_from_body",
    "ssh_failure",
    "unix_socket_accepts",
]

# urllib3 logs every request line at DEBUG; the Engine API's build URL
# carries build args in its query.
logging.getLogger("urllib3.connectionpool").addFilter(RedactingFilter())

_TIMEOUTS = (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError)
_LOST = (
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    urllib3.exceptions.ProtocolError,
    urllib3.exceptions.HTTPError,
    ConnectionError,
)


class Endpoint:
    """Who an adapter talks to, for error messages: name, URL, and how to fix it.

    ``errors`` names the SDK's own base exception types (translated by
    message and status); ``lost`` names those that mean "the connection is
    gone" (podman-py wraps transport failures in its own ``APIError``
    without a status).
    """

    def __init__(
        self,
        runtime: str,
        url: str,
        *,
        hint: str | None = None,
        errors: tuple[type[Exception], ...] = (),
        lost: tuple[type[Exception], ...] = (),
    ) -> None:
        self.runtime = runtime
        self.url = url
        self.hint = hint
        self.lost = lost
        self.caught: tuple[type[Exception], ...] = (
            *_TIMEOUTS,
            *_LOST,
            requests.exceptions.RequestException,
            *errors,
            *lost,
        )


def message_from_body(body: bytes) -> str:
    """The engine's message from an error response body.

    Docker and Podman both answer ``{"message": "...", "cause": "..."}``
    (Podman adds ``cause`` and ``response``); anything else is shown as text.
    """
    try:
        data = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace").strip()
    if isinstance(data, dict):
        return str(data.get("message") or data.get("cause") or data)
    return str(data)


def _chain_text(exc: BaseException) -> str:
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts.append(f"{type(current).__name__}: {current}")
        current = current.__cause__ or current.__context__
    return " ".join(parts).lower()


def map_http_error(
    exc: BaseException,
    endpoint: Endpoint,
    operation: str,
    target: Target = "none",
    ref: str | None = None,
    registry: str | None = None,
    path: str | None = None,
) -> RuntimesError:
    """The library error for one exception raised while talking to ``endpoint``."""
    runtime = endpoint.runtime
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        explanation = getattr(exc, "explanation", None) or str(exc)
        return translate(
            runtime,
            operation,
            str(explanation),
            target=target,
            ref=ref,
            status=status,
            registry=registry,
            path=path,
        )
    chain = _chain_text(exc)
    if isinstance(exc, _TIMEOUTS) or (
        isinstance(exc, (*_LOST, *endpoint.lost)) and "timed out" in chain
    ):
        return Timeout(f"{runtime} {operation} did not answer in time")
    if isinstance(exc, (*_LOST, *endpoint.lost)):
        return RuntimeUnavailable(runtime, f"lost connection to {endpoint.url}", hint=endpoint.hint)
    return translate(
        runtime, operation, str(exc), target=target, ref=ref, registry=registry, path=path
    )


@contextlib.contextmanager
def http_errors(
    endpoint: Endpoint,
    operation: str,
    target: Target = "none",
    ref: str | None = None,
    registry: str | None = None,
    path: str | None = None,
) -> Iterator[None]:
    """Translate whatever the block raises; the library's own errors pass through."""
    try:
        yield
    except RuntimesError:
        raise
    except endpoint.caught as exc:
        raise map_http_error(
            exc, endpoint, operation, target, ref, registry, path
        ) from redact_exception(exc)


def engine_host(url: str) -> str | None:
    """The host a client reaches an engine's published ports at: the host
    of a ``tcp://``, ``ssh://`` or ``http(s)://`` endpoint, ``None`` for a
    local socket."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("tcp", "ssh", "http", "https") or not parts.hostname:
        return None
    return parts.hostname


def unix_socket_accepts(url: str, timeout: float) -> bool:
    """For a ``unix://`` URL, whether something accepts connections there.

    Both SDKs leak their socket when connecting fails (docker-py's and
    podman-py's unix adapters never close it), so an adapter asks here
    first.  Other URLs are not probed: ``True``.
    """
    if not url.startswith("unix://"):
        return True
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(timeout)
        try:
            probe.connect(url[len("unix://") :])
        except OSError:
            return False
    return True


# -- why connecting to a remote engine failed ------------------------------------


class ConnectFailure(NamedTuple):
    """Why an engine could not be reached: a short ``reason`` code (also
    :attr:`runtimes.RuntimeUnavailable.reason`) and the words for it."""

    reason: str
    text: str


# Most specific first.  Python's ssl module words a TLS alert the server sent
# as "... alert <name>"; its own verification failures as "certificate
# verify failed: <why>".
_TLS_CAUSES: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (
        re.compile(r"alert certificate required|alert handshake failure.*certificate", re.I),
        "client-certificate-required",
        "the engine requires a client certificate and none was offered "
        "(set tls_cert and tls_key, or DOCKER_CERT_PATH with cert.pem and key.pem)",
    ),
    (
        re.compile(r"alert certificate expired", re.I),
        "client-certificate-expired",
        "the engine refused the client certificate: it has expired",
    ),
    (
        re.compile(r"alert unknown ca", re.I),
        "client-certificate-untrusted",
        "the engine refused the client certificate: it does not trust the CA that signed it",
    ),
    (
        re.compile(r"alert (bad|unsupported) certificate|alert certificate unknown", re.I),
        "client-certificate-refused",
        "the engine refused the client certificate (bad certificate: signed by a CA "
        "it does not trust, expired, or not made for client authentication)",
    ),
    (
        re.compile(r"certificate has expired|certificate is not yet valid", re.I),
        "server-certificate-expired",
        "the engine's certificate has expired (or is not valid yet)",
    ),
    (
        re.compile(r"hostname mismatch|ip address mismatch|doesn't match", re.I),
        "name-mismatch",
        "the engine's certificate is not made for this host name or address",
    ),
    (
        re.compile(
            r"self.signed certificate|unable to get (local )?issuer|unknown ca|"
            r"certificate verify failed",
            re.I,
        ),
        "unknown-ca",
        "the engine's certificate is not signed by a trusted CA (unknown CA: "
        "check tls_ca, DOCKER_CERT_PATH/ca.pem or the context's ca.pem)",
    ),
    (
        re.compile(r"eof occurred in violation of protocol|unexpected eof", re.I),
        "tls-closed",
        "the engine closed the connection during the TLS handshake",
    ),
    (
        re.compile(r"http request to an https server", re.I),
        "tls-required",
        "the daemon speaks TLS: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH, or the tls_* options",
    ),
    (
        re.compile(r"wrong version number|packet length too long|unknown protocol", re.I),
        "not-tls",
        "the endpoint does not speak TLS (a plain-HTTP daemon?): drop the TLS settings "
        "or use the daemon's TLS port",
    ),
)
_SOCKET_CAUSES: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"connection refused", re.I), "connection-refused", "connection refused"),
    (
        re.compile(
            r"name or service not known|nodename nor servname|"
            r"temporary failure in name resolution|getaddrinfo failed|could not resolve hostname",
            re.I,
        ),
        "unknown-host",
        "the host name does not resolve",
    ),
    (
        re.compile(r"timed out|no route to host|network is unreachable|host is down", re.I),
        "unreachable",
        "the host does not answer (unreachable or filtered)",
    ),
    (
        re.compile(r"connection (aborted|reset)|remotedisconnected|closed connection", re.I),
        "connection-closed",
        "the engine end closed the connection without answering",
    ),
)


def connect_failure(exc: BaseException) -> ConnectFailure | None:
    """The cause of a failed first contact with an engine, read from the
    exception chain (``requests``, ``urllib3``, ``ssl``, ``socket``), or
    ``None`` when it is not a TLS or connection failure."""
    chain = _chain_text(exc)
    if any(word in chain for word in ("ssl", "certificate", "tls", "https")):
        for pattern, reason, text in _TLS_CAUSES:
            if pattern.search(chain):
                return ConnectFailure(reason, text)
    for pattern, reason, text in _SOCKET_CAUSES:
        if pattern.search(chain):
            return ConnectFailure(reason, text)
    return None


_SSH_CAUSES: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (
        re.compile(r"permission denied \(|too many authentication failures", re.I),
        "ssh-auth-refused",
        "the SSH server refused the login: check the key (ssh_identity, "
        "CONTAINER_SSHKEY, ~/.ssh) and the user",
    ),
    (
        re.compile(r"host key verification failed|remote host identification has changed", re.I),
        "ssh-host-key",
        "the SSH host key is not known (or has changed): add it to known_hosts "
        "(or give ssh_known_hosts)",
    ),
    (
        re.compile(r"administratively prohibited|open failed|forwarding.*(disabled|failed)", re.I),
        "ssh-forwarding-refused",
        "the SSH server did not forward to the engine's socket (nothing listens at that "
        "path, or the key may not forward)",
    ),
    (
        re.compile(r"command not found|no such file or directory|not found", re.I),
        "ssh-remote-command",
        "the engine host could not run the command the connection needs",
    ),
)


def ssh_failure(stderr: str, returncode: int | None) -> ConnectFailure:
    """Why an ``ssh`` process failed, from what it printed and its exit code."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    # ssh's own warnings ("Warning: Permanently added...") are not the cause.
    lines = [line for line in lines if not line.startswith("Warning: ")] or lines
    said = lines[-1] if lines else f"ssh exited with code {returncode}"
    text = " ".join(lines)
    for pattern, reason, words in (*_SSH_CAUSES[:2], *_SOCKET_CAUSES[:3], *_SSH_CAUSES[2:]):
        if pattern.search(text):
            return ConnectFailure(reason, f"{words} ({said})")
    if returncode is not None and returncode != _SSH_OWN_ERROR:
        # ssh logged in; what it ran on the engine host ended with this code.
        return ConnectFailure(
            "ssh-remote-command",
            "the engine host ended the SSH session at once "
            f"(exit code {returncode}{': ' + said if lines else ''}): may this key run "
            "what the connection needs there (the docker CLI's `docker system dial-stdio`)?",
        )
    return ConnectFailure("ssh-failed", f"ssh failed: {said}")


#: ssh's exit code for its own failures; any other is the remote command's.
_SSH_OWN_ERROR = 255
