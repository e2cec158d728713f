"""Stacks: services started together on one network, and torn down together.

    >>> stack = Stack("shop", services={
    ...     "db": Service(image="pg:15", healthcheck=Healthcheck(test="pg_isready")),
    ...     "app": Service(image="app:1", ports=["127.0.0.1::8080"],
    ...                    depends_on={"db": "healthy"}, ready={"http": "/", "port": 8080}),
    ... })
    >>> with rt.up(stack) as s:
    ...     s["app"].port(8080).host_port

Everything a stack creates carries the label ``runtimes.stack=<name>``
(:data:`STACK_LABEL`), so :meth:`~runtimes.Runtime.down` sweeps up after a
crashed run.  Validation happens before anything is created.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from runtimes import _specs, _sweep
from runtimes.errors import InvalidSpec, NotFound, RuntimesError, Unsupported
from runtimes.models import (
    Capability,
    Container,
    ExecResult,
    Healthcheck,
    LogLine,
    MountType,
)

if TYPE_CHECKING:
    from runtimes.base import Runtime

__all__ = ["SERVICE_LABEL", "STACK_LABEL", "RunningStack", "Service", "Stack", "StackFailed"]

#: Label on every container, network, volume and image of a stack: its name.
STACK_LABEL = "runtimes.stack"
#: Label on a stack's container: its service's name.
SERVICE_LABEL = "runtimes.stack.service"
CONDITIONS = ("started", "healthy", "completed")
_READY_KEYS = frozenset({"log", "port", "http", "exec", "healthy", "timeout"})


class StackFailed(RuntimesError):
    """A stack could not start; everything it had created is removed.

    The message names the failing service and ends with its last log lines.
    """

    def __init__(self, stack: str, service: str, reason: str, logs: Sequence[str] = ()) -> None:
        #: The stack's name.
        self.stack = stack
        #: The service that failed.
        self.service = service
        #: That service's last log lines (empty if it never ran).
        self.logs = tuple(logs)
        tail = "".join(f"\n  | {line}" for line in self.logs)
        super().__init__(
            f"stack {stack}: service {service} failed: {reason}"
            + (f"\nlast log lines of {service}:{tail}" if tail and tail not in reason else "")
        )


@attrs.frozen(kw_only=True)
class Service:
    """One service of a :class:`Stack`: how to start one container."""

    #: Image reference (local; never pulled unless the runtime's policy says so).
    image: str | None = None
    #: Build context directory, instead of ``image``; built once per ``up``.
    build: str | None = None
    #: Command, as for :meth:`~runtimes.Runtime.run`.
    command: str | Sequence[str] | None = None
    #: Entrypoint, as for :meth:`~runtimes.Runtime.run`.
    entrypoint: str | Sequence[str] | None = None
    #: Environment variables.
    env: Mapping[str, str] = attrs.field(factory=dict)
    #: Ports to publish, as for :meth:`~runtimes.Runtime.run`.
    ports: Sequence[str | int] = ()
    #: ``name:/path`` (a volume of the stack, created and removed with it)
    #: or ``/host/path:/path`` mounts.
    volumes: Sequence[str] = ()
    #: A :class:`~runtimes.Healthcheck`, needed by ``depends_on`` ``"healthy"``.
    healthcheck: Healthcheck | None = None
    #: Services to wait for first, each with a condition: ``"started"``,
    #: ``"healthy"`` (its healthcheck passes) or ``"completed"`` (it exited 0).
    depends_on: Mapping[str, str] = attrs.field(factory=dict)
    #: Readiness: keyword arguments of :meth:`~runtimes.Runtime.wait_for`
    #: (``log``, ``port``, ``http``, ``exec``, ``healthy``, ``timeout``),
    #: awaited right after the start; empty: started is ready.
    ready: Mapping[str, Any] = attrs.field(factory=dict)
    #: More names the other services reach it by (its service name always
    #: works); needs ``Capability.NETWORK_ALIASES``.
    aliases: Sequence[str] = ()


@attrs.frozen
class Stack:
    """Services that start together on one network, in dependency order."""

    #: The stack's name: prefix of what it creates, value of :data:`STACK_LABEL`.
    name: str
    #: Services by name; the name is also the host name others reach it by.
    services: Mapping[str, Service] = attrs.field(kw_only=True)

    @classmethod
    def from_compose(cls, path: str | os.PathLike[str], name: str | None = None) -> Stack:
        """The services of a compose file (needs PyYAML: the ``compose`` extra).

        Reads ``image``, ``build`` (its ``context``), ``command``,
        ``entrypoint``, ``environment``, ``ports`` and ``volumes`` (short
        syntax), ``depends_on`` (a list, or conditions
        ``service_started``, ``service_healthy``,
        ``service_completed_successfully``), ``healthcheck`` and
        ``networks.default.aliases``; relative paths are relative to the
        file.  Any other key raises :class:`~runtimes.InvalidSpec` naming
        every such key.  ``name`` defaults to the file's ``name:``, else
        its directory's name.
        """
        from runtimes import _compose

        return _compose.load(path, name)


def plan(stack: Stack, capabilities: frozenset[Capability]) -> list[str]:
    """Validate the whole stack and return the service names in start order.

    :class:`~runtimes.InvalidSpec` for an unknown dependency, a cycle, a bad
    condition, service or option; :class:`~runtimes.Unsupported` for
    aliases without ``Capability.NETWORK_ALIASES``.
    """
    if not isinstance(stack, Stack):
        raise InvalidSpec(f"up() needs a Stack, got {type(stack).__name__}")
    _specs.check_name(stack.name)
    if not isinstance(stack.services, Mapping) or not stack.services:
        raise InvalidSpec(f"stack {stack.name}: no services")
    for name, service in stack.services.items():
        _specs.check_hostname(name, "service name")
        if not isinstance(service, Service):
            raise InvalidSpec(f"service {name}: expected a Service, got {type(service).__name__}")
        if (service.image is None) == (service.build is None):
            raise InvalidSpec(f"service {name}: give image= or build= (one of them)")
        if service.image is not None:
            _specs.check_image_ref(service.image)
        if service.build is not None and not os.path.isdir(service.build):
            raise InvalidSpec(f"service {name}: build context {service.build!r} is not a directory")
        _specs.check_command(service.command)
        _specs.check_command(service.entrypoint, "entrypoint")
        _specs.check_env(service.env)
        _specs.parse_ports(service.ports)
        _specs.parse_volumes(service.volumes)
        _specs.check_healthcheck(service.healthcheck)
        for alias in service.aliases:
            _specs.check_hostname(alias, "alias")
        if service.aliases and Capability.NETWORK_ALIASES not in capabilities:
            raise Unsupported(
                f"service {name}: aliases need network aliases, which this runtime lacks; "
                "other services reach it by its service name",
                capability=Capability.NETWORK_ALIASES,
            )
        if not isinstance(service.ready, Mapping) or set(service.ready) - _READY_KEYS:
            raise InvalidSpec(
                f"service {name}: ready= takes wait_for arguments {sorted(_READY_KEYS)}"
            )
        if service.ready.get("healthy") and service.healthcheck is None:
            raise InvalidSpec(f"service {name}: ready healthy=True needs a healthcheck")
        if not isinstance(service.depends_on, Mapping):
            raise InvalidSpec(f"service {name}: depends_on maps service names to conditions")
        for dep, condition in service.depends_on.items():
            if dep not in stack.services:
                raise InvalidSpec(f"service {name} depends on {dep!r}, which is not in the stack")
            if condition not in CONDITIONS:
                raise InvalidSpec(
                    f"service {name}: condition {condition!r} on {dep}: use one of {CONDITIONS}"
                )
            if condition == "healthy" and stack.services[dep].healthcheck is None:
                raise InvalidSpec(
                    f"service {name} waits for {dep} healthy: {dep} has no healthcheck"
                )
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = [*path[path.index(name) :], name]
            raise InvalidSpec(f"stack {stack.name}: depends_on cycle {' -> '.join(cycle)}")
        state[name] = "visiting"
        for dep in stack.services[name].depends_on:
            visit(dep, [*path, name])
        state[name] = "done"
        order.append(name)

    for name in stack.services:
        visit(name, [])
    return order


class RunningStack:
    """A stack that :meth:`~runtimes.Runtime.up` started: its containers by service."""

    def __init__(self, runtime: Runtime, stack: Stack, network: str) -> None:
        self.runtime = runtime
        self.stack = stack
        #: The stack's network.
        self.network = network
        self.containers: dict[str, Container] = {}
        self._volumes: list[str] = []
        self._images: list[str] = []

    def remove(self) -> None:
        """Remove every container, volume, network and image of the stack, last first."""
        _teardown(self.runtime, self, self._volumes, self._images)

    @property
    def name(self) -> str:
        """The stack's name."""
        return self.stack.name

    def __getitem__(self, service: str) -> Container:
        """The service's container, as inspected once it was ready."""
        try:
            return self.containers[service]
        except KeyError:
            raise KeyError(f"stack {self.name} has no running service {service!r}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.containers)

    def logs(self, service: str | None = None, **kwargs: Any) -> dict[str, list[LogLine]]:
        """Each service's log lines (or one service's), read now;
        ``kwargs`` as for :meth:`~runtimes.Runtime.logs` (not ``follow``)."""
        names = [service] if service is not None else list(self.containers)
        return {n: list(self.runtime.logs(self[n], **kwargs)) for n in names}

    def exec(self, service: str, command: str | Sequence[str], **kwargs: Any) -> ExecResult:
        """:meth:`~runtimes.Runtime.exec` in the service's container."""
        # exec's overloads cannot tell which one **kwargs picks.
        result: ExecResult = self.runtime.exec(self[service], command, **kwargs)
        return result


@contextlib.contextmanager
def up(
    runtime: Runtime, stack: Stack, *, labels: Mapping[str, str] | None, timeout: float
) -> Iterator[RunningStack]:
    """See :meth:`runtimes.Runtime.up`."""
    running = start(runtime, stack, labels=labels, timeout=timeout)
    try:
        yield running
    finally:
        running.remove()


def start(
    runtime: Runtime, stack: Stack, *, labels: Mapping[str, str] | None, timeout: float
) -> RunningStack:
    """Start the stack and leave it running (``runtimes up --detach``): the
    caller removes it with :meth:`RunningStack.remove` or
    :meth:`~runtimes.Runtime.down`.  A failed start leaves nothing."""
    order = plan(stack, runtime.capabilities)
    extra = _specs.check_labels(labels)
    seconds = _specs.check_seconds(timeout, "timeout")
    assert seconds is not None
    base = {**extra, STACK_LABEL: stack.name}
    network = f"{stack.name}-net"
    running = RunningStack(runtime, stack, network)
    volumes: list[str] = []
    images: list[str] = []
    current = "<network>"
    try:
        runtime.create_network(network, labels=base)
        for name in order:
            current = name
            service = stack.services[name]
            mounts = []
            for mount in _specs.parse_volumes(service.volumes):
                if mount.type is MountType.VOLUME:
                    real = f"{stack.name}-{mount.source}"
                    if real not in volumes:
                        runtime.create_volume(real, labels=base)
                        volumes.append(real)
                    mount = attrs.evolve(mount, source=real)
                mounts.append(mount)
            image = service.image
            if service.build is not None:
                tag = f"runtimes-stack/{stack.name}-{name}:latest"
                runtime.build(service.build, tag=tag, labels=base)
                images.append(tag)
                image = tag
            assert image is not None
            for dep, condition in service.depends_on.items():
                current = dep
                target = running[dep]
                if condition == "healthy":
                    runtime.wait_for(target, healthy=True, timeout=seconds)
                elif condition == "completed":
                    code = runtime.wait(target, timeout=seconds)
                    if code != 0:
                        raise StackFailed(
                            stack.name,
                            dep,
                            f"exited with code {code}, and {name} waits for it to complete",
                            _last_lines(runtime, target),
                        )
            current = name
            aliases = (
                (name, *service.aliases)
                if Capability.NETWORK_ALIASES in runtime.capabilities
                else ()
            )
            container = runtime.run(
                image,
                service.command,
                name=f"{stack.name}-{name}",
                env=service.env,
                ports=list(service.ports),
                volumes=mounts,
                labels={**base, SERVICE_LABEL: name},
                entrypoint=service.entrypoint,
                network=network,
                aliases=aliases,
                hostname=name,
                healthcheck=service.healthcheck,
            )
            running.containers[name] = container
            if service.ready:
                ready = {"timeout": seconds, **service.ready}
                running.containers[name] = runtime.wait_for(container, **ready)
    except RuntimesError as exc:
        logs = (
            _last_lines(runtime, running.containers[current])
            if current in running.containers
            else []
        )
        _teardown(runtime, running, volumes, images)
        if isinstance(exc, StackFailed):
            raise
        raise StackFailed(stack.name, current, str(exc), logs) from exc
    except BaseException:
        _teardown(runtime, running, volumes, images)
        raise
    running._volumes, running._images = volumes, images  # noqa: SLF001 - its own record
    return running


def _last_lines(runtime: Runtime, container: Container) -> list[str]:
    with contextlib.suppress(RuntimesError):
        return [line.text for line in runtime.logs(container, tail=20)]
    return []


def _teardown(
    runtime: Runtime, running: RunningStack, volumes: list[str], images: list[str]
) -> None:
    """Remove what ``up`` created, last first; what is already gone is fine."""
    for container in reversed(list(running.containers.values())):
        with contextlib.suppress(NotFound):
            runtime.remove(container, force=True)
    running.containers.clear()
    # One interrupted inside run() exists without a handle: find it by label.
    for container in runtime.ps(all=True, labels={STACK_LABEL: running.name}):
        with contextlib.suppress(NotFound):
            runtime.remove(container, force=True)
    for volume in reversed(volumes):
        with contextlib.suppress(NotFound):
            runtime.remove_volume(volume, force=True)
    with contextlib.suppress(NotFound):
        runtime.remove_network(running.network)
    for image in reversed(images):
        with contextlib.suppress(NotFound):
            runtime.remove_image(image, force=True)


def down(runtime: Runtime, name: str) -> list[str]:
    """See :meth:`runtimes.Runtime.down`."""
    label = {STACK_LABEL: _specs.check_name(name)}
    return [f"{kind} {ref}" for kind, ref in _sweep.remove_labelled(runtime, label)]
