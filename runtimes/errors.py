"""The one exception hierarchy of ``runtimes``.

Every error a caller can see from this library is a :class:`RuntimesError`.
Backend exceptions (docker SDK ``APIError``, ``requests`` errors,
``subprocess.CalledProcessError``...) are translated at one place per adapter
and chained as ``__cause__``; they never escape on their own.

Where a builtin exception means the same thing, the class also subclasses it,
so ``except LookupError`` or ``except TimeoutError`` keeps working.
"""

from __future__ import annotations

import errno
from collections.abc import Sequence

from runtimes._redact import redact_argv, redact_text
from runtimes.models import Capability

__all__ = [
    "AuthenticationFailed",
    "BuildFailed",
    "CommandFailed",
    "ContainerExited",
    "ContainerNotFound",
    "Forbidden",
    "ImageNotFound",
    "InvalidSpec",
    "NameConflict",
    "NetworkInUse",
    "NetworkNotFound",
    "NotFound",
    "PathNotFound",
    "RegistryUnavailable",
    "RuntimeUnavailable",
    "RuntimesError",
    "Timeout",
    "UnknownRuntime",
    "Unsupported",
    "VolumeNotFound",
    "WaitTimeout",
]


class RuntimesError(Exception):
    """Base class of every error raised by ``runtimes``.

    The message is redacted: values given as container environment never
    appear in ``str()`` or ``repr()`` of any error.
    """

    def __init__(self, message: str) -> None:
        self.message = redact_text(message)
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class RuntimeUnavailable(RuntimesError, OSError):
    """The runtime's binary, socket, SDK or daemon is missing or not answering.

    The message says how to install or start what is missing, or, for an
    engine that was reached over the network and refused, why.
    """

    def __init__(
        self, runtime: str, message: str, *, hint: str | None = None, reason: str | None = None
    ) -> None:
        #: Name of the runtime that could not be reached.
        self.runtime = runtime
        #: How to fix it (install command, daemon to start), if known.
        self.hint = hint
        #: Why a remote engine could not be reached, when that is known:
        #: ``"unknown-ca"``, ``"server-certificate-expired"``, ``"name-mismatch"``,
        #: ``"not-tls"``, ``"client-certificate-required"``,
        #: ``"client-certificate-refused"``, ``"client-certificate-expired"``,
        #: ``"client-certificate-untrusted"``, ``"tls-files"``,
        #: ``"connection-refused"``, ``"unreachable"``, ``"unknown-host"``,
        #: ``"connection-closed"``, ``"ssh-auth-refused"``, ``"ssh-host-key"``,
        #: ``"ssh-forwarding-refused"``, ``"ssh-remote-command"``,
        #: ``"ssh-client-missing"``, ``"ssh-failed"``, ``"unknown-context"``,
        #: ``"unknown-connection"``.  ``None`` otherwise.
        self.reason = reason
        text = f"{runtime}: {message}"
        if hint:
            text += f": {hint}"
        super().__init__(text)


class UnknownRuntime(RuntimesError, LookupError):
    """No adapter is registered under this name."""

    def __init__(self, name: str, known: Sequence[str]) -> None:
        #: The name that was asked for.
        self.name = name
        #: The adapter names that do exist.
        self.known = tuple(known)
        super().__init__(f"unknown runtime {name!r}; known runtimes: {', '.join(self.known)}")


class NotFound(RuntimesError, LookupError):
    """An object the call names does not exist."""

    def __init__(self, ref: str, message: str | None = None) -> None:
        #: The reference (name, id, image ref) that was not found.
        self.ref = ref
        super().__init__(message or f"{self._kind} not found: {ref}")

    _kind = "object"


class ContainerNotFound(NotFound):
    """No container has this name or id."""

    _kind = "container"


class ImageNotFound(NotFound):
    """No local image has this reference. Images are never pulled implicitly."""

    _kind = "image"


class VolumeNotFound(NotFound):
    """No volume has this name."""

    _kind = "volume"


class PathNotFound(NotFound, FileNotFoundError):
    """A path inside a container does not exist: the source of
    ``copy_from``, or the directory a ``copy_to`` destination would go in.

    Also a :class:`FileNotFoundError` (``errno`` is ``ENOENT``, ``filename``
    the path), so ``except FileNotFoundError`` keeps working.
    """

    _kind = "path"

    def __init__(self, ref: str, message: str | None = None) -> None:
        super().__init__(ref, message)
        self.errno = errno.ENOENT
        self.strerror = self.message
        self.filename = ref

    def __str__(self) -> str:
        # OSError would print "[Errno 2] ..." once errno is set.
        return self.message


class NetworkNotFound(NotFound):
    """No network has this name (``host`` and ``none`` are modes, not networks)."""

    _kind = "network"


class NetworkInUse(RuntimesError):
    """A network still has containers attached, running or stopped, so it was
    not removed.

    Raised the same way on every runtime: Docker and nerdctl would remove a
    network that only stopped containers use, Podman would not.
    """

    def __init__(
        self, name: str, containers: Sequence[str] = (), message: str | None = None
    ) -> None:
        #: The network that was not removed.
        self.name = name
        #: Names (or ids) of the containers attached to it, when known.
        self.containers = tuple(containers)
        users = f" by {', '.join(self.containers)}" if self.containers else ""
        super().__init__(
            message or f"network {name} is in use{users}: remove those containers first"
        )


class NameConflict(RuntimesError):
    """The name is already used by another container (or volume, or network).

    No builtin means "already exists" outside file systems, so this one
    subclasses only :class:`RuntimesError`.
    """

    def __init__(self, name: str, message: str | None = None) -> None:
        #: The name that is taken.
        self.name = name
        super().__init__(message or f"name already in use: {name}")


class AuthenticationFailed(RuntimesError, PermissionError):
    """A registry refused the credentials (HTTP 401/403), or asked for some
    and none were given.  The message names the registry, never the secret."""

    def __init__(self, registry: str, message: str) -> None:
        #: The registry host (``host[:port]``) that refused.
        self.registry = registry
        super().__init__(message)


class RegistryUnavailable(RuntimesError, ConnectionError):
    """The engine could not talk to a registry: nothing listens, the name
    does not resolve, or TLS failed (an untrusted certificate, a plain-HTTP
    registry not declared in ``insecure_registries``)."""

    def __init__(self, registry: str, message: str) -> None:
        #: The registry host (``host[:port]``) that could not be reached.
        self.registry = registry
        super().__init__(message)


class Forbidden(RuntimesError, PermissionError):
    """The runtime refused the call to these credentials: a Kubernetes
    service account whose role lacks the verb (RBAC).  The message names
    the verb and the resource, never the token."""


class InvalidSpec(RuntimesError, ValueError):
    """Bad input, caught before anything reached the runtime.

    Malformed image reference, port, volume, env key, label or name.
    """


class Timeout(RuntimesError, TimeoutError):
    """A call did not finish within its time limit."""


class WaitTimeout(Timeout):
    """:meth:`~runtimes.Runtime.wait_for` gave up: the condition did not hold in time.

    The message ends with the container's last log lines.
    """

    def __init__(self, message: str, *, logs: Sequence[str] = ()) -> None:
        #: The container's last log lines when it gave up.
        self.logs = tuple(logs)
        super().__init__(message)


class ContainerExited(RuntimesError):
    """The container exited while something waited for it to become ready.

    The message ends with the container's last log lines.
    """

    def __init__(self, container: str, exit_code: int | None, *, logs: Sequence[str] = ()) -> None:
        #: The container's name (or id).
        self.container = container
        #: Its exit code, when the runtime reported one.
        self.exit_code = exit_code
        #: Its last log lines.
        self.logs = tuple(logs)
        tail = "".join(f"\n  | {line}" for line in self.logs) or " (no output)"
        super().__init__(
            f"container {container} exited with code {exit_code} before it was ready; "
            f"last log lines:{tail}"
        )


class Unsupported(RuntimesError, NotImplementedError):
    """The adapter does not provide this optional feature (see ``Capability``).

    Raised before anything reaches the runtime; the message says why.
    """

    def __init__(self, message: str, *, capability: Capability | None = None) -> None:
        #: The missing :class:`~runtimes.Capability`, when one is the reason.
        self.capability = capability
        super().__init__(message)


class BuildFailed(RuntimesError):
    """An image build failed.

    Carries the exit code (or the builder's error code) and the last lines of
    build output, so the reason is visible without re-running the build.
    """

    def __init__(
        self,
        message: str,
        *,
        runtime: str,
        exit_code: int | None = None,
        output: Sequence[str] = (),
    ) -> None:
        #: Name of the runtime that ran the build.
        self.runtime = runtime
        #: Exit code of the failing step or build command, when known.
        self.exit_code = exit_code
        #: The last lines of build output (at most 50).
        self.output = tuple(redact_text(line) for line in output[-50:])
        tail = "\n".join(self.output[-25:])
        text = f"{runtime}: build failed"
        if exit_code is not None:
            text += f" (exit code {exit_code})"
        text += f": {message}"
        if tail:
            text += f"\n--- last build output ---\n{tail}"
        super().__init__(text)


class CommandFailed(RuntimesError):
    """The runtime reported an error that has no more specific class.

    Carries the runtime, the operation, the exit code (CLI) or HTTP status
    (API), the command line (redacted) and the runtime's error text.
    """

    def __init__(
        self,
        message: str,
        *,
        runtime: str,
        operation: str,
        exit_code: int | None = None,
        status: int | None = None,
        stderr: str = "",
        command: Sequence[str] | None = None,
    ) -> None:
        #: Name of the runtime that failed.
        self.runtime = runtime
        #: The library verb that failed (``"run"``, ``"logs"``...).
        self.operation = operation
        #: Exit code of the runtime's command, for CLI-driven verbs.
        self.exit_code = exit_code
        #: HTTP status, for API-driven verbs.
        self.status = status
        #: The runtime's own error text (redacted).
        self.stderr = redact_text(stderr)
        #: The command line that was run, with environment values redacted.
        self.command = tuple(redact_argv(command)) if command is not None else None
        detail = []
        if exit_code is not None:
            detail.append(f"exit code {exit_code}")
        if status is not None:
            detail.append(f"HTTP {status}")
        suffix = f" ({', '.join(detail)})" if detail else ""
        super().__init__(f"{runtime} {operation} failed{suffix}: {message}")
