"""The ``Runtime`` interface: the contract every adapter fulfils.

The docstrings here are normative.  Adapters subclass :class:`Runtime`,
implement every abstract method, declare their optional behaviours in
``capabilities``, and are checked by the shipped contract suite
(:mod:`runtimes.testing`).

Arguments named ``container`` accept a :class:`~runtimes.Container`, a name
or an id (full or unambiguous prefix; a prefix that matches several
containers raises :class:`~runtimes.CommandFailed` saying "ambiguous
reference", on every runtime).  Errors are always
:class:`~runtimes.RuntimesError` subclasses; see :mod:`runtimes.errors`.
"""

from __future__ import annotations

import abc
import contextlib
import http.client
import logging
import os
import posixpath
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any, ClassVar, Literal, overload

import attrs

from runtimes import _logs, _redact, _specs
from runtimes._specs import ContainerRef, Since
from runtimes.errors import (
    BuildFailed,
    CommandFailed,
    ContainerExited,
    ContainerNotFound,
    ImageNotFound,
    InvalidSpec,
    NameConflict,
    NetworkInUse,
    NetworkNotFound,
    NotFound,
    RuntimesError,
    Timeout,
    Unsupported,
    VolumeNotFound,
    WaitTimeout,
)
from runtimes.models import (
    Capability,
    Container,
    ContainerState,
    ExecResult,
    Healthcheck,
    Image,
    LogLine,
    Mount,
    MountType,
    Network,
    PortMapping,
    Process,
    Progress,
    PruneReport,
    RegistryAuth,
    RuntimeInfo,
    Stats,
    Volume,
    connect_host,
)
from runtimes.specs import (
    BuildSpec,
    ExecSpec,
    LogsSpec,
    NetworkSpec,
    PsSpec,
    PullSpec,
    PushSpec,
    RunSpec,
)
from runtimes.streams import ExecStream

if TYPE_CHECKING:
    from runtimes.stacks import RunningStack, Stack

__all__ = ["ContainerRef", "RunSpec", "Runtime", "Since"]

log = logging.getLogger("runtimes")


class Runtime(abc.ABC):
    """One container engine, reached through one adapter.

    Instances are safe to share between threads.  Creating one may start
    what the adapter needs (Podman without a service starts a private one,
    which can take a few seconds); use :func:`runtimes.connect` rather than
    instantiating adapters directly.  A runtime is also a context manager;
    :meth:`close` releases what the adapter holds (HTTP sessions, a private
    Podman service).

    **For adapter authors.**  Every public verb is implemented here, once:
    it validates its input (raising :class:`~runtimes.InvalidSpec`), calls
    the adapter's ``_verb`` with a validated value from :mod:`runtimes.specs`
    or checked scalars, and normalises the result.  An adapter subclasses
    this class, implements the abstract ``_verb`` methods below, translates
    its backend's failures into :mod:`runtimes.errors`, and declares its
    optional behaviours in :attr:`capabilities`.  The docstrings of the
    public verbs are the contract that the shipped suite
    (:mod:`runtimes.testing`) checks.
    """

    #: Registry name of the adapter (``"docker"``, ``"podman"``...).
    name: ClassVar[str]
    #: Optional behaviours this runtime provides.  Declared on the adapter
    #: class, or set per instance by an adapter whose behaviours depend on
    #: the version it reaches (nerdctl) or on where the engine is (Podman
    #: reached remotely takes no per-call registry CA).
    capabilities: frozenset[Capability] = frozenset()
    #: Options the adapter accepts from ``connect(**options)``, env or config.
    options: ClassVar[tuple[str, ...]] = ()
    #: Adapter trait: the backend's volume create returns an existing volume
    #: instead of refusing it, so :meth:`create_volume` checks first.
    volume_create_is_idempotent: ClassVar[bool] = False
    #: Names that ``network=`` takes for the runtime's own default network
    #: or a network mode rather than a user network: aliases are refused
    #: there, and :meth:`create_network` and :meth:`remove_network` refuse them.
    builtin_networks: ClassVar[frozenset[str]] = frozenset({"bridge", "host", "none"})
    #: Why each optional behaviour the adapter lacks is missing: the message
    #: of the :class:`~runtimes.Unsupported` raised instead.
    unsupported_reasons: ClassVar[Mapping[Capability, str]] = {}
    #: Seconds a single call may take before :class:`~runtimes.Timeout`.
    default_timeout: float = 120.0
    #: Where the engine itself reads a registry's CA (``DIR/HOST:PORT/ca.crt``)
    #: when the adapter lacks :attr:`~runtimes.Capability.PER_CALL_REGISTRY_TLS`.
    engine_certs_dir: str | None = None
    #: The host a client reaches the engine's published ports at: ``None``
    #: for an engine on this machine; the endpoint's host for a remote one
    #: (``tcp://``, ``ssh://``), or the ``engine_host`` option (see
    #: :meth:`configure`).  :attr:`PortBinding.host
    #: <runtimes.PortBinding.host>` is derived from it.
    engine_host: str | None = None

    #: Default pull policy of :meth:`run` and :meth:`build`: ``"never"``,
    #: ``"missing"`` or ``"always"`` (option ``pull``, see :meth:`configure`).
    pull_policy: str = "never"
    #: CPUs of the engine's host, read once by the first ``run(cpus=)``.
    _host_cpus: int | None = None
    #: Registries (``host[:port]``) that may be plain HTTP or self-signed.
    insecure_registries: tuple[str, ...] = ()
    #: Directory of per-registry CA bundles, ``DIR/HOST:PORT/*.crt``.
    registry_certs: str | None = None

    @classmethod
    @abc.abstractmethod
    def detect(cls, **options: Any) -> str | None:
        """Check without side effects whether this runtime is usable here.

        Return ``None`` when it is installed and reachable, else the reason
        why not (with the fix), for ``runtimes info``.
        """

    @classmethod
    def configured_endpoint(cls, **options: Any) -> str | None:
        """The endpoint that ``options`` or the ecosystem's environment name
        explicitly (``DOCKER_HOST``...), or ``None``.

        Auto-detection never falls back past a runtime whose endpoint was
        named: it is picked, and connecting reports why it fails.
        """
        return None

    # -- lifecycle of the adapter --------------------------------------

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release connections and helper processes; the object is unusable after."""

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    def configure(
        self,
        *,
        pull: str | None = None,
        insecure_registries: Sequence[str] | str | None = None,
        registry_certs: str | os.PathLike[str] | None = None,
        engine_host: str | None = None,
    ) -> Runtime:
        """Set what every adapter shares; :func:`runtimes.connect` calls it with
        the options ``pull``, ``insecure_registries`` and ``registry_certs``
        from the call, ``RUNTIMES_<OPTION>`` or ``[tool.runtimes]``.

        ``pull`` is the default policy of :meth:`run` and :meth:`build`
        (``"never"`` unless set: a test never reaches a registry by accident).
        ``insecure_registries`` lists ``host[:port]`` that may be plain HTTP
        or have an unverified certificate (a comma-separated text is split).
        ``registry_certs`` is a directory in Docker's ``certs.d`` layout
        (``DIR/HOST:PORT/ca.crt``).  An adapter whose engine reads these
        only from its own configuration (dockerd) refuses a registry that
        its engine does not already treat so, with
        :class:`~runtimes.Unsupported` naming the fix.  ``engine_host``
        names the host where the engine publishes ports, when the endpoint
        does not tell (an ``~/.ssh/config`` alias, nerdctl behind a command
        prefix); see :attr:`engine_host`.  Returns ``self``.
        """
        if pull is not None:
            self.pull_policy = _specs.check_pull_policy(pull)
        if insecure_registries is not None:
            items = (
                insecure_registries.split(",")
                if isinstance(insecure_registries, str)
                else list(insecure_registries)
            )
            if not all(isinstance(i, str) for i in items):
                raise InvalidSpec("insecure_registries must be host[:port] texts")
            self.insecure_registries = tuple(
                _specs.check_registry(i.strip()) for i in items if i.strip()
            )
        if registry_certs is not None:
            path = os.fspath(registry_certs)
            if not isinstance(path, str) or not os.path.isdir(path):
                raise InvalidSpec(f"registry_certs {registry_certs!r} is not a directory")
            self.registry_certs = os.path.abspath(path)
        if engine_host is not None:
            if not isinstance(engine_host, str) or not engine_host.strip() or "/" in engine_host:
                raise InvalidSpec(f"engine_host {engine_host!r} must be a host name or address")
            self.engine_host = engine_host.strip()
        return self

    def info(self) -> RuntimeInfo:
        """Version and platform of the engine."""
        return attrs.evolve(self._info(), name=self.name, capabilities=self.capabilities)

    # -- images -----------------------------------------------------------

    def build(
        self,
        context_dir: str | os.PathLike[str],
        *,
        tag: str | None = None,
        dockerfile: str | None = None,
        build_args: Mapping[str, str] | None = None,
        target: str | None = None,
        labels: Mapping[str, str] | None = None,
        no_cache: bool = False,
        on_output: Callable[[str], None] | None = None,
        pull: str | None = None,
    ) -> Image:
        """Build an image from ``context_dir`` and return it.

        ``dockerfile`` is a path relative to the context (default
        ``Dockerfile``).  ``on_output`` is called with each line of build
        output, without its newline, as soon as the builder prints it.
        ``pull`` (default: the runtime's :attr:`pull_policy`, ``"never"``)
        decides about base images (``FROM``): ``"never"`` raises
        :class:`~runtimes.BuildFailed` before the builder starts when one is
        not local, ``"missing"`` pulls those that are not, ``"always"``
        pulls them all first.  The builder itself never pulls.  No
        intermediate container or step image is left behind, even when the
        build fails.

        Raises :class:`~runtimes.BuildFailed` with the output's last lines.
        """
        spec = _specs.build_spec(
            context_dir,
            tag=tag,
            dockerfile=dockerfile,
            build_args=build_args,
            target=target,
            labels=labels,
            no_cache=no_cache,
            on_output=on_output,
        )
        self._check_bases(
            spec, _specs.check_pull_policy(self.pull_policy if pull is None else pull)
        )
        with _redact.secrets(spec.build_args):
            image_id = self._build(spec)
        return self._image(image_id)

    def images(self, *, labels: Mapping[str, str] | None = None) -> list[Image]:
        """Local images, optionally only those carrying all ``labels``."""
        return self._images(_specs.check_labels(labels))

    def image(self, ref: str) -> Image:
        """One local image by reference or id; :class:`~runtimes.ImageNotFound`."""
        return self._image(_specs.check_image_ref(ref))

    def remove_image(self, ref: str, *, force: bool = False) -> None:
        """Remove a local image (untag it if other tags remain)."""
        self._remove_image(_specs.check_image_ref(ref), force=_specs.check_flag(force, "force"))

    # -- containers -------------------------------------------------------

    def run(
        self,
        image: str,
        command: str | Sequence[str] | None = None,
        *,
        name: str | None = None,
        env: Mapping[str, str] | None = None,
        ports: Sequence[str | int | PortMapping] | str | None = None,
        volumes: Sequence[str | Mount] | str | None = None,
        labels: Mapping[str, str] | None = None,
        workdir: str | None = None,
        user: str | None = None,
        entrypoint: str | Sequence[str] | None = None,
        network: str | None = None,
        aliases: Sequence[str] | str = (),
        hostname: str | None = None,
        remove: bool = False,
        pull: str | None = None,
        healthcheck: Healthcheck | None = None,
        memory: int | str | None = None,
        cpus: float | None = None,
        restart_policy: str | None = None,
        init: bool = False,
        read_only: bool = False,
        cap_add: Sequence[str] | str | None = None,
        cap_drop: Sequence[str] | str | None = None,
        privileged: bool = False,
        tmpfs: Mapping[str, str] | Sequence[str] | str | None = None,
        shm_size: int | str | None = None,
        ulimits: Mapping[str, int | str | tuple[int, int]] | None = None,
        dns: Sequence[str] | str | None = None,
        extra_hosts: Mapping[str, str] | None = None,
        platform: str | None = None,
        stop_signal: str | int | None = None,
        stop_timeout: int | None = None,
    ) -> Container:
        """Create and start a container, detached; return it as inspected.

        ``pull`` (default: the runtime's :attr:`pull_policy`, ``"never"``):
        with ``"never"`` the image must exist locally
        (:class:`~runtimes.ImageNotFound`, and no registry is contacted);
        ``"missing"`` pulls it when it is not local, ``"always"`` pulls it
        first, both with the credentials of the runtime's store.  Named volumes must exist
        (:meth:`create_volume`; :class:`~runtimes.VolumeNotFound`): none is
        created implicitly, unlabelled.  A port without a host port gets a
        free one, reported in ``Container.ports``.  If the container is
        created but cannot start (a missing executable, say), it is removed
        before :class:`~runtimes.CommandFailed` is raised.  With
        ``remove=True`` the runtime deletes it once it exits.

        ``network`` is a user network (:meth:`create_network`; a missing
        one raises :class:`~runtimes.NetworkNotFound` before anything is
        created) or one of :attr:`builtin_networks` (``"host"``,
        ``"none"``...).  On a user network the other containers reach this
        one by its name, by its ``hostname`` and by each of ``aliases``
        (which need a user network: :class:`~runtimes.InvalidSpec`
        otherwise, and ``Capability.NETWORK_ALIASES``:
        :class:`~runtimes.Unsupported` otherwise).

        ``healthcheck`` (:class:`~runtimes.Healthcheck`; a shell text as its
        ``test`` runs under ``/bin/sh -c``) is kept in the label
        ``runtimes.healthcheck``; the engine schedules it where the runtime
        has ``Capability.SCHEDULES_HEALTHCHECKS``, else the library runs it
        when asked (:meth:`check_health`, :meth:`wait_for`).  See
        ``Container.health``.

        Resources and security, checked before anything is created
        (:class:`~runtimes.InvalidSpec`):

        - ``memory``: bytes, or a size text (``"64m"``, ``"1g"``; powers of
          1024), at least 6 MiB.  ``shm_size``: the size of ``/dev/shm``, the same way.
        - ``cpus``: CPUs' worth of time (``0.5``: half of one), 0.01 to 1024.
        - ``restart_policy``: ``"no"``, ``"always"``, ``"unless-stopped"``,
          ``"on-failure"`` or ``"on-failure:N"`` (at most N restarts); not
          with ``remove=True``.  See ``Container.restart_policy`` and
          ``Container.restart_count``.
        - ``init``: the engine's init (docker-init, catatonit, tini) is
          PID 1, reaps zombies and forwards signals to the command.
        - ``read_only``: a read-only root file system (add ``tmpfs`` for
          the paths the process writes).
        - ``cap_add`` / ``cap_drop``: Linux capability names, with or
          without ``CAP_``, any case, or ``"ALL"``; ``privileged``: every
          capability and the host's devices.
        - ``tmpfs``: mount points, as a list or a mapping to mount options
          (``{"/run": "size=16m,mode=1777"}``).
        - ``ulimits``: ``{"nofile": 1024}`` (soft and hard), ``"512:1024"``
          or ``(512, 1024)``.  Limits not given are the engine's defaults.
        - ``dns``: name server addresses; ``extra_hosts``: ``{name: IP}``
          added to ``/etc/hosts``.
        - ``platform``: ``os/arch[/variant]`` the image must be for
          (a local image for another platform is :class:`~runtimes.ImageNotFound`).
        - ``stop_signal`` / ``stop_timeout``: what :meth:`stop` sends
          first, and how many seconds the engine's own stop waits before
          SIGKILL (``Container.stop_signal``, ``Container.stop_timeout``).
        """
        check = _specs.check_healthcheck(healthcheck)
        spec = _specs.run_spec(
            image,
            command,
            name=name,
            env=env,
            ports=ports,
            volumes=volumes,
            labels=labels,
            workdir=workdir,
            user=user,
            entrypoint=entrypoint,
            network=network,
            aliases=aliases,
            hostname=hostname,
            remove=remove,
            builtin_networks=self.builtin_networks,
            memory=memory,
            cpus=cpus,
            restart_policy=restart_policy,
            init=init,
            read_only=read_only,
            cap_add=cap_add,
            cap_drop=cap_drop,
            privileged=privileged,
            tmpfs=tmpfs,
            shm_size=shm_size,
            ulimits=ulimits,
            dns=dns,
            extra_hosts=extra_hosts,
            platform=platform,
            stop_signal=stop_signal,
            stop_timeout=stop_timeout,
        )
        return self._make(self._with_healthcheck(spec, check), pull, self._run)

    def _with_healthcheck(self, spec: RunSpec, check: Healthcheck | None) -> RunSpec:
        if check is None:
            return spec
        return attrs.evolve(
            spec,
            labels={**spec.labels, _specs.HEALTHCHECK_LABEL: _specs.healthcheck_label(check)},
            healthcheck=check if Capability.SCHEDULES_HEALTHCHECKS in self.capabilities else None,
        )

    def _make(self, spec: RunSpec, pull: str | None, make: Callable[[RunSpec], str]) -> Container:
        """What ``run`` and ``create`` share: the pull policy, named volumes
        and networks that must exist, and a container the caller cannot be
        handed removed."""
        policy = _specs.check_pull_policy(self.pull_policy if pull is None else pull)
        for mount in spec.volumes:
            if mount.type is MountType.VOLUME:
                self._volume(mount.source)
        if spec.network is not None and spec.network not in self.builtin_networks:
            # Engines differ: Docker and nerdctl create the container before
            # they find the network missing.  Check first, like volumes.
            self._network(spec.network)
        if spec.aliases:
            self._require(Capability.NETWORK_ALIASES, "network aliases")
        self._check_run_options(spec)
        if Capability.IMAGE_STORE not in self.capabilities:
            # No store to look in: the runtime's nodes apply the policy.
            spec = attrs.evolve(spec, pull=policy)
        elif policy == "always":
            self.pull(spec.image)
        elif policy == "missing":
            try:
                self._image(spec.image)
            except ImageNotFound:
                self.pull(spec.image)
        if spec.platform is not None:
            self._check_platform(spec.image, spec.platform)
        if spec.cpus is not None:
            self._check_cpus(spec.cpus)
        try:
            with _redact.secrets(spec.env):
                container_id = make(spec)
        except ImageNotFound as exc:
            if policy != "never":
                raise
            raise ImageNotFound(
                spec.image,
                f"{exc}; runtimes does not pull unless asked: "
                f"runtime.pull({spec.image!r}) first, or run(..., pull='missing')",
            ) from exc
        try:
            return self._own(self._with_health(self._inspect(container_id)))
        except ContainerNotFound:
            # remove=True and the process already exited: the runtime deleted it.
            return Container(
                id=container_id,
                name=spec.name or "",
                image=spec.image,
                command=spec.command or (),
                state=ContainerState.EXITED,
                labels=spec.labels,
                runtime=self.name,
            )
        except BaseException:
            # The caller gets no handle on a container it cannot inspect
            # (a timeout, Ctrl-C): remove it rather than leak it.
            with contextlib.suppress(RuntimesError):
                self._remove(container_id, force=True)
            raise

    @contextlib.contextmanager
    def running(
        self, image: str, command: str | Sequence[str] | None = None, **kwargs: Any
    ) -> Iterator[Container]:
        """``run`` as a context manager: the container is force-removed on exit,
        whether the block returns or raises."""
        container = self.run(image, command, **kwargs)
        try:
            yield container
        finally:
            with contextlib.suppress(ContainerNotFound):
                self.remove(container, force=True)

    def ps(
        self,
        all: bool = False,  # noqa: A002 - mirrors `docker ps --all`
        *,
        labels: Mapping[str, str] | None = None,
        name: str | None = None,
    ) -> list[Container]:
        """List containers (running only unless ``all``).

        ``labels`` keeps containers carrying every given label; ``name`` keeps
        the container with exactly that name.  Costs a fixed number of calls
        to the runtime, whatever the number of containers.  Containers that
        disappear while listing are left out, never an error.
        """
        spec = _specs.ps_spec(all, labels, name)
        found = self._ps(spec)
        # Runtimes' name filters match substrings or patterns; the contract is exact.
        return [self._own(c) for c in found if spec.name is None or c.name == spec.name]

    def inspect(self, container: ContainerRef) -> Container:
        """Every field of one container; :class:`~runtimes.ContainerNotFound`."""
        return self._own(self._with_health(self._inspect(_specs.check_ref(container))))

    def logs(
        self,
        container: ContainerRef,
        *,
        follow: bool = False,
        tail: int | None = None,
        since: Since | None = None,
        timestamps: bool = False,
        stdout: bool = True,
        stderr: bool = True,
        timeout: float | None = None,
    ) -> Iterator[LogLine]:
        """The container's output, line by line, each tagged with its stream.

        With ``follow`` the iterator ends when the container exits.  A line
        the runtime stored in several records comes back as one
        :class:`~runtimes.LogLine`.  Bytes that are not UTF-8 never end the
        stream.  ``tail`` counts the runtime's records, which equal lines for
        lines shorter than 8 KiB.  ``since`` is a datetime, a timedelta (that
        long ago), a duration text like ``"10m"``, epoch seconds or RFC 3339
        text.  A missing container raises
        :class:`~runtimes.ContainerNotFound` here, not on the first ``next()``.
        The iterator has ``close()``: call it (or let it go) to stop
        following early; the connection or process is released at once.
        With ``follow``, ``timeout`` (seconds from this call) bounds the
        whole follow: ``next()`` raises :class:`~runtimes.Timeout` once it
        passes, even while the container prints nothing, and the follow is
        closed.  Without ``follow`` the read is one call, bounded anyway.
        """
        seconds = _specs.check_seconds(timeout, "timeout", optional=True)
        spec = _specs.logs_spec(
            container,
            follow=follow,
            tail=tail,
            since=since,
            timestamps=timestamps,
            stdout=stdout,
            stderr=stderr,
        )
        if not (spec.stdout and spec.stderr):
            self._require_on(
                spec.container, Capability.LOG_STREAMS, "reading one stream of the logs"
            )
        lines = self._logs(spec)
        # One type on every adapter, so close() always exists.
        closing = lines if isinstance(lines, _logs.Closing) else _logs.Closing(lines, _nothing)
        if follow and seconds is not None:
            return _logs.Deadline(
                closing,
                seconds,
                f"{self.name}: logs of {container} still following after {seconds:g} s",
            )
        return closing

    def check_health(self, container: ContainerRef) -> str | None:
        """The container's health now: ``"starting"``, ``"healthy"``,
        ``"unhealthy"``, or ``None`` when it has no healthcheck.

        Where the runtime has ``Capability.SCHEDULES_HEALTHCHECKS`` this is
        the engine's latest state.  Elsewhere it runs the check once, by
        :meth:`exec`, and applies the same rules: a success makes it
        healthy, ``retries`` failures in a row (not counting those within
        ``start_period`` of the start) unhealthy; a check that outlasts its
        ``timeout`` counts as failed.
        """
        current = self._inspect(_specs.check_ref(container))
        check = _specs.healthcheck_from_labels(current.labels)
        if check is None:
            return None
        if Capability.SCHEDULES_HEALTHCHECKS in self.capabilities:
            return current.health
        return self._run_check(current, check)

    def _run_check(self, current: Container, check: Healthcheck) -> str:
        result: list[int] = []

        def attempt() -> None:
            with contextlib.suppress(RuntimesError):
                result.append(
                    self._exec(ExecSpec(container=current.id, command=check.test)).exit_code
                )

        worker = threading.Thread(target=attempt, daemon=True, name="healthcheck")
        worker.start()
        worker.join(check.timeout)
        passed = bool(result) and result[0] == 0
        with _HEALTH_LOCK:
            status, failures = self._health_seen().get(current.id, ("starting", 0))
            if passed:
                status, failures = "healthy", 0
            elif not _in_start_period(current, check):
                failures += 1
                if failures >= check.retries:
                    status = "unhealthy"
            self._health_seen()[current.id] = (status, failures)
        return status

    def _health_seen(self) -> dict[str, tuple[str, int]]:
        # Emulated health, per Runtime object: (status, failures in a row).
        seen: dict[str, tuple[str, int]] | None = self.__dict__.get("_emulated_health")
        if seen is None:
            seen = self.__dict__.setdefault("_emulated_health", {})
        return seen

    def _with_health(self, container: Container) -> Container:
        if Capability.SCHEDULES_HEALTHCHECKS in self.capabilities:
            return container  # the engine's, also for an image's own HEALTHCHECK
        if _specs.HEALTHCHECK_LABEL not in container.labels:
            # An image's HEALTHCHECK that this engine never runs (Podman
            # without systemd says "starting" for ever): no health known.
            return attrs.evolve(container, health=None) if container.health else container
        with _HEALTH_LOCK:
            status = self._health_seen().get(container.id, ("starting", 0))[0]
        return attrs.evolve(container, health=status)

    def wait_for(
        self,
        container: ContainerRef,
        *,
        log: str | re.Pattern[str] | None = None,
        port: int | None = None,
        http: str | None = None,
        exec: str | Sequence[str] | None = None,  # noqa: A002 - the verb's name
        healthy: bool = False,
        timeout: float = 60,
    ) -> Container:
        """Block until the container is ready, and return it as inspected.

        Every condition given must hold: ``log``, a regular expression that
        one output line matches (``re.search``); ``port``, a container port
        whose published host port accepts a TCP connection that the
        runtime's port proxy does not drop at once
        (:class:`~runtimes.InvalidSpec` if it is not published); ``http``,
        a path that answers 2xx or 3xx to a GET on the published ``port``;
        ``exec``, a command that exits 0 in the container; ``healthy``, its
        :class:`~runtimes.Healthcheck` passing (``Container.health ==
        "healthy"``; the library runs the check where the runtime does not,
        as :meth:`check_health` says).  Conditions are polled every 0.1 to
        0.5 s, each poll bounded by what is left of ``timeout``.

        Raises :class:`~runtimes.ContainerExited` as soon as the container
        exits first, :class:`~runtimes.WaitTimeout` (a
        :class:`~runtimes.Timeout`) after ``timeout`` seconds; both carry
        the container's last log lines.
        """
        pattern, want_port, path, argv, want_health, seconds = _specs.wait_conditions(
            log=log, port=port, http=http, exec=exec, healthy=healthy, timeout=timeout
        )
        ref = _specs.check_ref(container)
        deadline = time.monotonic() + seconds
        current = self.inspect(ref)
        check = _specs.healthcheck_from_labels(current.labels)
        native = Capability.SCHEDULES_HEALTHCHECKS in self.capabilities
        if want_health and check is None and not (native and current.health is not None):
            raise InvalidSpec(f"wait_for healthy=True: {current.name} has no healthcheck")
        host_port: tuple[str, int] | None = None
        if want_port is not None:
            try:
                binding = current.port(want_port)
            except LookupError as exc:
                raise InvalidSpec(
                    f"wait_for port={want_port}: that port is not published by {current.name}"
                ) from exc
            # `host` is where this machine connects (the engine's host when remote).
            host_port = (binding.host, binding.host_port)
        done: set[str] = set()
        wanted = {
            name
            for name, on in (
                ("log", pattern is not None),
                ("port", want_port is not None),
                ("http", path is not None),
                ("exec", argv is not None),
                ("healthy", want_health),
            )
            if on
        }
        next_check = 0.0
        delay = 0.1
        while True:
            if current.state in (ContainerState.EXITED, ContainerState.DEAD):
                raise ContainerExited(
                    current.name or ref, current.exit_code, logs=self._last_lines(ref)
                )
            if current.state is ContainerState.RUNNING:
                left = max(deadline - time.monotonic(), 0.05)
                if (
                    pattern is not None
                    and "log" not in done
                    and any(pattern.search(line.text) for line in self.logs(ref))
                ):
                    done.add("log")
                if host_port is not None and "port" not in done and _tcp_ready(*host_port, left):
                    done.add("port")
                if (
                    path is not None
                    and host_port is not None
                    and "http" not in done
                    and _http_ready(*host_port, path, left)
                ):
                    done.add("http")
                if argv is not None and "exec" not in done and self.exec(ref, argv).exit_code == 0:
                    done.add("exec")
                if want_health and "healthy" not in done:
                    if native or check is None:
                        healthy_now = current.health == "healthy"
                    elif time.monotonic() >= next_check:
                        next_check = time.monotonic() + check.interval
                        healthy_now = self._run_check(current, check) == "healthy"
                    else:
                        healthy_now = False
                    if healthy_now:
                        done.add("healthy")
                if wanted <= done:
                    return self.inspect(ref)
            if time.monotonic() >= deadline:
                state = f", health {current.health}" if current.health else ""
                lines = self._last_lines(ref)
                tail = "".join(f"\n  | {line}" for line in lines) or " (no output)"
                pending = (
                    ", ".join(sorted(wanted - done))
                    if current.state is ContainerState.RUNNING
                    else "running"
                )
                raise WaitTimeout(
                    f"{self.name}: {current.name or ref} not ready after {seconds:g} s "
                    f"(waiting for {pending}; state {current.state}{state}); "
                    f"last log lines:{tail}",
                    logs=lines,
                )
            time.sleep(min(delay, max(deadline - time.monotonic(), 0)))
            delay = min(delay * 1.5, 0.5)
            try:
                current = self.inspect(ref)
            except ContainerNotFound:
                # Removed on exit (run(remove=True)): it exited before it was ready.
                raise ContainerExited(current.name or ref, None) from None

    def up(
        self,
        stack: Stack,
        *,
        labels: Mapping[str, str] | None = None,
        timeout: float = 120,
    ) -> contextlib.AbstractContextManager[RunningStack]:
        """Start a :class:`~runtimes.Stack`; a context manager giving a
        :class:`~runtimes.stacks.RunningStack` (``s["db"]``, ``s.logs()``,
        ``s.exec(service, cmd)``).

        The whole stack is validated first (:class:`~runtimes.InvalidSpec`
        for a ``depends_on`` cycle or unknown service, nothing created).
        Then one network ``<name>-net``, the stack's volumes
        (``<name>-<volume>``) and built images are created, and the
        services start in dependency order, each named ``<name>-<service>``
        and reachable by its service name, each after its dependencies'
        conditions hold, each awaited with its ``ready`` conditions
        (:meth:`wait_for`; ``timeout`` seconds by default).  Everything
        carries ``labels`` and ``runtimes.stack=<name>``.  On exit, and if
        the start fails (:class:`~runtimes.StackFailed`, with the failing
        service's last log lines) or is interrupted (``KeyboardInterrupt``),
        everything is removed, containers first.
        """
        from runtimes import stacks

        return stacks.up(self, stack, labels=labels, timeout=timeout)

    def down(self, name: str) -> list[str]:
        """Remove everything labelled ``runtimes.stack=<name>``: what a
        crashed :meth:`up` left.  Returns what was removed."""
        from runtimes import stacks

        return stacks.down(self, name)

    def _last_lines(self, ref: str, count: int = 20) -> list[str]:
        with contextlib.suppress(RuntimesError):
            return [line.text for line in self.logs(ref, tail=count)]
        return []

    def stop(self, container: ContainerRef, timeout: float | None = None) -> None:
        """Send the stop signal (``Container.stop_signal``), then SIGKILL after
        ``timeout`` seconds; ``None``: the container's ``stop_timeout``
        (``run(stop_timeout=)``, else 10)."""
        ref = _specs.check_ref(container)
        seconds = _specs.check_seconds(timeout, "timeout", optional=True)
        if seconds is None:
            # Read here rather than left to each engine: nerdctl keeps it in
            # a label that only its CLI's own default reads.
            seconds = float(self._inspect(ref).stop_timeout or 0)
        self._stop(ref, timeout=seconds)

    def kill(self, container: ContainerRef, signal: str | int = "SIGKILL") -> None:
        """Send a signal (``"SIGTERM"``, ``"TERM"`` or ``15``) to the main process."""
        ref = _specs.check_ref(container)
        self._kill(ref, signal=_specs.check_signal(signal))

    def wait(self, container: ContainerRef, timeout: float | None = None) -> int:
        """Block until the container exits and return its exit code.

        ``timeout`` is container time: :class:`~runtimes.Timeout` if it is
        still running then (it is left running); ``0`` checks once.
        """
        ref = _specs.check_ref(container)
        seconds = _specs.check_seconds(timeout, "timeout", optional=True)
        if seconds == 0:
            current = self._inspect(ref)
            if current.state in (ContainerState.EXITED, ContainerState.DEAD):
                return current.exit_code if current.exit_code is not None else -1
            raise Timeout(f"{self.name}: container {ref} is still running")
        return self._wait(ref, timeout=seconds)

    def remove(self, container: ContainerRef, *, force: bool = False) -> None:
        """Remove a container; ``force`` kills it first if it runs."""
        ref = _specs.check_ref(container)
        self._remove(ref, force=_specs.check_flag(force, "force"))

    @overload
    def exec(
        self,
        container: ContainerRef,
        command: str | Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        workdir: str | None = None,
        user: str | None = None,
        stdin: bytes | IO[bytes] | None = None,
        stream: Literal[False] = False,
        detach: Literal[False] = False,
        tty: bool = False,
    ) -> ExecResult: ...

    @overload
    def exec(
        self,
        container: ContainerRef,
        command: str | Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        workdir: str | None = None,
        user: str | None = None,
        stdin: bytes | IO[bytes] | None = None,
        stream: Literal[True],
        detach: Literal[False] = False,
        tty: bool = False,
    ) -> ExecStream: ...

    @overload
    def exec(
        self,
        container: ContainerRef,
        command: str | Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        workdir: str | None = None,
        user: str | None = None,
        stdin: None = None,
        stream: Literal[False] = False,
        detach: Literal[True],
        tty: Literal[False] = False,
    ) -> None: ...

    def exec(
        self,
        container: ContainerRef,
        command: str | Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        workdir: str | None = None,
        user: str | None = None,
        stdin: bytes | IO[bytes] | None = None,
        stream: bool = False,
        detach: bool = False,
        tty: bool = False,
    ) -> ExecResult | ExecStream | None:
        """Run a command in a running container.

        By default, wait for it and return its output and exit code as an
        :class:`~runtimes.ExecResult`.  The command's own exit code is
        returned, whatever it is (``127`` when the executable is missing);
        only the runtime failing raises.

        ``stdin`` (bytes, or a file opened in binary mode, read to its end)
        is the command's input, followed by end of file; without it the
        command reads nothing.  ``stream=True`` returns an
        :class:`~runtimes.ExecStream` at once: an iterator of
        :class:`~runtimes.LogLine` tagged ``stdout``/``stderr`` as the
        command writes them, whose ``exit_code`` is set once it is
        exhausted (close it, or use it as a context manager, to stop early).
        A container that is missing or not running raises before it is
        returned.  ``detach=True`` starts the command and returns ``None``
        at once, without waiting for it or its output.  ``tty=True`` runs it
        on a terminal: all output comes as ``stdout``, with ``\r\n`` line
        ends; not with ``stdin`` (a terminal never ends its input).
        """
        spec = _specs.exec_spec(
            container,
            command,
            env=env,
            workdir=workdir,
            user=user,
            stdin=stdin,
            stream=stream,
            detach=detach,
            tty=tty,
        )
        if spec.stdin is not None:
            self._require(Capability.EXEC_STDIN, "exec with stdin")
        if spec.env or spec.workdir is not None or spec.user is not None:
            self._require_on(
                spec.container, Capability.EXEC_OPTIONS, "exec with env, workdir or user"
            )
        with _redact.secrets(spec.env):
            if detach:
                self._exec_detached(spec)
                return None
            if stream:
                return self._exec_stream(spec)
            return self._exec(spec)

    def _require_running(self, ref: str, operation: str) -> None:
        """For adapters whose failure would otherwise show only later (a CLI
        stream): :class:`~runtimes.ContainerNotFound`, or
        :class:`~runtimes.CommandFailed` when the container is not running."""
        state = self._inspect(ref).state
        if state is not ContainerState.RUNNING:
            raise CommandFailed(
                f"container {ref} is {state}, not running",
                runtime=self.name,
                operation=operation,
            )

    # -- files in and out -------------------------------------------------

    def copy_to(
        self,
        container: ContainerRef,
        source: str | os.PathLike[str] | bytes,
        dest_path: str,
    ) -> None:
        """Copy a local file or directory, or ``bytes``, into a container,
        running or stopped.

        ``dest_path`` is the absolute path the copy gets.  A file (or
        ``bytes``, written with mode ``0644``) becomes the file
        ``dest_path``, replacing one that is there; if ``dest_path`` is an
        existing directory, the file goes inside it under its own name (for
        ``bytes``: the last component of ``dest_path``), as ``cp`` does.  A
        directory becomes the directory ``dest_path``: created if missing,
        else merged into it (existing files of the same name are replaced,
        and the directory takes the source's mode).  Modes are kept; the
        copies belong to the container's root.  Symbolic links inside a tree
        stay links; a ``source`` that is a link is followed (and the copy
        named after its target).

        ``dest_path`` must be absolute, without ``..``
        (:class:`~runtimes.InvalidSpec`), and the directory it goes in must
        exist (:class:`~runtimes.PathNotFound`, also a
        ``FileNotFoundError``).  A missing local ``source`` is
        :class:`~runtimes.InvalidSpec`, a missing container
        :class:`~runtimes.ContainerNotFound`.
        """
        ref = _specs.check_ref(container)
        dest = _specs.check_container_path(dest_path, "dest_path")
        checked = _specs.check_copy_source(source)
        self._check_copy(ref, "copy_to")
        if isinstance(checked, str):
            self._copy_to(ref, os.path.realpath(checked), dest)
            return
        with tempfile.TemporaryDirectory(prefix="runtimes-copy-") as tmp:
            path = os.path.join(tmp, posixpath.basename(dest))
            with open(path, "wb") as fh:
                fh.write(checked)
            os.chmod(path, 0o644)
            self._copy_to(ref, path, dest)

    def copy_from(
        self,
        container: ContainerRef,
        src_path: str,
        dest: str | os.PathLike[str] | None = None,
    ) -> bytes | None:
        """Copy a file or directory out of a container, running or stopped.

        Without ``dest``, return the bytes of the file ``src_path``; a
        directory then raises :class:`~runtimes.InvalidSpec` (give
        ``dest``).  With ``dest``, a local path, write the copy there and
        return ``None``, with the same rules as :meth:`copy_to`: a file
        becomes the file ``dest`` (or goes inside ``dest`` if that is a
        directory), a directory becomes the directory ``dest`` (created, or
        merged into).  Modes are kept (without set-id and sticky bits); the
        copies belong to the calling user; nothing in the archive may land
        outside ``dest``.  A ``src_path`` that is a symbolic link is
        followed.

        ``src_path`` must be absolute, without ``..``; the directory of
        ``dest`` must exist (:class:`~runtimes.InvalidSpec`).  A missing
        ``src_path`` raises :class:`~runtimes.PathNotFound` (also a
        ``FileNotFoundError``).
        """
        ref = _specs.check_ref(container)
        path = _specs.check_container_path(src_path, "src_path")
        target = _specs.check_copy_destination(dest)
        self._check_copy(ref, "copy_from")
        if target is None:
            with tempfile.TemporaryDirectory(prefix="runtimes-copy-") as tmp:
                copy = os.path.join(tmp, "copy")
                self._copy_from(ref, path, copy)
                if os.path.isdir(copy):
                    raise InvalidSpec(
                        f"{path} is a directory in {ref}: copy_from(..., dest=LOCAL_DIR) "
                        "writes a directory; without dest only a file's bytes are returned"
                    )
                with open(copy, "rb") as fh:
                    return fh.read()
        # Next to dest, so that the copy is renamed into place, not copied twice.
        with tempfile.TemporaryDirectory(
            prefix=".runtimes-copy-", dir=os.path.dirname(target)
        ) as tmp:
            copy = os.path.join(tmp, "copy")
            self._copy_from(ref, path, copy)
            _place(copy, target, posixpath.basename(path))
        return None

    # -- the rest of the lifecycle -------------------------------------------

    def create(
        self,
        image: str,
        command: str | Sequence[str] | None = None,
        *,
        name: str | None = None,
        env: Mapping[str, str] | None = None,
        ports: Sequence[str | int | PortMapping] | str | None = None,
        volumes: Sequence[str | Mount] | str | None = None,
        labels: Mapping[str, str] | None = None,
        workdir: str | None = None,
        user: str | None = None,
        entrypoint: str | Sequence[str] | None = None,
        network: str | None = None,
        aliases: Sequence[str] | str = (),
        hostname: str | None = None,
        remove: bool = False,
        pull: str | None = None,
        healthcheck: Healthcheck | None = None,
        memory: int | str | None = None,
        cpus: float | None = None,
        restart_policy: str | None = None,
        init: bool = False,
        read_only: bool = False,
        cap_add: Sequence[str] | str | None = None,
        cap_drop: Sequence[str] | str | None = None,
        privileged: bool = False,
        tmpfs: Mapping[str, str] | Sequence[str] | str | None = None,
        shm_size: int | str | None = None,
        ulimits: Mapping[str, int | str | tuple[int, int]] | None = None,
        dns: Sequence[str] | str | None = None,
        extra_hosts: Mapping[str, str] | None = None,
        platform: str | None = None,
        stop_signal: str | int | None = None,
        stop_timeout: int | None = None,
    ) -> Container:
        """Create a container as :meth:`run` would, without starting it;
        return it as inspected (state ``CREATED``).

        Same arguments and errors as :meth:`run`; :meth:`start` starts it
        (and a process that cannot start raises there).  With
        ``remove=True`` the runtime deletes it once it exits after starting.
        """
        check = _specs.check_healthcheck(healthcheck)
        spec = _specs.run_spec(
            image,
            command,
            name=name,
            env=env,
            ports=ports,
            volumes=volumes,
            labels=labels,
            workdir=workdir,
            user=user,
            entrypoint=entrypoint,
            network=network,
            aliases=aliases,
            hostname=hostname,
            remove=remove,
            builtin_networks=self.builtin_networks,
            memory=memory,
            cpus=cpus,
            restart_policy=restart_policy,
            init=init,
            read_only=read_only,
            cap_add=cap_add,
            cap_drop=cap_drop,
            privileged=privileged,
            tmpfs=tmpfs,
            shm_size=shm_size,
            ulimits=ulimits,
            dns=dns,
            extra_hosts=extra_hosts,
            platform=platform,
            stop_signal=stop_signal,
            stop_timeout=stop_timeout,
        )
        return self._make(self._with_healthcheck(spec, check), pull, self._create)

    def start(self, container: ContainerRef) -> None:
        """Start a created or stopped container; starting a running one does
        nothing.  :class:`~runtimes.CommandFailed` if its process cannot
        start (the container stays, stopped)."""
        self._start(_specs.check_ref(container))

    def restart(self, container: ContainerRef, timeout: float = 10) -> None:
        """Stop the container (the stop signal, then SIGKILL after
        ``timeout`` seconds) and start it again; a stopped one is started.
        It keeps its id, its file system and its volumes."""
        ref = _specs.check_ref(container)
        seconds = _specs.check_seconds(timeout, "timeout") or 0.0
        self._require_on(ref, Capability.CONTROL, "restart")
        self._restart(ref, timeout=seconds)

    def pause(self, container: ContainerRef) -> None:
        """Freeze every process of a running container (state ``PAUSED``);
        :class:`~runtimes.CommandFailed` if it is not running or already paused."""
        ref = _specs.check_ref(container)
        self._require_on(ref, Capability.CONTROL, "pause")
        self._pause(ref)

    def unpause(self, container: ContainerRef) -> None:
        """Thaw a paused container (state ``RUNNING`` again);
        :class:`~runtimes.CommandFailed` if it is not paused."""
        ref = _specs.check_ref(container)
        self._require_on(ref, Capability.CONTROL, "unpause")
        self._unpause(ref)

    def rename(self, container: ContainerRef, name: str) -> None:
        """Give a container another name; it keeps its id.
        :class:`~runtimes.NameConflict` if another container has the name."""
        ref = _specs.check_ref(container)
        new = _specs.check_name(name)
        self._require_on(ref, Capability.CONTROL, "rename")
        try:
            self._rename(ref, new)
        except NameConflict as exc:
            # Runtimes name the container or nothing; the taken name is `new`.
            raise NameConflict(new, str(exc)) from exc

    def stats(self, container: ContainerRef) -> Stats:
        """One sample of the container's CPU, memory, network and block I/O
        (see :class:`~runtimes.Stats` for what each runtime reports).  The
        CPU figure takes about a second to measure; a container that is not
        running reports ``0`` everywhere."""
        return self._stats(_specs.check_ref(container))

    def top(self, container: ContainerRef) -> list[Process]:
        """The processes running in the container, as the engine's host sees
        them (:class:`~runtimes.Process`); :class:`~runtimes.CommandFailed`
        if it is not running."""
        ref = _specs.check_ref(container)
        self._require_on(ref, Capability.TOP, "top")
        return self._top(ref)

    def prune(
        self,
        *,
        labels: Mapping[str, str] | None = None,
        containers: bool = True,
        images: bool = True,
        volumes: bool = True,
        networks: bool = True,
    ) -> PruneReport:
        """Remove what is not in use, and report it.

        In this order: containers that are not running (created, exited,
        dead), then user networks no container is attached to (never one of
        :attr:`builtin_networks`), then volumes no container uses, then
        images no container uses (tagged or not).  With ``labels``, only objects carrying every
        one of them are candidates; **on a shared machine, always give
        labels**.  Something in use, or that starts being used meanwhile,
        is left alone: its removal is refused, never forced.
        """
        checked = _specs.check_labels(labels)
        report: dict[str, list[str]] = {
            "containers": [],
            "images": [],
            "volumes": [],
            "networks": [],
        }
        # Every argument checked before anything is removed; a runtime
        # without volumes, networks or an image store (a cluster) has none
        # to prune.
        containers = _specs.check_flag(containers, "containers")
        networks = _specs.check_flag(networks, "networks")
        volumes = _specs.check_flag(volumes, "volumes")
        images = _specs.check_flag(images, "images")
        networks = networks and Capability.NETWORKS in self.capabilities
        volumes = volumes and Capability.VOLUMES in self.capabilities
        images = images and Capability.IMAGE_STORE in self.capabilities
        if containers:
            for c in self._ps(PsSpec(all=True, labels=checked)):
                if c.state in _PRUNABLE:
                    with contextlib.suppress(NotFound, CommandFailed, NameConflict):
                        self._remove(c.id, force=False)
                        report["containers"].append(c.id)
        if networks:
            report["networks"] = self._prune_networks(checked)
        if volumes:
            for volume in self._volumes(checked):
                with contextlib.suppress(NotFound, CommandFailed, NameConflict):
                    self._remove_volume(volume.name, force=False)
                    report["volumes"].append(volume.name)
        if images:
            candidates = self._images(checked)
            used = _images_in_use(self._ps(PsSpec(all=True))) if candidates else set()
            for image in candidates:
                if _is_used(image, used):
                    continue
                # By name, never by id: on nerdctl an id is a content digest
                # that identical images of other users share.
                with contextlib.suppress(NotFound, CommandFailed, NameConflict):
                    for ref in image.tags or (image.id,):
                        self._remove_image(ref, force=False)
                    report["images"].append(image.id)
        return PruneReport(
            containers=tuple(report["containers"]),
            images=tuple(report["images"]),
            volumes=tuple(report["volumes"]),
            networks=tuple(report["networks"]),
        )

    def _prune_networks(self, labels: Mapping[str, str]) -> list[str]:
        # Only networks with labels match a label filter; the engine's own
        # (bridge, podman...) are skipped by name as well, whatever they carry.
        candidates = [n for n in self._networks(labels) if n.name not in self.builtin_networks]
        if not candidates:
            return []
        # As remove_network: a stopped container's attachment counts too
        # (Docker and nerdctl would remove the network from under it).
        attached = {a.network for c in self._ps(PsSpec(all=True)) for a in c.networks}
        removed = []
        for network in candidates:
            if network.name in attached:
                continue
            with contextlib.suppress(NotFound, CommandFailed, NetworkInUse, NameConflict):
                self._remove_network(network.name)
                removed.append(network.name)
        return removed

    # -- registries -------------------------------------------------------

    def pull(
        self,
        ref: str,
        *,
        platform: str | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        auth: RegistryAuth | None = None,
    ) -> Image:
        """Fetch an image from its registry and return it.

        An unqualified name resolves to Docker Hub on every runtime
        (``postgres:16`` is ``docker.io/library/postgres:16``); a reference
        without tag or digest means ``:latest``.  ``on_progress`` receives
        :class:`~runtimes.Progress` events live, while the pull runs.
        Credentials come from ``auth``, else from the runtime's own store
        (:meth:`login`, ``~/.docker/config.json``, Podman's ``auth.json``).

        Raises :class:`~runtimes.ImageNotFound` for an unknown repository or
        tag, :class:`~runtimes.AuthenticationFailed` when the registry
        refuses, :class:`~runtimes.RegistryUnavailable` when it cannot be
        reached (or its TLS is not trusted), :class:`~runtimes.Timeout` when
        nothing arrives for the runtime's timeout.
        """
        spec = self._registry_spec(ref, platform=platform, auth=auth, on_progress=on_progress)
        with _redact.secrets(_auth_secrets(spec.auth)):
            found = self._pull(spec)
        return self._image(found)

    def push(
        self,
        ref: str,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        auth: RegistryAuth | None = None,
    ) -> str:
        """Send a local image to its registry; return the pushed manifest's
        digest (``sha256:...``).

        ``ref`` names the registry, as in ``127.0.0.1:5000/team/app:1``
        (:meth:`tag` a local image with that name first).  Errors as for
        :meth:`pull`; :class:`~runtimes.ImageNotFound` if ``ref`` is not local.
        """
        spec = self._registry_spec(ref, auth=auth, on_progress=on_progress, push=True)
        assert isinstance(spec, PushSpec)
        with _redact.secrets(_auth_secrets(spec.auth)):
            return self._push(spec)

    def tag(self, source: str, target: str) -> Image:
        """Give the local image ``source`` (reference or id) the name ``target``."""
        checked_source = _specs.check_image_ref(source)
        checked_target = _specs.check_image_ref(target)
        if _specs.is_image_id(checked_target):
            raise InvalidSpec(f"tag target {target!r} must be a name[:tag], not an id")
        self._tag(checked_source, checked_target)
        return self._image(checked_target)

    def login(
        self,
        registry: str,
        username: str,
        password: str | None = None,
        *,
        token: str | None = None,
    ) -> None:
        """Check credentials with ``registry`` and keep them in the runtime's
        own store, where its CLI and later calls find them.

        Give ``password`` or an access ``token`` (which registries accept in
        place of a password), not both.  The secret never reaches a command
        line, a log or an error.  :class:`~runtimes.AuthenticationFailed` if
        the registry refuses; nothing is stored then.
        """
        if (password is None) == (token is None):
            raise InvalidSpec("login needs a password or a token (one of them)")
        host = _specs.check_registry(registry)
        auth = _specs.check_auth(RegistryAuth(username, password or token or ""))
        assert auth is not None
        spec = PullSpec(
            ref=host,
            registry=host,
            auth=auth,
            insecure=host in self.insecure_registries,
            certs_dir=_specs.registry_certs_dir(self.registry_certs, host),
        )
        with _redact.secrets(_auth_secrets(auth)):
            self._login(spec)

    def logout(self, registry: str) -> None:
        """Forget the stored credentials for ``registry`` (none stored is fine)."""
        self._logout(_specs.check_registry(registry))

    def registry_is_insecure(self, registry: str) -> bool:
        """Whether pulls and pushes to ``registry`` accept plain HTTP or an
        unverified certificate: it is in ``insecure_registries``, or the
        engine's own configuration says so (dockerd always treats
        127.0.0.0/8 so, whatever its configuration)."""
        host = _specs.check_registry(registry)
        return host in self.insecure_registries or self._engine_trusts_blindly(host)

    def _engine_trusts_blindly(self, registry: str) -> bool:
        """Adapter hook: the engine skips TLS verification for ``registry``
        by its own configuration."""
        return False

    def _registry_spec(
        self,
        ref: str,
        *,
        platform: str | None = None,
        auth: RegistryAuth | None,
        on_progress: Callable[[Progress], None] | None,
        push: bool = False,
    ) -> PullSpec:
        spec = _specs.pull_spec(
            ref,
            platform=platform,
            auth=auth,
            on_progress=on_progress,
            insecure_registries=self.insecure_registries,
            registry_certs=self.registry_certs,
            push=push,
        )
        if Capability.PER_CALL_REGISTRY_TLS not in self.capabilities and (
            spec.certs_dir is not None
        ):
            raise Unsupported(
                f"{self.name}: the engine reads a registry's CA only from its own "
                f"configuration: copy {spec.certs_dir} to "
                f"{self.engine_certs_dir or 'the engine host'}/{spec.registry}/"
            )
        return spec

    # -- volumes ----------------------------------------------------------

    def create_volume(self, name: str, *, labels: Mapping[str, str] | None = None) -> Volume:
        """Create a named volume; :class:`~runtimes.NameConflict` if it exists."""
        checked = _specs.check_name(name)
        checked_labels = _specs.check_labels(labels)
        if self.volume_create_is_idempotent:
            with contextlib.suppress(VolumeNotFound):
                self._volume(checked)
                raise NameConflict(checked, f"{self.name}: volume {checked} already exists")
        return self._create_volume(checked, labels=checked_labels)

    def volume(self, name: str) -> Volume:
        """One named volume; :class:`~runtimes.VolumeNotFound`."""
        return self._volume(_specs.check_name(name))

    def volumes(self, *, labels: Mapping[str, str] | None = None) -> list[Volume]:
        """Named volumes, optionally only those carrying all ``labels``."""
        return self._volumes(_specs.check_labels(labels))

    def remove_volume(self, name: str, *, force: bool = False) -> None:
        """Remove a named volume; :class:`~runtimes.VolumeNotFound`."""
        self._remove_volume(_specs.check_name(name), force=_specs.check_flag(force, "force"))

    # -- networks ---------------------------------------------------------

    def create_network(
        self,
        name: str,
        *,
        labels: Mapping[str, str] | None = None,
        internal: bool = False,
        subnet: str | None = None,
    ) -> Network:
        """Create a user network; :class:`~runtimes.NameConflict` if the name exists.

        Containers on it reach each other by name, hostname and alias
        (:meth:`run`), and not containers on other networks by name (nor by
        address, with ``Capability.ISOLATED_NETWORKS``).  ``subnet`` is an
        IPv4 network like ``"10.89.3.0/24"``; ``None`` lets the runtime
        pick a free one.  A subnet that overlaps one of the runtime's
        networks raises :class:`~runtimes.CommandFailed` (Podman and
        nerdctl check the host's routes too, Docker only its own networks).
        Nothing is forwarded beyond an ``internal`` network
        (``Capability.INTERNAL_NETWORKS``, else
        :class:`~runtimes.Unsupported`).  Nothing is created when it fails.
        """
        spec = _specs.network_spec(
            name,
            labels=labels,
            internal=internal,
            subnet=subnet,
            builtin=self.builtin_networks,
        )
        if spec.internal:
            self._require(Capability.INTERNAL_NETWORKS, "internal networks")
        if spec.subnet is not None:
            self._require(Capability.NETWORK_SUBNETS, "choosing a network's subnet")
        return self._create_network(spec)

    def network(self, name: str) -> Network:
        """One network by name or id; :class:`~runtimes.NetworkNotFound`.

        ``host`` and ``none`` are network modes, not networks: not found.
        """
        checked = _specs.check_name(name)
        if checked in _specs.NETWORK_MODES:
            raise NetworkNotFound(
                checked, f"{self.name}: {checked} is a network mode, not a network"
            )
        return self._network(checked)

    def networks(self, *, labels: Mapping[str, str] | None = None) -> list[Network]:
        """Networks, optionally only those carrying all ``labels``.

        The runtime's default network is listed (Docker's and nerdctl's
        ``bridge``, Podman's ``podman``); the ``host`` and ``none`` modes are not.
        """
        wanted = _specs.check_labels(labels)
        return [
            n
            for n in self._networks(wanted)
            if n.name not in _specs.NETWORK_MODES
            and all(n.labels.get(k) == v for k, v in wanted.items())
        ]

    def remove_network(self, name: str) -> None:
        """Remove a user network.

        :class:`~runtimes.NetworkInUse` while any container, running or
        stopped, is attached to it (on every runtime: Docker and nerdctl
        would drop it from under stopped containers);
        :class:`~runtimes.NetworkNotFound`; :class:`~runtimes.InvalidSpec`
        for one of :attr:`builtin_networks`.
        """
        checked = _specs.check_network_name(name, self.builtin_networks)
        found = self._network(checked)
        users = [
            c.name or c.short_id
            for c in self._ps(PsSpec(all=True))
            if any(a.network == found.name for a in c.networks)
        ]
        if users:
            raise NetworkInUse(found.name, sorted(users))
        self._remove_network(found.name)

    def connect_network(
        self, container: ContainerRef, network: str, *, aliases: Sequence[str] | str = ()
    ) -> None:
        """Attach an existing container, running or not, to one more network.

        The other containers there reach it by name, hostname and
        ``aliases`` from then on.  Needs ``Capability.NETWORK_CONNECT``
        (and ``NETWORK_ALIASES`` for aliases): :class:`~runtimes.Unsupported`,
        after the same checks as elsewhere.  A container already on that
        network raises :class:`~runtimes.CommandFailed`.
        """
        ref = _specs.check_ref(container)
        net = _specs.check_name(network)
        checked = _specs.check_aliases(aliases, net, self.builtin_networks)
        if Capability.NETWORK_CONNECT not in self.capabilities or (
            checked and Capability.NETWORK_ALIASES not in self.capabilities
        ):
            # The same errors as the runtimes that can, before the refusal.
            self._inspect(ref)
            self.network(net)
            self._require(Capability.NETWORK_CONNECT, "connecting a container to a network")
            self._require(Capability.NETWORK_ALIASES, "network aliases")
        self._connect_network(ref, net, aliases=checked)

    def disconnect_network(self, container: ContainerRef, network: str) -> None:
        """Detach a container from a network; :class:`~runtimes.CommandFailed`
        if it is not attached.  Needs ``Capability.NETWORK_CONNECT``."""
        ref = _specs.check_ref(container)
        net = _specs.check_name(network)
        if Capability.NETWORK_CONNECT not in self.capabilities:
            self._inspect(ref)
            self.network(net)
            self._require(Capability.NETWORK_CONNECT, "disconnecting a container from a network")
        self._disconnect_network(ref, net)

    def _require(self, capability: Capability, what: str) -> None:
        if capability not in self.capabilities:
            reason = self.unsupported_reasons.get(capability, "the adapter does not provide it")
            raise Unsupported(
                f"{self.name} does not support {what}: {reason}", capability=capability
            )

    def _require_on(self, ref: str, capability: Capability, what: str) -> None:
        """:meth:`_require` for a verb on a container: a missing container is
        :class:`~runtimes.ContainerNotFound` first, as on every runtime."""
        if capability not in self.capabilities:
            self._inspect(ref)
            self._require(capability, what)

    def _check_copy(self, ref: str, operation: str) -> None:
        # Where a stopped container's files go with it (a pod), say so
        # rather than let the copy fail some other way.
        if (
            Capability.COPY_STOPPED not in self.capabilities
            and self._inspect(ref).state is not ContainerState.RUNNING
        ):
            self._require(
                Capability.COPY_STOPPED, f"{operation} on a container that is not running"
            )

    def _check_bases(self, spec: BuildSpec, policy: str) -> None:
        # Builders differ: Docker's classic builder pulls a missing base even
        # with pull=False.  The policy is applied here, before the builder.
        path = os.path.join(spec.context, spec.dockerfile or "Dockerfile")
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                bases = _specs.dockerfile_bases(fh.read())
        except OSError:
            return  # the builder reports a missing Dockerfile itself
        for ref in bases:
            try:
                checked = _specs.check_image_ref(ref)
                if policy == "always":
                    self.pull(checked)
                    continue
                self._image(checked)
            except ImageNotFound as exc:
                if policy == "missing":
                    self.pull(checked)
                    continue
                raise BuildFailed(
                    f"base image {ref} is not a local image and the pull policy is "
                    f"'never': pull it first (runtime.pull({ref!r})) or build(pull='missing')",
                    runtime=self.name,
                ) from exc
            except InvalidSpec as exc:
                raise BuildFailed(f"invalid base image {ref}: {exc}", runtime=self.name) from exc

    def _check_run_options(self, spec: RunSpec) -> None:
        """The run options this runtime cannot honour, refused before
        anything is created (:class:`~runtimes.Unsupported` naming the
        capability): an engine has them all, a pod some (docs/kubernetes.md)."""
        if spec.remove:
            self._require(Capability.AUTO_REMOVE, "remove=True")
        if spec.restart_policy is not None and spec.restart_policy not in ("no", "always"):
            self._require(Capability.RESTART_POLICIES, f"restart_policy={spec.restart_policy!r}")
        if spec.init:
            self._require(Capability.INIT, "run(init=True)")
        if spec.ulimits:
            self._require(Capability.ULIMITS, "run(ulimits=)")
        if spec.stop_signal is not None:
            self._require(Capability.STOP_SIGNAL, f"stop_signal={spec.stop_signal!r}")
        for path, options in spec.tmpfs.items():
            extra = [o for o in options.split(",") if o and not o.lower().startswith("size=")]
            if extra:
                self._require(Capability.TMPFS_OPTIONS, f"tmpfs {path} options {','.join(extra)!r}")
        if spec.platform is not None:
            self._require(Capability.PLATFORM, f"platform={spec.platform!r}")

    def _check_cpus(self, cpus: float) -> None:
        """Docker refuses more CPUs than its host has ("Range of CPUs is from
        0.01 to 2.00"); Podman and nerdctl set a quota no process can use
        up.  Refused here on every runtime, as the typo it usually is."""
        if self._host_cpus is None:
            self._host_cpus = self._info().cpus or 0
        if self._host_cpus and cpus > self._host_cpus:
            raise InvalidSpec(
                f"cpus={cpus:g}, but the engine's host has {self._host_cpus} CPUs: "
                f"use 0.01 to {self._host_cpus}"
            )

    def _check_platform(self, ref: str, platform: str) -> None:
        """A local image for another platform is not the image asked for.

        Engines differ: Docker refuses it, Podman says "image not known",
        nerdctl 2.0 creates the container anyway (and it fails with "exec
        format error").  Checked here, on the image's own record.
        """
        raw = self._image(ref).raw
        wanted = platform.split("/")
        found = [str(raw.get(k) or "") for k in ("Os", "Architecture", "Variant")]
        if not found[0] or not found[1]:
            return  # the runtime does not say: its engine decides
        if wanted[:2] != found[:2] or (len(wanted) == 3 and found[2] and wanted[2] != found[2]):
            actual = "/".join(part for part in found if part)
            raise ImageNotFound(
                ref, f"image {ref} is for {actual}, not {platform}: pull it for {platform} first"
            )

    def _own(self, container: Container) -> Container:
        # Container.runtime names the adapter the caller used, whatever
        # produced it; a published port of a remote engine is reached at the
        # engine's host (testcontainers #2811), decided here for every verb.
        changes: dict[str, Any] = {}
        if container.runtime != self.name:
            changes["runtime"] = self.name
        if self.engine_host is not None and container.ports:
            changes["ports"] = tuple(
                attrs.evolve(p, host=connect_host(p.host_ip, self.engine_host))
                for p in container.ports
            )
        return attrs.evolve(container, **changes) if changes else container

    # -- what an adapter implements ---------------------------------------------
    #
    # Every argument is validated; references are names or ids, never a
    # Container.  Each method raises the library's errors, never its backend's.

    @abc.abstractmethod
    def _info(self) -> RuntimeInfo:
        """The engine's version and platform (``name`` and ``capabilities`` are filled in)."""

    @abc.abstractmethod
    def _build(self, spec: BuildSpec) -> str:
        """Build and return the new image's id; :class:`~runtimes.BuildFailed`."""

    @abc.abstractmethod
    def _images(self, labels: Mapping[str, str]) -> list[Image]:
        """Local images carrying every one of ``labels``."""

    @abc.abstractmethod
    def _image(self, ref: str) -> Image:
        """One local image; :class:`~runtimes.ImageNotFound`."""

    @abc.abstractmethod
    def _remove_image(self, ref: str, *, force: bool) -> None:
        """Remove or untag one image."""

    @abc.abstractmethod
    def _run(self, spec: RunSpec) -> str:
        """Create and start, return the full id.

        A container that was created but could not start is removed first.
        """

    @abc.abstractmethod
    def _ps(self, spec: PsSpec) -> list[Container]:
        """List containers; may return more names than ``spec.name`` (filtered after)."""

    @abc.abstractmethod
    def _inspect(self, ref: str) -> Container:
        """Every field of one container; :class:`~runtimes.ContainerNotFound`."""

    @abc.abstractmethod
    def _logs(self, spec: LogsSpec) -> Iterator[LogLine]:
        """The log lines; a missing container raises before the iterator is returned."""

    @abc.abstractmethod
    def _stop(self, ref: str, *, timeout: float) -> None:
        """Stop signal, then SIGKILL after ``timeout`` seconds."""

    @abc.abstractmethod
    def _kill(self, ref: str, *, signal: str) -> None:
        """Send ``signal`` (``"SIGUSR1"`` or a number as text)."""

    @abc.abstractmethod
    def _wait(self, ref: str, *, timeout: float | None) -> int:
        """Wait for the exit; :class:`~runtimes.Timeout` after ``timeout`` seconds."""

    @abc.abstractmethod
    def _remove(self, ref: str, *, force: bool) -> None:
        """Remove one container (killing it first if ``force``)."""

    @abc.abstractmethod
    def _exec(self, spec: ExecSpec) -> ExecResult:
        """Run a command in the container and collect its output and exit code
        (``spec.stdin`` fed to it, ``spec.tty`` a terminal)."""

    @abc.abstractmethod
    def _exec_stream(self, spec: ExecSpec) -> ExecStream:
        """Start the command and return its output as it comes; a missing or
        stopped container raises here, not on the first ``next()``."""

    @abc.abstractmethod
    def _exec_detached(self, spec: ExecSpec) -> None:
        """Start the command and return without waiting for it."""

    @abc.abstractmethod
    def _copy_to(self, ref: str, source: str, dest: str) -> None:
        """Copy the local file or directory ``source`` (absolute, existing)
        so that it becomes ``dest`` in the container, with the rules of
        :meth:`copy_to`; :class:`~runtimes.PathNotFound` when the directory
        of ``dest`` is missing."""

    @abc.abstractmethod
    def _copy_from(self, ref: str, path: str, target: str) -> None:
        """Write the container's ``path`` (a link followed) to the local
        ``target``, which does not exist yet but whose directory does;
        :class:`~runtimes.PathNotFound` when ``path`` is missing."""

    @abc.abstractmethod
    def _create(self, spec: RunSpec) -> str:
        """Create without starting, return the full id."""

    @abc.abstractmethod
    def _start(self, ref: str) -> None:
        """Start; a running container is left as it is."""

    @abc.abstractmethod
    def _restart(self, ref: str, *, timeout: float) -> None:
        """Stop (SIGKILL after ``timeout`` seconds) and start again."""

    @abc.abstractmethod
    def _pause(self, ref: str) -> None:
        """Freeze the container's processes."""

    @abc.abstractmethod
    def _unpause(self, ref: str) -> None:
        """Thaw them."""

    @abc.abstractmethod
    def _rename(self, ref: str, name: str) -> None:
        """Rename; :class:`~runtimes.NameConflict` if ``name`` is taken."""

    @abc.abstractmethod
    def _stats(self, ref: str) -> Stats:
        """One sample, CPU over about a second; zeros when not running."""

    @abc.abstractmethod
    def _top(self, ref: str) -> list[Process]:
        """The processes, with host pids."""

    @abc.abstractmethod
    def _pull(self, spec: PullSpec) -> str:
        """Pull ``spec.ref`` (qualified), emitting progress; return a reference
        or id that :meth:`_image` finds."""

    @abc.abstractmethod
    def _push(self, spec: PushSpec) -> str:
        """Push ``spec.ref``, emitting progress; return the manifest digest."""

    @abc.abstractmethod
    def _tag(self, source: str, target: str) -> None:
        """Add the name ``target`` to the local image ``source``."""

    @abc.abstractmethod
    def _login(self, spec: PullSpec) -> None:
        """Verify ``spec.auth`` with ``spec.registry`` and store it."""

    @abc.abstractmethod
    def _logout(self, registry: str) -> None:
        """Remove stored credentials for ``registry``; none is not an error."""

    @abc.abstractmethod
    def _create_volume(self, name: str, *, labels: Mapping[str, str]) -> Volume:
        """Create a volume; see :attr:`volume_create_is_idempotent`."""

    @abc.abstractmethod
    def _volume(self, name: str) -> Volume:
        """One volume; :class:`~runtimes.VolumeNotFound`."""

    @abc.abstractmethod
    def _volumes(self, labels: Mapping[str, str]) -> list[Volume]:
        """Volumes carrying every one of ``labels``."""

    @abc.abstractmethod
    def _remove_volume(self, name: str, *, force: bool) -> None:
        """Remove one volume; :class:`~runtimes.VolumeNotFound`."""

    @abc.abstractmethod
    def _create_network(self, spec: NetworkSpec) -> Network:
        """Create a network; :class:`~runtimes.NameConflict` if the name exists."""

    @abc.abstractmethod
    def _network(self, name: str) -> Network:
        """One network by name or id; :class:`~runtimes.NetworkNotFound`."""

    @abc.abstractmethod
    def _networks(self, labels: Mapping[str, str]) -> list[Network]:
        """Networks carrying every one of ``labels`` (filtered again after)."""

    @abc.abstractmethod
    def _remove_network(self, name: str) -> None:
        """Remove one network that no container uses; :class:`~runtimes.NetworkNotFound`."""

    def _connect_network(self, ref: str, network: str, *, aliases: tuple[str, ...]) -> None:
        """Attach a container to a network (``Capability.NETWORK_CONNECT``)."""
        self._require(Capability.NETWORK_CONNECT, "connecting a container to a network")

    def _disconnect_network(self, ref: str, network: str) -> None:
        """Detach a container from a network (``Capability.NETWORK_CONNECT``)."""
        self._require(Capability.NETWORK_CONNECT, "disconnecting a container from a network")


#: States ``prune`` removes: the container has no process.
_PRUNABLE = (ContainerState.CREATED, ContainerState.EXITED, ContainerState.DEAD)


def _images_in_use(containers: Sequence[Container]) -> set[str]:
    """How the containers name their images: references and ids, ``sha256:`` removed."""
    used: set[str] = set()
    for c in containers:
        for ref in (c.image, c.raw.get("ImageID"), c.raw.get("Image")):
            if isinstance(ref, str) and ref:
                used.add(ref.removeprefix("sha256:"))
    return used


def _is_used(image: Image, used: set[str]) -> bool:
    """Whether a container names ``image`` by a tag, its id or a prefix of it."""
    if any(tag in used for tag in image.tags):
        return True
    digest = image.id.removeprefix("sha256:")
    return any(len(ref) >= 12 and digest.startswith(ref) for ref in used)


def _place(copy: str, target: str, name: str) -> None:
    """Move a fresh local copy to ``target`` by the rules of ``copy_from``.

    A file replaces ``target``, or goes into it under ``name`` when it is a
    directory; a directory becomes ``target`` or is merged into it.
    """
    if not os.path.isdir(copy) or os.path.islink(copy):
        final = os.path.join(target, name) if os.path.isdir(target) else target
        if os.path.isdir(final) and not os.path.islink(final):
            raise InvalidSpec(f"cannot replace the directory {final} with a file")
        os.replace(copy, final)
    elif not os.path.lexists(target):
        os.rename(copy, target)
    elif os.path.isdir(target):
        _merge(copy, target)
    else:
        raise InvalidSpec(f"cannot copy a directory onto the file {target}")


def _merge(source: str, target: str) -> None:
    for entry in os.scandir(source):
        into = os.path.join(target, entry.name)
        if entry.is_dir(follow_symlinks=False) and os.path.isdir(into):
            _merge(entry.path, into)
            continue
        if os.path.isdir(into) and not os.path.islink(into):
            raise InvalidSpec(f"cannot replace the directory {into} with a file")
        os.replace(entry.path, into)
    shutil.copymode(source, target)


def _auth_secrets(auth: RegistryAuth | None) -> dict[str, str]:
    # The password is masked in any message raised while it is in use.
    return {"password": auth.password} if auth is not None else {}


def _nothing() -> None:
    pass


_HEALTH_LOCK = threading.Lock()


def _in_start_period(container: Container, check: Healthcheck) -> bool:
    if container.started_at is None or not check.start_period:
        return False
    age = (datetime.now(UTC) - container.started_at).total_seconds()
    return age < check.start_period


def _tcp_ready(host: str, port: int, budget: float) -> bool:
    """A connection that stays open: Docker's userland proxy accepts and then
    drops connections to a port nothing listens on yet."""
    try:
        with socket.create_connection((host, port), timeout=min(budget, 2.0)) as sock:
            sock.settimeout(min(budget, 0.3))
            try:
                return sock.recv(1) != b""  # a greeting: ready; EOF: dropped
            except TimeoutError:
                return True  # open and waiting for the client to speak
    except OSError:
        return False


def _http_ready(host: str, port: int, path: str, budget: float) -> bool:
    conn = http.client.HTTPConnection(host, port, timeout=min(budget, 2.0))
    try:
        conn.request("GET", path)
        return 200 <= conn.getresponse().status < 400
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()
