"""`runtimes demo` (``run_demo``, in-process) on every selected runtime (same
selection and RUNTIMES_REQUIRE rules as the contract suite)."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import runtimes
from runtimes import _demo
from runtimes._demo import DEMO_LABEL, run_demo
from runtimes.base import Runtime
from runtimes.testing import cleanup

STEPS = ("build", "run", "fetch", "ps", "logs", "stop", "remove")
PAGE = "hello from runtimes demo"
# Builds and serves, but has no page: fetch fails after the image and the
# container exist, so cleanup has something to remove.
PAGELESS_DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN mkdir -p /www
"""


@pytest.fixture
def demo_id(container_runtime: Runtime) -> Iterator[str]:
    """A known demo id, so leftovers can be searched by label."""
    value = f"test-{uuid.uuid4().hex[:8]}"
    yield value
    # The tests assert nothing is left; this only keeps a failure from
    # leaving objects on engines that others share.
    cleanup(container_runtime, {DEMO_LABEL: value})


def leftovers(rt: Runtime, demo_id: str) -> list[str]:
    labels = {DEMO_LABEL: demo_id}
    return [f"container {c.name}" for c in rt.ps(all=True, labels=labels)] + [
        f"image {i.id}" for i in rt.images(labels=labels)
    ]


def step_line(output: str, runtime: str, step: str) -> str:
    found = re.findall(rf"^{runtime} +{step} +\d+\.\d\d s  .*$", output, re.MULTILINE)
    assert len(found) == 1, f"no single {step} line for {runtime} in:\n{output}"
    return str(found[0])


def test_demo_shows_each_step_and_leaves_nothing(container_runtime: Runtime, demo_id: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = run_demo([container_runtime.name], out, err, demo_id=demo_id)
    output = out.getvalue()
    assert code == 0, output + err.getvalue()
    assert err.getvalue() == ""
    for step in STEPS:
        assert not step_line(output, container_runtime.name, step).endswith("FAILED")
    assert PAGE in step_line(output, container_runtime.name, "fetch")
    assert "running 127.0.0.1:" in step_line(output, container_runtime.name, "ps")
    assert "response:200" in output  # httpd's log line for the fetch
    assert step_line(output, container_runtime.name, "cleanup").endswith("nothing left")
    assert leftovers(container_runtime, demo_id) == []


def test_failed_step_is_one_line_and_leaves_nothing(
    container_runtime: Runtime, demo_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(PAGELESS_DOCKERFILE)
    monkeypatch.setattr(_demo, "DOCKERFILE", dockerfile)
    out, err = io.StringIO(), io.StringIO()
    # A runtime that fails first must not stop the demo on the next one.
    code = run_demo(["nosuch", container_runtime.name], out, err, demo_id=demo_id)
    output, errors = out.getvalue(), err.getvalue().splitlines()
    assert code == 125, output + err.getvalue()
    assert len(errors) == 2, errors
    assert errors[0].startswith("runtimes: unknown runtime 'nosuch'")
    assert errors[1].startswith(f"runtimes: {container_runtime.name} fetch failed: GET http://")
    assert "HTTP 404" in errors[1]
    assert step_line(output, container_runtime.name, "fetch").endswith("FAILED")
    assert "removed container runtimes-demo-" in step_line(
        output, container_runtime.name, "cleanup"
    )
    assert leftovers(container_runtime, demo_id) == []


def test_unknown_runtime_is_one_line_and_exit_125() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert run_demo(["nosuch"], out, err) == 125
    assert len(err.getvalue().splitlines()) == 1
    assert "known runtimes: docker, podman, nerdctl" in err.getvalue()
    assert "failed: nosuch" in out.getvalue()


@pytest.mark.parametrize("names", [None, []])
def test_no_runtime_says_how_to_get_one(
    names: list[str] | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtimes, "available", lambda: [])
    out, err = io.StringIO(), io.StringIO()
    assert run_demo(names, out, err) == 1
    assert out.getvalue() == ""
    assert "no container runtime is reachable" in err.getvalue()
    assert "scripts/prepare-machine.sh up" in err.getvalue()
    assert "runtimes info" in err.getvalue()


def test_imports_without_pytest() -> None:
    # `runtimes demo` runs where only the library is installed.
    done = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['pytest'] = None; import runtimes._demo"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
