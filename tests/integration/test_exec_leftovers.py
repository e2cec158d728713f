"""No exec leaves a process behind on the engine's host.

Counting processes is host-specific (it reads ``/proc``), so this is not in
the contract suite: it watches the host processes whose command line names
the container (Podman's conmon, the containerd shims, CLI and cleanup
processes).  Exec through Podman's API left two conmons per exec for the
service's ``exit_command_delay`` (300 s); a readiness poll piled up dozens.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator

import pytest

import runtimes
from runtimes.base import Runtime
from runtimes.models import Container
from runtimes.testing.suite import ExecContract

EXECS = 100  # the count: a readiness poll makes about that many
# Podman's exit command (`podman container cleanup --exec`) may still be
# finishing when exec returns; it takes well under a second.
SETTLE = 30.0


def processes_naming(container_id: str) -> dict[int, str]:
    """Host processes with ``container_id`` in their command line: pid -> argv."""
    needle = container_id.encode()
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as fh:
                argv = fh.read().split(b"\0")
        except OSError:  # gone meanwhile
            continue
        if any(needle in arg for arg in argv):
            found[int(entry.name)] = b" ".join(argv).decode("utf-8", "replace")
    return found


def test_exec_leaves_no_process_behind(
    container_runtime: Runtime, launch: Callable[..., Container]
) -> None:
    c = launch(["sleep", "1000"])
    before = processes_naming(c.id)
    if not before:
        # Even the container's own monitor or shim is invisible: the engine
        # runs on another host or in another PID namespace.
        pytest.skip(f"{container_runtime.name}: no process on this host names the container")
    for _ in range(EXECS):
        assert container_runtime.exec(c, ["true"]).exit_code == 0
    deadline = time.monotonic() + SETTLE
    while True:
        left = {pid: argv for pid, argv in processes_naming(c.id).items() if pid not in before}
        if not left:
            break
        if time.monotonic() > deadline:
            shown = "\n".join(argv[:200] for argv in list(left.values())[:4])
            pytest.fail(f"{len(left)} processes outlived {EXECS} execs by {SETTLE:g} s:\n{shown}")
        time.sleep(0.2)
    assert container_runtime.inspect(c).state == runtimes.ContainerState.RUNNING


class TestExecThroughAnExplicitPodmanService(ExecContract):
    """A service named by ``host`` keeps exec on the API (the remote CLI would
    use it too): the same contract as the local CLI.  Its sessions' conmons
    wait for that service's ``exit_command_delay``, a server setting."""

    runtime_name = "podman"

    @pytest.fixture
    def rt(self, container_runtime: Runtime) -> Iterator[Runtime]:
        service = runtimes.connect("podman", host=getattr(container_runtime, "host"))  # noqa: B009
        try:
            yield service
        finally:
            service.close()

    def test_exec_in_a_missing_container(self, rt: Runtime, runtimes_session_id: str) -> None:
        ref = f"rt-{runtimes_session_id}-does-not-exist"
        with pytest.raises(runtimes.ContainerNotFound):
            rt.exec(ref, ["true"])

    def test_unstartable_command_is_a_result(
        self, rt: Runtime, launch: Callable[..., Container]
    ) -> None:
        c = launch(["sleep", "1000"])
        assert rt.exec(c, ["/nonexistent"]).exit_code == 127
