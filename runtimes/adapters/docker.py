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
import socket
import threading
import time
from collections.abc import Generator, Iterator, Mapping
from typing import IO, Any, ClassVar, Literal

import attrs
import docker
import docker.auth
import docker.constants
import docker.errors
import docker.tls
import requests.exceptions

from runtimes import _archive, _credentials, _logs, _normalize, _specs
from runtimes._redact import redact_exception
from runtimes._translate import Target, translate
from runtimes._transport import (
    ConnectFailure,
    Endpoint,
    connect_failure,
    engine_host,
    http_errors,
    unix_socket_accepts,
)
from runtimes.adapters import _cli, _docker_endpoint, _ssh
from runtimes.base import Runtime
from runtimes.errors import (
    BuildFailed,
    CommandFailed,
    InvalidSpec,
    RuntimesError,
    RuntimeUnavailable,
    Timeout,
    Unsupported,
)
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
    Process,
    Progress,
    ProgressStatus,
    RuntimeInfo,
    Stats,
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
from runtimes.streams import ExecStream

__all__ = ["DockerRuntime"]

DEFAULT_HOST = _docker_endpoint.DEFAULT_HOST
#: Seconds to wait for the daemon's first answer, apart from the per-call timeout.
CONNECT_TIMEOUT = 5.0
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class DockerRuntime(Runtime):
    """Docker Engine over its HTTP API.

    Options: ``host`` (``unix://``, ``tcp://`` or ``ssh://``), ``context`` (a
    Docker context by name), ``tls_ca``, ``tls_cert``, ``tls_key``,
    ``tls_verify``, ``ssh_identity`` (private key file), ``ssh_known_hosts``
    (a known-hosts file besides the user's), ``ssh_client`` (``"openssh"``,
    the default, or ``"paramiko"``) and ``timeout`` (seconds per API call,
    default 120).  Without ``host`` or ``context`` the endpoint follows the
    docker CLI: ``DOCKER_HOST``, ``DOCKER_CONTEXT``, the current context,
    the standard socket (:mod:`runtimes.adapters._docker_endpoint`).
    """

    name = "docker"
    capabilities = (
        frozenset(
            {
                Capability.PRECISE_LOG_TIMESTAMPS,
                Capability.CREATES_MISSING_WORKDIR,
                Capability.KEEPS_UNTERMINATED_LAST_LINE,
                Capability.STATS_CPU,
                Capability.RESTART_POLICIES,
                Capability.NETWORK_ALIASES,
                Capability.NETWORK_CONNECT,
                Capability.INTERNAL_NETWORKS,
                Capability.ISOLATED_NETWORKS,
                Capability.SCHEDULES_HEALTHCHECKS,
                Capability.EXEC_STDIN,
            }
        )
        | ENGINE_CAPABILITIES
    )
    unsupported_reasons: ClassVar[Mapping[Capability, str]] = {
        Capability.EXEC_STDIN: (
            "over TLS the command would never see the end of its input: ending it "
            "takes a TLS half-close, and Python's ssl module can only close the "
            "whole connection (SSLSocket.shutdown drops the TLS session)"
        ),
    }
    options = (
        "host",
        "context",
        "tls_verify",
        "tls_ca",
        "tls_cert",
        "tls_key",
        "ssh_identity",
        "ssh_known_hosts",
        "ssh_client",
        "timeout",
    )
    # dockerd reads registry CAs from its own directory, not per call.
    engine_certs_dir = "/etc/docker/certs.d"

    def __init__(
        self,
        host: str | None = None,
        context: str | None = None,
        tls_verify: bool | str | None = None,
        tls_ca: str | None = None,
        tls_cert: str | None = None,
        tls_key: str | None = None,
        ssh_identity: str | None = None,
        ssh_known_hosts: str | None = None,
        ssh_client: str | None = None,
        timeout: float | str | None = None,
    ) -> None:
        self.default_timeout = float(timeout) if timeout is not None else 120.0
        self.endpoint = _docker_endpoint.resolve(
            host=host,
            context=context,
            tls_verify=tls_verify,
            tls_ca=tls_ca,
            tls_cert=tls_cert,
            tls_key=tls_key,
        )
        self.host = self.endpoint.url
        self.engine_host = engine_host(self.host)
        if self.endpoint.tls is not None:
            self.capabilities = self.capabilities - {Capability.EXEC_STDIN}
        self._ssh = _SshSettings(ssh_identity, ssh_known_hosts, ssh_client)
        self._client, self._bridge = _open_client(self.endpoint, self.default_timeout, self._ssh)

    @classmethod
    def configured_endpoint(cls, **options: Any) -> str | None:
        try:
            endpoint = _endpoint_of(options)
        except RuntimesError:
            return None
        return None if endpoint.source == "default socket" else endpoint.describe()

    @classmethod
    def detect(cls, **options: Any) -> str | None:
        try:
            endpoint = _endpoint_of(options)
        except RuntimesError as exc:
            return str(exc)
        host = endpoint.url
        if host.startswith("unix://") and not os.path.exists(host[len("unix://") :]):
            return f"no Docker socket at {host}: start dockerd"
        settings = _SshSettings(
            options.get("ssh_identity"), options.get("ssh_known_hosts"), options.get("ssh_client")
        )
        try:
            client, bridge = _open_client(endpoint, CONNECT_TIMEOUT, settings)
        except RuntimeUnavailable as exc:
            return str(exc)
        client.close()
        if bridge is not None:
            bridge.close()
        return None

    def close(self) -> None:
        self._client.close()
        if self._bridge is not None:
            self._bridge.close()

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
        path: str | None = None,
    ) -> contextlib.AbstractContextManager[None]:
        return http_errors(self._endpoint, operation, target, ref, registry, path)

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
            endpoint_source=self.endpoint.source,
            storage_driver=info.get("Driver"),
            cpus=info.get("NCPU"),
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
        container_id = self._create(spec)
        try:
            with self._api("run", "container", spec.name or container_id):
                self._client.start(container_id)
        except BaseException:
            # A container that never started is useless to the caller: don't leak it.
            with contextlib.suppress(Exception):
                self._client.remove_container(container_id, force=True)
            raise
        return container_id

    def _create(self, spec: RunSpec) -> str:
        host_config: dict[str, Any] = self._client.create_host_config(
            auto_remove=spec.remove,
            network_mode=spec.network,
            mem_limit=spec.memory,
            nano_cpus=round(spec.cpus * 1e9) if spec.cpus is not None else None,
            restart_policy=_restart_policy(spec.restart_policy),
            init=spec.init or None,
            read_only=spec.read_only or None,
            cap_add=list(spec.cap_add) or None,
            cap_drop=list(spec.cap_drop) or None,
            privileged=spec.privileged,
            tmpfs=dict(spec.tmpfs) or None,
            shm_size=spec.shm_size,
            ulimits=[
                docker.types.Ulimit(name=u.name, soft=u.soft, hard=u.hard) for u in spec.ulimits
            ]
            or None,
            dns=list(spec.dns) or None,
            extra_hosts=dict(spec.extra_hosts) or None,
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
                stop_signal=spec.stop_signal,
                stop_timeout=spec.stop_timeout,
                platform=spec.platform,
                detach=True,
            )
        container_id: str = created["Id"]
        if spec.name is None and spec.network and spec.network not in self.builtin_networks:
            try:
                with self._api("run", "container", container_id):
                    self._resolve_generated_name(container_id, spec.network, spec.aliases)
            except BaseException:
                # Unusable as asked for: don't leak it.
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
            # A follow notes each record's time to read what its end missed
            # (FollowMark); each frame's timestamp is cut off again, so a
            # record split mid-line never leaves one inside the joined line.
            "timestamps": int(spec.timestamps or spec.follow),
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
            if not spec.follow:
                yield from _logs.read_frames(response.raw.read, chunk=_logs.READ_CHUNK)
                response.close()
                return
            for stream, payload in _logs.read_frames(response.raw.read):
                mark.see(stream, payload.partition(b" ")[0])
                yield stream, payload
            response.close()
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
                    frames(),
                    timestamps=spec.timestamps,
                    framed_timestamps=bool(params["timestamps"]),
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

    def _exec_create(self, spec: ExecSpec) -> str:
        created = self._client.exec_create(
            spec.container,
            list(spec.command),
            environment=dict(spec.env) or None,
            workdir=spec.workdir,
            user=spec.user or "",
            stdout=True,
            stderr=True,
            stdin=spec.stdin is not None,
            tty=spec.tty,
        )
        return str(created["Id"])

    def _exec(self, spec: ExecSpec) -> ExecResult:
        if spec.stdin is not None or spec.tty:
            return self._exec_stream(spec, idle_timeout=self.default_timeout).result()
        ref = spec.container
        with self._api("exec", "container", ref):
            exec_id = self._exec_create(spec)
            out, err = self._client.exec_start(exec_id, demux=True)
        return ExecResult(
            exit_code=self._exec_exit_code(exec_id), stdout=out or b"", stderr=err or b""
        )

    def _exec_stream(self, spec: ExecSpec, idle_timeout: float | None = None) -> ExecStream:
        ref = spec.container
        with self._api("exec", "container", ref):
            exec_id = self._exec_create(spec)
            response = self._client._post_json(  # noqa: SLF001 - the hijacked connection
                self._client._url("/exec/{0}/start", exec_id),  # noqa: SLF001
                headers={"Connection": "Upgrade", "Upgrade": "tcp"},
                data={"Tty": spec.tty, "Detach": False},
                stream=True,
            )
            try:
                self._client._raise_for_status(response)  # noqa: SLF001
            except BaseException:
                response.close()
                raise
        # The buffered reader over the socket: bytes that arrived with the
        # answer's headers are already in its buffer.
        reader = response.raw._fp.fp  # noqa: SLF001
        sock = reader.raw._sock  # noqa: SLF001
        sock.settimeout(idle_timeout)
        feeder = None
        if spec.stdin is not None:
            feeder = threading.Thread(target=_feed_socket, args=(sock, spec.stdin), daemon=True)
            feeder.start()

        def lines() -> Generator[LogLine, None, int]:
            try:
                with self._api("exec", "container", ref), _socket_errors(idle_timeout):
                    if spec.tty:
                        joiner = _logs.LineJoiner(keep_timestamps=False)
                        while chunk := reader.read1(1 << 16):
                            yield from joiner.feed("stdout", chunk)
                        yield from joiner.flush()
                    else:
                        yield from _logs.join_frames(
                            _logs.read_frames(reader.read1),
                            timestamps=False,
                            framed_timestamps=False,
                        )
            finally:
                response.close()
            if feeder is not None:
                feeder.join(timeout=self.default_timeout)
            return self._exec_exit_code(exec_id)

        return ExecStream(lines(), response.close, secrets=spec.env)

    def _exec_exit_code(self, exec_id: str) -> int:
        # The output can end a moment before dockerd records the exit.
        deadline = time.monotonic() + self.default_timeout
        while True:
            with self._api("exec"):
                found = self._client.exec_inspect(exec_id)
            if not found.get("Running") or time.monotonic() > deadline:
                return int(found.get("ExitCode") or 0)
            time.sleep(0.01)

    def _exec_detached(self, spec: ExecSpec) -> None:
        with self._api("exec", "container", spec.container):
            self._client.exec_start(self._exec_create(spec), detach=True)

    # -- files in and out: the archive API ---------------------------------------

    def _archive_url(self, ref: str) -> str:
        return str(self._client._url("/containers/{0}/archive", ref))  # noqa: SLF001

    def _stat(self, ref: str, path: str) -> _archive.PathStat | None:
        """The engine's stat of ``path``; ``None`` if it, or the container,
        does not exist (a HEAD answer has no body to tell which: the put
        that follows says)."""
        with self._api("copy_to", "container", ref):
            response = self._client.head(
                self._archive_url(ref), params={"path": path}, timeout=self.default_timeout
            )
            try:
                if response.status_code == 404:
                    return None
                self._client._raise_for_status(response)  # noqa: SLF001
                return _archive.path_stat(response.headers.get(_archive.STAT_HEADER))
            finally:
                response.close()

    def _copy_to(self, ref: str, source: str, dest: str) -> None:
        directory, name = _archive.put_destination(
            dest, source, self._stat(ref, dest), lambda path: self._stat(ref, path)
        )
        with (
            _archive.pack(source, name) as tar,
            self._api("copy_to", "container", ref, path=directory),
        ):
            self._client.put_archive(ref, directory, _archive.chunks(tar))

    def _copy_from(self, ref: str, path: str, target: str) -> None:
        with self._api("copy_from", "container", ref, path=path):
            response = self._get_archive(ref, path)
            try:
                found = _archive.path_stat(response.headers.get(_archive.STAT_HEADER))
                if found is not None and found.is_symlink and found.link_target:
                    response.close()
                    response = self._get_archive(ref, found.link_target)
                _archive.unpack(response.raw, target, runtime=self.name)
            finally:
                response.close()

    def _get_archive(self, ref: str, path: str) -> Any:
        response = self._client._get(  # noqa: SLF001 - a raw stream for tarfile
            self._archive_url(ref),
            params={"path": path},
            stream=True,
            # dockerd gzips the tar when asked, which costs more than the
            # bytes it saves on a local socket.
            headers={"Accept-Encoding": "identity"},
        )
        self._client._raise_for_status(response)  # noqa: SLF001
        response.raw.decode_content = True
        return response

    # -- the rest of the lifecycle ----------------------------------------------

    def _start(self, ref: str) -> None:
        with self._api("start", "container", ref):
            self._client.start(ref)

    def _restart(self, ref: str, *, timeout: float) -> None:
        with self._api("restart", "container", ref):
            self._client.restart(ref, timeout=max(0, round(timeout)))

    def _pause(self, ref: str) -> None:
        with self._api("pause", "container", ref):
            self._client.pause(ref)

    def _unpause(self, ref: str) -> None:
        with self._api("unpause", "container", ref):
            self._client.unpause(ref)

    def _rename(self, ref: str, name: str) -> None:
        with self._api("rename", "container", ref):
            self._client.rename(ref, name)

    def _stats(self, ref: str) -> Stats:
        # stream=False: dockerd samples twice, a second apart, for the CPU figure.
        with self._api("stats", "container", ref):
            return stats_record(self._client.stats(ref, stream=False))

    def _top(self, ref: str) -> list[Process]:
        with self._api("top", "container", ref):
            found = self._client.top(ref, ps_args=_normalize.TOP_PS_ARGS)
        return _normalize.processes(found.get("Titles"), found.get("Processes"), runtime=self.name)

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


@attrs.frozen
class _SshSettings:
    identity: str | None = None
    known_hosts: str | None = None
    client: str | None = None


def _endpoint_of(options: Mapping[str, Any]) -> _docker_endpoint.DockerEndpoint:
    return _docker_endpoint.resolve(
        host=options.get("host"),
        context=options.get("context"),
        tls_verify=options.get("tls_verify"),
        tls_ca=options.get("tls_ca"),
        tls_cert=options.get("tls_cert"),
        tls_key=options.get("tls_key"),
    )


def _unavailable(
    endpoint: _docker_endpoint.DockerEndpoint, failure: ConnectFailure | None
) -> RuntimeUnavailable:
    where = endpoint.describe()
    if endpoint.scheme == "unix":
        hint = "start dockerd (or set DOCKER_HOST / RUNTIMES_DOCKER_HOST)"
        return RuntimeUnavailable("docker", f"cannot reach the Docker daemon at {where}", hint=hint)
    if failure is None:
        return RuntimeUnavailable("docker", f"cannot reach the Docker daemon at {where}")
    return RuntimeUnavailable(
        "docker",
        f"cannot reach the Docker daemon at {where}: {failure.text}",
        reason=failure.reason,
    )


def _open_client(
    endpoint: _docker_endpoint.DockerEndpoint, timeout: float, ssh: _SshSettings
) -> tuple[docker.APIClient, _ssh.CommandBridge | None]:
    """An API client speaking the daemon's own API version, and the SSH
    bridge it goes through (``None`` unless the endpoint is ``ssh://``).

    docker-py's ``version="auto"`` asks the daemon from inside the
    constructor, and a failure there leaks the client's open socket; asking
    here lets the client be closed, and bounds the first answer by
    :data:`CONNECT_TIMEOUT` whatever the per-call timeout.  A failure is
    :class:`~runtimes.RuntimeUnavailable` naming the cause (``reason``).
    """
    bridge: _ssh.CommandBridge | None = None
    url = endpoint.url
    kwargs: dict[str, Any] = {}
    if ssh.client not in (None, "openssh", "paramiko"):
        raise InvalidSpec(f"docker: ssh_client must be 'openssh' or 'paramiko', not {ssh.client!r}")
    if endpoint.scheme == "ssh":
        if ssh.client == "paramiko":
            kwargs["use_ssh_client"] = False
        else:
            try:
                destination = _ssh.SshDestination.parse(url)
            except RuntimesError as exc:
                raise RuntimeUnavailable("docker", str(exc), reason="ssh-failed") from None
            options = _ssh.SshOptions(
                destination,
                identity=ssh.identity,
                known_hosts=ssh.known_hosts,
                connect_timeout=CONNECT_TIMEOUT,
            )
            bridge = _ssh.CommandBridge(options, ["docker", "system", "dial-stdio"])
            url = bridge.url
    elif endpoint.tls is not None:
        tls = endpoint.tls
        kwargs["tls"] = docker.tls.TLSConfig(
            client_cert=(tls.cert, tls.key) if tls.cert and tls.key else None,
            ca_cert=tls.ca,
            verify=tls.verify,
        )
    try:
        if bridge is None and not unix_socket_accepts(url, CONNECT_TIMEOUT):
            raise _unavailable(endpoint, None)
        try:
            client = docker.APIClient(
                base_url=url,
                version=docker.constants.MINIMUM_DOCKER_API_VERSION,
                timeout=min(timeout, CONNECT_TIMEOUT),
                **kwargs,
            )
        except docker.errors.DockerException as exc:
            # paramiko missing, a malformed URL: said before any connection.
            missing = "ssh-client-missing" if "paramiko" in str(exc) else None
            raise RuntimeUnavailable(
                "docker", f"cannot use {endpoint.describe()}: {exc}", reason=missing
            ) from redact_exception(exc)
        if bridge is not None:
            adapter = _ssh.UnixAdapter(bridge.path, min(timeout, CONNECT_TIMEOUT))
            client.mount("http+docker://", adapter)
            client._custom_adapter = adapter  # noqa: SLF001 - the one docker-py falls back to
        # Nothing from the requests environment: a machine-wide
        # REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE would replace the daemon's CA on
        # every request (docker-py #2433, #2598), HTTP_PROXY would send a
        # tcp:// daemon's calls through a proxy.
        client.trust_env = False
        try:
            server = client.version(api_version=False)
        except BaseException as exc:
            client.close()
            if not isinstance(exc, _SDK_ERRORS):
                raise
            failure = bridge.failure() if bridge is not None else None
            failure = failure or _failure_of(exc, endpoint.tls)
            raise _unavailable(endpoint, failure) from redact_exception(exc)
    except BaseException:
        if bridge is not None:
            bridge.close()
        raise
    client._version = server["ApiVersion"]  # noqa: SLF001 - what version="auto" sets
    client.timeout = timeout
    return client, bridge


_SDK_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException)


def _failure_of(exc: BaseException, tls: _docker_endpoint.TlsFiles | None) -> ConnectFailure | None:
    """Why the first call failed.  dockerd (Go's TLS server) answers every
    refused client certificate alike, with a "bad certificate" alert or by
    closing the connection; what this side offered tells the cases apart."""
    failure = connect_failure(exc)
    refused = ("client-certificate-refused", "tls-closed")
    if tls is None or failure is None or failure.reason not in refused:
        return failure
    if tls.cert is None:
        return ConnectFailure(
            "client-certificate-required",
            "the engine requires a client certificate and none was offered "
            "(set tls_cert and tls_key, or DOCKER_CERT_PATH with cert.pem and key.pem)",
        )
    expired = _docker_endpoint.certificate_expired(tls.cert)
    if expired is not None:
        return ConnectFailure(
            "client-certificate-expired",
            f"the engine refused the client certificate {tls.cert}: it expired on {expired}",
        )
    return ConnectFailure(
        "client-certificate-refused",
        f"the engine refused the client certificate {tls.cert} (not signed by a CA "
        "it trusts, or not made for client authentication)",
    )


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


def _restart_policy(policy: str | None) -> dict[str, Any] | None:
    if policy is None:
        return None
    name, _, count = policy.partition(":")
    return {"Name": name, "MaximumRetryCount": int(count or 0)}


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


@contextlib.contextmanager
def _socket_errors(idle_timeout: float | None) -> Iterator[None]:
    """The hijacked exec connection is a plain socket: its failures are ours to map."""
    try:
        yield
    except TimeoutError:
        raise Timeout(f"docker exec printed nothing for {idle_timeout:g} s") from None
    except OSError as exc:
        raise RuntimeUnavailable("docker", f"lost the exec connection: {exc}") from None


def _feed_socket(sock: socket.socket, data: bytes | IO[bytes]) -> None:
    """Send an exec's input, then end it with a half-close: dockerd closes
    the command's stdin when its side of the connection reads end of file."""
    try:
        if isinstance(data, bytes):
            sock.sendall(data)
        else:
            while chunk := data.read(1 << 16):
                sock.sendall(chunk)
        sock.shutdown(socket.SHUT_WR)
    except (OSError, ValueError):  # the command ended without reading it all
        pass


def stats_record(raw: Mapping[str, Any]) -> Stats:
    """An Engine API stats sample (``stream=false``) as :class:`~runtimes.Stats`.

    CPU as ``docker stats`` computes it: the container's share of the host's
    CPU time between ``precpu_stats`` and ``cpu_stats``, times the CPUs.
    Memory without the inactive page cache (cgroup v1
    ``total_inactive_file``, v2 ``inactive_file``), as ``docker stats``.
    A container that is not running has empty sections: zeros.
    """
    cpu = raw.get("cpu_stats") or {}
    pre = raw.get("precpu_stats") or {}
    cpu_delta = (cpu.get("cpu_usage") or {}).get("total_usage", 0) - (
        pre.get("cpu_usage") or {}
    ).get("total_usage", 0)
    system_delta = cpu.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0)
    cpus = (
        cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or ()) or 1
    )
    cpu_percent = (
        cpu_delta / system_delta * cpus * 100.0 if system_delta > 0 and cpu_delta > 0 else 0.0
    )
    memory = raw.get("memory_stats") or {}
    usage = int(memory.get("usage") or 0)
    details = memory.get("stats") or {}
    cache = details.get("total_inactive_file", details.get("inactive_file", 0)) or 0
    if 0 < cache < usage:
        usage -= int(cache)
    networks = (raw.get("networks") or {}).values()
    blkio = (raw.get("blkio_stats") or {}).get("io_service_bytes_recursive") or ()
    return Stats(
        cpu_percent=cpu_percent,
        memory_usage=usage,
        memory_limit=int(memory.get("limit") or 0),
        network_rx=sum(int(n.get("rx_bytes") or 0) for n in networks),
        network_tx=sum(int(n.get("tx_bytes") or 0) for n in networks),
        block_read=sum(
            int(e.get("value") or 0) for e in blkio if str(e.get("op")).lower() == "read"
        ),
        block_write=sum(
            int(e.get("value") or 0) for e in blkio if str(e.get("op")).lower() == "write"
        ),
        pids=int((raw.get("pids_stats") or {}).get("current") or 0),
        raw=raw,
    )
