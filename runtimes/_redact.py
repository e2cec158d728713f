"""Keep container environment values out of logs, errors and reprs.

Two mechanisms, because values reach text by two roads:

* argv: ``-e KEY=VALUE`` style arguments are rewritten to ``KEY=***``
  structurally, whatever the value;
* free text (a daemon's error message, a chained exception, a transport
  library's DEBUG log line): the values of the call being made are held in
  a context variable by :func:`secrets` while the call runs, and replaced
  wherever they appear in text produced meanwhile.  Only that call's
  values, in that thread or task: a later error that happens to contain the
  same text (a container named like an old env value) is left alone.
  Values shorter than ``MIN_SECRET_LENGTH`` are not replaced in free text:
  hiding every ``1`` or ``on`` would garble messages while protecting
  nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging

MASK = "***"
MIN_SECRET_LENGTH = 4
_ENV_FLAGS = frozenset({"-e", "--env", "--build-arg"})

_current: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "runtimes_secrets", default=()
)


@contextlib.contextmanager
def secrets(env: Mapping[str, str] | None) -> Iterator[None]:
    """Hide ``env``'s values from every text redacted inside the block."""
    values = {v for v in (env or {}).values() if len(v) >= MIN_SECRET_LENGTH}
    if not values:
        yield
        return
    # Longest first, so a value that contains another is hidden whole.
    merged = tuple(sorted(values | set(_current.get()), key=len, reverse=True))
    token = _current.set(merged)
    try:
        yield
    finally:
        _current.reset(token)


def redact_text(text: str) -> str:
    """Replace the values of the current call's secrets in *text*."""
    values = _current.get()
    if not values or not text:
        return text
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    return text


class RedactingFilter:
    """Masks the current call's secrets in a library's log records.

    Installed on loggers that print request URLs (urllib3 logs the Engine
    API build URL, whose query carries build args), after URL-decoding.
    Any object with ``filter(record)`` is a logging filter; not subclassing
    ``logging.Filter`` keeps ``logging`` out of ``import runtimes``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if _current.get():
            import urllib.parse

            text = record.getMessage()
            clean = redact_text(urllib.parse.unquote_plus(text))
            if clean != urllib.parse.unquote_plus(text):
                record.msg, record.args = clean, ()
        return True


def _mask_assignment(arg: str) -> str:
    key, sep, _ = arg.partition("=")
    return f"{key}={MASK}" if sep else arg


def redact_argv(argv: Iterable[str]) -> list[str]:
    """Return *argv* with the values of env and build-arg options masked."""
    out: list[str] = []
    mask_next = False
    for arg in argv:
        if mask_next:
            out.append(_mask_assignment(arg))
            mask_next = False
        elif arg in _ENV_FLAGS:
            out.append(arg)
            mask_next = True
        elif arg.startswith(("--env=", "--build-arg=")):
            flag, _, rest = arg.partition("=")
            out.append(f"{flag}={_mask_assignment(rest)}")
        elif arg.startswith("-e") and len(arg) > 2 and not arg.startswith("--"):
            out.append("-e" + _mask_assignment(arg[2:]))
        else:
            out.append(redact_text(arg))
    return out


def redact_exception(exc: BaseException) -> BaseException:
    """Scrub a backend exception in place before it is chained as a cause.

    Rewrites ``args`` and the ``cmd``/``output``/``stderr`` attributes that
    ``subprocess`` errors carry, so neither ``str()`` nor ``repr()`` of the
    chained exception shows an environment value; drops the body and query
    of the HTTP request that ``requests`` errors keep (``.request`` or
    ``.response.request``), where a request carried the values themselves.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.args = tuple(_redact_value(a) for a in current.args)
        for attr in ("cmd", "output", "stderr", "stdout", "explanation"):
            if hasattr(current, attr):
                # some SDK errors expose these as read-only properties
                with contextlib.suppress(AttributeError):
                    setattr(current, attr, _redact_value(getattr(current, attr)))
        response = getattr(current, "response", None)
        for request in (getattr(current, "request", None), getattr(response, "request", None)):
            _scrub_request(request)
        _scrub_response(response)
        current = current.__cause__ or current.__context__
    return exc


def _scrub_response(response: object) -> None:
    # A response keeps the live connection pool, whose later requests (a
    # build URL with build args) would be reachable from the error.
    if response is None:
        return
    for attr in ("connection", "raw"):
        with contextlib.suppress(AttributeError, TypeError):
            if getattr(response, attr, None) is not None:
                setattr(response, attr, None)
    _scrub_request(response)


def _scrub_request(request: object) -> None:
    if request is None:
        return
    with contextlib.suppress(AttributeError, TypeError):
        if getattr(request, "body", None) is not None:
            request.body = None  # type: ignore[attr-defined]
        url = getattr(request, "url", None)
        if isinstance(url, str) and "?" in url:
            request.url = url.split("?", 1)[0] + "?" + MASK  # type: ignore[attr-defined]


def _redact_value(value: object) -> object:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bytes):
        return redact_text(value.decode("utf-8", "replace")).encode()
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return redact_argv(value)
    return value
