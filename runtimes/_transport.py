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
import socket
from collections.abc import Iterator

import requests.exceptions
import urllib3.exceptions

from runtimes._redact import RedactingFilter, redact_exception
from runtimes._translate import Target, translate
from runtimes.errors import RuntimesError, RuntimeUnavailable, Timeout

__all__ = [
    "Endpoint",
    "http_errors",
    "map_http_error",
    "message_from_body",
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
