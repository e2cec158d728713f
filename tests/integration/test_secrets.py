"""Secrets given as env or build args never reach a spawned process's command
line, a DEBUG log line, or anything reachable from a raised exception."""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import runtimes
from runtimes.base import Runtime
from runtimes.testing.images import write_busybox_context

_spawned: list[tuple[str, ...]] = []
_recording = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    # Every process the library starts goes through subprocess.Popen.
    if _recording and event == "subprocess.Popen":
        _spawned.append(tuple(str(a) for a in (args[1] or ())))


sys.addaudithook(_audit)


@pytest.fixture
def spawned() -> Iterator[list[tuple[str, ...]]]:
    global _recording
    _spawned.clear()
    _recording = True
    try:
        yield _spawned
    finally:
        _recording = False


def reachable_text(exc: BaseException, limit: int = 5000) -> str:
    """Every string and bytes value reachable from ``exc`` (tracebacks aside)."""
    seen: set[int] = set()
    out: list[str] = []
    todo: list[Any] = [exc]
    while todo and len(seen) < limit:
        obj = todo.pop()
        if id(obj) in seen or obj is None:
            continue
        seen.add(id(obj))
        if isinstance(obj, str):
            out.append(obj)
        elif isinstance(obj, (bytes, bytearray)):
            out.append(bytes(obj).decode("utf-8", "replace"))
        elif isinstance(obj, dict):
            todo += [*obj.keys(), *obj.values()]
        elif isinstance(obj, (list, tuple, set, frozenset)):
            todo += list(obj)
        elif isinstance(obj, (int, float, bool, type)) or callable(obj):
            continue
        else:
            if isinstance(obj, BaseException):
                todo += [obj.args, obj.__cause__, obj.__context__, str(obj), repr(obj)]
            for attr in ("request", "response", "body", "url", "headers"):
                todo.append(getattr(obj, attr, None))
            with_dict = getattr(obj, "__dict__", None)
            if isinstance(with_dict, dict):
                todo.append(with_dict)
    return "\n".join(out)


def test_no_secret_in_argv_logs_or_errors(
    container_runtime: Runtime,
    test_image: str,
    session_labels: dict[str, str],
    unique_name: Callable[[str], str],
    spawned: list[tuple[str, ...]],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    rt = container_runtime
    secret = f"s3cret-{uuid.uuid4().hex}"
    multiline = f"-----BEGIN KEY-----\n{uuid.uuid4().hex}\n-----END KEY-----"
    env = {"TOKEN": secret, "PEM": multiline}
    errors: list[BaseException] = []
    with caplog.at_level(logging.DEBUG):
        name = unique_name("secret")
        c = rt.run(
            test_image,
            ["sh", "-c", 'echo "$TOKEN" | wc -c; sleep 60'],
            name=name,
            env=env,
            labels=session_labels,
        )
        try:
            got = rt.exec(c, ["sh", "-c", 'printf %s "$TOKEN$PEM"'], env=env)
            assert got.stdout.decode() == secret + multiline  # the values arrive intact
            try:
                rt.run(test_image, ["true"], name=name, env=env, labels=session_labels)
            except runtimes.NameConflict as exc:
                errors.append(exc)
            try:
                rt.run(test_image, ["/no-such-binary"], env=env, labels=session_labels)
            except runtimes.CommandFailed as exc:
                errors.append(exc)
        finally:
            rt.remove(c, force=True)
        context = write_busybox_context(
            tmp_path / "ctx",
            'FROM scratch\nCOPY busybox /bin/busybox\nARG TOKEN\nRUN ["/bin/busybox", "true"]\n',
        )
        image = rt.build(context, build_args={"TOKEN": secret}, labels=session_labels)
        rt.remove_image(image.id, force=True)
    assert len(errors) == 2
    for argv in spawned:
        assert not any(secret in a or multiline in a for a in argv), argv
    assert secret not in caplog.text
    assert multiline not in caplog.text
    for exc in errors:
        text = reachable_text(exc)
        assert secret not in text
        assert multiline not in text
