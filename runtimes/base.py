"""The ``Runtime`` interface: the contract every adapter fulfils.

The docstrings here are normative.  Adapters subclass :class:`Runtime`,
implement every abstract method, declare their optional behaviours in
``capabilities``, and are checked by the shipped contract suite
(:mod:`runtimes.testing`).

Arguments named ``container`` accept a :class:`~runtimes.Container`, a name
or an id (full or unambiguous prefix).  Errors are always
:class:`~runtimes.RuntimesError` subclasses; see :mod:`runtimes.errors`.
"""

from __future__ import annotations

import abc
import contextlib
import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

from runtimes import _normalize, _specs
from runtimes._redact import remember_secrets
from runtimes.errors import ContainerNotFound, InvalidSpec
from runtimes.models import (
    Capability,
    Container,
    ContainerState,
    ExecResult,
    Image,
    LogLine,
    Mount,
    PortMapping,
    RuntimeInfo,
    Volume,
)

__all__ = ["ContainerRef", "Runtime", "RunSpec"]

log = logging.getLogger("runtimes")

ContainerRef = Container | str
Since = datetime | timedelta | float | int | str


class RunSpec:
    """Validated arguments of ``run``, shared by every adapter.

    Built once in :meth:`Runtime.run` so that adapters only translate, and
    bad input raises :class:`~runtimes.InvalidSpec` the same way everywhere.
    """

    __slots__ = (
        "command",
        "entrypoint",
        "env",
        "image",
        "labels",
        "name",
        "network",
        "ports",
        "remove",
        "user",
        "volumes",
        "workdir",
    )

    def __init__(
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
        remove: bool = False,
    ) -> None:
        self.image = _specs.check_image_ref(image)
        self.command = _specs.check_command(command)
        self.name = _specs.check_name(name) if name is not None else None
        self.env = _specs.check_env(env)
        remember_secrets(self.env)
        self.ports = _specs.parse_ports(ports)
        self.volumes = _specs.parse_volumes(volumes)
        self.labels = _specs.check_labels(labels)
        if workdir is not None and not workdir.startswith("/"):
            raise InvalidSpec(f"workdir {workdir!r} must be an absolute path")
        self.workdir = workdir
        self.user = user or None
        self.entrypoint = _specs.check_command(entrypoint, "entrypoint")
        self.network = network
        self.remove = remove

    def __repr__(self) -> str:
        env = {k: "***" for k in self.env}
        return (
            f"RunSpec(image={self.image!r}, command={self.command!r}, "
            f"name={self.name!r}, env={env!r})"
        )


class Runtime(abc.ABC):
    """One container engine, reached through one adapter.

    Instances are cheap to create and safe to share between threads.  Use
    :func:`runtimes.connect` rather than instantiating adapters directly.
    A runtime is also a context manager; :meth:`close` releases what the
    adapter holds (HTTP sessions, a private Podman service).
    """

    #: Registry name of the adapter (``"docker"``, ``"podman"``...).
    name: ClassVar[str]
    #: Optional behaviours this adapter provides.
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    #: Options the adapter accepts from ``connect(**options)``, env or config.
    options: ClassVar[tuple[str, ...]] = ()
    #: Seconds a single call may take before :class:`~runtimes.Timeout`.
    default_timeout: float = 120.0

    @classmethod
    @abc.abstractmethod
    def detect(cls, **options: Any) -> str | None:
        """Check without side effects whether this runtime is usable here.

        Return ``None`` when it is installed and reachable, else the reason
        why not (with the fix), for ``runtimes info``.
        """

    # -- lifecycle of the adapter --------------------------------------

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release connections and helper processes; the object is unusable after."""

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    @abc.abstractmethod
    def info(self) -> RuntimeInfo:
        """Version and platform of the engine."""

    # -- images -----------------------------------------------------------

    @abc.abstractmethod
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
    ) -> Image:
        """Build an image from ``context_dir`` and return it.

        ``dockerfile`` is a path relative to the context (default
        ``Dockerfile``).  ``on_output`` is called with each line of build
        output, without its newline, as soon as the builder prints it.
        Never pulls base images that are missing.  No intermediate container
        is left behind, even when the build fails.

        Raises :class:`~runtimes.BuildFailed` with the output's last lines.
        """

    @abc.abstractmethod
    def images(self, *, labels: Mapping[str, str] | None = None) -> list[Image]:
        """Local images, optionally only those carrying all ``labels``."""

    @abc.abstractmethod
    def image(self, ref: str) -> Image:
        """One local image by reference or id; :class:`~runtimes.ImageNotFound`."""

    @abc.abstractmethod
    def remove_image(self, ref: str, *, force: bool = False) -> None:
        """Remove a local image (untag it if other tags remain)."""

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
        remove: bool = False,
    ) -> Container:
        """Create and start a container, detached; return it as inspected.

        The image must exist locally: it is never pulled
        (:class:`~runtimes.ImageNotFound`).  A port without a host port gets
        a free one, reported in ``Container.ports``.  If the container is
        created but cannot start, it is removed before the error is raised.
        With ``remove=True`` the runtime deletes it once it exits.
        """
        spec = RunSpec(
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
            remove=remove,
        )
        container_id = self._run(spec)
        try:
            return self.inspect(container_id)
        except ContainerNotFound:
            # remove=True and the process already exited: the runtime deleted it.
            return Container(
                id=container_id,
                name=spec.name or "",
                image=spec.image,
                command=tuple(spec.command or ()),
                state=ContainerState.EXITED,
                labels=spec.labels,
                runtime=self.name,
            )

    @abc.abstractmethod
    def _run(self, spec: RunSpec) -> str:
        """Adapter half of :meth:`run`: create and start, return the full id.

        A container that was created but could not start is removed first.
        """

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
        checked_labels = _specs.check_labels(labels)
        checked_name = _specs.check_name(name) if name is not None else None
        found = self._ps(all, checked_labels, checked_name)
        # Runtimes' name filters match substrings or patterns; the contract is exact.
        return [c for c in found if checked_name is None or c.name == checked_name]

    @abc.abstractmethod
    def _ps(self, all: bool, labels: dict[str, str], name: str | None) -> list[Container]:  # noqa: A002
        """Adapter half of :meth:`ps`; may return more names than asked."""

    @abc.abstractmethod
    def inspect(self, container: ContainerRef) -> Container:
        """Every field of one container; :class:`~runtimes.ContainerNotFound`."""

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
    ) -> Iterator[LogLine]:
        """The container's output, line by line, each tagged with its stream.

        With ``follow`` the iterator ends when the container exits.  A line
        the runtime stored in several records comes back as one
        :class:`~runtimes.LogLine`.  Bytes that are not UTF-8 never end the
        stream.  ``tail`` counts the runtime's records, which equal lines for
        lines shorter than 8 KiB.  ``since`` is a datetime, a timedelta (that
        long ago), epoch seconds or RFC 3339 text.  A missing container raises
        :class:`~runtimes.ContainerNotFound` here, not on the first ``next()``.
        Close the iterator to stop following early.
        """
        _specs.check_tail(tail)
        return self._logs(
            self._ref(container),
            follow=follow,
            tail=tail,
            since=_normalize.since_arg(since),
            timestamps=timestamps,
            stdout=stdout,
            stderr=stderr,
        )

    @abc.abstractmethod
    def _logs(
        self,
        ref: str,
        *,
        follow: bool,
        tail: int | None,
        since: int | None,
        timestamps: bool,
        stdout: bool,
        stderr: bool,
    ) -> Iterator[LogLine]:
        """Adapter half of :meth:`logs`; ``since`` is epoch seconds."""

    @abc.abstractmethod
    def stop(self, container: ContainerRef, timeout: float = 10) -> None:
        """Send the stop signal, then SIGKILL after ``timeout`` seconds."""

    @abc.abstractmethod
    def kill(self, container: ContainerRef, signal: str | int = "SIGKILL") -> None:
        """Send a signal to the container's main process."""

    @abc.abstractmethod
    def wait(self, container: ContainerRef, timeout: float | None = None) -> int:
        """Block until the container exits and return its exit code.

        ``timeout`` is container time: :class:`~runtimes.Timeout` if it is
        still running then (it is left running).
        """

    @abc.abstractmethod
    def remove(self, container: ContainerRef, *, force: bool = False) -> None:
        """Remove a container; ``force`` kills it first if it runs."""

    @abc.abstractmethod
    def exec(
        self,
        container: ContainerRef,
        command: str | Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        workdir: str | None = None,
        user: str | None = None,
    ) -> ExecResult:
        """Run a command in a running container and collect its output."""

    # -- volumes ----------------------------------------------------------

    @abc.abstractmethod
    def create_volume(self, name: str, *, labels: Mapping[str, str] | None = None) -> Volume:
        """Create a named volume; :class:`~runtimes.NameConflict` if it exists."""

    @abc.abstractmethod
    def volumes(self, *, labels: Mapping[str, str] | None = None) -> list[Volume]:
        """Named volumes, optionally only those carrying all ``labels``."""

    @abc.abstractmethod
    def remove_volume(self, name: str, *, force: bool = False) -> None:
        """Remove a named volume; :class:`~runtimes.VolumeNotFound`."""

    # -- helpers shared by adapters -----------------------------------------

    @staticmethod
    def _ref(container: ContainerRef) -> str:
        if isinstance(container, Container):
            return container.id
        if not isinstance(container, str) or not container:
            raise InvalidSpec(f"expected a Container, a name or an id, got {container!r}")
        return container

    @staticmethod
    def _exec_spec(
        command: str | Sequence[str],
        env: Mapping[str, str] | None,
        workdir: str | None,
    ) -> tuple[list[str], dict[str, str]]:
        argv = _specs.check_command(command) or []
        if not argv:
            raise InvalidSpec("exec needs a command")
        checked_env = _specs.check_env(env)
        remember_secrets(checked_env)
        if workdir is not None and not workdir.startswith("/"):
            raise InvalidSpec(f"workdir {workdir!r} must be an absolute path")
        return argv, checked_env
