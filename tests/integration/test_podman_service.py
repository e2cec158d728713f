"""The private Podman service never outlives the runtime object or the process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import runtimes
from runtimes.testing import required_runtimes


def services() -> int:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    return sum(
        1 for line in out.splitlines() if "system service" in line and "runtimes-podman-" in line
    )


@pytest.fixture
def podman_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONTAINER_HOST", raising=False)
    problem = runtimes.registry.detect("podman")
    if problem is not None:
        if "podman" in required_runtimes():
            pytest.fail(f"podman is required but unusable: {problem}")
        pytest.skip(problem)
    if any(os.path.exists(s) for s in ("/run/podman/podman.sock",)):
        pytest.skip("a standard Podman socket answers here: no private service is started")


@pytest.mark.usefixtures("podman_here")
def test_close_stops_the_private_service() -> None:
    before = services()
    rt = runtimes.connect("podman")
    assert rt.host.startswith("unix://")
    assert "runtimes-podman-" in rt.host
    rt.ps()
    assert services() == before + 1
    rt.close()
    assert services() == before


@pytest.mark.usefixtures("podman_here")
def test_interpreter_exit_stops_the_private_service() -> None:
    before = services()
    code = "import runtimes; rt = runtimes.connect('podman'); rt.ps(); print(rt.host)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert "runtimes-podman-" in done.stdout
    assert services() == before
