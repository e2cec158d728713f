"""Classify a runtime's error text into the library's exception classes.

Runtimes agree on almost no exit code (Docker 1, Podman 125, nerdctl 1 for
the same "no such container"), so classification goes by message, most
specific pattern first.  Adapters call :func:`translate` from their one
translation point and raise its result ``from`` the backend exception.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from runtimes.errors import (
    AuthenticationFailed,
    CommandFailed,
    ContainerNotFound,
    ImageNotFound,
    NameConflict,
    NetworkInUse,
    NetworkNotFound,
    NotFound,
    PathNotFound,
    RegistryUnavailable,
    RuntimesError,
    RuntimeUnavailable,
    VolumeNotFound,
)

#: What a verb's "not found" is about.
Target = Literal["container", "image", "volume", "network", "none"]

_IMAGE_MISSING = re.compile(
    r"no such image|image not known|image .*not found|image not available|"
    r"unable to find image|pull access denied|failed to resolve reference|"
    r"reference does not exist|repository does not exist|manifest unknown|name unknown|"
    r"manifest .*not found",
    re.I,
)
_CONTAINER_MISSING = re.compile(
    r"no such container|no container with (name or id|id)|container .* does not exist|"
    r"no container found for",
    re.I,
)
# A path inside the container (copy_to, copy_from), as Docker, Podman and
# nerdctl word it.
_PATH_MISSING = re.compile(
    r"could not find the file|could not be found on container|source does not exist|"
    r"destination parent does not exist|no such file or directory",
    re.I,
)
_VOLUME_MISSING = re.compile(r"no such volume|volume .*not found|no volume with name", re.I)
# A missing network, whatever the verb's target: without this the generic
# "not found" below would call it a missing container or image.
_NETWORK_MISSING = re.compile(
    r"network .*not found|no such network|unable to find (any )?network|network not found|"
    r"no network found matching",
    re.I,
)
# Where each runtime names the missing network: Docker, Podman, nerdctl's two.
_NETWORK_NAME = re.compile(
    r"network (?P<a>\S+) not found|find network with name or ID (?P<b>[^\s:]+)|"
    r"no network found matching: (?P<c>\S+)|no such network: \W*(?P<d>[\w.-]+)",
    re.I,
)
# Docker: active endpoints; Podman: being used; nerdctl: in use by container.
_NETWORK_IN_USE = re.compile(
    r"has active endpoints|network is being used|network .* is in use by container", re.I
)
# Not name conflicts, although the texts say "already": a subnet another
# network has, a container already on the network.
_NETWORK_NOT_A_CONFLICT = re.compile(
    r"overlaps with other one|subnet .* is already used|is already connected to network|"
    r"endpoint with name .* already exists in network",
    re.I,
)
# The container's process could not start: not a missing image or container,
# although the text says "not found" or "no such file".
_START_FAILED = re.compile(
    r"executable file .*not found|OCI runtime .*(failed|not found)|"
    r"no such file or directory.*(exec|entrypoint|\$PATH)|permission denied.*exec|"
    r"workdir .* does not exist|failed to create shim task|starting container process caused",
    re.I,
)
# The container exists but has no process to act on (nerdctl says "task
# ... not found", which the generic "not found" below would misread).
_NOT_RUNNING = re.compile(r"no running task found|is not running|container state improper", re.I)
# A prefix that matches several objects: the caller must say which.
_AMBIGUOUS = re.compile(
    r"multiple IDs found|more than one (result|container|image)|ambiguous|"
    r"matches? multiple|multiple (containers|images|objects) match",
    re.I,
)
_OBJECT_MISSING = re.compile(r"no such object|not found|does not exist", re.I)
_CONFLICT = re.compile(
    r"already in use|is already used by|already used|already exists|name .* is reserved",
    re.I,
)
_RLIMIT = re.compile(r"error setting rlimit type", re.I)
_UNREACHABLE = re.compile(
    r"cannot connect to the (docker|podman) daemon|unable to connect to podman|"
    r"connection refused|no such file or directory.*\.sock|"
    r"failed to dial|cannot access containerd socket",
    re.I,
)
# Registry verbs: the engine's own socket failing is still the engine.
_ENGINE_UNREACHABLE = re.compile(
    r"cannot connect to the (docker|podman) daemon|unable to connect to podman|"
    r"\.sock\b|cannot access containerd socket",
    re.I,
)
_AUTH_FAILED = re.compile(
    r"unauthorized|authentication required|no basic auth credentials|authorization failed|"
    r"incorrect username or password|invalid username/password|\b401\b|\b403\b|forbidden",
    re.I,
)
# Docker Hub's answer for a repository that does not exist *or* is private;
# without one of the signs above, the repository is taken as missing.
_PULL_DENIED = re.compile(r"pull access denied", re.I)
_ACCESS_DENIED = re.compile(r"requested access to the resource is denied|denied: ", re.I)
_REGISTRY_DOWN = re.compile(
    r"connection refused|no such host|i/o timeout|network is unreachable|"
    r"no route to host|connection reset|x509|certificate|tls: |"
    r"server gave HTTP response to HTTPS client|HTTP request to an HTTPS server|"
    r"\b400 Bad Request|status code 400|pinging container registry|"
    r"dial tcp|context deadline exceeded|server misbehaving",
    re.I,
)
_NOT_FOUND: dict[str, type[NotFound]] = {
    "container": ContainerNotFound,
    "image": ImageNotFound,
    "volume": VolumeNotFound,
    "network": NetworkNotFound,
}
_QUOTED = re.compile(r"""["']([^"']+)["']""")

RLIMIT_HINT = (
    "Podman could not apply its default ulimits on this machine; set "
    'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"] under [containers] '
    "in a containers.conf and point CONTAINERS_CONF at it"
)


def translate(
    runtime: str,
    operation: str,
    message: str,
    *,
    target: Target,
    ref: str | None = None,
    exit_code: int | None = None,
    status: int | None = None,
    command: Sequence[str] | None = None,
    registry: str | None = None,
    path: str | None = None,
) -> RuntimesError:
    """Return the exception that best describes a runtime's error text.

    ``registry`` names the registry a verb talked to (pull, push, login):
    then refused credentials and an unreachable registry are told apart
    from the engine's own failures.  ``path`` names the path inside the
    container a verb copies (``ref`` is then the container): a missing
    path is :class:`~runtimes.PathNotFound`.
    """
    text = " ".join(message.split()) or "(no error output)"

    def missing(kind: Target) -> RuntimesError:
        name = ref or (_quoted(text) if kind == "image" else None) or "?"
        return _NOT_FOUND[kind](name, f"{runtime}: {kind} not found: {ref or text}")

    def failed(detail: str) -> RuntimesError:
        return CommandFailed(
            detail,
            runtime=runtime,
            operation=operation,
            exit_code=exit_code,
            status=status,
            stderr=message,
            command=command,
        )

    if registry is not None and not _ENGINE_UNREACHABLE.search(text):
        refused = AuthenticationFailed(
            registry, f"{runtime} {operation}: {registry} refused the credentials: {text}"
        )
        if _AUTH_FAILED.search(text):
            return refused
        if _PULL_DENIED.search(text):
            return missing("image")
        if _ACCESS_DENIED.search(text):
            return refused
        if _REGISTRY_DOWN.search(text):
            return RegistryUnavailable(
                registry, f"{runtime} {operation}: cannot talk to registry {registry}: {text}"
            )
    if path is not None and _PATH_MISSING.search(text) and not _CONTAINER_MISSING.search(text):
        return PathNotFound(path, f"{runtime}: path not found in container {ref}: {text}")
    if _RLIMIT.search(text):
        return failed(f"{text}; {RLIMIT_HINT}")
    if _START_FAILED.search(text):
        return failed(text)
    if _NOT_RUNNING.search(text) and not _CONTAINER_MISSING.search(text):
        return failed(text)
    if _AMBIGUOUS.search(text):
        return failed(f"ambiguous reference {ref or ''}: {text}".replace("  ", " "))
    if _IMAGE_MISSING.search(text) and target in ("image", "none"):
        return missing("image")
    if _CONTAINER_MISSING.search(text) and target != "image":
        return missing("container")
    if _NETWORK_MISSING.search(text):
        found = _NETWORK_NAME.search(text)
        named = next((g for g in found.groups() if g), None) if found else None
        name = ref if target == "network" and ref else (named or "?")
        return NetworkNotFound(name, f"{runtime}: network not found: {name}")
    if _NETWORK_IN_USE.search(text):
        return NetworkInUse(ref or "?", message=f"{runtime}: {text}")
    if _NETWORK_NOT_A_CONFLICT.search(text):
        return failed(text)
    if _VOLUME_MISSING.search(text):
        return missing("volume")
    if (status == 404 or _OBJECT_MISSING.search(text)) and target in _NOT_FOUND:
        return missing(target)
    if _CONFLICT.search(text):
        return NameConflict(ref or _quoted(text) or "?", f"{runtime}: {text}")
    if _UNREACHABLE.search(text):
        return RuntimeUnavailable(runtime, text)
    return failed(text)


def _quoted(text: str) -> str | None:
    match = _QUOTED.search(text)
    return match.group(1) if match else None
