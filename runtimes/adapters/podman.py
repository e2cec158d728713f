"""Podman adapter: the libpod REST API through podman-py, plus the CLI where
it is faster.

Podman has no daemon.  The adapter talks to the service named by ``host``
or ``CONTAINER_HOST``, else to the standard rootful/rootless socket when it
answers, else to a private ``podman system service``
(:mod:`runtimes.adapters._podman_service`) that lives as long as the
runtime object.

Verbs by transport, chosen by measurement (see ``benchmarks/``):

* API: ps, inspect, logs, stop, kill, wait, remove, images, volumes, and
  exec on a service named by ``host`` / ``CONTAINER_HOST``;
* CLI: ``run`` (one process instead of create + start + inspect round
  trips through the service), ``build`` (no tar upload; ``--iidfile``) and
  ``exec`` on local storage: each exec through the API leaves two
  ``conmon`` processes for the service's ``exit_command_delay`` (300 s by
  default), ``podman exec`` none (see :meth:`PodmanRuntime._exec`).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import os
import re
import shutil
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable, Generator, Iterator, Mapping
from typing import Any, ClassVar, Literal

import attrs
import podman
import podman.errors

from runtimes import _archive, _credentials, _logs, _normalize, _specs
from runtimes._shell import Completed, Shell
from runtimes._translate import Target, translate
from runtimes._transport import Endpoint, engine_host, http_errors, message_from_body
from runtimes.adapters import _cli, _podman_endpoint, _ssh
from runtimes.adapters._podman_service import PrivateService, answers, standard_sockets
from runtimes.base import Runtime
from runtimes.errors import (
    CommandFailed,
    ContainerNotFound,
    ImageNotFound,
    PathNotFound,
    RuntimesError,
    RuntimeUnavailable,
    Timeout,
)
from runtimes.models import (
    ENGINE_CAPABILITIES,
    Capability,
    Container,
    ContainerState,
    ExecResult,
    Image,
    LogLine,
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
    Ulimit,
)
from runtimes.streams import ExecStream, collect

__all__ = ["PodmanRuntime"]

INSTALL_HINT = "install Podman (Debian: apt-get install podman)"
#: Seconds for an SSH login and the service's first answer.
CONNECT_TIMEOUT = 5.0
_FOREVER = 10 * 365 * 86400.0
_IMAGE_ID = re.compile(r"[0-9a-f]{64}")
#: One demultiplexed log record: its stream and payload.
_Frame = tuple[_logs.Stream, bytes]
_COPYING = re.compile(
    r"Copying (?P<what>blob|config) (?:sha256:)?(?P<digest>[0-9a-f]{12,64})(?P<rest>.*)"
)


class PodmanRuntime(Runtime):
    """Podman, rootful or rootless, here or remote.

    Options: ``host`` (service URL: ``unix://``, ``ssh://user@host[:port]/socket``
    or ``tcp://``), ``connection`` (a ``podman system connection`` by name),
    ``ssh_identity`` (private key; default ``CONTAINER_SSHKEY`` or the
    connection's), ``ssh_known_hosts`` (a known-hosts file besides the
    user's), ``binary`` (default ``podman``), ``service_idle`` (seconds a
    private service may sit idle before it exits, default 300) and
    ``timeout`` (seconds per call).  Without ``host`` or ``connection``:
    ``CONTAINER_HOST``, ``CONTAINER_CONNECTION``, the default system
    connection (:mod:`runtimes.adapters._podman_endpoint`), then the
    standard sockets, then a private service.

    A remote service is reached with its own ``podman --remote`` for the CLI
    verbs too, so every verb goes to the same engine; over SSH both go
    through one ``ssh`` tunnel to the service's socket
    (:class:`runtimes.adapters._ssh.SocketTunnel`).
    """

    name = "podman"
    capabilities = (
        frozenset(
            {
                Capability.EXEC_STDIN,
                Capability.LOSSLESS_LOGS,
                Capability.KEEPS_UNTERMINATED_LAST_LINE,
                Capability.NETWORK_ALIASES,
                Capability.NETWORK_CONNECT,
                Capability.PER_CALL_REGISTRY_TLS,
                Capability.STATS_CPU,
                Capability.RESTART_POLICIES,
            }
        )
        | ENGINE_CAPABILITIES
    )
    unsupported_reasons: ClassVar[Mapping[Capability, str]] = {
        Capability.INTERNAL_NETWORKS: (
            "Podman 4.3 (netavark 1.4) adds no firewall rule for the traffic inside an "
            "internal network, so wherever the FORWARD policy is DROP with br_netfilter on "
            "(as Docker sets it) its containers cannot even reach each other"
        ),
        Capability.ISOLATED_NETWORKS: (
            "Podman routes between its networks; the isolate option the adapter sets "
            "takes effect from netavark 1.5"
        ),
        Capability.SCHEDULES_HEALTHCHECKS: (
            "Podman 4.3 schedules healthchecks with systemd timers, which exist only "
            "under systemd; the library runs the check itself (check_health, wait_for)"
        ),
    }
    options = (
        "host",
        "connection",
        "ssh_identity",
        "ssh_known_hosts",
        "binary",
        "service_idle",
        "timeout",
    )

    def __init__(
        self,
        host: str | None = None,
        connection: str | None = None,
        ssh_identity: str | None = None,
        ssh_known_hosts: str | None = None,
        binary: str | None = None,
        service_idle: int | str | None = None,
        timeout: float | str | None = None,
    ) -> None:
        self.binary = binary or "podman"
        self.default_timeout = float(timeout) if timeout is not None else 120.0
        if shutil.which(self.binary) is None:
            raise RuntimeUnavailable("podman", f"{self.binary} is not on PATH", hint=INSTALL_HINT)
        self.endpoint = _podman_endpoint.resolve(
            host=host, connection=connection, ssh_identity=ssh_identity
        )
        self._service: PrivateService | None = None
        self._tunnel: _ssh.SocketTunnel | None = None
        explicit = self.endpoint.url
        if explicit:
            # An endpoint that was asked for and fails is an error, not a fallback.
            self.host = explicit
            self._url = self._reach(self.endpoint, ssh_known_hosts)
            self.engine_host = engine_host(explicit)
            # `podman --remote` pushes and pulls take no --cert-dir: the
            # service reads registry CAs from its own host's certs.d.
            self.capabilities = self.capabilities - {Capability.PER_CALL_REGISTRY_TLS}
            self.engine_certs_dir = "/etc/containers/certs.d"
        else:
            found = next((f"unix://{s}" for s in standard_sockets() if os.path.exists(s)), None)
            if found and answers(found):
                self.host = found
            else:
                self._service = PrivateService(self.binary, int(service_idle or 300))
                self._service.ensure()
                self.host = self._service.url
            self._url = self.host
        self._client = podman.PodmanClient(base_url=self._url, timeout=self.default_timeout)
        # The CLI works on local storage directly, unless the service is remote.
        self._remote = bool(explicit)
        remote = ["--remote", "--url", self._url] if self._remote else []
        self._cli_shell = Shell(
            "podman",
            self.binary,
            global_args=remote,
            timeout=self.default_timeout,
            install_hint=INSTALL_HINT,
        )

    def _reach(self, endpoint: _podman_endpoint.PodmanEndpoint, known_hosts: str | None) -> str:
        """The local URL that reaches ``endpoint``: an SSH tunnel's socket for
        ``ssh://``, else the URL itself once a service answers there."""
        url = endpoint.url or ""
        if url.startswith("ssh://"):
            try:
                destination = _ssh.SshDestination.parse(url)
            except RuntimesError as exc:
                raise RuntimeUnavailable("podman", str(exc), reason="ssh-failed") from None
            remote_path = destination.path or (
                "/run/podman/podman.sock" if destination.user in (None, "root") else ""
            )
            if not remote_path:
                raise RuntimeUnavailable(
                    "podman",
                    f"{endpoint.describe()} names no socket path: add it, e.g. "
                    f"ssh://{destination.user}@{destination.host}/run/user/UID/podman/podman.sock",
                    reason="ssh-failed",
                )
            options = _ssh.SshOptions(
                destination,
                identity=endpoint.identity,
                known_hosts=known_hosts,
                connect_timeout=CONNECT_TIMEOUT,
            )
            self._tunnel = _ssh.SocketTunnel(options, remote_path)
            try:
                self._ensure_tunnel()
                if not answers(self._tunnel.url, timeout=CONNECT_TIMEOUT):
                    failure = self._tunnel.failure()
                    why = f": {failure.text}" if failure else ""
                    raise RuntimeUnavailable(
                        "podman",
                        f"no Podman service answers at {remote_path} on {destination.host} "
                        f"({endpoint.describe()}){why}",
                        reason=failure.reason if failure else "no-service",
                    )
            except BaseException:
                self._tunnel.close()
                raise
            return self._tunnel.url
        if url.startswith("unix://") and not answers(url):
            raise RuntimeUnavailable(
                "podman",
                f"no Podman service answers at {endpoint.describe()}",
                hint=INSTALL_HINT,
            )
        return url

    @property
    def _shell(self) -> Shell:
        # The CLI verbs go through the tunnel too: start it again if ssh died.
        if getattr(self, "_tunnel", None) is not None:
            self._ensure_tunnel()
        return self._cli_shell

    @_shell.setter
    def _shell(self, shell: Shell) -> None:
        self._cli_shell = shell

    def _ensure_tunnel(self) -> None:
        assert self._tunnel is not None
        try:
            self._tunnel.ensure()
        except _ssh.SshUnavailable as exc:
            raise RuntimeUnavailable(
                "podman",
                f"cannot reach the Podman service at {self.endpoint.describe()}: "
                f"{exc.failure.text}",
                reason=exc.failure.reason,
            ) from None

    @classmethod
    def configured_endpoint(cls, **options: Any) -> str | None:
        try:
            endpoint = _podman_endpoint.resolve(
                host=options.get("host"),
                connection=options.get("connection"),
                ssh_identity=options.get("ssh_identity"),
            )
        except RuntimesError:
            return None
        return endpoint.describe() if endpoint.url else None

    @classmethod
    def detect(cls, **options: Any) -> str | None:
        binary = options.get("binary") or "podman"
        if shutil.which(binary) is None:
            return f"{binary} is not on PATH: {INSTALL_HINT}"
        try:
            endpoint = _podman_endpoint.resolve(
                host=options.get("host"),
                connection=options.get("connection"),
                ssh_identity=options.get("ssh_identity"),
            )
        except RuntimesError as exc:
            return str(exc)
        if endpoint.url and endpoint.url.startswith("ssh://"):
            try:
                cls(**{k: v for k, v in options.items() if k in cls.options}).close()
            except RuntimesError as exc:
                return str(exc)
            return None
        if endpoint.url:
            return None if answers(endpoint.url) else f"no Podman service answers at {endpoint.url}"
        try:
            Shell("podman", binary, timeout=15).run(
                ["version", "--format", "{{.Client.Version}}"], operation="detect"
            )
        except RuntimesError as exc:
            return f"{binary} does not run: {exc}"
        return None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._client.close()  # type: ignore[no-untyped-call]
        if self._service is not None:
            self._service.stop()
        if self._tunnel is not None:
            self._tunnel.close()

    def __repr__(self) -> str:
        return f"<PodmanRuntime host={self.host!r}>"

    # -- the API ------------------------------------------------------------------------------

    @functools.cached_property
    def _endpoint(self) -> Endpoint:
        return Endpoint(
            "podman",
            self.host,
            hint="is the Podman service running?",
            lost=(podman.errors.APIError,),  # podman-py wraps transport failures in it
        )

    def _translating(
        self,
        operation: str,
        target: Target = "none",
        ref: str | None = None,
        path: str | None = None,
    ) -> contextlib.AbstractContextManager[None]:
        return http_errors(self._endpoint, operation, target, ref, path=path)

    def _call(
        self,
        method: str,
        path: str,
        operation: str,
        target: Target = "none",
        ref: str | None = None,
        container_path: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """One API call; returns the response, raising the library error on >= 400.

        ``container_path`` names the path inside the container a copy is about.
        """
        if self._service is not None:
            self._service.ensure()
        if self._tunnel is not None:
            self._ensure_tunnel()
        with self._translating(operation, target, ref, container_path):
            response = getattr(self._client.api, method)(path, **kwargs)
            if response.status_code >= 400:
                try:
                    message = message_from_body(response.content)
                finally:
                    response.close()
                raise translate(
                    "podman",
                    operation,
                    message,
                    target=target,
                    ref=ref,
                    status=response.status_code,
                    path=container_path,
                )
        return response

    def _json(self, method: str, path: str, operation: str, **kwargs: Any) -> Any:
        response = self._call(method, path, operation, **kwargs)
        try:
            with self._translating(operation):
                return response.json() if response.content else None
        finally:
            response.close()

    # -- info -------------------------------------------------------------------------

    def _info(self) -> RuntimeInfo:
        info = self._json("get", "/info", "info")
        host = info.get("host", {})
        version = info.get("version", {})
        return RuntimeInfo(
            name=self.name,
            version=version.get("Version", ""),
            api_version=version.get("APIVersion"),
            os=host.get("os", ""),
            arch=host.get("arch", ""),
            rootless=bool(host.get("security", {}).get("rootless")),
            endpoint=self.host,
            endpoint_source=self.endpoint.source,
            storage_driver=info.get("store", {}).get("graphDriverName"),
            cpus=host.get("cpus"),
            capabilities=self.capabilities,
            raw=info,
        )

    # -- images (build through the CLI) --------------------------------------------------

    def _build(self, spec: BuildSpec) -> str:
        return _cli.build(self._shell, spec, extra_args=["--pull=never", "--force-rm"])

    def _image_model(self, raw: Mapping[str, Any]) -> Image:
        tags = raw.get("RepoTags") or raw.get("Names") or ()
        return _normalize.image_record(raw, dict.fromkeys(_normalize.image_tag(t) for t in tags))

    def _images(self, labels: Mapping[str, str]) -> list[Image]:
        params = _one_label_filter(labels)
        for attempt in range(3):
            try:
                listed = self._json("get", "/images/json", "images", params=params)
                break
            except ImageNotFound as exc:
                # Podman 4.3 fails the whole listing when an image is removed
                # while it reads ("locating image with ID ..."); the contract
                # is that vanished objects are left out, so read again.
                if attempt == 2 or "locating image" not in str(exc):
                    raise
        found = [self._image_model(item) for item in listed or ()]
        return [i for i in found if _normalize.carries(i.labels, labels)]

    def _image(self, ref: str) -> Image:
        return self._image_model(
            self._json("get", f"/images/{ref}/json", "image", target="image", ref=ref)
        )

    def _remove_image(self, ref: str, *, force: bool) -> None:
        self._json(
            "delete",
            f"/images/{ref}",
            "remove_image",
            target="image",
            ref=ref,
            params={"force": str(force).lower()},
        )

    # -- containers -------------------------------------------------------------------------

    # -- registries: the CLI, which takes an auth file, a CA directory and
    # --tls-verify per call (the service's API takes no CA) ---------------------

    def _registry_args(self, spec: PullSpec) -> list[str]:
        args = []
        if spec.insecure:
            args.append("--tls-verify=false")
        if spec.certs_dir is not None:
            args += ["--cert-dir", spec.certs_dir]
        return args

    @contextlib.contextmanager
    def _auth_args(self, spec: PullSpec) -> Iterator[list[str]]:
        # The call's credentials go in a private 0600 file, never on argv.
        if spec.auth is None:
            yield []
            return
        with _credentials.temporary_config(spec.registry, spec.auth, "auth.json") as path:
            yield ["--authfile", str(path)]

    def _pull(self, spec: PullSpec) -> str:
        platform = ["--platform", spec.platform] if spec.platform is not None else []
        with self._auth_args(spec) as auth:
            lines = _cli.transfer(
                self._shell,
                ["pull", *self._registry_args(spec), *auth, *platform, "--", spec.ref],
                spec,
                operation="pull",
                parse=lambda line: progress_event("pull", line),
            )
        # The last line on stdout is the image id.
        return next((line for line in reversed(lines) if _IMAGE_ID.fullmatch(line)), spec.ref)

    def _push(self, spec: PushSpec) -> str:
        if self._remote:
            return self._push_api(spec)
        with (
            tempfile.TemporaryDirectory(prefix="runtimes-push-") as tmp,
            self._auth_args(spec) as auth,
        ):
            digest_file = os.path.join(tmp, "digest")
            args = ["push", *self._registry_args(spec), *auth, "--digestfile", digest_file]
            _cli.transfer(
                self._shell,
                [*args, "--", spec.ref],
                spec,
                operation="push",
                parse=lambda line: progress_event("push", line),
            )
            with open(digest_file, encoding="utf-8") as fh:
                return fh.read().strip()

    def _push_api(self, spec: PushSpec) -> str:
        """Push through the service's Docker-compatible endpoint.

        ``podman --remote push`` drops ``--digestfile`` (Podman 4.3: the
        libpod push reports no digest), while the compatible endpoint ends
        its stream, as dockerd does, with ``"TAG: digest: sha256:... size:
        N"``.  Credentials go in ``X-Registry-Auth``: the call's, else those
        stored where ``podman login`` keeps them on this side.
        """
        repository, tag = _specs.split_reference(spec.ref)
        auth = spec.auth or _credentials.lookup(
            spec.registry, _credentials.podman_auth_files(), timeout=self.default_timeout
        )
        fields = {"username": auth.username, "password": auth.password} if auth else {}
        header = base64.urlsafe_b64encode(json.dumps(fields).encode()).decode("ascii")
        response = self._call(
            "post",
            f"/images/{repository}/push",
            "push",
            target="image",
            ref=spec.ref,
            params={"tag": tag, "tlsVerify": str(not spec.insecure).lower()},
            headers={"X-Registry-Auth": header},
            compatible=True,
            stream=True,
            timeout=self.default_timeout,
        )
        digest = None
        try:
            with self._translating("push", "image", spec.ref):
                for line in response.iter_lines():
                    chunk = json.loads(line) if line.strip() else {}
                    if chunk.get("error"):
                        raise translate(
                            "podman",
                            "push",
                            str(chunk["error"]),
                            target="image",
                            ref=spec.ref,
                            registry=spec.registry,
                        )
                    digest = compat_push_digest(chunk) or digest
                    event = compat_push_event(chunk)
                    if event is not None:
                        spec.emit(event)
        finally:
            response.close()
        if digest is None:
            raise CommandFailed(
                "the service reported no digest", runtime=self.name, operation="push"
            )
        return digest

    def _tag(self, source: str, target: str) -> None:
        self._shell.run(["tag", "--", source, target], operation="tag", target="image", ref=source)

    def _login(self, spec: PullSpec) -> None:
        assert spec.auth is not None
        args = ["login", *self._registry_args(spec), "--username", spec.auth.username]
        args += ["--password-stdin", "--", spec.registry]
        self._shell.run(
            args,
            operation="login",
            stdin=f"{spec.auth.password}\n".encode(),
            registry=spec.registry,
        )

    def _logout(self, registry: str) -> None:
        done = self._shell.run(["logout", "--", registry], operation="logout", check=False)
        if done.returncode != 0 and b"not logged into" not in done.stderr:
            raise self._shell.error(done, operation="logout", registry=registry)

    def _run(self, spec: RunSpec) -> str:
        if spec.hostname and spec.network and spec.network not in self.builtin_networks:
            spec = attrs.evolve(spec, aliases=(*spec.aliases, spec.hostname))
        return _cli.run_detached(self._shell, self._with_ulimits(spec))

    def _with_ulimits(self, spec: RunSpec) -> RunSpec:
        """Podman drops its configured ``default_ulimits`` as soon as any
        ulimit is given (and raises ``nofile`` and ``nproc`` to 1048576,
        which fails where the host's limits are lower: "error setting rlimit
        type 6").  Docker keeps its defaults for the limits not given; so
        does this, from the containers.conf the local CLI reads.  A remote
        service reads its own, unknown here."""
        if not spec.ulimits or self._remote:
            return spec
        given = {u.name for u in spec.ulimits}
        added = [u for u in configured_ulimits() if u.name not in given]
        return attrs.evolve(spec, ulimits=(*spec.ulimits, *added))

    def _from_list(self, item: Mapping[str, Any]) -> Container:
        container_state = _normalize.state(item.get("State"))
        exited = container_state in (ContainerState.EXITED, ContainerState.DEAD)
        return Container(
            id=item["Id"],
            name=_normalize.container_name(item.get("Names")),
            image=_normalize.image_tag(item.get("Image", "")),
            command=tuple(item.get("Command") or ()),
            state=container_state,
            exit_code=item.get("ExitCode") if exited else None,
            created_at=_normalize.timestamp(item.get("Created")),
            started_at=_normalize.timestamp(item.get("StartedAt")),
            finished_at=_normalize.timestamp(item.get("ExitedAt")) if exited else None,
            ports=_normalize.ports_from_list(item.get("Ports")),
            labels=_normalize.labels(item.get("Labels")),
            networks=_normalize.attachments_from_names(item.get("Networks")),
            runtime=self.name,
            raw=item,
        )

    def _from_inspect(self, raw: Mapping[str, Any]) -> Container:
        config = raw.get("Config") or {}
        return _normalize.container_from_inspect(
            raw,
            runtime=self.name,
            image=_normalize.image_tag(raw.get("ImageName") or config.get("Image") or ""),
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
        params: dict[str, Any] = {"all": str(spec.all).lower()}
        if filters:
            params["filters"] = json.dumps(filters)
        listed = self._json("get", "/containers/json", "ps", params=params)
        return [self._from_list(item) for item in listed or ()]

    def _inspect(self, ref: str) -> Container:
        raw = self._json("get", f"/containers/{ref}/json", "inspect", target="container", ref=ref)
        return self._from_inspect(raw)

    def _logs(self, spec: LogsSpec) -> Iterator[LogLine]:
        if spec.follow:
            # A missing container raises here, before the iterator exists.
            self._inspect(spec.container)
            # A follow with a deadline reads on a helper thread: the event
            # ends the polling there once the deadline passes.
            stop = threading.Event()
            frames = poll_frames(
                lambda since, tail: self._read_log(spec, since=since, tail=tail),
                running=lambda: self._log_source_running(spec.container),
                spec=spec,
                sleep=stop.wait,
                stopped=stop.is_set,
            )
            return _logs.Closing(self._log_lines(frames, spec, framed=True), stop.set, stop.set)
        if not self._remote:
            return self._cli_logs(spec)
        return self._api_logs(spec)

    def _cli_logs(self, spec: LogsSpec) -> Iterator[LogLine]:
        """A plain read on local storage goes through the CLI: the service
        sends a log at about half the speed ``podman logs`` reads it (54 MB:
        4.7 s through the socket, 2.1 s for the CLI).  Timestamps always
        on: they order stdout against stderr, which arrive on two pipes.  A
        line written in several records goes by its first record's time
        (its timestamp); over the API, by its last."""
        ref = spec.container
        argv = [*_cli.logs_args(spec), "--", ref]

        def failed(code: int, stderr: bytes) -> BaseException:
            done = Completed(tuple(argv), code, b"", stderr)
            return self._shell.error(done, operation="logs", target="container", ref=ref)

        items = self._shell.stream_batches(
            argv, operation="logs", idle_timeout=self.default_timeout
        )
        # Whole seconds, as the API gives them to follows and remote
        # services: the precision must not depend on the path taken.
        return _logs.cli_lines(items, spec, failed=failed, rewrite=unglue_batch, whole_seconds=True)

    def _api_logs(self, spec: LogsSpec) -> Iterator[LogLine]:
        response = self._log_response(spec, since=spec.since, tail=spec.tail, timestamps=None)
        frames = _logs.read_frames(response.raw.read, chunk=_logs.READ_CHUNK)
        return _logs.Closing(
            self._log_lines(frames, spec, framed=spec.timestamps),
            response.close,
            lambda: _logs.shutdown_response(response),
        )

    def _log_response(
        self, spec: LogsSpec, *, since: int | None, tail: int | None, timestamps: bool | None
    ) -> Any:
        params: dict[str, Any] = {
            "stdout": str(spec.stdout).lower(),
            "stderr": str(spec.stderr).lower(),
            "follow": "false",
            "timestamps": str(spec.timestamps if timestamps is None else timestamps).lower(),
        }
        if tail is not None:
            params["tail"] = str(tail)
        if since is not None:
            params["since"] = str(since)
        return self._call(
            "get",
            f"/containers/{spec.container}/logs",
            "logs",
            target="container",
            ref=spec.container,
            params=params,
            stream=True,
            timeout=self.default_timeout,
        )

    def _read_log(self, spec: LogsSpec, *, since: int | None, tail: int | None) -> list[_Frame]:
        """One plain read of the log, every frame with its timestamp."""
        try:
            response = self._log_response(spec, since=since, tail=tail, timestamps=True)
        except ContainerNotFound:
            return []  # removed on exit (remove=True): nothing more to read
        try:
            with self._translating("logs", "container", spec.container):
                return list(_logs.read_frames(response.raw.read))
        finally:
            response.close()

    def _log_source_running(self, ref: str) -> bool:
        try:
            state = self._inspect(ref).state
        except ContainerNotFound:
            return False
        return state in (ContainerState.RUNNING, ContainerState.PAUSED, ContainerState.RESTARTING)

    def _log_lines(
        self, frames: Iterator[_Frame], spec: LogsSpec, *, framed: bool
    ) -> Iterator[LogLine]:
        with self._translating("logs", "container", spec.container):
            yield from _logs.join_frames(
                frames, timestamps=spec.timestamps, framed_timestamps=framed
            )

    def _stop(self, ref: str, *, timeout: float) -> None:
        seconds = max(0, round(timeout))
        self._json(
            "post",
            f"/containers/{ref}/stop",
            "stop",
            target="container",
            ref=ref,
            params={"timeout": seconds},
            timeout=seconds + self.default_timeout,
        )

    def _kill(self, ref: str, *, signal: str) -> None:
        self._json(
            "post",
            f"/containers/{ref}/kill",
            "kill",
            target="container",
            ref=ref,
            params={"signal": signal},
        )

    def _wait(self, ref: str, *, timeout: float | None) -> int:
        try:
            code = self._json(
                "post",
                f"/containers/{ref}/wait",
                "wait",
                target="container",
                ref=ref,
                # libpod polls the container's state every `interval` (250 ms
                # by default: a run-to-exit paid 0.25 s for it, about a
                # quarter of `podman run --rm`); each poll only reads its state.
                params={"condition": ["exited", "stopped"], "interval": _WAIT_POLL},
                timeout=timeout if timeout is not None else _FOREVER,
            )
        except Timeout:
            raise Timeout(f"podman: container {ref} still running after {timeout} s") from None
        return int(code)

    def _remove(self, ref: str, *, force: bool) -> None:
        reports = self._json(
            "delete",
            f"/containers/{ref}",
            "remove",
            target="container",
            ref=ref,
            # timeout=0: kill at once like Docker's `rm -f`, not after the stop grace period
            params={"force": str(force).lower(), "timeout": 0},
        )
        error = remove_report_error(reports)
        if error is not None:
            raise translate("podman", "remove", error, target="container", ref=ref)

    def _exec(self, spec: ExecSpec) -> ExecResult:
        # An exec session made through the API ends with conmon and its
        # child sleeping out the service's exit_command_delay (300 s by
        # default) before they remove the session: libpod's reaper for
        # sessions no client removes, which no API call cuts short.  The
        # local CLI creates, runs and removes the session itself, so its
        # conmon exits with the command.  The remote CLI would go through
        # the same API, so a remote service gets the API directly, except
        # for input and terminals, which the API gives only on a hijacked
        # connection: the remote CLI does that.
        if self._remote and spec.stdin is None and not spec.tty:
            return self._exec_api(spec)
        return collect(self._exec_cli(spec, idle_timeout=self.default_timeout))

    def _exec_stream(self, spec: ExecSpec) -> ExecStream:
        self._require_running(spec.container, "exec")
        return ExecStream(self._exec_cli(spec, idle_timeout=None), secrets=spec.env)

    def _exec_cli(
        self, spec: ExecSpec, idle_timeout: float | None
    ) -> Generator[LogLine, None, int]:
        # Podman's own warnings would land in the command's stderr; its own
        # failure is one "Error: ..." line before any output (exec_result).
        return _cli.exec_lines(
            self._shell,
            spec,
            outcome=exec_result,
            held=lambda line, seen: not seen and line.startswith(b"Error: "),
            idle_timeout=idle_timeout,
            global_args=["--log-level=fatal"],
            release_on_output=True,
        )

    def _exec_detached(self, spec: ExecSpec) -> None:
        _cli.exec_detached(self._shell, spec, ["--log-level=fatal"])

    def _exec_api(self, spec: ExecSpec) -> ExecResult:
        ref = spec.container
        body: dict[str, Any] = {
            "Cmd": list(spec.command),
            "AttachStdout": True,
            "AttachStderr": True,
            "Env": [f"{k}={v}" for k, v in spec.env.items()],
        }
        if spec.workdir:
            body["WorkingDir"] = spec.workdir
        if spec.user:
            body["User"] = spec.user
        created = self._json(
            "post",
            f"/containers/{ref}/exec",
            "exec",
            target="container",
            ref=ref,
            data=json.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        exec_id = created["Id"]
        response = self._call(
            "post",
            f"/exec/{exec_id}/start",
            "exec",
            data=json.dumps({"Detach": False, "Tty": False}),
            headers={"Content-Type": "application/json"},
            stream=True,
        )
        out: list[bytes] = []
        err: list[bytes] = []
        try:
            with self._translating("exec", "container", ref):
                for stream, payload in _logs.read_frames(response.raw.read):
                    (out if stream == "stdout" else err).append(payload)
        finally:
            response.close()
        result = self._json("get", f"/exec/{exec_id}/json", "exec")
        return ExecResult(
            exit_code=int(result.get("ExitCode") or 0), stdout=b"".join(out), stderr=b"".join(err)
        )

    # -- files in and out: the archive API (faster than `podman cp`, see docs) --

    def _stat(self, ref: str, path: str) -> _archive.PathStat | None:
        """The service's stat of ``path``; ``None`` if it, or the container,
        does not exist (the put that follows says which)."""
        if self._service is not None:
            self._service.ensure()
        with self._translating("copy_to", "container", ref):
            response = self._client.api.head(f"/containers/{ref}/archive", params={"path": path})
        try:
            if response.status_code == 404:
                return None
            if response.status_code >= 400:
                raise translate(
                    "podman", "copy_to", f"HTTP {response.status_code}", target="container", ref=ref
                )
            return _archive.path_stat(response.headers.get(_archive.STAT_HEADER))
        finally:
            response.close()

    def _copy_to(self, ref: str, source: str, dest: str) -> None:
        found = self._stat(ref, dest)
        directory, name = _archive.put_destination(
            dest, source, found, lambda path: self._stat(ref, path)
        )
        if found is None and self._stat(ref, directory) is None:
            # The service creates a missing directory; `podman cp` and the
            # other engines refuse.
            self._inspect(ref)  # ContainerNotFound first
            raise PathNotFound(directory, f"podman: path not found in container {ref}: {directory}")
        with _archive.pack(source, name) as tar:
            self._call(
                "put",
                f"/containers/{ref}/archive",
                "copy_to",
                target="container",
                ref=ref,
                container_path=directory,
                params={"path": directory},
                data=_archive.chunks(tar),
            ).close()

    def _copy_from(self, ref: str, path: str, target: str) -> None:
        response = self._get_archive(ref, path)
        try:
            found = _archive.path_stat(response.headers.get(_archive.STAT_HEADER))
            if found is not None and found.is_symlink and found.link_target:
                response.close()
                response = self._get_archive(ref, found.link_target)
            with self._translating("copy_from", "container", ref, path):
                _archive.unpack(response.raw, target, runtime=self.name)
        finally:
            response.close()

    def _get_archive(self, ref: str, path: str) -> Any:
        response = self._call(
            "get",
            f"/containers/{ref}/archive",
            "copy_from",
            target="container",
            ref=ref,
            container_path=path,
            params={"path": path},
            stream=True,
            headers={"Accept-Encoding": "identity"},
        )
        response.raw.decode_content = True
        return response

    # -- the rest of the lifecycle: the API, `create` through the CLI like `run` --

    def _create(self, spec: RunSpec) -> str:
        return _cli.run_detached(self._shell, self._with_ulimits(spec), create=True)

    def _post(self, ref: str, action: str, operation: str, **kwargs: Any) -> Any:
        return self._json(
            "post", f"/containers/{ref}/{action}", operation, target="container", ref=ref, **kwargs
        )

    def _start(self, ref: str) -> None:
        self._post(ref, "start", "start")  # 304 when it already runs

    def _restart(self, ref: str, *, timeout: float) -> None:
        seconds = max(0, round(timeout))
        self._post(
            ref, "restart", "restart", params={"t": seconds}, timeout=seconds + self.default_timeout
        )

    def _pause(self, ref: str) -> None:
        self._post(ref, "pause", "pause")

    def _unpause(self, ref: str) -> None:
        self._post(ref, "unpause", "unpause")

    def _rename(self, ref: str, name: str) -> None:
        self._post(ref, "rename", "rename", params={"name": name})

    def _stats(self, ref: str) -> Stats:
        # Podman's one-off sample averages the CPU since the container
        # started; the second sample of a stream is over the last second.
        response = self._call(
            "get",
            "/containers/stats",
            "stats",
            target="container",
            ref=ref,
            params={"containers": ref, "stream": "true", "interval": 1},
            stream=True,
        )
        try:
            with self._translating("stats", "container", ref):
                samples = (line for line in response.iter_lines() if line)
                first = stats_sample(next(samples, b""))
                if first is None:
                    self._inspect(ref)  # ContainerNotFound: the service says nothing
                    raise translate("podman", "stats", "no statistics", target="none")
                if not first.get("UpTime"):
                    return stats_record(first)  # not running: all zeros
                second = stats_sample(next(samples, b""))
                return stats_record(second if second is not None else first)
        finally:
            response.close()

    def _top(self, ref: str) -> list[Process]:
        found = self._json(
            "get",
            f"/containers/{ref}/top",
            "top",
            target="container",
            ref=ref,
            params={"ps_args": _normalize.PODMAN_TOP_DESCRIPTORS},
        )
        if not found:
            # The service answers an empty 200 for a container that is not running.
            self._require_running(ref, "top")
            return []
        return _normalize.processes(found.get("Titles"), found.get("Processes"), runtime=self.name)

    # -- volumes ----------------------------------------------------------------------------

    def _create_volume(self, name: str, *, labels: Mapping[str, str]) -> Volume:
        raw = self._json(
            "post",
            "/volumes/create",
            "create_volume",
            target="volume",
            ref=name,
            data=json.dumps({"Name": name, "Label": dict(labels)}),
            headers={"Content-Type": "application/json"},
        )
        return _normalize.volume(raw)

    def _volume(self, name: str) -> Volume:
        raw = self._json("get", f"/volumes/{name}/json", "volume", target="volume", ref=name)
        return _normalize.volume(raw)

    def _volumes(self, labels: Mapping[str, str]) -> list[Volume]:
        listed = self._json("get", "/volumes/json", "volumes", params=_one_label_filter(labels))
        found = [_normalize.volume(v) for v in listed or ()]
        return [v for v in found if _normalize.carries(v.labels, labels)]

    def _remove_volume(self, name: str, *, force: bool) -> None:
        self._json(
            "delete",
            f"/volumes/{name}",
            "remove_volume",
            target="volume",
            ref=name,
            params={"force": str(force).lower()},
        )

    # -- networks ---------------------------------------------------------------------------

    # "bridge" means the default network ("podman"); the rest are modes.
    builtin_networks = frozenset(
        {"bridge", "host", "none", "podman", "private", "slirp4netns", "pasta"}
    )

    def _create_network(self, spec: NetworkSpec) -> Network:
        body: dict[str, Any] = {
            "name": spec.name,
            "driver": "bridge",
            "labels": dict(spec.labels),
            "internal": spec.internal,
            # The CLI enables aardvark-dns by default, the API does not.
            "dns_enabled": True,
            # Docker and nerdctl isolate networks from each other; netavark
            # does only with this option (and only from netavark 1.5 on).
            "options": {"isolate": "true"},
        }
        if spec.subnet:
            body["subnets"] = [{"subnet": spec.subnet}]
        raw = self._json(
            "post",
            "/networks/create",
            "create_network",
            target="network",
            ref=spec.name,
            data=json.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        return _normalize.network_from_netavark(raw)

    def _network(self, name: str) -> Network:
        raw = self._json("get", f"/networks/{name}/json", "network", target="network", ref=name)
        return _normalize.network_from_netavark(raw)

    def _networks(self, labels: Mapping[str, str]) -> list[Network]:
        filters = _specs.label_filters(labels)
        listed = self._json(
            "get",
            "/networks/json",
            "networks",
            params={"filters": json.dumps(filters)} if filters else None,
        )
        return [_normalize.network_from_netavark(n) for n in listed or ()]

    def _remove_network(self, name: str) -> None:
        # Never force: libpod's force removes the containers that use it.
        reports = self._json(
            "delete", f"/networks/{name}", "remove_network", target="network", ref=name
        )
        error = remove_report_error(reports)
        if error is not None:
            raise translate("podman", "remove_network", error, target="network", ref=name)

    def _connect_network(self, ref: str, network: str, *, aliases: tuple[str, ...]) -> None:
        raw = self._json(
            "get", f"/containers/{ref}/json", "connect_network", target="container", ref=ref
        )
        hostname = (raw.get("Config") or {}).get("Hostname")
        if hostname and hostname != raw["Id"][:12] and network not in self.builtin_networks:
            # Docker resolves a container's own hostname on its networks; so does aardvark-dns
            # once it is an alias.
            aliases = (*aliases, hostname)
        # libpod answers "OK", not JSON.
        self._call(
            "post",
            f"/networks/{network}/connect",
            "connect_network",
            target="container",
            ref=ref,
            data=json.dumps({"container": ref, "aliases": list(aliases)}),
            headers={"Content-Type": "application/json"},
        ).close()

    def _disconnect_network(self, ref: str, network: str) -> None:
        self._call(
            "post",
            f"/networks/{network}/disconnect",
            "disconnect_network",
            target="container",
            ref=ref,
            data=json.dumps({"Container": ref}),
            headers={"Content-Type": "application/json"},
        ).close()


def _one_label_filter(labels: Mapping[str, str]) -> dict[str, str] | None:
    """The API filter for the first label only: Podman 4.3 reads several
    image labels as matching nothing and several volume labels as any of
    them; the rest are checked on the answer (containers are right)."""
    first = dict(list(labels.items())[:1])
    return {"filters": json.dumps(_specs.label_filters(first))} if first else None


def remove_report_error(reports: Any) -> str | None:
    """The first error in libpod's removal reports, or ``None``.

    ``DELETE /containers/{id}`` answers 200 with ``[{"Id": ..., "Err": "..."}]``
    when removing failed: the status alone does not tell.
    """
    for report in reports or ():
        if isinstance(report, dict) and report.get("Err"):
            return str(report["Err"])
    return None


def progress_event(action: Literal["pull", "push"], line: str) -> Progress | None:
    """One line of ``podman pull``/``push`` output (not a terminal) as a
    :class:`Progress`.

    Podman prints one ``Copying blob sha256:<hex>`` per layer when the copy
    starts (``... skipped: already exists`` when it need not), then
    ``Copying config``, ``Writing manifest to image destination`` and
    ``Storing signatures``; no byte counts.  Retry warnings (``time=...
    level=warning``) are not events.
    """
    line = line.strip()
    if not line or line.startswith("time=") or _IMAGE_ID.fullmatch(line):
        return None
    match = _COPYING.match(line)
    if match is None or match["what"] == "config":
        return Progress(action=action, layer=None, status="info", message=line)
    rest = match["rest"].strip()
    if "already exists" in rest or "skipped" in rest:
        status: ProgressStatus = "exists"
    elif rest.startswith("done"):
        status = "done"
    else:
        status = "downloading" if action == "pull" else "uploading"
    return Progress(action=action, layer=match["digest"][:12], status=status, message=line)


# A timestamp exactly as ``podman logs --timestamps`` prints a record's
# (``2026-11-29T13:18:49.781127940Z``: always nine digits and ``Z``, whatever
# TZ says), with the space that ends it.  Only that form is cut out: a
# container's own "next run 2026-12-01T00:00:00Z" stays in its line.
_STAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z ")


def unglue_records(line: bytes) -> bytes:
    """One line of ``podman logs --timestamps`` with the timestamps of its
    later records cut out: ``b"TS1 partTS2 ial\\n"`` -> ``b"TS1 partial\\n"``.

    Podman 4.3 prints a partial record (``P`` in the k8s-file: a line longer
    than conmon's buffer, or written in pieces) without a newline, so the
    stream's next record, its timestamp first, is glued on.  The API sends
    each record as a frame instead.  conmon stamps a record once the
    container has written it, so a timestamp the container printed inside a
    record is older than that record's own: only a timestamp no older than
    the previous record's starts a record.  A record is never empty.
    """
    space = line.find(b" ")
    # The usual line has no text of its year after its own timestamp (a
    # look at every line, hence no copy); one stamped on New Year's Eve
    # may have records of the next year.
    if space < 0 or (
        line.find(line[:4], space + 2) < 0
        and (line[5:10] != b"12-31" or line.find(_next_year(line[:4]), space + 2) < 0)
    ):
        return line
    head, rest = line[:space], line[space + 1 :]
    newest = _logs.timestamp_nanos(head)
    if newest < 0:
        return line
    pieces = [head, b" "]
    start = 0  # where the current record's text starts in rest
    at = 1
    while (found := _STAMP.search(rest, at)) is not None:
        nanos = _logs.timestamp_nanos(found.group()[:-1])
        if nanos >= newest:
            pieces.append(rest[start : found.start()])
            newest, start = nanos, found.end()
            at = start + 1
        else:
            at = found.start() + 1
    pieces.append(rest[start:])
    return b"".join(pieces)


def unglue_batch(lines: list[bytes]) -> list[bytes]:
    """:func:`unglue_records` of each line of a batch that may need it.

    Every line of ``podman logs --timestamps`` starts with a timestamp
    ending in ``Z ``; a line holding no other ``Z `` has nothing glued (a
    count in C: :func:`unglue_records` on every line cost a fifth of the
    library's time on a 50 MB log), and a batch without any is returned as
    it is.
    """
    if b"".join(lines).count(b"Z ") == len(lines):
        return lines
    return [unglue_records(line) if line.count(b"Z ") > 1 else line for line in lines]


def _next_year(year: bytes) -> bytes:
    return str(int(year) + 1).encode() if year.isdigit() else b"\n"


#: Seconds between two reads of a followed log when the last brought nothing.
FOLLOW_POLL = 0.2


def poll_frames(
    read: Callable[[int | None, int | None], list[_Frame]],
    *,
    running: Callable[[], bool],
    spec: LogsSpec,
    sleep: Callable[[float], object] = time.sleep,
    stopped: Callable[[], bool] = lambda: False,
) -> Iterator[_Frame]:
    """A followed log, as plain reads repeated until the container stops.

    Podman 4.3's own follow loses records once the container has exited
    when its reader is slower than the container wrote: the end, and some
    records before what it still sends (seen through an SSH tunnel, and
    locally with a busy reader).  A plain read is complete, so the follow
    is made of those: ``read(since, tail)`` returns every frame (timestamp
    first, whole seconds as the API gives them) and each following read
    starts a second before the newest record, skipping per stream the
    records of that second already given, which come first and in the same
    order in every read.  It ends after the first read made once
    ``running()`` said no, or as soon as ``stopped()`` says yes.
    """
    newest: dict[_logs.Stream, tuple[int, int]] = {}  # stream -> (second, records of it)

    def note(stream: _logs.Stream, second: int | None) -> None:
        if second is not None:
            last, count = newest.get(stream, (-1, 0))
            newest[stream] = (second, count + 1 if second == last else 1)

    since, tail = spec.since, spec.tail
    if tail == 0:
        # Only what comes next: what is there now counts as given.
        for stream, payload in read(since, None):
            note(stream, _second(payload))
    while not stopped():
        alive = running()
        if newest:
            since = min(second for second, _ in newest.values()) - 1
        given = dict(newest)
        skipped: dict[_logs.Stream, int] = {}
        fresh = 0
        for stream, payload in read(since, None if tail == 0 else tail):
            second = _second(payload)
            old_second, old_count = given.get(stream, (-1, 0))
            if second is not None and second < old_second:
                continue
            if second == old_second and skipped.get(stream, 0) < old_count:
                skipped[stream] = skipped.get(stream, 0) + 1
                continue
            note(stream, second)
            fresh += 1
            yield stream, payload
        if not alive:
            return
        tail = None  # the first read only
        if not fresh:
            sleep(FOLLOW_POLL)


def _second(payload: bytes) -> int | None:
    stamp, _ = _logs.split_timestamp(payload)
    return int(stamp.timestamp()) if stamp is not None else None


_WAIT_POLL = "20ms"

_PUSHED = re.compile(r"digest: (sha256:[0-9a-f]{64})")


def compat_push_digest(chunk: Mapping[str, Any]) -> str | None:
    """The manifest digest in a Docker-compatible push stream object
    (``{"status": "1: digest: sha256:... size: 887"}``, or ``aux.Digest``)."""
    aux = chunk.get("aux")
    if isinstance(aux, dict) and aux.get("Digest"):
        return str(aux["Digest"])
    match = _PUSHED.search(str(chunk.get("status") or ""))
    return match.group(1) if match else None


def compat_push_event(chunk: Mapping[str, Any]) -> Progress | None:
    """One object of Podman's Docker-compatible push stream as a
    :class:`Progress`.  Podman 4.3 sends only the two image-level lines
    (``The push refers to repository [...]`` and the digest); a layer line,
    if any, has an ``id``."""
    status = str(chunk.get("status") or "").strip()
    if not status:
        return None
    layer = chunk.get("id")
    if layer is None:
        return Progress(action="push", layer=None, status="info", message=status)
    lowered = status.lower()
    kind: ProgressStatus = (
        "done"
        if lowered == "pushed"
        else "exists"
        if "exists" in lowered or lowered.startswith("mounted from")
        else "uploading"
    )
    detail = chunk.get("progressDetail") or {}
    current, total = detail.get("current"), detail.get("total")
    return Progress(
        action="push",
        layer=str(layer)[:12],
        status=kind,
        current=current if isinstance(current, int) else None,
        total=total if isinstance(total, int) and total > 0 else None,
        message=status,
    )


def exec_result(done: Completed) -> ExecResult | None:
    """The exec'd command's result, or ``None`` when ``podman exec`` itself failed.

    ``podman exec`` exits with the command's own code.  When Podman fails
    before the command runs it exits 125 (container lookup) or 255 (session
    refused: container not running, unknown user...) and prints nothing but
    one ``Error: ...`` line (its warnings are silenced by ``--log-level``).
    A command that ends the same way, with no other output, cannot be told
    apart and is taken for Podman's failure.  A command that cannot start
    is 127 or 126 with runc's message on stderr: a result, as on the API.
    """
    lines = done.stderr.splitlines()
    if (
        done.returncode in (125, 255)
        and not done.stdout
        and len(lines) == 1
        and lines[0].startswith(b"Error: ")
    ):
        return None
    return ExecResult(exit_code=done.returncode, stdout=done.stdout, stderr=done.stderr)


def stats_sample(line: bytes) -> dict[str, Any] | None:
    """The one container's sample in a line of libpod's stats stream, or
    ``None`` when it has none (``{"Error": {}, "Stats": null}`` for a
    container that does not exist: the error itself is lost)."""
    if not line:
        return None
    data = json.loads(line)
    found = data.get("Stats") if isinstance(data, dict) else None
    return found[0] if isinstance(found, list) and found else None


def stats_record(sample: Mapping[str, Any]) -> Stats:
    """A libpod stats sample as :class:`~runtimes.Stats`.

    ``CPU`` is the percent of one CPU since the previous sample of the
    stream (the first one: since the container started); ``MemUsage``
    counts the page cache.  A container that is not running is all zeros.
    """
    return Stats(
        cpu_percent=float(sample.get("CPU") or 0.0),
        memory_usage=int(sample.get("MemUsage") or 0),
        memory_limit=int(sample.get("MemLimit") or 0),
        network_rx=int(sample.get("NetInput") or 0),
        network_tx=int(sample.get("NetOutput") or 0),
        block_read=int(sample.get("BlockInput") or 0),
        block_write=int(sample.get("BlockOutput") or 0),
        pids=int(sample.get("PIDs") or 0),
        raw=sample,
    )


def configured_ulimits(environ: Mapping[str, str] | None = None) -> list[Ulimit]:
    """``default_ulimits`` of the containers.conf files the podman CLI reads
    (``CONTAINERS_CONF`` alone when set; else the system's, then the
    user's, the last one setting it winning)."""
    env = os.environ if environ is None else environ
    if env.get("CONTAINERS_CONF"):
        paths = [env["CONTAINERS_CONF"]]
    else:
        home = env.get("XDG_CONFIG_HOME") or os.path.join(env.get("HOME", "/root"), ".config")
        paths = [
            "/usr/share/containers/containers.conf",
            "/etc/containers/containers.conf",
            os.path.join(home, "containers", "containers.conf"),
        ]
    found: list[str] = []
    for path in paths:
        try:
            with open(path, "rb") as fh:
                section = tomllib.load(fh).get("containers") or {}
        except (OSError, tomllib.TOMLDecodeError):
            continue
        if isinstance(section.get("default_ulimits"), list):
            found = [str(item) for item in section["default_ulimits"]]
    limits = []
    for item in found:
        name, _, values = item.partition("=")
        soft, _, hard = values.partition(":")
        with contextlib.suppress(ValueError):
            limits.append(Ulimit(name=name, soft=int(soft), hard=int(hard or soft)))
    return limits
