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

import contextlib
import functools
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Literal

import attrs
import podman
import podman.errors

from runtimes import _credentials, _logs, _normalize, _specs
from runtimes._shell import Completed, Shell
from runtimes._translate import Target, translate
from runtimes._transport import Endpoint, http_errors, message_from_body
from runtimes.adapters import _cli
from runtimes.adapters._podman_service import PrivateService, answers, standard_sockets
from runtimes.base import Runtime
from runtimes.errors import ImageNotFound, RuntimesError, RuntimeUnavailable, Timeout
from runtimes.models import (
    ENGINE_CAPABILITIES,
    Capability,
    Container,
    ContainerState,
    ExecResult,
    Image,
    LogLine,
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

__all__ = ["PodmanRuntime"]

INSTALL_HINT = "install Podman (Debian: apt-get install podman)"
_FOREVER = 10 * 365 * 86400.0
_IMAGE_ID = re.compile(r"[0-9a-f]{64}")
_COPYING = re.compile(
    r"Copying (?P<what>blob|config) (?:sha256:)?(?P<digest>[0-9a-f]{12,64})(?P<rest>.*)"
)


class PodmanRuntime(Runtime):
    """Podman, rootful or rootless.

    Options: ``host`` (service URL; default ``CONTAINER_HOST``, then the
    standard sockets, then a private service), ``binary`` (default
    ``podman``), ``service_idle`` (seconds a private service may sit idle
    before it exits, default 300) and ``timeout`` (seconds per call).
    """

    name = "podman"
    capabilities = (
        frozenset(
            {
                Capability.LOSSLESS_LOGS,
                Capability.KEEPS_UNTERMINATED_LAST_LINE,
                Capability.NETWORK_ALIASES,
                Capability.NETWORK_CONNECT,
                Capability.PER_CALL_REGISTRY_TLS,
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
    options = ("host", "binary", "service_idle", "timeout")

    def __init__(
        self,
        host: str | None = None,
        binary: str | None = None,
        service_idle: int | str | None = None,
        timeout: float | str | None = None,
    ) -> None:
        self.binary = binary or "podman"
        self.default_timeout = float(timeout) if timeout is not None else 120.0
        if shutil.which(self.binary) is None:
            raise RuntimeUnavailable("podman", f"{self.binary} is not on PATH", hint=INSTALL_HINT)
        explicit = host or os.environ.get("CONTAINER_HOST")
        self._service: PrivateService | None = None
        if explicit:
            # An endpoint that was asked for and fails is an error, not a fallback.
            if explicit.startswith("unix://") and not answers(explicit):
                raise RuntimeUnavailable(
                    "podman", f"no Podman service answers at {explicit}", hint=INSTALL_HINT
                )
            self.host = explicit
        else:
            found = next((f"unix://{s}" for s in standard_sockets() if os.path.exists(s)), None)
            if found and answers(found):
                self.host = found
            else:
                self._service = PrivateService(self.binary, int(service_idle or 300))
                self._service.ensure()
                self.host = self._service.url
        self._client = podman.PodmanClient(base_url=self.host, timeout=self.default_timeout)
        # The CLI works on local storage directly, unless the service is remote.
        self._remote = bool(explicit)
        remote = ["--remote", "--url", self.host] if self._remote else []
        self._shell = Shell(
            "podman",
            self.binary,
            global_args=remote,
            timeout=self.default_timeout,
            install_hint=INSTALL_HINT,
        )

    @classmethod
    def configured_endpoint(cls, **options: Any) -> str | None:
        return options.get("host") or os.environ.get("CONTAINER_HOST") or None

    @classmethod
    def detect(cls, **options: Any) -> str | None:
        binary = options.get("binary") or "podman"
        if shutil.which(binary) is None:
            return f"{binary} is not on PATH: {INSTALL_HINT}"
        host = options.get("host") or os.environ.get("CONTAINER_HOST")
        if host:
            return None if answers(host) else f"no Podman service answers at {host}"
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
        self, operation: str, target: Target = "none", ref: str | None = None
    ) -> contextlib.AbstractContextManager[None]:
        return http_errors(self._endpoint, operation, target, ref)

    def _call(
        self,
        method: str,
        path: str,
        operation: str,
        target: Target = "none",
        ref: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """One API call; returns the response, raising the library error on >= 400."""
        if self._service is not None:
            self._service.ensure()
        with self._translating(operation, target, ref):
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
            storage_driver=info.get("store", {}).get("graphDriverName"),
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
        filters = _specs.label_filters(labels)
        params = {"filters": json.dumps(filters)} if filters else None
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
        return [self._image_model(item) for item in listed or ()]

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
        return _cli.run_detached(self._shell, spec)

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
        ref = spec.container
        params: dict[str, Any] = {
            "stdout": str(spec.stdout).lower(),
            "stderr": str(spec.stderr).lower(),
            "follow": str(spec.follow).lower(),
            "timestamps": str(spec.timestamps).lower(),
        }
        if spec.tail is not None:
            params["tail"] = str(spec.tail)
        if spec.since is not None:
            params["since"] = str(spec.since)
        response = self._call(
            "get",
            f"/containers/{ref}/logs",
            "logs",
            target="container",
            ref=ref,
            params=params,
            stream=True,
            timeout=(10, None) if spec.follow else self.default_timeout,
        )
        return _logs.Closing(
            self._log_lines(response, spec.timestamps),
            response.close,
            lambda: _logs.shutdown_response(response),
        )

    def _log_lines(self, response: Any, timestamps: bool) -> Iterator[LogLine]:
        try:
            with self._translating("logs", "container"):
                frames = _logs.read_frames(response.raw.read)
                yield from _logs.join_frames(
                    frames, timestamps=timestamps, framed_timestamps=timestamps
                )
        finally:
            response.close()

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
                params={"condition": ["exited", "stopped"]},
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
        # the same API, so a remote service gets the API directly.
        if self._remote:
            return self._exec_api(spec)
        return self._exec_cli(spec)

    def _exec_cli(self, spec: ExecSpec) -> ExecResult:
        ref = spec.container
        out: list[bytes] = []
        err: list[bytes] = []
        code = 0
        with tempfile.TemporaryDirectory(prefix="runtimes-exec-") as tmp:
            env_args, through_env = _cli.env_transport(tmp, spec.env)
            # Podman's own warnings would land in the command's stderr.
            args = ["--log-level=fatal", "exec", *env_args]
            if spec.workdir:
                args += ["-w", spec.workdir]
            if spec.user:
                args += ["-u", spec.user]
            args += ["--", ref, *spec.command]
            # An idle limit, like the API's read timeout: a long exec that
            # keeps printing is never cut.
            for stream, data in self._shell.stream(
                args, operation="exec", idle_timeout=self.default_timeout, env=through_env
            ):
                if stream == "exit":
                    code = int(data)
                else:
                    (out if stream == "stdout" else err).append(data)
        done = Completed(tuple(self._shell.argv(args)), code, b"".join(out), b"".join(err))
        result = exec_result(done)
        if result is None:
            raise self._shell.error(done, operation="exec", target="container", ref=ref)
        return result

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
        filters = _specs.label_filters(labels)
        listed = self._json(
            "get",
            "/volumes/json",
            "volumes",
            params={"filters": json.dumps(filters)} if filters else None,
        )
        return [_normalize.volume(v) for v in listed or ()]

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
