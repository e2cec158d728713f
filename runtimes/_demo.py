"""``runtimes demo``: the library doing its job on every runtime, in a few seconds.

For each runtime: build a tiny web server image (``FROM scratch`` plus a static
busybox, so nothing is pulled), run it with a port the runtime picks, fetch its
page from the host, list it, read its logs, stop and remove it and its image.
Each step prints one timed line.  Only the public API is used, so this is also
a worked example of it.

Everything created carries the label ``runtimes.demo=<id>`` and is removed
before moving on, even when a step fails or on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import http.client
import shutil
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TextIO

import runtimes
from runtimes import _sweep
from runtimes.errors import RuntimesError
from runtimes.testing.images import find_static_busybox

__all__ = ["DEMO_LABEL", "DOCKERFILE", "run_demo"]

#: Label key carried by every image and container the demo creates.
DEMO_LABEL = "runtimes.demo"
#: The demo image's Dockerfile, shipped as package data.
DOCKERFILE: Traversable = resources.files("runtimes") / "demo" / "Dockerfile"

PORT = 8080
COMMAND = ["httpd", "-f", "-v", "-p", str(PORT), "-h", "/www"]
FETCH_TIMEOUT = 20.0
# httpd is PID 1 without a SIGTERM handler, so the kernel ignores the stop
# signal: a short grace period keeps `stop` from idling for Docker's 10 s.
STOP_GRACE = 1.0
ERROR_EXIT = 125  # what the `runtimes` command returns for library errors, like Docker
INTERRUPTED_EXIT = 130


class DemoFailed(Exception):
    """A step failed outside the library: no busybox, or the page was not served."""


class _Step:
    detail = "FAILED"


@contextlib.contextmanager
def _step(out: TextIO, runtime: str, name: str) -> Iterator[_Step]:
    """Time the block and print its one line, also when it raises."""
    step = _Step()
    start = time.monotonic()
    try:
        yield step
    except KeyboardInterrupt:
        step.detail = "interrupted"
        raise
    finally:
        elapsed = time.monotonic() - start
        print(f"{runtime:<8} {name:<8} {elapsed:5.2f} s  {step.detail}", file=out, flush=True)


def run_demo(
    names: list[str] | None, out: TextIO, err: TextIO, *, demo_id: str | None = None
) -> int:
    """Run the demo on ``names`` (default: every reachable runtime).

    Returns 0 when every runtime passed, 125 when one failed, 1 when there is
    no runtime to run on, 130 on Ctrl-C.  ``demo_id`` is the value of the
    ``runtimes.demo`` label (random by default).
    """
    demo_id = demo_id or uuid.uuid4().hex[:8]
    if names is None:
        names = runtimes.available()
    if not names:
        print("runtimes: no container runtime is reachable", file=err)
        print(
            "  get docker, podman and nerdctl on Debian with `scripts/prepare-machine.sh up` "
            "(from a checkout), or run `runtimes info` to see what is missing",
            file=err,
        )
        return 1
    print(
        f"runtimes demo {DEMO_LABEL}={demo_id}: a busybox web server built FROM scratch, "
        f"on {', '.join(names)}",
        file=out,
    )
    failed = []
    try:
        for name in names:
            print(f"\n== {name} ==", file=out, flush=True)
            if not _demo_runtime(name, {DEMO_LABEL: demo_id}, out, err):
                failed.append(name)
    except KeyboardInterrupt:
        print("runtimes: interrupted; what the demo created was removed", file=err)
        return INTERRUPTED_EXIT
    passed = [n for n in names if n not in failed]
    print(f"\npassed: {', '.join(passed) or 'none'}", file=out)
    if failed:
        print(f"failed: {', '.join(failed)}", file=out)
        return ERROR_EXIT
    return 0


def _demo_runtime(name: str, labels: Mapping[str, str], out: TextIO, err: TextIO) -> bool:
    """Every step on one runtime; report a failure on ``err`` and return False."""
    try:
        rt = runtimes.connect(name)
    except RuntimesError as exc:
        _report(err, str(exc))
        return False
    ok = True
    try:
        _steps(rt, name, labels, out)
    except RuntimesError as exc:
        _report(err, str(exc))
        ok = False
    except DemoFailed as exc:
        _report(err, f"{name} {exc}")
        ok = False
    finally:
        # Whatever failed or was interrupted, leave nothing labelled behind.
        try:
            with _step(out, name, "cleanup") as step:
                removed = _remove_labelled(rt, labels)
                step.detail = "removed " + ", ".join(removed) if removed else "nothing left"
        except RuntimesError as exc:
            _report(err, f"{name}: could not remove what the demo created: {exc}")
            ok = False
        finally:
            rt.close()
    return ok


def _steps(rt: runtimes.Runtime, name: str, labels: Mapping[str, str], out: TextIO) -> None:
    demo_id = labels[DEMO_LABEL]
    tag = f"runtimes-demo/web:{demo_id}"
    with _step(out, name, "build") as step:
        image = _build(rt, tag, labels)
        step.detail = f"{image.id[:19]}… {tag}"
    with _step(out, name, "run") as step:
        container = rt.run(
            tag,
            COMMAND,
            name=f"runtimes-demo-{demo_id}",
            # A remote engine's loopback is its own: publish on every address there.
            ports=[f"127.0.0.1::{PORT}" if rt.engine_host is None else str(PORT)],
            labels=labels,
        )
        step.detail = f"{container.name} {container.state}"
    with _step(out, name, "fetch") as step:
        try:
            binding = container.port(PORT)
        except LookupError as exc:
            raise DemoFailed(f"fetch failed: {exc}") from exc
        host = f"[{binding.host}]" if ":" in binding.host else binding.host
        url = f"http://{host}:{binding.host_port}/"
        step.detail = f"{url} -> {_fetch(url).strip()!r}"
    with _step(out, name, "ps") as step:
        listed = rt.ps(labels=labels)
        if not listed:
            raise DemoFailed(f"ps failed: {container.name} is not listed")
        step.detail = "; ".join(_summary(c) for c in listed)
    with _step(out, name, "logs") as step:
        lines = list(rt.logs(container, tail=5))
        step.detail = f"last {len(lines)} line(s)" + (":" if lines else "")
    for line in lines:
        print(f"{'':<8} {line.stream:<8}          {line.text}", file=out)
    with _step(out, name, "stop") as step:
        rt.stop(container, timeout=STOP_GRACE)
        step.detail = container.name
    with _step(out, name, "remove") as step:
        rt.remove(container)
        rt.remove_image(image.id)
        step.detail = f"{container.name} and {tag}"


def _build(rt: runtimes.Runtime, tag: str, labels: Mapping[str, str]) -> runtimes.Image:
    try:
        busybox = find_static_busybox()
    except LookupError as exc:
        raise DemoFailed(f"build failed: {exc}") from exc
    with tempfile.TemporaryDirectory(prefix="runtimes-demo-") as tmp:
        context = Path(tmp)
        shutil.copy2(busybox, context / "busybox")
        (context / "Dockerfile").write_bytes(DOCKERFILE.read_bytes())
        return rt.build(context, tag=tag, labels=labels)


def _fetch(url: str) -> str:
    deadline = time.monotonic() + FETCH_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                body: bytes = response.read()
                return body.decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            exc.close()
            # The server answered: waiting longer would not change the answer.
            raise DemoFailed(f"fetch failed: GET {url}: HTTP {exc.code} {exc.reason}") from exc
        except (OSError, http.client.HTTPException) as exc:
            # The port is published before httpd listens; until then the
            # connection is refused or dropped.
            if time.monotonic() >= deadline:
                raise DemoFailed(
                    f"fetch failed: GET {url}: no answer within {FETCH_TIMEOUT:.0f} s: {exc}"
                ) from exc
            time.sleep(0.2)


def _summary(c: runtimes.Container) -> str:
    ports = ", ".join(
        f"{p.host_ip}:{p.host_port}->{p.container_port}/{p.protocol}" for p in c.ports
    )
    return f"{c.name} {c.state} {ports}"


def _remove_labelled(rt: runtimes.Runtime, labels: Mapping[str, str]) -> list[str]:
    """Remove everything carrying ``labels``; say what was removed."""
    return [
        f"image {ref[:19]}…" if kind == "image" else f"{kind} {ref}"
        for kind, ref in _sweep.remove_labelled(rt, labels)
    ]


def _report(err: TextIO, message: str) -> None:
    # One line, like the `runtimes` command: build errors carry their output after it.
    first = message.splitlines()[0] if message else ""
    print(f"runtimes: {' '.join(first.split())}", file=err, flush=True)
