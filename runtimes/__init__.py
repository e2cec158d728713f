"""One interface to containers, whichever runtime the machine has.

    >>> import runtimes
    >>> rt = runtimes.connect()            # docker, podman or nerdctl
    >>> with rt.running("demo:1", ["httpd", "-f", "-p", "8080"], ports=["127.0.0.1::8080"]) as c:
    ...     print(c.port(8080).host_port)

Adapters are imported only when a runtime is asked for, so importing this
package imports no container SDK.
"""

from runtimes.base import Runtime
from runtimes.errors import (
    AuthenticationFailed,
    BuildFailed,
    CommandFailed,
    ContainerNotFound,
    ImageNotFound,
    InvalidSpec,
    NameConflict,
    NotFound,
    PathNotFound,
    RegistryUnavailable,
    RuntimesError,
    RuntimeUnavailable,
    Timeout,
    UnknownRuntime,
    Unsupported,
    VolumeNotFound,
)
from runtimes.models import (
    Capability,
    Container,
    ContainerState,
    ExecResult,
    FrozenDict,
    Image,
    LogLine,
    Mount,
    MountType,
    PortBinding,
    PortMapping,
    Progress,
    RegistryAuth,
    RuntimeInfo,
    Volume,
)
from runtimes.registry import available, connect, known, register_adapter, select

__all__ = [
    "AuthenticationFailed",
    "BuildFailed",
    "Capability",
    "CommandFailed",
    "Container",
    "ContainerNotFound",
    "ContainerState",
    "ExecResult",
    "FrozenDict",
    "Image",
    "ImageNotFound",
    "InvalidSpec",
    "LogLine",
    "Mount",
    "MountType",
    "NameConflict",
    "NotFound",
    "PathNotFound",
    "PortBinding",
    "PortMapping",
    "Progress",
    "RegistryAuth",
    "RegistryUnavailable",
    "Runtime",
    "RuntimeInfo",
    "RuntimeUnavailable",
    "RuntimesError",
    "Timeout",
    "UnknownRuntime",
    "Unsupported",
    "Volume",
    "VolumeNotFound",
    "available",
    "connect",
    "known",
    "register_adapter",
    "select",
]

__version__ = "0.1.0"
