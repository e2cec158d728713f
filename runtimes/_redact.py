"""Keep container environment values out of logs, errors and reprs.

Two mechanisms, because values reach text by two roads:

* argv: ``-e KEY=VALUE`` style arguments are rewritten to ``KEY=***``
  structurally, whatever the value;
* free text (a daemon's error message, a chained exception): every value that
  was passed as container environment in this process is remembered and
  replaced wherever it appears.  Values shorter than ``MIN_SECRET_LENGTH``
  are not replaced in free text: hiding every ``1`` or ``on`` would garble
  messages while protecting nothing.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Mapping, Sequence

MASK = "***"
MIN_SECRET_LENGTH = 4
_ENV_FLAGS = frozenset({"-e", "--env", "--build-arg"})

_lock = threading.Lock()
_secrets: set[str] = set()


def remember_secrets(env: Mapping[str, str] | None) -> None:
    """Record environment values so that later error texts can hide them."""
    if not env:
        return
    with _lock:
        _secrets.update(v for v in env.values() if len(v) >= MIN_SECRET_LENGTH)


def redact_text(text: str) -> str:
    """Replace every remembered environment value in *text*."""
    if not _secrets or not text:
        return text
    with _lock:
        # Longest first, so a value that contains another is hidden whole.
        values = sorted(_secrets, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    return text


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
    chained exception shows an environment value.
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
        current = current.__cause__ or current.__context__
    return exc


def _redact_value(value: object) -> object:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bytes):
        return redact_text(value.decode("utf-8", "replace")).encode()
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return redact_argv(value)
    return value
