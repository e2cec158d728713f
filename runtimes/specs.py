"""Validated inputs that :class:`~runtimes.Runtime` hands to an adapter.

Each public verb of :class:`~runtimes.Runtime` checks its arguments once,
the same way for every runtime, and passes the result to the adapter's
``_verb`` as one of these frozen values.  An adapter never validates: every
field here is already known to be well formed (names match the runtime
rules, paths are absolute, ports are in range, secrets are strings).

Adapter authors read these; callers never build them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import IO

import attrs

from runtimes.models import FrozenDict, Healthcheck, Mount, PortMapping, Progress, RegistryAuth

__all__ = [
    "BuildSpec",
    "ExecSpec",
    "LogsSpec",
    "NetworkSpec",
    "PsSpec",
    "PullSpec",
    "PushSpec",
    "RunSpec",
    "Ulimit",
]


def _frozen(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return FrozenDict(value or {})


def _masked(value: Mapping[str, str]) -> str:
    # Environment and build-arg values may be secrets: a repr shows keys only.
    return repr({key: "***" for key in value})


@attrs.frozen(kw_only=True)
class Ulimit:
    """One ``setrlimit`` resource for the container's processes."""

    #: Resource name as the CLIs spell it: ``nofile``, ``nproc``, ``core``...
    name: str
    #: Soft limit.
    soft: int
    #: Hard limit (at least ``soft``).
    hard: int


@attrs.frozen
class RunSpec:
    """What :meth:`~runtimes.Runtime.run` was asked to start."""

    #: Image reference or id, local (never pulled).
    image: str
    #: Command and arguments; ``None`` keeps the image's default.
    command: tuple[str, ...] | None = attrs.field(default=None, kw_only=True)
    #: Container name; ``None`` lets the runtime pick one.
    name: str | None = attrs.field(default=None, kw_only=True)
    #: Environment variables (values may be secrets: never logged).
    env: Mapping[str, str] = attrs.field(
        factory=FrozenDict, converter=_frozen, repr=_masked, kw_only=True
    )
    #: Ports to publish.
    ports: tuple[PortMapping, ...] = attrs.field(default=(), kw_only=True)
    #: Bind mounts (absolute, existing host paths) and named volumes.
    volumes: tuple[Mount, ...] = attrs.field(default=(), kw_only=True)
    #: Container labels.
    labels: Mapping[str, str] = attrs.field(factory=FrozenDict, converter=_frozen, kw_only=True)
    #: Absolute working directory, or ``None`` for the image's.
    workdir: str | None = attrs.field(default=None, kw_only=True)
    #: ``user[:group]`` to run as, or ``None`` for the image's.
    user: str | None = attrs.field(default=None, kw_only=True)
    #: Entrypoint argv (``()`` clears the image's), or ``None`` for the image's.
    entrypoint: tuple[str, ...] | None = attrs.field(default=None, kw_only=True)
    #: Network to attach to, or ``None`` for the runtime's default.
    network: str | None = attrs.field(default=None, kw_only=True)
    #: Extra names on ``network``, which is then a user network (never empty
    #: otherwise); an adapter without ``Capability.NETWORK_ALIASES`` never
    #: sees any.
    aliases: tuple[str, ...] = attrs.field(default=(), kw_only=True)
    #: Host name inside the container, or ``None`` for the runtime's default.
    hostname: str | None = attrs.field(default=None, kw_only=True)
    #: Delete the container once it exits.
    remove: bool = attrs.field(default=False, kw_only=True)
    #: Memory limit in bytes (at least 6 MiB), or ``None``: no limit.
    memory: int | None = attrs.field(default=None, kw_only=True)
    #: CPUs the container may use (a CFS quota: 0.5 is half of one), or ``None``.
    cpus: float | None = attrs.field(default=None, kw_only=True)
    #: ``no``, ``always``, ``unless-stopped``, ``on-failure`` or
    #: ``on-failure:N``; ``None``: the runtime's default (``no``).
    restart_policy: str | None = attrs.field(default=None, kw_only=True)
    #: Run the engine's init as PID 1, the command under it.
    init: bool = attrs.field(default=False, kw_only=True)
    #: Mount the root file system read-only.
    read_only: bool = attrs.field(default=False, kw_only=True)
    #: Capabilities to add / drop: upper-case, no ``CAP_`` prefix, or ``ALL``.
    cap_add: tuple[str, ...] = attrs.field(default=(), kw_only=True)
    cap_drop: tuple[str, ...] = attrs.field(default=(), kw_only=True)
    #: Every capability and every device.
    privileged: bool = attrs.field(default=False, kw_only=True)
    #: tmpfs mount points (absolute) and their mount options (``""``: none).
    tmpfs: Mapping[str, str] = attrs.field(factory=FrozenDict, converter=_frozen, kw_only=True)
    #: Size of ``/dev/shm`` in bytes, or ``None`` for the runtime's (64 MiB).
    shm_size: int | None = attrs.field(default=None, kw_only=True)
    #: Resource limits.
    ulimits: tuple[Ulimit, ...] = attrs.field(default=(), kw_only=True)
    #: Name servers for ``/etc/resolv.conf`` (canonical IP text).
    dns: tuple[str, ...] = attrs.field(default=(), kw_only=True)
    #: Extra ``/etc/hosts`` entries, host name to canonical IP text.
    extra_hosts: Mapping[str, str] = attrs.field(
        factory=FrozenDict, converter=_frozen, kw_only=True
    )
    #: ``os/arch[/variant]`` the image must be for, or ``None``.
    platform: str | None = attrs.field(default=None, kw_only=True)
    #: Signal name (``SIGUSR1``) that ``stop`` sends first, or ``None``.
    stop_signal: str | None = attrs.field(default=None, kw_only=True)
    #: Seconds ``stop`` waits by default before SIGKILL, or ``None`` (10).
    stop_timeout: int | None = attrs.field(default=None, kw_only=True)
    #: A healthcheck for the engine to schedule; only an adapter with
    #: ``Capability.SCHEDULES_HEALTHCHECKS`` ever sees one (it is also in
    #: ``labels``, which is where the library reads it back).
    healthcheck: Healthcheck | None = attrs.field(default=None, kw_only=True)
    #: The pull policy, for an adapter without ``Capability.IMAGE_STORE``
    #: whose nodes pull (Kubernetes' ``imagePullPolicy``); the others never
    #: see anything but ``"never"``: :meth:`~runtimes.Runtime.run` pulls first.
    pull: str = attrs.field(default="never", kw_only=True)


@attrs.frozen(kw_only=True)
class BuildSpec:
    """What :meth:`~runtimes.Runtime.build` was asked to build."""

    #: Absolute path of the build context, an existing directory.
    context: str
    #: ``name[:tag]`` for the result, or ``None``.
    tag: str | None = None
    #: Dockerfile path relative to the context, or ``None`` for ``Dockerfile``.
    dockerfile: str | None = None
    #: Build arguments (values may be secrets: never logged).
    build_args: Mapping[str, str] = attrs.field(factory=FrozenDict, converter=_frozen, repr=_masked)
    #: Stage to build, or ``None`` for the last.
    target: str | None = None
    #: Labels to set on the image.
    labels: Mapping[str, str] = attrs.field(factory=FrozenDict, converter=_frozen)
    #: Ignore the build cache.
    no_cache: bool = False
    #: Called with each output line (no newline) as the builder prints it.
    on_output: Callable[[str], None] | None = attrs.field(default=None, eq=False, repr=False)

    def emit(self, line: str) -> None:
        """Pass one output line to ``on_output``, if any."""
        if self.on_output is not None:
            self.on_output(line)


@attrs.frozen(kw_only=True)
class PsSpec:
    """What :meth:`~runtimes.Runtime.ps` was asked to list."""

    #: Include containers that are not running.
    all: bool = False
    #: Keep containers carrying every one of these labels.
    labels: Mapping[str, str] = attrs.field(factory=FrozenDict, converter=_frozen)
    #: Keep containers with this exact name (the adapter may return more).
    name: str | None = None


@attrs.frozen(kw_only=True)
class LogsSpec:
    """What :meth:`~runtimes.Runtime.logs` was asked to read."""

    #: Container name or id, validated.
    container: str
    #: Keep reading until the container exits.
    follow: bool = False
    #: Only the last ``tail`` records, or ``None`` for all.
    tail: int | None = None
    #: Only records since these epoch seconds, or ``None``.
    since: int | None = None
    #: Set :attr:`~runtimes.LogLine.timestamp` on each line.
    timestamps: bool = False
    #: Include standard output.
    stdout: bool = True
    #: Include standard error.
    stderr: bool = True


@attrs.frozen(kw_only=True)
class ExecSpec:
    """What :meth:`~runtimes.Runtime.exec` was asked to run."""

    #: Container name or id, validated.
    container: str
    #: The command's argv, never empty.
    command: tuple[str, ...]
    #: Extra environment (values may be secrets: never logged).
    env: Mapping[str, str] = attrs.field(factory=FrozenDict, converter=_frozen, repr=_masked)
    #: Absolute working directory, or ``None``.
    workdir: str | None = None
    #: ``user[:group]``, or ``None`` for the container's.
    user: str | None = None
    #: What the command reads on its standard input (bytes, or a binary
    #: file read to its end), then end of file; ``None``: no input at all.
    stdin: bytes | IO[bytes] | None = attrs.field(default=None, repr=False)
    #: Run the command on a terminal: its output all comes as ``stdout``,
    #: with the terminal's ``\r\n`` line ends.  Never with ``stdin``.
    tty: bool = False


@attrs.frozen(kw_only=True)
class NetworkSpec:
    """What :meth:`~runtimes.Runtime.create_network` was asked to create."""

    #: Network name, not one of the adapter's ``builtin_networks``.
    name: str
    #: Labels to set on the network.
    labels: Mapping[str, str] = attrs.field(factory=FrozenDict, converter=_frozen)
    #: No route outside (only with ``Capability.INTERNAL_NETWORKS``).
    internal: bool = False
    #: IPv4 subnet in canonical CIDR form (``10.89.3.0/24``), or ``None`` to
    #: let the runtime pick a free one.
    subnet: str | None = None


@attrs.frozen(kw_only=True)
class PullSpec:
    """What :meth:`~runtimes.Runtime.pull` was asked to fetch."""

    #: Fully qualified reference ``host/path:tag`` or ``host/path@digest``:
    #: an unqualified name is already resolved to ``docker.io``, so no
    #: runtime applies its own short-name rules.
    ref: str
    #: The registry host (``host[:port]``) of ``ref``.
    registry: str
    #: ``os/arch[/variant]``, or ``None`` for the engine's own.
    platform: str | None = None
    #: Credentials given to the call, or ``None`` for the runtime's store.
    auth: RegistryAuth | None = None
    #: The registry may be plain HTTP or have an unverified certificate.
    insecure: bool = False
    #: Directory with the registry's CA (``*.crt``), from ``registry_certs``.
    certs_dir: str | None = None
    #: Called with each :class:`~runtimes.Progress` event, as it happens.
    on_progress: Callable[[Progress], None] | None = attrs.field(default=None, eq=False, repr=False)

    def emit(self, event: Progress) -> None:
        """Pass one event to ``on_progress``, if any."""
        if self.on_progress is not None:
            self.on_progress(event)


@attrs.frozen(kw_only=True)
class PushSpec(PullSpec):
    """What :meth:`~runtimes.Runtime.push` was asked to send (``ref`` is local
    and fully qualified; ``platform`` is always ``None``)."""
