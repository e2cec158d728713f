"""One interface to containers, whichever runtime the machine has.

    >>> import runtimes
    >>> rt = runtimes.connect()            # docker, podman or nerdctl
    >>> with rt.running("demo:1", ["httpd", "-f", "-p", "8080"], ports=["127.0.0.1::8080"]) as c:
    ...     print(c.port(8080).host_port)

Adapters are imported only when a runtime is asked for, so importing this
package imports no container SDK; :class:`Runtime` and the selection
functions, models and errors load on first use (``import runtimes`` alone
costs far less than ``import attrs``).
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

if _TYPE_CHECKING:
    from runtimes.base import Runtime
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
    from runtimes.registry import available, connect, known, register_adapter, select
    from runtimes.stacks import Service, Stack, StackFailed
    from runtimes.streams import ExecStream

# Everything loads on first access (PEP 562), so that a library or pytest
# plugin that imports runtimes without using it pays almost nothing: the
# models and errors cost about as much again as attrs (each attrs class
# compiles its methods), the interface pulls in validation, logging and the
# log-frame reader, the registry reads config files.
_LAZY = {
    "AuthenticationFailed": "runtimes.errors",
    "BuildFailed": "runtimes.errors",
    "CommandFailed": "runtimes.errors",
    "ContainerExited": "runtimes.errors",
    "ContainerNotFound": "runtimes.errors",
    "Forbidden": "runtimes.errors",
    "ImageNotFound": "runtimes.errors",
    "InvalidSpec": "runtimes.errors",
    "NameConflict": "runtimes.errors",
    "NetworkInUse": "runtimes.errors",
    "NetworkNotFound": "runtimes.errors",
    "NotFound": "runtimes.errors",
    "PathNotFound": "runtimes.errors",
    "RegistryUnavailable": "runtimes.errors",
    "RuntimesError": "runtimes.errors",
    "RuntimeUnavailable": "runtimes.errors",
    "Timeout": "runtimes.errors",
    "UnknownRuntime": "runtimes.errors",
    "Unsupported": "runtimes.errors",
    "VolumeNotFound": "runtimes.errors",
    "WaitTimeout": "runtimes.errors",
    "Capability": "runtimes.models",
    "Container": "runtimes.models",
    "ContainerState": "runtimes.models",
    "ExecResult": "runtimes.models",
    "FrozenDict": "runtimes.models",
    "Healthcheck": "runtimes.models",
    "Image": "runtimes.models",
    "LogLine": "runtimes.models",
    "Mount": "runtimes.models",
    "MountType": "runtimes.models",
    "Network": "runtimes.models",
    "NetworkAttachment": "runtimes.models",
    "PortBinding": "runtimes.models",
    "PortMapping": "runtimes.models",
    "Process": "runtimes.models",
    "Progress": "runtimes.models",
    "PruneReport": "runtimes.models",
    "RegistryAuth": "runtimes.models",
    "RuntimeInfo": "runtimes.models",
    "Stats": "runtimes.models",
    "Volume": "runtimes.models",
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
# Submodules that used to come with the package import stay reachable as
# attributes.
_SUBMODULES = frozenset({"errors", "models"})


def __getattr__(name: str) -> _Any:
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"runtimes.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'runtimes' has no attribute {name!r}")
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
