"""Podman adapter: the libpod REST API through podman-py, plus the CLI where
it is faster.

Podman has no daemon.  The adapter talks to the service named by ``host``
or ``CONTAINER_HOST``, else to the standard rootful/rootless socket when it
answers, else to a private ``podman system service`` that it starts on a
socket in a private temporary directory and stops on :meth:`close` or at
interpreter exit (the service also exits by itself after ``service_idle``
seconds without calls, so even a killed interpreter leaves nothing behind).

Verbs by transport, chosen by measurement (see ``benchmarks/``):

* API: ps, inspect, logs, stop, kill, wait, remove, exec, images, volumes;
* CLI: ``run`` (one process instead of create + start + inspect round
  trips through the service) and ``build`` (no tar upload; ``--iidfile``).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import podman
import podman.errors
import requests.exceptions

from runtimes import _logs, _normalize, _specs
from runtimes._redact import redact_exception
from runtimes._shell import Shell, clean_error_text
from runtimes._translate import Target, translate
from runtimes.adapters import _cli
from runtimes.base import ContainerRef, RunSpec, Runtime
from runtimes.errors import (
    BuildFailed,
    RuntimesError,
    RuntimeUnavailable,
    Timeout,
)
from runtimes.models import (
    Capability,
    Container,
    ContainerState,
    ExecResult,
    Image,
    LogLine,
    RuntimeInfo,
    Volume,
)

__all__ = ["PodmanRuntime"]

INSTALL_HINT = "install Podman (Debian: apt-get install podman)"
_FOREVER = 10 * 365 * 86400.0


def _standard_sockets() -> list[str]:
    sockets = ["/run/podman/podman.sock"] if os.geteuid() == 0 else []
    runtime_dir = os.environ.get("XDG_RUNTIME_DIR")
    if runtime_dir:
        sockets.append(os.path.join(runtime_dir, "podman", "podman.sock"))
    return sockets


def _answers(url: str, timeout: float = 2.0) -> bool:
    try:
        with podman.PodmanClient(base_url=url, timeout=timeout) as client:
            return bool(client.ping())
    except Exception:
        return False


class _PrivateService:
    """A ``podman system service`` owned by one runtime object."""

    def __init__(self, binary: str, idle: int) -> None:
        self._binary = binary
        self._idle = idle
        self._dir = tempfile.mkdtemp(prefix="runtimes-podman-")
        self.url = f"unix://{self._dir}/podman.sock"
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def ensure(self) -> None:
        """Start the service, or restart it if it exited after being idle."""
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                return
            self._proc = subprocess.Popen(
                [self._binary, "system", "service", f"--time={self._idle}", self.url],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            deadline = time.monotonic() + 30
            socket_path = self.url[len("unix://") :]
            while time.monotonic() < deadline:
                if self._proc.poll() is not None:
                    err = self._proc.stderr.read().decode() if self._proc.stderr else ""
                    raise RuntimeUnavailable(
                        "podman", f"podman system service exited: {clean_error_text(err)}"
                    )
                if os.path.exists(socket_path) and _answers(self.url):
                    return
                time.sleep(0.05)
            self.stop()
            raise RuntimeUnavailable("podman", "podman system service did not answer within 30 s")

    def stop(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if proc is not None and proc.stderr is not None:
                proc.stderr.close()
            shutil.rmtree(self._dir, ignore_errors=True)


class PodmanRuntime(Runtime):
    """Podman, rootful or rootless.

    Options: ``host`` (service URL; default ``CONTAINER_HOST``, then the
    standard sockets, then a private service), ``binary`` (default
    ``podman``), ``service_idle`` (seconds a private service may sit idle
    before it exits, default 300) and ``timeout`` (seconds per call).
    """

    name = "podman"
    capabilities = frozenset({Capability.LOSSLESS_LOGS})
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
        self._service: _PrivateService | None = None
        if explicit:
            self.host = explicit
        else:
            found = next((f"unix://{s}" for s in _standard_sockets() if os.path.exists(s)), None)
            if found and _answers(found):
                self.host = found
            else:
                self._service = _PrivateService(self.binary, int(service_idle or 300))
                self._service.ensure()
                self.host = self._service.url
                _live_services.add(self._service)
        self._client = podman.PodmanClient(base_url=self.host, timeout=self.default_timeout)
        # The CLI works on local storage directly, unless the service is remote.
        remote = ["--remote", "--url", self.host] if explicit else []
        self._shell = Shell(
            "podman",
            self.binary,
            global_args=remote,
            timeout=self.default_timeout,
            install_hint=INSTALL_HINT,
        )

    @classmethod
    def detect(cls, **options: Any) -> str | None:
        binary = options.get("binary") or "podman"
        if shutil.which(binary) is None:
            return f"{binary} is not on PATH: {INSTALL_HINT}"
        host = options.get("host") or os.environ.get("CONTAINER_HOST")
        if host:
            return None if _answers(host) else f"no Podman service answers at {host}"
        try:
            subprocess.run(
                [binary, "version", "--format", "{{.Client.Version}}"],
                capture_output=True,
                timeout=15,
                check=True,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return f"{binary} does not run: {exc}"
        return None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._client.close()  # type: ignore[no-untyped-call]
        if self._service is not None:
            self._service.stop()
            _live_services.discard(self._service)

    def __repr__(self) -> str:
        return f"<PodmanRuntime host={self.host!r}>"

    # -- the one translation point for the API --------------------------------------

    @contextlib.contextmanager
    def _translating(
        self, operation: str, target: Target = "none", ref: str | None = None
    ) -> Iterator[None]:
        try:
            yield
        except RuntimesError:
            raise
        except requests.exceptions.ReadTimeout as exc:
            raise Timeout(f"podman {operation} did not answer in time") from redact_exception(exc)
        except (requests.exceptions.ConnectionError, podman.errors.APIError) as exc:
            # podman-py wraps transport errors (a read timeout included) in APIError.
            if "timed out" in f"{exc} {exc.__cause__}".lower():
                raise Timeout(f"podman {operation} did not answer in time") from redact_exception(
                    exc
                )
            raise RuntimeUnavailable(
                "podman", f"lost the Podman service at {self.host}: {exc}"
            ) from redact_exception(exc)

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
                body = response.json()
                message = str(body.get("message") or body.get("cause") or body)
            except ValueError:
                message = response.text
            finally:
                response.close()
            raise translate(
                "podman", operation, message, target=target, ref=ref, status=response.status_code
            )
        return response

    def _json(self, method: str, path: str, operation: str, **kwargs: Any) -> Any:
        response = self._call(method, path, operation, **kwargs)
        try:
            return response.json() if response.content else None
        finally:
            response.close()

    # -- info -------------------------------------------------------------------------

    def info(self) -> RuntimeInfo:
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
        code, tail, image_id = _cli.build(
            self._shell,
            context_dir,
            extra_args=["--pull=never", "--force-rm"],
            tag=tag,
            dockerfile=dockerfile,
            build_args=build_args,
            target=target,
            labels=labels,
            no_cache=no_cache,
            on_output=on_output,
        )
        if image_id is None:
            message = clean_error_text("\n".join(tail[-3:])) or f"exit code {code}"
            raise BuildFailed(message, runtime=self.name, exit_code=code, output=tail)
        return self.image(image_id)

    def _image(self, raw: Mapping[str, Any]) -> Image:
        labels = raw.get("Labels")
        if labels is None:
            labels = (raw.get("Config") or {}).get("Labels")
        tags = raw.get("RepoTags") or raw.get("Names") or ()
        return Image(
            id=_normalize.image_id(raw.get("Id")),
            tags=tuple(dict.fromkeys(_normalize.image_tag(t) for t in tags)),
            labels=_normalize.labels(labels),
            created_at=_normalize.timestamp(raw.get("Created")),
            size=raw.get("Size"),
            raw=raw,
        )

    def images(self, *, labels: Mapping[str, str] | None = None) -> list[Image]:
        filters = _specs.label_filters(_specs.check_labels(labels))
        listed = self._json(
            "get",
            "/images/json",
            "images",
            params={"filters": json.dumps(filters)} if filters else None,
        )
        return [self._image(item) for item in listed or ()]

    def image(self, ref: str) -> Image:
        _specs.check_image_ref(ref)
        return self._image(
            self._json("get", f"/images/{ref}/json", "image", target="image", ref=ref)
        )

    def remove_image(self, ref: str, *, force: bool = False) -> None:
        _specs.check_image_ref(ref)
        self._json(
            "delete",
            f"/images/{ref}",
            "remove_image",
            target="image",
            ref=ref,
            params={"force": str(force).lower()},
        )

    # -- containers -------------------------------------------------------------------------

    def _run(self, spec: RunSpec) -> str:
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
        )

    def _ps(self, all: bool, labels: dict[str, str], name: str | None) -> list[Container]:  # noqa: A002
        filters = _specs.label_filters(labels)
        if name is not None:
            filters["name"] = [name]
        params: dict[str, Any] = {"all": str(all).lower()}
        if filters:
            params["filters"] = json.dumps(filters)
        listed = self._json("get", "/containers/json", "ps", params=params)
        return [self._from_list(item) for item in listed or ()]

    def inspect(self, container: ContainerRef) -> Container:
        ref = self._ref(container)
        raw = self._json("get", f"/containers/{ref}/json", "inspect", target="container", ref=ref)
        return self._from_inspect(raw)

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
        params: dict[str, Any] = {
            "stdout": str(stdout).lower(),
            "stderr": str(stderr).lower(),
            "follow": str(follow).lower(),
            "timestamps": str(timestamps).lower(),
        }
        if tail is not None:
            params["tail"] = str(tail)
        if since is not None:
            params["since"] = str(since)
        response = self._call(
            "get",
            f"/containers/{ref}/logs",
            "logs",
            target="container",
            ref=ref,
            params=params,
            stream=True,
            timeout=(10, None) if follow else self.default_timeout,
        )
        return self._log_lines(response, timestamps)

    def _log_lines(self, response: Any, timestamps: bool) -> Iterator[LogLine]:
        try:
            with self._translating("logs", "container"):
                frames = _logs.read_frames(response.raw.read)
                yield from _logs.join_frames(
                    frames, timestamps=timestamps, framed_timestamps=timestamps
                )
        finally:
            response.close()

    def stop(self, container: ContainerRef, timeout: float = 10) -> None:
        ref = self._ref(container)
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

    def kill(self, container: ContainerRef, signal: str | int = "SIGKILL") -> None:
        ref = self._ref(container)
        self._json(
            "post",
            f"/containers/{ref}/kill",
            "kill",
            target="container",
            ref=ref,
            params={"signal": str(signal)},
        )

    def wait(self, container: ContainerRef, timeout: float | None = None) -> int:
        ref = self._ref(container)
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

    def remove(self, container: ContainerRef, *, force: bool = False) -> None:
        ref = self._ref(container)
        reports = self._json(
            "delete",
            f"/containers/{ref}",
            "remove",
            target="container",
            ref=ref,
            # timeout=0: kill at once like Docker's `rm -f`, not after the stop grace period
            params={"force": str(force).lower(), "timeout": 0},
        )
        for report in reports or ():
            if isinstance(report, dict) and report.get("Err"):
                raise translate("podman", "remove", str(report["Err"]), target="container", ref=ref)

    def exec(
        self,
        container: ContainerRef,
        command: str | Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        workdir: str | None = None,
        user: str | None = None,
    ) -> ExecResult:
        ref = self._ref(container)
        argv, checked_env = self._exec_spec(command, env, workdir)
        body: dict[str, Any] = {
            "Cmd": argv,
            "AttachStdout": True,
            "AttachStderr": True,
            "Env": [f"{k}={v}" for k, v in checked_env.items()],
        }
        if workdir:
            body["WorkingDir"] = workdir
        if user:
            body["User"] = user
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

    def _volume(self, raw: Mapping[str, Any]) -> Volume:
        return Volume(name=raw["Name"], labels=_normalize.labels(raw.get("Labels")), raw=raw)

    def create_volume(self, name: str, *, labels: Mapping[str, str] | None = None) -> Volume:
        _specs.check_name(name)
        raw = self._json(
            "post",
            "/volumes/create",
            "create_volume",
            target="volume",
            ref=name,
            data=json.dumps({"Name": name, "Label": _specs.check_labels(labels)}),
            headers={"Content-Type": "application/json"},
        )
        return self._volume(raw)

    def volumes(self, *, labels: Mapping[str, str] | None = None) -> list[Volume]:
        filters = _specs.label_filters(_specs.check_labels(labels))
        listed = self._json(
            "get",
            "/volumes/json",
            "volumes",
            params={"filters": json.dumps(filters)} if filters else None,
        )
        return [self._volume(v) for v in listed or ()]

    def remove_volume(self, name: str, *, force: bool = False) -> None:
        _specs.check_name(name)
        self._json(
            "delete",
            f"/volumes/{name}",
            "remove_volume",
            target="volume",
            ref=name,
            params={"force": str(force).lower()},
        )


# Private services still running; stopped at interpreter exit even when the
# runtime object was never closed.
_live_services: set[_PrivateService] = set()


@atexit.register
def _stop_services() -> None:
    for service in list(_live_services):
        service.stop()
