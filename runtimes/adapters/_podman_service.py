"""A private ``podman system service`` owned by one runtime object.

Process supervision only: start the service on a socket in a private
temporary directory, restart it when it exited after being idle, stop it on
``close()`` or at interpreter exit.  The service also exits by itself after
``idle`` seconds without calls, so even a killed interpreter leaves nothing
behind.  The temporary directory goes with it, also when starting fails.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
import threading
import time

import podman

from runtimes._shell import clean_error_text, terminate
from runtimes._transport import unix_socket_accepts
from runtimes.errors import RuntimeUnavailable

__all__ = ["PrivateService", "answers", "standard_sockets"]


def standard_sockets() -> list[str]:
    sockets = ["/run/podman/podman.sock"] if os.geteuid() == 0 else []
    runtime_dir = os.environ.get("XDG_RUNTIME_DIR")
    if runtime_dir:
        sockets.append(os.path.join(runtime_dir, "podman", "podman.sock"))
    return sockets


def answers(url: str, timeout: float = 2.0) -> bool:
    """Whether a Podman service answers at ``url``."""
    if not unix_socket_accepts(url, timeout):
        return False
    try:
        with podman.PodmanClient(base_url=url, timeout=timeout) as client:
            return bool(client.ping())
    except Exception:
        return False


class PrivateService:
    """A ``podman system service`` owned by one runtime object."""

    def __init__(self, binary: str, idle: int) -> None:
        self._binary = binary
        self._idle = idle
        self._dir = tempfile.mkdtemp(prefix="runtimes-podman-")
        self.url = f"unix://{self._dir}/podman.sock"
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def ensure(self) -> None:
        """Start the service, or restart it if it exited after being idle."""
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                return
            if self._proc is not None and self._proc.stderr is not None:
                self._proc.stderr.close()  # the service that idled out or died
            _live.add(self)
            self._proc = subprocess.Popen(
                [self._binary, "system", "service", f"--time={self._idle}", self.url],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            deadline = time.monotonic() + 30
            socket_path = self.url[len("unix://") :]
            while time.monotonic() < deadline:
                if self._proc.poll() is not None:
                    err = self._proc.stderr.read().decode() if self._proc.stderr else ""
                    self._release(grace=0)
                    raise RuntimeUnavailable(
                        "podman", f"podman system service exited: {clean_error_text(err)}"
                    )
                if os.path.exists(socket_path) and answers(self.url):
                    return
                time.sleep(0.05)
            self._release(grace=0)
            raise RuntimeUnavailable("podman", "podman system service did not answer within 30 s")

    def stop(self) -> None:
        with self._lock:
            self._release(grace=10)

    def _release(self, *, grace: float) -> None:
        # With the lock held: stop the process, close its pipe, remove the dir.
        proc, self._proc = self._proc, None
        if proc is not None:
            terminate(proc, grace=grace)
            if proc.stderr is not None:
                proc.stderr.close()
        shutil.rmtree(self._dir, ignore_errors=True)
        _live.discard(self)


# Private services still running; stopped at interpreter exit even when the
# runtime object was never closed.
_live: set[PrivateService] = set()


@atexit.register
def _stop_services() -> None:
    for service in list(_live):
        service.stop()
