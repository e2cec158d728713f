"""Docker adapter: the Docker Engine API through the ``docker`` SDK.

Uses the SDK's low-level ``APIClient`` so that every verb is one HTTP round
trip (``ps`` never inspects per container) and log frames can be read one by
one to rejoin Docker's 16 KiB records.  All SDK and ``requests`` exceptions
are translated in :meth:`DockerRuntime._api`, the adapter's only
translation point.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections.abc import Iterator, Mapping
from typing import Any, Literal

import docker
import docker.auth
import docker.constants
import docker.errors
import requests.exceptions

from runtimes import _credentials, _logs, _normalize, _specs
from runtimes._redact import redact_exception
from runtimes._translate import Target, translate
from runtimes._transport import Endpoint, http_errors, unix_socket_accepts
from runtimes.adapters import _cli
from runtimes.base import Runtime
from runtimes.errors import BuildFailed, CommandFailed, RuntimeUnavailable, Timeout, Unsupported
from runtimes.models import (
    ENGINE_CAPABILITIES,
    Capability,
    Container,
    ExecResult,
    Healthcheck,
    Image,
    LogLine,
    MountType,
    Network,
    Progress,
    ProgressStatus,
    RuntimeInfo,
    Volume,
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

__all__ = ["DockerRuntime"]

DEFAULT_HOST = "unix:///var/run/docker.sock"
#: Seconds to wait for the daemon's first answer, apart from the per-call timeout.
CONNECT_TIMEOUT = 5.0
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class DockerRuntime(Runtime):
    """Docker Engine over its HTTP API.

    Options: ``host`` (default ``DOCKER_HOST``, else the standard socket) and
    ``timeout`` (seconds per API call, default 120).
    """

    name = "docker"
    capabilities = (
        frozenset(
            {
                Capability.PRECISE_LOG_TIMESTAMPS,
                Capability.CREATES_MISSING_WORKDIR,
                Capability.KEEPS_UNTERMINATED_LAST_LINE,
                Capability.NETWORK_ALIASES,
                Capability.NETWORK_CONNECT,
                Capability.INTERNAL_NETWORKS,
                Capability.ISOLATED_NETWORKS,
                Capability.SCHEDULES_HEALTHCHECKS,
            }
        )
        | ENGINE_CAPABILITIES
    )
    options = ("host", "timeout")
    # dockerd reads registry CAs from its own directory, not per call.
    engine_certs_dir = "/etc/docker/certs.d"

    def __init__(self, host: str | None = None, timeout: float | str | None = None) -> None:
        self.host = host or os.environ.get("DOCKER_HOST") or DEFAULT_HOST
        self.default_timeout = float(timeout) if timeout is not None else 120.0
        try:
            self._client = _open_client(self.host, self.default_timeout)
        except RuntimeUnavailable:
            raise RuntimeUnavailable(
                "docker",
                f"cannot reach the Docker daemon at {self.host}",
                hint="start dockerd (or set DOCKER_HOST / RUNTIMES_DOCKER_HOST)",
            ) from None
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise RuntimeUnavailable(
                "docker",
                f"cannot reach the Docker daemon at {self.host}",
                hint="start dockerd (or set DOCKER_HOST / RUNTIMES_DOCKER_HOST)",
            ) from redact_exception(exc)

    @classmethod
    def configured_endpoint(cls, **options: Any) -> str | None:
        return options.get("host") or os.environ.get("DOCKER_HOST") or None

    @classmethod
    def detect(cls, **options: Any) -> str | None:
        host = options.get("host") or os.environ.get("DOCKER_HOST") or DEFAULT_HOST
        if host.startswith("unix://") and not os.path.exists(host[len("unix://") :]):
            return f"no Docker socket at {host}: start dockerd"
        try:
            _open_client(host, CONNECT_TIMEOUT).close()
        except (
            RuntimeUnavailable,
            docker.errors.DockerException,
            requests.exceptions.RequestException,
        ):
            return f"the Docker daemon at {host} does not answer: start dockerd"
        return None

    def close(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"<DockerRuntime host={self.host!r}>"

    # -- the one translation point ----------------------------------------------

    @functools.cached_property
    def _endpoint(self) -> Endpoint:
        return Endpoint(
            "docker", self.host, hint="is dockerd running?", errors=(docker.errors.DockerException,)
        )

    def _api(
        self,
        operation: str,
        target: Target = "none",
        ref: str | None = None,
        registry: str | None = None,
    ) -> contextlib.AbstractContextManager[None]:
        return http_errors(self._endpoint, operation, target, ref, registry)

    # -- info ---------------------------------------------------------------------

    def _info(self) -> RuntimeInfo:
        with self._api("info"):
            version = self._client.version()
            info = self._client.info()
        security = " ".join(info.get("SecurityOptions") or ())
        return RuntimeInfo(
            name=self.name,
            version=version.get("Version", ""),
            api_version=version.get("ApiVersion"),
            os=version.get("Os", ""),
            arch=version.get("Arch", ""),
            rootless="rootless" in security,
            endpoint=self.host,
            storage_driver=info.get("Driver"),
            capabilities=self.capabilities,
            raw={"version": version, "info": info},
        )

    # -- images -------------------------------------------------------------------

    def _build(self, spec: BuildSpec) -> str:
        tail: list[str] = []
        steps = _cli.StepImages()
        image_id: str | None = None
        error: tuple[str, int | None] | None = None
        pending = ""

        def emit(line: str) -> None:
            line = _ANSI.sub("", line)
            steps.note(line)
            tail.append(line)
            del tail[:-50]
            spec.emit(line)

        try:
            with self._api("build", "image", spec.tag):
                stream = self._client.build(
                    path=spec.context,
                    tag=spec.tag,
                    dockerfile=spec.dockerfile,
                    buildargs=dict(spec.build_args) or None,
                    target=spec.target,
                    labels=dict(spec.labels) or None,
                    nocache=spec.no_cache,
                    rm=True,
                    forcerm=True,  # never leave intermediate containers, even on failure
                    pull=False,
                    decode=True,
                    use_config_proxy=False,
                )
                for chunk in stream:
                    if "stream" in chunk:
                        pending += chunk["stream"]
                        *lines, pending = pending.split("\n")
                        for line in lines:
                            emit(line)
                    if "aux" in chunk and isinstance(chunk["aux"], dict) and "ID" in chunk["aux"]:
                        image_id = chunk["aux"]["ID"]
                    if "error" in chunk:
                        detail = chunk.get("errorDetail") or {}
                        error = (str(chunk["error"]).strip(), detail.get("code"))
                        emit(error[0])
        except CommandFailed as exc:
            # The daemon refused the build before any step (a Dockerfile it
            # cannot parse, an unknown target): still a failed build.
            raise BuildFailed(exc.stderr or exc.message, runtime=self.name, output=tail) from exc
        if pending:
            emit(pending)
        if error is None and image_id is not None:
            return image_id
        _cli.remove_step_images(self._remove_if_untagged, steps.ids)
        if error is not None:
            raise BuildFailed(error[0], runtime=self.name, exit_code=error[1], output=tail)
        raise BuildFailed("the builder reported no image id", runtime=self.name, output=tail)

    def _remove_if_untagged(self, image_id: str) -> None:
        with contextlib.suppress(docker.errors.DockerException):
            if not self._client.inspect_image(image_id).get("RepoTags"):
                self._client.remove_image(image_id)

    def _image_from_inspect(self, raw: Mapping[str, Any]) -> Image:
        # The listing and inspect records differ only where image_record looks.
        tags = (t for t in raw.get("RepoTags") or () if t != "<none>:<none>")
        return _normalize.image_record(raw, tags)

    def _images(self, labels: Mapping[str, str]) -> list[Image]:
        with self._api("images"):
            listed = self._client.images(filters=_specs.label_filters(labels))
        return [self._image_from_inspect(item) for item in listed]

    def _image(self, ref: str) -> Image:
        with self._api("image", "image", ref):
            return self._image_from_inspect(self._client.inspect_image(ref))

    def _remove_image(self, ref: str, *, force: bool) -> None:
        with self._api("remove_image", "image", ref):
            self._client.remove_image(ref, force=force)

    # -- registries ---------------------------------------------------------------

    def _registry_stream(
        self, spec: PullSpec, action: Literal["pull", "push"], chunks: Iterator[Any]
    ) -> str | None:
        """Emit each progress chunk; raise the stream's error; return the
        pushed digest (``aux.Digest``) when there is one."""
        digest = None
        for chunk in chunks:
            if "error" in chunk:
                raise translate(
                    self.name,
                    action,
                    str(chunk["error"]),
                    target="image",
                    ref=spec.ref,
                    registry=spec.registry,
                )
            aux = chunk.get("aux")
            if isinstance(aux, dict) and aux.get("Digest"):
                digest = str(aux["Digest"])
            event = progress_event(action, chunk)
            if event is not None:
                spec.emit(event)
        return digest

    def _engine_trusts_blindly(self, registry: str) -> bool:
        with self._api("info"):
            config = self._client.info().get("RegistryConfig") or {}
        return registry_is_insecure(config, registry)

    def _check_insecure(self, spec: PullSpec) -> None:
        # The daemon decides which registries may be plain HTTP; say so
        # rather than fail with a TLS error later.
        if spec.insecure and not self._engine_trusts_blindly(spec.registry):
            raise Unsupported(
                f"docker: dockerd does not treat {spec.registry} as insecure: add it to "
                '"insecure-registries" in /etc/docker/daemon.json and restart dockerd'
            )

    def _auth_header(self, spec: PullSpec) -> str:
        """``X-Registry-Auth``: the call's credentials, else what the SDK
        finds in ``~/.docker/config.json`` and its helpers, else ``{}``
        (dockerd refuses a push without the header)."""
        if spec.auth is not None:
            found = docker.auth.encode_header(_credentials.auth_config(spec.registry, spec.auth))
        else:
            found = docker.auth.get_config_header(self._client, spec.registry)
        header = found or docker.auth.encode_header({})
        return header.decode("ascii") if isinstance(header, bytes) else str(header)

    def _transfer(
        self, spec: PullSpec, action: Literal["pull", "push"], path: str, params: dict[str, Any]
    ) -> str | None:
        # The SDK's pull/push hide their response, which then stays open when
        # a stream error is raised mid-way; this one is always closed.
        with self._api(action, "image", spec.ref, spec.registry):
            response = self._client._post(  # noqa: SLF001 - the response must be ours to close
                self._client._url(path),  # noqa: SLF001
                params=params,
                headers={"X-Registry-Auth": self._auth_header(spec)},
                stream=True,
                timeout=self.default_timeout,
            )
            try:
                self._client._raise_for_status(response)  # noqa: SLF001
                chunks = self._client._stream_helper(response, decode=True)  # noqa: SLF001
                return self._registry_stream(spec, action, chunks)
            finally:
                response.close()

    def _pull(self, spec: PullSpec) -> str:
        self._check_insecure(spec)
        repository, tag = _specs.split_reference(spec.ref)
        params = {"fromImage": repository, "tag": tag}
        if spec.platform is not None:
            params["platform"] = spec.platform
        self._transfer(spec, "pull", "/images/create", params)
        return spec.ref

    def _push(self, spec: PushSpec) -> str:
        self._check_insecure(spec)
        repository, tag = _specs.split_reference(spec.ref)
        digest = self._transfer(spec, "push", f"/images/{repository}/push", {"tag": tag})
        if digest is None:
            raise CommandFailed(
                "the daemon reported no digest", runtime=self.name, operation="push"
            )
        return digest

    def _tag(self, source: str, target: str) -> None:
        repository, tag = _specs.split_reference(target)
        with self._api("tag", "image", source):
            self._client.tag(source, repository, tag)

    def _login(self, spec: PullSpec) -> None:
        assert spec.auth is not None
        self._check_insecure(spec)
        with self._api("login", "none", None, spec.registry):
            self._client.login(
                spec.auth.username,
                spec.auth.password,
                registry=_credentials.config_key(spec.registry),
                reauth=True,
            )
        _credentials.store(
            spec.registry,
            spec.auth,
            path=_credentials.docker_config_path(),
            timeout=self.default_timeout,
        )
        self._client.reload_config()

    def _logout(self, registry: str) -> None:
        _credentials.erase(
            registry, path=_credentials.docker_config_path(), timeout=self.default_timeout
        )
        self._client.reload_config()

    # -- containers ---------------------------------------------------------------

    def _run(self, spec: RunSpec) -> str:
        host_config: dict[str, Any] = self._client.create_host_config(
            auto_remove=spec.remove, network_mode=spec.network
        )
        if spec.ports:
            bindings: dict[str, list[dict[str, str]]] = {}
            for p in spec.ports:
                bindings.setdefault(f"{p.container_port}/{p.protocol}", []).append(
                    {"HostIp": p.host_ip or "", "HostPort": str(p.host_port or "")}
                )
            host_config["PortBindings"] = bindings
        if spec.volumes:
            host_config["Mounts"] = [
                {
                    "Type": "bind" if m.type is MountType.BIND else "volume",
                    "Source": m.source,
                    "Target": m.target,
                    "ReadOnly": m.read_only,
                }
                for m in spec.volumes
            ]
        networking: dict[str, Any] | None = None
        if spec.network is not None and spec.aliases:
            networking = self._client.create_networking_config(
                {spec.network: self._client.create_endpoint_config(aliases=list(spec.aliases))}
            )
        with self._api("run", "image", spec.image):
            created = self._client.create_container(
                spec.image,
                command=list(spec.command) if spec.command is not None else None,
                name=spec.name,
                environment=dict(spec.env) or None,
                labels=dict(spec.labels) or None,
                working_dir=spec.workdir,
                user=spec.user,
                entrypoint=list(spec.entrypoint) if spec.entrypoint is not None else None,
                ports=[(p.container_port, p.protocol) for p in spec.ports] or None,
                host_config=host_config,
                networking_config=networking,
                hostname=spec.hostname,
                healthcheck=_healthcheck(spec.healthcheck),
                detach=True,
            )
        container_id: str = created["Id"]
        try:
            with self._api("run", "container", spec.name or container_id):
                if spec.name is None and spec.network and spec.network not in self.builtin_networks:
                    self._resolve_generated_name(container_id, spec.network, spec.aliases)
                self._client.start(container_id)
        except BaseException:
            # A container that never started is useless to the caller: don't leak it.
            with contextlib.suppress(Exception):
                self._client.remove_container(container_id, force=True)
            raise
        return container_id

    def _resolve_generated_name(
        self, container_id: str, network: str, aliases: tuple[str, ...]
    ) -> None:
        """Make a name dockerd generated resolvable on ``network``, as given ones are.

        dockerd registers a container's name in its DNS only when the caller
        chose it (Podman and nerdctl register generated names too).  Joining
        the network again, before the start, with the name as an alias does it.
        """
        name = self._client.inspect_container(container_id)["Name"].lstrip("/")
        self._client.disconnect_container_from_network(container_id, network)
        self._client.connect_container_to_network(container_id, network, aliases=[*aliases, name])

    def _from_list(self, item: Mapping[str, Any]) -> Container:
        status = item.get("Status", "")
        container_state = _normalize.state(item.get("State"))
        return Container(
            id=item["Id"],
            name=_normalize.container_name(item.get("Names")),
            image=item.get("Image", ""),
            command=_normalize.command_text(item.get("Command")),
            state=container_state,
            exit_code=_normalize.exit_code_from_status(status),
            created_at=_normalize.timestamp(item.get("Created")),
            ports=_normalize.ports_from_list(item.get("Ports")),
            labels=_normalize.labels(item.get("Labels")),
            networks=_normalize.attachments(
                (item.get("NetworkSettings") or {}).get("Networks"),
                container_id=item["Id"],
                name=_normalize.container_name(item.get("Names")),
            ),
            runtime=self.name,
            raw=item,
        )

    def _from_inspect(self, raw: Mapping[str, Any]) -> Container:
        config = raw.get("Config") or {}
        return _normalize.container_from_inspect(
            raw,
            runtime=self.name,
            image=config.get("Image") or raw.get("Image", ""),
            command=_normalize.command(config.get("Entrypoint"), config.get("Cmd")),
            labels=_normalize.labels(config.get("Labels")),
            networks=_normalize.attachments(
                (raw.get("NetworkSettings") or {}).get("Networks"),
                container_id=raw["Id"],
                name=raw.get("Name"),
                hostname=config.get("Hostname"),
            ),
        )

    def _ps(self, spec: PsSpec) -> list[Container]:
        filters = _specs.label_filters(spec.labels)
        if spec.name is not None:
            filters["name"] = [spec.name]
        with self._api("ps"):
            listed = self._client.containers(all=spec.all, filters=filters)
        return [self._from_list(item) for item in listed]

    def _inspect(self, ref: str) -> Container:
        with self._api("inspect", "container", ref):
            return self._from_inspect(self._client.inspect_container(ref))

    def _logs(self, spec: LogsSpec) -> Iterator[LogLine]:
        ref = spec.container
        params: dict[str, Any] = {
            "stdout": int(spec.stdout),
            "stderr": int(spec.stderr),
            "follow": int(spec.follow),
            # Always on: each frame's timestamp is stripped, so a record split
            # mid-line never leaves one inside the rejoined line.
            "timestamps": 1,
            "tail": "all" if spec.tail is None else str(spec.tail),
        }
        if spec.since is not None:
            params["since"] = spec.since
        with self._api("logs", "container", ref):
            response = self._get_logs(ref, params, follow=spec.follow)
        return _logs.Closing(
            self._log_lines(response, spec, params),
            response.close,
            lambda: _logs.shutdown_response(response),
        )

    def _get_logs(self, ref: str, params: dict[str, Any], *, follow: bool) -> Any:
        response = self._client._get(  # noqa: SLF001 - raw frames keep the stream tag
            self._client._url("/containers/{0}/logs", ref),  # noqa: SLF001
            params=params,
            stream=True,
            timeout=None if follow else self.default_timeout,
        )
        self._client._raise_for_status(response)  # noqa: SLF001
        return response

    def _log_lines(
        self, response: Any, spec: LogsSpec, params: dict[str, Any]
    ) -> Iterator[LogLine]:
        mark = _logs.FollowMark()

        def frames() -> Iterator[tuple[_logs.Stream, bytes]]:
            for stream, payload in _logs.read_frames(response.raw.read):
                mark.see(stream, payload.partition(b" ")[0])
                yield stream, payload
            response.close()
            if not spec.follow:
                return
            # dockerd 20.10 can end a follow at the container's exit before
            # the last line without a newline is written: read the rest.
            rest = {**params, "follow": 0}
            since = mark.since()
            if since is not None:
                seconds, nanos = divmod(since[0], 1_000_000_000)
                rest.update(since=f"{seconds}.{nanos:09d}", tail="all")
            try:
                more = self._get_logs(spec.container, rest, follow=False)
            except docker.errors.NotFound:
                return  # removed on exit (remove=True): the follow saw the end
            try:
                for stream, payload in _logs.read_frames(more.raw.read):
                    if mark.is_new(stream, payload.partition(b" ")[0]):
                        yield stream, payload
            finally:
                more.close()

        try:
            with self._api("logs", "container", spec.container):
                yield from _logs.join_frames(
                    frames(), timestamps=spec.timestamps, framed_timestamps=True
                )
        finally:
            response.close()

    def _stop(self, ref: str, *, timeout: float) -> None:
        with self._api("stop", "container", ref):
            self._client.stop(ref, timeout=max(0, round(timeout)))

    def _kill(self, ref: str, *, signal: str) -> None:
        with self._api("kill", "container", ref):
            self._client.kill(ref, signal=signal)

    def _wait(self, ref: str, *, timeout: float | None) -> int:
        try:
            with self._api("wait", "container", ref):
                result = self._client.wait(ref, timeout=timeout)
        except Timeout:
            raise Timeout(f"docker: container {ref} still running after {timeout} s") from None
        return int(result.get("StatusCode", -1))

    def _remove(self, ref: str, *, force: bool) -> None:
        with self._api("remove", "container", ref):
            self._client.remove_container(ref, force=force)

    def _exec(self, spec: ExecSpec) -> ExecResult:
        ref = spec.container
        with self._api("exec", "container", ref):
            created = self._client.exec_create(
                ref,
                list(spec.command),
                environment=dict(spec.env) or None,
                workdir=spec.workdir,
                user=spec.user or "",
                stdout=True,
                stderr=True,
            )
            out, err = self._client.exec_start(created["Id"], demux=True)
            exit_code = self._client.exec_inspect(created["Id"]).get("ExitCode")
        return ExecResult(exit_code=int(exit_code or 0), stdout=out or b"", stderr=err or b"")

    # -- volumes ------------------------------------------------------------------

    # Docker's create returns an existing volume; the contract is NameConflict.
    volume_create_is_idempotent = True

    def _create_volume(self, name: str, *, labels: Mapping[str, str]) -> Volume:
        with self._api("create_volume", "volume", name):
            return _normalize.volume(self._client.create_volume(name, labels=dict(labels) or None))

    def _volume(self, name: str) -> Volume:
        with self._api("volume", "volume", name):
            return _normalize.volume(self._client.inspect_volume(name))

    def _volumes(self, labels: Mapping[str, str]) -> list[Volume]:
        with self._api("volumes"):
            listed = self._client.volumes(filters=_specs.label_filters(labels)) or {}
        return [_normalize.volume(v) for v in listed.get("Volumes") or ()]

    def _remove_volume(self, name: str, *, force: bool) -> None:
        with self._api("remove_volume", "volume", name):
            self._client.remove_volume(name, force=force)

    # -- networks -----------------------------------------------------------------

    # "default" is Docker's other name for "bridge".
    builtin_networks = frozenset({"bridge", "default", "host", "none"})

    def _create_network(self, spec: NetworkSpec) -> Network:
        ipam = {"Driver": "default", "Config": [{"Subnet": spec.subnet}]} if spec.subnet else None
        with self._api("create_network", "network", spec.name):
            created = self._client.create_network(
                spec.name,
                driver="bridge",
                internal=spec.internal,
                labels=dict(spec.labels) or None,
                ipam=ipam,
                # Without it the Engine API creates a second network of that name.
                check_duplicate=True,
            )
        return self._network(created["Id"])

    def _network(self, name: str) -> Network:
        with self._api("network", "network", name):
            return _normalize.network_from_engine(self._client.inspect_network(name))

    def _networks(self, labels: Mapping[str, str]) -> list[Network]:
        with self._api("networks"):
            listed = self._client.networks(filters=_specs.label_filters(labels))
        return [_normalize.network_from_engine(n) for n in listed or ()]

    def _remove_network(self, name: str) -> None:
        with self._api("remove_network", "network", name):
            self._client.remove_network(name)

    def _connect_network(self, ref: str, network: str, *, aliases: tuple[str, ...]) -> None:
        with self._api("connect_network", "container", ref):
            # The name as an alias too: dockerd would not resolve a generated one.
            name = self._client.inspect_container(ref)["Name"].lstrip("/")
            self._client.connect_container_to_network(ref, network, aliases=[*aliases, name])

    def _disconnect_network(self, ref: str, network: str) -> None:
        with self._api("disconnect_network", "container", ref):
            self._client.disconnect_container_from_network(ref, network)


def _open_client(host: str, timeout: float) -> docker.APIClient:
    """An API client speaking the daemon's own API version.

    docker-py's ``version="auto"`` asks the daemon from inside the
    constructor, and a failure there leaks the client's open socket; asking
    here lets the client be closed, and bounds the first answer by
    :data:`CONNECT_TIMEOUT` whatever the per-call timeout.
    """
    if not unix_socket_accepts(host, CONNECT_TIMEOUT):
        raise RuntimeUnavailable("docker", f"nothing answers at {host}")
    client = docker.APIClient(
        base_url=host,
        version=docker.constants.MINIMUM_DOCKER_API_VERSION,
        timeout=min(timeout, CONNECT_TIMEOUT),
    )
    try:
        server = client.version(api_version=False)
    except BaseException:
        client.close()
        raise
    client._version = server["ApiVersion"]  # noqa: SLF001 - what version="auto" sets
    client.timeout = timeout
    return client


# Docker's per-layer statuses, as the daemon words them, to Progress.status.
_STATUS: dict[str, ProgressStatus] = {
    "waiting": "waiting",
    "pulling fs layer": "waiting",
    "preparing": "waiting",
    "downloading": "downloading",
    "verifying checksum": "downloading",
    "download complete": "downloading",
    "extracting": "extracting",
    "pushing": "uploading",
    "pull complete": "done",
    "pushed": "done",
    "already exists": "exists",
    "layer already exists": "exists",
}


def progress_event(action: Literal["pull", "push"], chunk: Mapping[str, Any]) -> Progress | None:
    """One Engine API pull/push stream object as a :class:`Progress`.

    ``{"status": "Downloading", "progressDetail": {"current": 1, "total": 2},
    "id": "<12 hex>"}`` is a layer event; an object without ``id`` is about
    the image (``"Digest: sha256:..."``, ``"Status: Downloaded newer
    image..."``).  ``"Mounted from x/y"`` means the layer exists already.
    """
    status = str(chunk.get("status") or "").strip()
    if not status:
        return None
    lowered = status.lower()
    kind = _STATUS.get(lowered, "exists" if lowered.startswith("mounted from") else "info")
    layer = chunk.get("id")
    if layer is None or kind == "info":
        # "Pulling from x", "Digest: ...", "1: digest: sha256:... size: 527"
        return Progress(action=action, layer=None, status="info", message=status)
    detail = chunk.get("progressDetail") or {}
    current, total = detail.get("current"), detail.get("total")
    return Progress(
        action=action,
        layer=str(layer),
        status=kind,
        current=current if isinstance(current, int) else None,
        total=total if isinstance(total, int) and total > 0 else None,
        message=status,
    )


def registry_is_insecure(config: Mapping[str, Any], registry: str) -> bool:
    """Whether dockerd's ``RegistryConfig`` (from ``/info``) lets ``registry``
    be plain HTTP: listed in ``IndexConfigs`` as not secure, or an IP in
    ``InsecureRegistryCIDRs`` (``127.0.0.0/8`` by default)."""
    import ipaddress

    index = (config.get("IndexConfigs") or {}).get(registry)
    if isinstance(index, dict) and index.get("Secure") is False:
        return True
    host = registry.rsplit(":", 1)[0] if registry.count(":") == 1 else registry
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    for cidr in config.get("InsecureRegistryCIDRs") or ():
        with contextlib.suppress(ValueError):
            if address in ipaddress.ip_network(cidr, strict=False):
                return True
    return False


def _healthcheck(check: Healthcheck | None) -> dict[str, Any] | None:
    """The Engine API's ``Healthcheck``: durations in nanoseconds."""
    if check is None:
        return None
    nanos = 1_000_000_000
    return {
        "test": ["CMD", *check.test],
        "interval": int(check.interval * nanos),
        "timeout": int(check.timeout * nanos),
        "retries": check.retries,
        "start_period": int(check.start_period * nanos),
    }
