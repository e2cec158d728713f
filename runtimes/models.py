"""Plain, frozen values that every adapter returns.

Models hold no reference back to a runtime: they can be compared, hashed,
pickled and logged.  They are deeply immutable: mappings are
:class:`FrozenDict` and sequences are tuples, so ``container.labels["a"] =
"2"`` raises ``TypeError``; use :func:`attrs.evolve` to derive a changed copy.
The backend's own record is kept, frozen the same way, in ``raw`` (excluded
from equality and repr) as an escape hatch.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, NoReturn, TypeVar

import attrs

__all__ = [
    "Capability",
    "Container",
    "ContainerState",
    "ExecResult",
    "FrozenDict",
    "Healthcheck",
    "Image",
    "LogLine",
    "Mount",
    "MountType",
    "Network",
    "NetworkAttachment",
    "PortBinding",
    "PortMapping",
    "Process",
    "Progress",
    "PruneReport",
    "RegistryAuth",
    "RuntimeInfo",
    "Stats",
    "Volume",
]


K = TypeVar("K")
V = TypeVar("V")


class FrozenDict(dict[K, V]):
    """A ``dict`` that refuses every change: the mappings models carry.

    A ``dict`` subclass rather than a read-only view so that ``json.dumps``,
    ``attrs.asdict`` and ``isinstance(x, dict)`` keep working; hashable and
    picklable.
    """

    __slots__ = ()

    def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError(f"{type(self).__name__} is immutable; use attrs.evolve on the model")

    __setitem__ = __delitem__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse
    __ior__ = _refuse

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def __reduce__(self) -> tuple[Any, ...]:
        # The default dict-subclass pickling sets items one by one, which we refuse.
        return (type(self), (dict(self),))

    def __repr__(self) -> str:
        return f"FrozenDict({dict.__repr__(self)})"


#: Leaves of decoded JSON: returned as they are, before any ABC check.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def freeze(value: Any) -> Any:
    """``value`` with every dict made a :class:`FrozenDict` and every list a tuple."""
    # Exact-type checks first: a listing freezes thousands of JSON leaves, and
    # an isinstance against the Mapping ABC costs several times a type lookup.
    kind = type(value)
    if kind in _SCALARS or kind is FrozenDict:
        return value
    if kind is dict:
        return FrozenDict({k: v if type(v) in _SCALARS else freeze(v) for k, v in value.items()})
    if kind is list or kind is tuple:
        return tuple([v if type(v) in _SCALARS else freeze(v) for v in value])
    if isinstance(value, FrozenDict):
        return value
    if isinstance(value, Mapping):
        return FrozenDict({k: freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple([freeze(v) for v in value])
    return value


def _frozen_mapping(value: Mapping[str, str] | None) -> Mapping[str, str]:
    # A sorted copy: equality is by content, and no caller can mutate a model
    # through a dict it passed in, nor through the one it got back.
    return FrozenDict(sorted((value or {}).items()))


def _frozen_raw(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return freeze(value or {})  # type: ignore[no-any-return]


class ContainerState(enum.StrEnum):
    """Lifecycle state of a container, the same on every runtime.

    Runtime-specific states are folded in: Podman's ``stopping`` is
    ``RUNNING`` (the process still runs), ``stopped``/``exited`` are
    ``EXITED``, ``initialized``/``configured`` are ``CREATED``; nerdctl's
    empty status (never started) is ``CREATED`` and ``pausing`` is ``PAUSED``.
    """

    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    RESTARTING = "restarting"
    REMOVING = "removing"
    EXITED = "exited"
    DEAD = "dead"
    UNKNOWN = "unknown"


class Capability(enum.StrEnum):
    """Optional behaviours an adapter declares; contract tests require them."""

    #: Log bytes come back exactly as written, even when they are not UTF-8.
    #: (Docker's json-file driver stores U+FFFD instead.)
    LOSSLESS_LOGS = "lossless-logs"
    #: Log timestamps have sub-second precision.
    PRECISE_LOG_TIMESTAMPS = "precise-log-timestamps"
    #: A last line written without a newline is in the logs.  (nerdctl
    #: before 2.3.4 may drop it: 2.0 always, 2.2 when the logs are read just
    #: after the exit, before its logger has finished; nerdctl#2313, #5009.)
    KEEPS_UNTERMINATED_LAST_LINE = "keeps-unterminated-last-line"
    #: ``run(workdir=...)`` creates a working directory the image lacks.
    #: (Podman refuses to start: :class:`~runtimes.CommandFailed`.)
    CREATES_MISSING_WORKDIR = "creates-missing-workdir"
    #: ``aliases=`` on ``run`` and ``connect_network``: extra names that the
    #: other containers on a user network resolve.  (nerdctl has no network
    #: aliases; its containers resolve each other's name and hostname only.)
    NETWORK_ALIASES = "network-aliases"
    #: ``connect_network`` and ``disconnect_network`` on an existing
    #: container.  (nerdctl has no ``network connect``: pass ``network=`` to
    #: ``run``.)
    NETWORK_CONNECT = "network-connect"
    #: ``create_network(internal=True)``: a network whose containers reach
    #: each other and nothing beyond it (on Docker, the host's own addresses
    #: still answer).  (nerdctl has none; Podman 4.3's drop their own traffic
    #: where Docker has set the FORWARD policy to DROP.)
    INTERNAL_NETWORKS = "internal-networks"
    #: Containers on different user networks cannot reach each other, not
    #: even by address.  (Podman routes between its networks; the ``isolate``
    #: option the adapter sets only takes effect from netavark 1.5.)
    ISOLATED_NETWORKS = "isolated-networks"
    #: The ``insecure_registries`` and ``registry_certs`` options apply per
    #: call.  (dockerd reads its own ``daemon.json`` and
    #: ``/etc/docker/certs.d``; see :attr:`~runtimes.Runtime.engine_certs_dir`.)
    PER_CALL_REGISTRY_TLS = "per-call-registry-tls"
    #: ``stats()`` reports ``cpu_percent``.  (nerdctl 2.0 prints ``0.00%``
    #: or thousands of percent for a busy container: ``None``; 2.2 is right.)
    STATS_CPU = "stats-cpu"
    #: The engine runs a container's :class:`Healthcheck` on its own schedule
    #: and reports the state in ``Container.health``.  (Podman 4.3 schedules
    #: checks with systemd timers, absent without systemd; nerdctl 2.0 has
    #: none.)  Without it the library runs the check itself, by ``exec``,
    #: in :meth:`~runtimes.Runtime.wait_for` and
    #: :meth:`~runtimes.Runtime.check_health`, with the same semantics.
    SCHEDULES_HEALTHCHECKS = "schedules-healthchecks"
    #: ``exec(..., stdin=...)``: the command reads the input, then its end.
    #: (Docker over TLS: the input would need a TLS half-close, which
    #: Python's ``ssl`` cannot send without ending the connection.)
    EXEC_STDIN = "exec-stdin"
    #: ``run(restart_policy=)`` takes ``on-failure[:N]`` and
    #: ``unless-stopped``, not only ``always``.  (nerdctl on containerd 1.6,
    #: whose restart monitor knows only ``always``.)
    RESTART_POLICIES = "restart-policies"
    # What a container engine on one machine has and a cluster may not
    # (Kubernetes: see docs/kubernetes.md); the engine adapters declare all
    # of :data:`ENGINE_CAPABILITIES`.
    #: ``build``: an image builder.
    BUILD = "build"
    #: ``images``, ``image``, ``remove_image``, ``tag``, ``pull``, ``push``,
    #: ``login``, ``logout``: an image store this library reads and fills.
    IMAGE_STORE = "image-store"
    #: Named volumes (``create_volume``... and ``run(volumes=["name:/path"])``).
    VOLUMES = "volumes"
    #: User networks (``create_network``... and ``run(network="name")``), and
    #: so stacks, whose services find each other on one.
    NETWORKS = "networks"
    #: Each log line says which stream wrote it, and ``logs(stdout=False)``
    #: or ``logs(stderr=False)`` reads one stream only.
    LOG_STREAMS = "log-streams"
    #: ``exec`` takes ``env``, ``workdir`` and ``user``.
    EXEC_OPTIONS = "exec-options"
    #: ``run(remove=True)``: the engine deletes the container once it exits.
    AUTO_REMOVE = "auto-remove"
    #: ``exec`` with ``stdin``, ``tty``, ``stream=True`` or ``detach=True``.
    EXEC_IO = "exec-io"
    #: ``copy_to`` and ``copy_from``.
    COPY = "copy"
    #: ``copy_to`` and ``copy_from`` on a container that is not running
    #: (Kubernetes copies with ``tar`` by exec, in a running container).
    COPY_STOPPED = "copy-stopped"
    #: ``create``, and ``start`` of a created container.
    CREATE = "create"
    #: ``restart``, ``pause``, ``unpause``, ``rename``.
    CONTROL = "control"
    #: ``stats``.
    STATS = "stats"
    #: ``stats()`` reports network and block I/O and the process count
    #: (Kubernetes: the kubelet's summary API has no block I/O).
    STATS_IO = "stats-io"
    #: ``top``: the processes of a container, with host pids.
    TOP = "top"
    # Run options (runtimes/_runopts.py) that a pod spec has no field for;
    # the others map onto one (docs/kubernetes.md).
    #: ``run(init=True)``: an init as PID 1 that forwards signals.
    INIT = "init"
    #: ``run(ulimits=)``: per-container rlimits.
    ULIMITS = "ulimits"
    #: ``run(stop_signal=)``: a stop signal other than SIGTERM.
    STOP_SIGNAL = "stop-signal"
    #: ``run(tmpfs=)`` takes mount options other than ``size=`` (``mode=``,
    #: ``uid=``, ``noexec``...).
    TMPFS_OPTIONS = "tmpfs-options"
    #: ``run(platform=)``: checked on the image's record, in the local store.
    PLATFORM = "platform"


#: What every container engine on one machine provides (Docker, Podman,
#: nerdctl); an adapter to a cluster declares the part it can honour.
ENGINE_CAPABILITIES = frozenset(
    {
        Capability.BUILD,
        Capability.IMAGE_STORE,
        Capability.VOLUMES,
        Capability.NETWORKS,
        Capability.LOG_STREAMS,
        Capability.EXEC_OPTIONS,
        Capability.AUTO_REMOVE,
        Capability.EXEC_IO,
        Capability.COPY,
        Capability.COPY_STOPPED,
        Capability.CREATE,
        Capability.CONTROL,
        Capability.STATS,
        Capability.STATS_IO,
        Capability.TOP,
        Capability.INIT,
        Capability.ULIMITS,
        Capability.STOP_SIGNAL,
        Capability.TMPFS_OPTIONS,
        Capability.PLATFORM,
    }
)


class MountType(enum.StrEnum):
    """What a :class:`Mount` attaches."""

    BIND = "bind"
    VOLUME = "volume"


@attrs.frozen(kw_only=True)
class PortMapping:
    """A port to publish, as requested by the caller."""

    #: Port inside the container.
    container_port: int
    #: ``"tcp"``, ``"udp"`` or ``"sctp"``.
    protocol: str = "tcp"
    #: Host address to bind; ``None`` means every address.
    host_ip: str | None = None
    #: Host port; ``None`` lets the runtime pick a free one.
    host_port: int | None = None


_EVERY_ADDRESS = {"", "0.0.0.0", "::", "[::]"}


def connect_host(host_ip: str, engine_host: str | None) -> str:
    """The address a client uses for a port bound to ``host_ip`` by an
    engine on ``engine_host`` (``None``: this machine)."""
    ip = host_ip.strip("[]") if host_ip.startswith("[") else host_ip
    if engine_host is not None:
        if ip in _EVERY_ADDRESS or _is_loopback(ip):
            return engine_host
        return ip
    if ip in ("", "0.0.0.0"):
        return "127.0.0.1"
    if ip in ("::", "[::]"):
        return "::1"
    return ip


def _is_loopback(address: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


@attrs.frozen(kw_only=True)
class PortBinding:
    """A published port as the runtime actually bound it."""

    #: Port inside the container.
    container_port: int
    #: ``"tcp"``, ``"udp"`` or ``"sctp"``.
    protocol: str
    #: Host address bound (``"0.0.0.0"`` for every IPv4 address).
    host_ip: str
    #: Host port bound; the chosen one when the caller left it open.
    host_port: int
    #: Where a client on this machine connects to reach the port: the
    #: engine's host for a remote engine (unless the port is bound to one
    #: of its non-loopback addresses), else ``host_ip``, with ``127.0.0.1``
    #: (``::1``) for a port bound to every address.
    host: str = attrs.field()

    @host.default
    def _local_host(self) -> str:
        return connect_host(self.host_ip, None)


@attrs.frozen(kw_only=True)
class Mount:
    """A bind mount or a named volume to attach to a container."""

    #: Host path (bind, made absolute) or volume name.
    source: str
    #: Absolute path inside the container.
    target: str
    #: Bind or named volume.
    type: MountType = MountType.BIND
    #: Mount read-only.
    read_only: bool = False


@attrs.frozen(kw_only=True)
class Container:
    """A container, normalised across runtimes.

    Containers returned by ``ps`` always carry ``id``, ``name``, ``image``,
    ``command``, ``state``, ``exit_code`` (for exited containers),
    ``created_at``, ``ports`` and ``labels``.  ``started_at`` and
    ``finished_at`` may be ``None`` there; ``inspect`` fills every field.
    """

    #: Full 64-hex id.
    id: str
    #: Name, without Docker's leading ``/``.
    name: str
    #: Image reference as the runtime reports it for this container.
    image: str
    #: Command and arguments (entrypoint included when known).
    command: tuple[str, ...] = ()
    #: Lifecycle state.
    state: ContainerState = ContainerState.UNKNOWN
    #: Exit code once the container has exited, else ``None``.
    exit_code: int | None = None
    #: Creation time (UTC).
    created_at: datetime | None = None
    #: Last start time (UTC), ``None`` if never started or not known.
    started_at: datetime | None = None
    #: Last exit time (UTC), ``None`` if it has not exited or not known.
    finished_at: datetime | None = None
    #: Published ports, sorted.
    ports: tuple[PortBinding, ...] = ()
    #: Labels.
    labels: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_mapping, hash=False)
    #: Networks it is attached to, sorted by name; ``host`` and ``none`` are
    #: modes, not networks, and never appear.
    networks: tuple[NetworkAttachment, ...] = ()
    #: Health of a container run with a :class:`Healthcheck`: ``"starting"``,
    #: ``"healthy"`` or ``"unhealthy"``; ``None`` without one (with
    #: ``Capability.SCHEDULES_HEALTHCHECKS``, an image's own ``HEALTHCHECK``
    #: counts too).  Filled by
    #: ``inspect`` (not ``ps``).  Where the runtime lacks
    #: ``Capability.SCHEDULES_HEALTHCHECKS`` it is the result of the last
    #: check this ``Runtime`` object ran (``"starting"`` before any).
    health: str | None = None
    #: Restart policy as given to ``run``: ``"no"``, ``"always"``,
    #: ``"unless-stopped"``, ``"on-failure"`` or ``"on-failure:N"``.
    #: Filled by ``inspect`` (``None`` from ``ps``).
    restart_policy: str | None = None
    #: How many times the engine restarted it under its restart policy
    #: (``inspect``; ``0`` from ``ps``).
    restart_count: int = 0
    #: Signal ``stop`` sends first (``"SIGTERM"`` unless set; ``inspect``).
    stop_signal: str | None = None
    #: Seconds the engine's own stop waits before SIGKILL (``10`` unless
    #: set; ``inspect``).
    stop_timeout: int | None = None
    #: Name of the runtime that reported it.
    runtime: str = ""
    #: The backend's own record, untouched.
    raw: Mapping[str, Any] = attrs.field(
        factory=dict, converter=_frozen_raw, eq=False, repr=False, hash=False
    )

    @property
    def short_id(self) -> str:
        """The 12-character id used in tables."""
        return self.id[:12]

    def port(self, container_port: int, protocol: str = "tcp") -> PortBinding:
        """The binding of one container port; ``LookupError`` if unpublished."""
        for binding in self.ports:
            if binding.container_port == container_port and binding.protocol == protocol:
                return binding
        raise LookupError(f"port {container_port}/{protocol} is not published by {self.name}")

    def network(self, name: str) -> NetworkAttachment:
        """The attachment to one network; ``LookupError`` if not attached."""
        for attachment in self.networks:
            if attachment.network == name:
                return attachment
        raise LookupError(f"{self.name} is not attached to network {name}")


@attrs.frozen(kw_only=True)
class Image:
    """A local image."""

    #: ``sha256:<64 hex>`` on every runtime.
    id: str
    #: Repository tags, e.g. ``("demo:1",)``; Podman's ``localhost/`` removed.
    tags: tuple[str, ...] = ()
    #: Image labels.
    labels: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_mapping, hash=False)
    #: Creation time (UTC).
    created_at: datetime | None = None
    #: Size in bytes, when the runtime reports it.
    size: int | None = None
    #: The backend's own record, untouched.
    raw: Mapping[str, Any] = attrs.field(
        factory=dict, converter=_frozen_raw, eq=False, repr=False, hash=False
    )


@attrs.frozen(kw_only=True)
class Volume:
    """A named volume."""

    #: Volume name.
    name: str
    #: Volume labels.
    labels: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_mapping, hash=False)
    #: The backend's own record, untouched.
    raw: Mapping[str, Any] = attrs.field(
        factory=dict, converter=_frozen_raw, eq=False, repr=False, hash=False
    )


@attrs.frozen(kw_only=True)
class NetworkAttachment:
    """One network a container is attached to, as the container sees it."""

    #: Network name.
    network: str
    #: The container's IPv4 address on it; ``None`` while the container does
    #: not run (and in Podman's ``ps`` listing, which has no addresses).
    ip_address: str | None = None
    #: The aliases given to ``run`` or ``connect_network``, sorted.  The
    #: container's name, hostname and short id, which the runtimes resolve
    #: too, are left out.  Empty in Docker's ``ps`` listing.
    aliases: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class Network:
    """A container network (a bridge on the engine's host)."""

    #: Network name.
    name: str
    #: The runtime's id for it (64 hex); ``""`` for a network the runtime
    #: has no id for (nerdctl's networks from foreign CNI files).
    id: str = ""
    #: IPv4 subnets in CIDR form, e.g. ``("10.89.3.0/24",)``.
    subnets: tuple[str, ...] = ()
    #: Nothing is forwarded beyond it: containers on it reach each other
    #: (and, on Docker, the host's own addresses), nothing else.
    internal: bool = False
    #: Network labels.
    labels: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_mapping, hash=False)
    #: The backend's own record, untouched.
    raw: Mapping[str, Any] = attrs.field(
        factory=dict, converter=_frozen_raw, eq=False, repr=False, hash=False
    )


@attrs.frozen(kw_only=True)
class LogLine:
    """One line a container wrote.

    ``data`` keeps the bytes exactly, including the final ``b"\\n"`` (absent
    only for a last line written without one).  A long line that the runtime
    stored as several records is joined back into one ``LogLine``.
    """

    #: ``"stdout"`` or ``"stderr"``.
    stream: Literal["stdout", "stderr"]
    #: The bytes written, newline included.
    data: bytes
    #: When the runtime received the line (UTC), if timestamps were asked for.
    timestamp: datetime | None = None

    @property
    def text(self) -> str:
        """``data`` decoded as UTF-8 with replacement, without the newline."""
        return self.data.decode("utf-8", "replace").removesuffix("\n")


@attrs.frozen(kw_only=True)
class ExecResult:
    """Outcome of ``exec``."""

    #: Exit code of the command.
    exit_code: int
    #: Everything written to stdout.
    stdout: bytes = b""
    #: Everything written to stderr.
    stderr: bytes = b""


@attrs.frozen(kw_only=True)
class Stats:
    """One sample of a container's resource use (``stats``).

    A container that is not running uses nothing: every figure is ``0``.
    A figure the runtime does not report is ``None``.
    """

    #: CPU used over about the last second, in percent of one CPU (200.0 is
    #: two CPUs busy).  ``None`` without :attr:`Capability.STATS_CPU`.
    cpu_percent: float | None
    #: Memory in use, in bytes: without the page cache on Docker and nerdctl
    #: (as their ``stats`` show it), with it on Podman.
    memory_usage: int | None
    #: The container's memory limit in bytes; the host's memory when it has none.
    memory_limit: int | None
    #: Bytes received on every network interface of the container.
    network_rx: int | None
    #: Bytes sent on every network interface of the container.
    network_tx: int | None
    #: Bytes read from block devices.
    block_read: int | None
    #: Bytes written to block devices.
    block_write: int | None
    #: Processes (and threads) in the container.
    pids: int | None
    #: The backend's own record, untouched.
    raw: Mapping[str, Any] = attrs.field(
        factory=dict, converter=_frozen_raw, eq=False, repr=False, hash=False
    )


@attrs.frozen(kw_only=True)
class Process:
    """One process running in a container (``top``)."""

    #: Process id on the engine's host (what ``kill`` on the host takes),
    #: not the id inside the container.
    pid: int
    #: User it runs as, as the engine's host names it (a number when the
    #: host has no name for it).
    user: str
    #: Command line.
    command: str


@attrs.frozen(kw_only=True)
class PruneReport:
    """What ``prune`` removed."""

    #: Ids of the removed containers.
    containers: tuple[str, ...] = ()
    #: Ids of the removed images.
    images: tuple[str, ...] = ()
    #: Names of the removed volumes.
    volumes: tuple[str, ...] = ()
    #: Names of the removed networks.
    networks: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class RuntimeInfo:
    """What a runtime reports about itself."""

    #: Adapter name: ``"docker"``, ``"podman"``, ``"nerdctl"``...
    name: str
    #: Server (engine) version.
    version: str
    #: API version, where the runtime has one.
    api_version: str | None = None
    #: Operating system of the engine, e.g. ``"linux"``.
    os: str = ""
    #: CPU architecture of the engine, e.g. ``"amd64"``.
    arch: str = ""
    #: Whether the engine runs without root.
    rootless: bool = False
    #: Where the library talks to: socket URL or binary path.
    endpoint: str = ""
    #: Why that endpoint: the option or variable that named it (``"option
    #: host"``, ``"DOCKER_HOST"``, ``"Docker context 'x' (DOCKER_CONTEXT)"``,
    #: ``"CONTAINER_HOST"``...), or ``""`` when the adapter does not say.
    endpoint_source: str = ""
    #: Storage driver or snapshotter.
    storage_driver: str | None = None
    #: CPUs of the engine's host, when it says.
    cpus: int | None = None
    #: Capabilities the adapter declares.
    capabilities: frozenset[Capability] = frozenset()
    #: The backend's own record, untouched.
    raw: Mapping[str, Any] = attrs.field(
        factory=dict, converter=_frozen_raw, eq=False, repr=False, hash=False
    )


#: What a :class:`Progress` event reports.
ProgressStatus = Literal[
    "waiting", "downloading", "uploading", "extracting", "exists", "done", "info"
]


@attrs.frozen(kw_only=True)
class Progress:
    """One live event of a ``pull`` or ``push``, for a progress display.

    Runtimes report progress differently: Docker per layer with byte counts,
    Podman per blob without counts, nerdctl per blob with counts.  Fields a
    runtime does not report are ``None``.
    """

    #: ``"pull"`` or ``"push"``.
    action: Literal["pull", "push"]
    #: Short id of the layer (blob) the event is about, or ``None`` for the
    #: image as a whole (resolving, writing the manifest...).
    layer: str | None
    #: What happens: ``"waiting"``, ``"downloading"``, ``"uploading"``,
    #: ``"extracting"``, ``"exists"`` (already there), ``"done"``, or
    #: ``"info"`` for any other message.
    status: ProgressStatus
    #: Bytes transferred so far, where the runtime reports them.
    current: int | None = None
    #: Size of the layer in bytes, where the runtime reports it.
    total: int | None = None
    #: The runtime's own text for the event.
    message: str = ""


@attrs.frozen
class RegistryAuth:
    """Credentials for one registry, given to ``pull``/``push``/``login``.

    ``password`` may also be an access token.  It is never shown in a repr,
    a log, an error or a spawned process's argv.
    """

    #: User name at the registry.
    username: str
    #: Password or access token (hidden from repr).
    password: str = attrs.field(repr=lambda _: "***")


def _check_test(value: str | Sequence[str]) -> tuple[str, ...]:
    # Validated later (runtimes._specs.check_healthcheck): keep what was given.
    if isinstance(value, str):
        return ("/bin/sh", "-c", value) if value.strip() else ()
    return tuple(value) if isinstance(value, Sequence) else value


@attrs.frozen(kw_only=True)
class Healthcheck:
    """A command that tells whether a container's service works (exit 0).

    The same semantics on every runtime: checks start once the container
    runs, every ``interval`` seconds; each may last ``timeout`` seconds;
    failures during ``start_period`` do not count; ``retries`` failures in
    a row make it ``unhealthy``, one success makes it ``healthy``.
    """

    #: The check's argv, run in the container; a shell text becomes
    #: ``("/bin/sh", "-c", text)``.
    test: tuple[str, ...] = attrs.field(converter=_check_test)
    #: Seconds between two checks.
    interval: float = 30.0
    #: Seconds one check may take before it counts as failed.
    timeout: float = 30.0
    #: Failures in a row that make the container unhealthy.
    retries: int = 3
    #: Seconds after the start during which failures do not count.
    start_period: float = 0.0
