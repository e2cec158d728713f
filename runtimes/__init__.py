"""One interface to containers, whichever runtime the machine has.

    >>> import runtimes
    >>> rt = runtimes.connect()            # docker, podman or nerdctl
    >>> with rt.running("demo:1", ["httpd", "-f", "-p", "8080"], ports=["127.0.0.1::8080"]) as c:
    ...     print(c.port(8080).host_port)

Adapters are imported only when a runtime is asked for, so importing this
package imports no container SDK; :class:`Runtime` and the selection
functions load on first use (``import runtimes`` costs little more than
``import attrs``).
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from runtimes.errors import (
    AuthenticationFailed,
    BuildFailed,
    CommandFailed,
    ContainerExited,
    ContainerNotFound,
    Forbidden,
    ImageNotFound,
    InvalidSpec,
    NameConflict,
    NetworkInUse,
    NetworkNotFound,
    NotFound,
    PathNotFound,
    RegistryUnavailable,
    RuntimesError,
    RuntimeUnavailable,
    Timeout,
    UnknownRuntime,
    Unsupported,
    VolumeNotFound,
    WaitTimeout,
)
from runtimes.models import (
    Capability,
    Container,
    ContainerState,
    ExecResult,
    FrozenDict,
    Healthcheck,
    Image,
    LogLine,
    Mount,
    MountType,
    Network,
    NetworkAttachment,
    PortBinding,
    PortMapping,
    Process,
    Progress,
    PruneReport,
    RegistryAuth,
    RuntimeInfo,
    Stats,
    Volume,
)

if _TYPE_CHECKING:
    from runtimes.base import Runtime
    from runtimes.registry import available, connect, known, register_adapter, select
    from runtimes.stacks import Service, Stack, StackFailed
    from runtimes.streams import ExecStream

# Loaded on first access (PEP 562): the interface module pulls in validation,
# logging and the log-frame reader, the registry reads config files.
_LAZY = {
    "ExecStream": "runtimes.streams",
    "Runtime": "runtimes.base",
    "available": "runtimes.registry",
    "connect": "runtimes.registry",
    "known": "runtimes.registry",
    "register_adapter": "runtimes.registry",
    "select": "runtimes.registry",
    "Service": "runtimes.stacks",
    "Stack": "runtimes.stacks",
    "StackFailed": "runtimes.stacks",
}


def __getattr__(name: str) -> _Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'runtimes' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "AuthenticationFailed",
    "BuildFailed",
    "Capability",
    "CommandFailed",
    "Container",
    "ContainerExited",
    "ContainerNotFound",
    "ContainerState",
    "ExecResult",
    "ExecStream",
    "Forbidden",
    "FrozenDict",
    "Healthcheck",
    "Image",
    "ImageNotFound",
    "InvalidSpec",
    "LogLine",
    "Mount",
    "MountType",
    "NameConflict",
    "Network",
    "NetworkAttachment",
    "NetworkInUse",
    "NetworkNotFound",
    "NotFound",
    "PathNotFound",
    "PortBinding",
    "PortMapping",
    "Process",
    "Progress",
    "PruneReport",
    "RegistryAuth",
    "RegistryUnavailable",
    "Runtime",
    "RuntimeInfo",
    "RuntimeUnavailable",
    "RuntimesError",
    "Service",
    "Stack",
    "StackFailed",
    "Stats",
    "Timeout",
    "UnknownRuntime",
    "Unsupported",
    "Volume",
    "VolumeNotFound",
    "WaitTimeout",
    "available",
    "connect",
    "known",
    "register_adapter",
    "select",
]

__version__ = "0.1.0"
