"""containerd adapter, driven through the ``nerdctl`` CLI.

Every call goes through :class:`runtimes._shell.Shell`.  ``ps`` costs two
processes whatever the number of containers (one ``ps``, one batched
``inspect``): nerdctl's listing has no ``State`` and gives labels as one
ambiguous ``k=v,...`` string, so state, exit code and labels come from
``inspect``.  Builds need BuildKit (``buildctl`` on PATH and a running
``buildkitd``); the image id comes from ``--iidfile``.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import posixpath
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import IO, Any, ClassVar, Literal, NamedTuple

import attrs

from runtimes import _credentials, _logs, _normalize
from runtimes._shell import FOREVER, Completed, Shell, clean_error_text, log, terminate
from runtimes._translate import Target
from runtimes.adapters import _cli
from runtimes.base import Runtime
from runtimes.errors import (
    BuildFailed,
    CommandFailed,
    ContainerNotFound,
    ImageNotFound,
    InvalidSpec,
    NetworkNotFound,
    NotFound,
    RuntimesError,
    RuntimeUnavailable,
    Timeout,
    VolumeNotFound,
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
)
from runtimes.streams import ExecStream, collect

__all__ = ["NerdctlRuntime"]

DEFAULT_ADDRESS = "/run/containerd/containerd.sock"
BUILDKIT_HINT = (
    "nerdctl needs BuildKit to build: put buildctl on PATH and start buildkitd "
    "(e.g. `buildkitd --oci-worker=true --containerd-worker=false &`), or point "
    "BUILDKIT_HOST / RUNTIMES_NERDCTL_BUILDKIT_HOST at a running one"
)
INSTALL_HINT = "install nerdctl and start containerd (see scripts/prepare-machine.sh)"
#: The first nerdctl that keeps a last log line written without a newline: it
#: writes logs synchronously (nerdctl#5009).  nerdctl 2.0 drops that line every
#: time (nerdctl#2313); 2.2 keeps it unless the logs are read before its
#: logger has finished, right after the exit (1 read in 30-40 here).
KEEPS_LAST_LINE_SINCE = (2, 3, 4)
#: The first nerdctl whose ``stats`` CPU figure is right here: 2.0.3 (on
#: containerd 1.6, cgroup v1) prints 0.00% or thousands of percent for a
#: busy container, 2.2.2 (on containerd 2.4) what Docker prints.
STATS_CPU_SINCE = (2, 2, 0)
#: The first nerdctl whose ``stats`` of a container that is not running
#: returns (zeros); 2.0.3 spins on it forever (fixed by nerdctl bcdb5eb).
STATS_OF_STOPPED_SINCE = (2, 0, 5)
#: What nerdctl 2.2.2 prints for a container that is not running.
STOPPED_STATS_ROW: Mapping[str, str] = {
    "CPUPerc": "0.00%",
    "MemUsage": "0B / 0B",
    "MemPerc": "0.00%",
    "NetIO": "0B / 0B",
    "BlockIO": "0B / 0B",
    "PIDs": "0",
}
# How long an older nerdctl's stats may take before its container's state
# is checked again: a sample takes about a second.
_STATS_RECHECK = 20.0
# `exec -i` of 2.0.3 (on containerd 1.6) never ends the command's input:
# `cat` waited forever. 2.2.2 ends it, but for an input that ends before its
# exec exists (see exec_input); the first release with it is not known here,
# so the gate is the oldest release tested to have it.
EXEC_STDIN_SINCE = (2, 2, 0)
# containerd 1.6's restart monitor takes only "always"; 1.7 added on-failure
# and unless-stopped (nerdctl asks the plugin, and refuses the others).
RESTART_POLICIES_SINCE = (1, 7, 0)
# containerd before 1.7 runs a restart monitor: every 10 s it starts each
# container whose label containerd.io/restart.status says "running" and whose
# task is not running. nerdctl's start (and restart, and run -d) sets that
# label before it creates and starts the task, so a tick in between races
# nerdctl. Seen with nerdctl 2.0.3 on containerd 1.6.20, in about 3 of 100
# starts of a container with a restart policy (none in 150 on 2.4.2): the
# monitor kills nerdctl's new task and starts its own, and nerdctl fails with
# "cannot start a container that has stopped"; both create a task, and one
# fails with "failed to start shim: mkdir ...: file exists"; or nerdctl's
# start succeeds and the monitor kills and restarts it just after. Each time
# the container shows status "" for about 0.6 s, then runs, started by the
# monitor. So on such a containerd a start waits for that (_started).
_MONITOR_RACE = re.compile(
    r"cannot start a container that has stopped|failed to start shim: mkdir .*: file exists"
)
# `rm -f` of such a container: the monitor restarts the task nerdctl killed
# before nerdctl deletes the container (seen twice in about 2000 removals).
_MONITOR_RESTARTED = "cannot delete running task"
# How long the monitor gets to start a container it took over: one tick.
MONITOR_GRACE = 10.0
_VERSION = re.compile(rb"^nerdctl version v?(\d+)\.(\d+)\.(\d+)\b")
# Labels nerdctl adds for its own bookkeeping; callers never set them.
_INTERNAL_LABELS = ("nerdctl/", "io.containerd.image.config.", "containerd.io/restart.")
# Links followed at the top of a copy before giving up (Linux's own limit).
_MAX_LINKS = 40
_EXEC_EXIT = re.compile(r'level=fatal msg="exec failed with exit code (\d+)"')
# nerdctl's error for a batched inspect: "no such container: ID" per id missing.
_GONE_RE = re.compile(r"no such container: ([^\s\"\\]+)")
_IMAGE_GONE_RE = re.compile(r"no such image: ([^\s\"\\]+)")
# From this many ids a listing inspects by first hex digit (see inspect_refs).
PREFIX_INSPECT_FROM = 32
_FULL_ID = re.compile(r"[0-9a-f]{64}")


def _user_labels(raw: Mapping[str, str] | None) -> dict[str, str]:
    return {k: v for k, v in (raw or {}).items() if not k.startswith(_INTERNAL_LABELS)}


class NerdctlRuntime(Runtime):
    """containerd through nerdctl.

    Options: ``address`` (``CONTAINERD_ADDRESS``), ``namespace``
    (``CONTAINERD_NAMESPACE``, default ``default``), ``buildkit_host``
    (``BUILDKIT_HOST``), ``binary`` (default ``nerdctl`` on PATH),
    ``command_prefix`` (e.g. ``"sudo -n"``), ``init_binary`` (the init of
    ``run(init=True)``; default ``tini-static`` when it is on PATH, else
    nerdctl's ``tini``) and ``timeout`` (seconds per call).

    nerdctl bind-mounts its init binary into the container, so it must be
    statically linked to run in an image without a C library (``FROM
    scratch``); Debian's ``tini`` package ships both, ``tini`` being dynamic.
    """

    name = "nerdctl"
    #: What every supported nerdctl provides; an instance adds what its
    #: nerdctl's version provides (see :func:`capabilities_for`).
    capabilities = (
        frozenset(
            {
                Capability.CREATES_MISSING_WORKDIR,
                Capability.PRECISE_LOG_TIMESTAMPS,
                Capability.ISOLATED_NETWORKS,
                Capability.PER_CALL_REGISTRY_TLS,
            }
        )
        | ENGINE_CAPABILITIES
    )
    unsupported_reasons: ClassVar[Mapping[Capability, str]] = {
        Capability.NETWORK_ALIASES: (
            "nerdctl has no --network-alias; containers on a network resolve each other "
            "through /etc/hosts by name and hostname only, so give the container a hostname="
        ),
        Capability.NETWORK_CONNECT: (
            "nerdctl has no `network connect` or `network disconnect`; pass network= to run instead"
        ),
        Capability.INTERNAL_NETWORKS: "nerdctl has no --internal networks",
        Capability.RESTART_POLICIES: (
            "containerd before 1.7 (its restart monitor) knows only the 'always' policy"
        ),
        Capability.SCHEDULES_HEALTHCHECKS: (
            "the adapter gives nerdctl no healthcheck (2.0 has none); "
            "the library runs the check itself (check_health, wait_for)"
        ),
    }
    options = (
        "address",
        "namespace",
        "buildkit_host",
        "binary",
        "command_prefix",
        "init_binary",
        "timeout",
    )

    def __init__(
        self,
        address: str | None = None,
        namespace: str | None = None,
        buildkit_host: str | None = None,
        binary: str | None = None,
        command_prefix: str | Sequence[str] = (),
        init_binary: str | None = None,
        timeout: float | str | None = None,
    ) -> None:
        self.init_binary = init_binary or ("tini-static" if shutil.which("tini-static") else None)
        self.address = address or os.environ.get("CONTAINERD_ADDRESS") or DEFAULT_ADDRESS
        self._address_source = (
            "option address"
            if address
            else "CONTAINERD_ADDRESS"
            if os.environ.get("CONTAINERD_ADDRESS")
            else "default socket"
        )
        self.namespace = namespace or os.environ.get("CONTAINERD_NAMESPACE") or "default"
        self.buildkit_host = buildkit_host or os.environ.get("BUILDKIT_HOST") or None
        self.default_timeout = float(timeout) if timeout is not None else 120.0
        self._shell = Shell(
            "nerdctl",
            binary or "nerdctl",
            prefix=command_prefix,
            global_args=("--address", self.address, "--namespace", self.namespace),
            timeout=self.default_timeout,
            install_hint=INSTALL_HINT,
        )
        #: The nerdctl release, e.g. ``(2, 2, 2)``; ``None`` when it does not say.
        self.nerdctl_version = self._client_version()
        #: The containerd release it reaches, or ``None`` when it does not answer.
        self.containerd_version = self._containerd_version()
        self.capabilities = capabilities_for(self.nerdctl_version, self.containerd_version)

    @property
    def _monitor_races(self) -> bool:
        # See _MONITOR_RACE: on these, `run` with a restart policy is
        # `create` and `start`, whose loss of that race _start recovers from.
        version = self.containerd_version
        return version is not None and version < RESTART_POLICIES_SINCE

    def _client_version(self) -> tuple[int, int, int] | None:
        # Local to the binary (no containerd round trip): one short process.
        try:
            done = self._shell.run(
                ["--version"], operation="version", timeout=min(15.0, self.default_timeout)
            )
        except RuntimesError:
            return None  # the first real call reports what is wrong
        return nerdctl_version(done.stdout)

    def _containerd_version(self) -> tuple[int, int, int] | None:
        # One round trip (about 60 ms); a containerd that does not answer
        # now gets the promises of the oldest supported one.
        try:
            done = self._shell.run(
                ["version", "--format", "{{json .Server.Components}}"],
                operation="version",
                timeout=min(15.0, self.default_timeout),
                check=False,
            )
            components = json.loads(done.stdout or b"null") or []
        except (RuntimesError, ValueError):
            return None
        for component in components:
            if isinstance(component, Mapping) and component.get("Name") == "containerd":
                match = re.match(r"v?(\d+)\.(\d+)\.(\d+)", str(component.get("Version")))
                if match:
                    major, minor, patch = (int(part) for part in match.groups())
                    return (major, minor, patch)
        return None

    @classmethod
    def configured_endpoint(cls, **options: Any) -> str | None:
        return options.get("address") or os.environ.get("CONTAINERD_ADDRESS") or None

    @classmethod
    def detect(cls, **options: Any) -> str | None:
        binary = options.get("binary") or "nerdctl"
        if shutil.which(binary) is None and not options.get("command_prefix"):
            return f"{binary} is not on PATH: {INSTALL_HINT}"
        address = options.get("address") or os.environ.get("CONTAINERD_ADDRESS") or DEFAULT_ADDRESS
        if address.startswith("/") and not os.path.exists(address):
            return f"no containerd socket at {address}: start containerd"
        try:
            # `version` asks containerd too: one process answers "reachable".
            probe = cls(**options)._shell  # noqa: SLF001 - same class
            probe.run(["version", "--format", "{{json .}}"], operation="detect", timeout=15)
        except (RuntimeUnavailable, CommandFailed, Timeout) as exc:
            return f"containerd at {address} does not answer: {exc}"
        return None

    def __repr__(self) -> str:
        return f"<NerdctlRuntime address={self.address!r} namespace={self.namespace!r}>"

    def _json(self, args: Sequence[str], operation: str, **kwargs: Any) -> list[Any]:
        done = self._shell.run(args, operation=operation, **kwargs)
        return list(_cli.parse_json_stream(done.stdout))

    # -- info -------------------------------------------------------------------------

    def _info(self) -> RuntimeInfo:
        version = self._json(["version", "--format", "{{json .}}"], "info")[0]
        info = self._json(["info", "--format", "{{json .}}"], "info")[0]
        server = {
            c.get("Name"): c.get("Version") for c in version.get("Server", {}).get("Components", [])
        }
        client = version.get("Client", {})
        return RuntimeInfo(
            name=self.name,
            version=str(server.get("containerd", "")),
            api_version=None,
            os=client.get("Os", ""),
            arch=client.get("Arch", ""),
            rootless="rootless" in " ".join(info.get("SecurityOptions") or ()),
            endpoint=f"{self.address} (namespace {self.namespace})"
            + (f" via {shlex.join(self._shell.prefix)}" if self._shell.prefix else ""),
            endpoint_source=self._address_source,
            storage_driver=info.get("Driver"),
            cpus=info.get("NCPU"),
            capabilities=self.capabilities,
            raw={"version": version, "info": info},
        )

    # -- images ---------------------------------------------------------------------------

    def _build(self, spec: BuildSpec) -> str:
        check_cli_labels(spec.labels)
        extra = ["--progress", "plain"]
        if self.buildkit_host:
            extra += ["--buildkit-host", self.buildkit_host]
        try:
            return _cli.build(self._shell, spec, extra_args=extra)
        except BuildFailed as exc:
            lowered = str(exc).lower()
            if "no buildkit host" in lowered or "buildctl" in lowered:
                raise RuntimeUnavailable("nerdctl", exc.message, hint=BUILDKIT_HINT) from exc
            raise

    def _image_model(self, raw: Mapping[str, Any]) -> Image:
        digests = [d.partition("@")[2] for d in raw.get("RepoDigests") or () if "@" in d]
        config = raw.get("Config") or {}
        return Image(
            # nerdctl addresses images by manifest digest (what --iidfile
            # and `images` report); the config digest in "Id" is not accepted.
            id=_normalize.image_id(digests[0] if digests else raw.get("Id")),
            tags=tuple(_normalize.image_tag(t) for t in raw.get("RepoTags") or ()),
            labels=_normalize.labels(config.get("Labels")),
            created_at=_normalize.timestamp(raw.get("Created")),
            size=raw.get("Size"),
            raw=raw,
        )

    def _images(self, labels: Mapping[str, str]) -> list[Image]:
        listed = self._json(
            ["images", "--format", "{{json .}}", *_cli.filter_args(labels)],
            "images",
        )
        refs = sorted({item.get("Digest") or item.get("ID") for item in listed} - {None, ""})
        raws, ok = self._batch_inspect(["image", "inspect"], refs, _IMAGE_GONE_RE, "images")
        if not ok:
            raws = []
            for ref in refs:
                with contextlib.suppress(ImageNotFound):
                    raws += self._json(
                        ["image", "inspect", "--", ref], "images", target="image", ref=ref
                    )
        return [self._image_model(raw) for raw in raws]

    def _image(self, ref: str) -> Image:
        found = self._json(["image", "inspect", "--", ref], "image", target="image", ref=ref)
        if not found:
            raise ImageNotFound(ref, f"nerdctl: image not found: {ref}")
        return self._image_model(found[0])

    def _remove_image(self, ref: str, *, force: bool) -> None:
        done = self._shell.run(
            ["rmi", *(["-f"] if force else []), "--", ref],
            operation="remove_image",
            target="image",
            ref=ref,
        )
        missing = forced_remove_missing(self._shell, done, ref, target="image")
        if missing is not None:
            raise missing

    # -- registries ---------------------------------------------------------------------------

    def _registry_args(self, spec: PullSpec) -> list[str]:
        # --hosts-dir is global: it goes before the verb.  containerd reads a
        # Docker-style DIR/HOST:PORT/ca.crt there when no hosts.toml is present.
        args = []
        if spec.certs_dir is not None:
            args += ["--hosts-dir", os.path.dirname(spec.certs_dir)]
        return args

    @contextlib.contextmanager
    def _auth_env(self, spec: PullSpec) -> Iterator[dict[str, str] | None]:
        # The call's credentials go in a private config dir, never on argv.
        if spec.auth is None:
            yield None
            return
        with _credentials.temporary_config(spec.registry, spec.auth, "config.json") as path:
            yield {"DOCKER_CONFIG": str(path.parent)}

    def _transfer(
        self, spec: PullSpec, verb: Literal["pull", "push"], extra: Sequence[str] = ()
    ) -> ProgressRows:
        args = [*self._registry_args(spec), verb]
        if spec.insecure:
            args.append("--insecure-registry")
        rows = ProgressRows(verb)
        with self._auth_env(spec) as env:
            _cli.transfer(
                self._shell,
                [*args, *extra, "--", spec.ref],
                spec,
                operation=verb,
                parse=rows.event,
                env=env,
            )
        return rows

    def _pull(self, spec: PullSpec) -> str:
        platform = ["--platform", spec.platform] if spec.platform is not None else []
        self._transfer(spec, "pull", platform)
        return spec.ref

    def _push(self, spec: PushSpec) -> str:
        return self._transfer(spec, "push").pushed_digest() or self._image(spec.ref).id

    def _tag(self, source: str, target: str) -> None:
        self._shell.run(["tag", "--", source, target], operation="tag", target="image", ref=source)

    def _login(self, spec: PullSpec) -> None:
        assert spec.auth is not None
        args = [*self._registry_args(spec), "login", "--username", spec.auth.username]
        args.append("--password-stdin")
        if spec.insecure:
            args.append("--insecure-registry")
        self._shell.run(
            [*args, "--", spec.registry],
            operation="login",
            stdin=f"{spec.auth.password}\n".encode(),
            registry=spec.registry,
        )

    def _logout(self, registry: str) -> None:
        self._shell.run(["logout", "--", registry], operation="logout", registry=registry)

    # -- containers ---------------------------------------------------------------------------

    def _run(self, spec: RunSpec) -> str:
        check_cli_labels(spec.labels)
        if self._monitor_races and spec.restart_policy not in (None, "no"):
            # `run -d` would remove the container when its start lost the
            # race with the restart monitor; _start recovers from it.
            container_id = self._create(spec)
            try:
                self._start(container_id)
            except BaseException:
                with contextlib.suppress(RuntimesError):
                    self._remove(container_id, force=True)
                raise
            return container_id
        # nerdctl (2.0, 2.2) refuses `-d --rm`: a helper removes the container on exit.
        container_id = _cli.run_detached(
            self._shell, spec, remove_flag=False, init_binary=self.init_binary
        )
        if spec.remove:
            self._remove_on_exit(container_id)
        return container_id

    def _container(self, raw: Mapping[str, Any]) -> Container:
        internal = (raw.get("Config") or {}).get("Labels") or {}
        container = _normalize.container_from_inspect(
            raw,
            runtime=self.name,
            image=_normalize.image_tag(raw.get("Image", "")),
            # nerdctl's inspect has no Config.Cmd: Path and Args are what runs.
            command=_normalize.command([raw.get("Path") or ""], raw.get("Args")),
            labels=_user_labels((raw.get("Config") or {}).get("Labels")),
            networks=_normalize.nerdctl_attachments(
                (raw.get("Config") or {}).get("Labels") or {}, raw.get("NetworkSettings")
            ),
        )
        # nerdctl's inspect has no RestartPolicy, StopSignal nor StopTimeout:
        # they are in its labels.
        return attrs.evolve(
            container,
            restart_policy=_normalize.restart_policy(internal.get("containerd.io/restart.policy")),
            stop_signal=_normalize.signal_name(
                internal.get("io.containerd.image.config.stop-signal")
            ),
            stop_timeout=_normalize.stop_timeout(internal.get("nerdctl/stop-timeout")),
        )

    def _inspect_many(self, ids: Sequence[str]) -> list[Container]:
        """One process for every id (``ids`` are full ids, as ``ps
        --no-trunc`` prints them), in their order; an id gone since it was
        listed is left out.  Many ids are inspected by first hex digit
        (:func:`inspect_refs`) and the records kept by id."""
        refs = inspect_refs(ids)
        if refs != list(ids):
            raws, ok = self._batch_inspect(
                ["container", "inspect", "--mode", "dockercompat"], refs, _GONE_RE, "ps"
            )
            if ok:
                return [self._container(raw) for raw in pick_inspected(raws, ids)]
        raws, ok = self._batch_inspect(
            ["container", "inspect", "--mode", "dockercompat"], ids, _GONE_RE, "ps"
        )
        if ok:
            return [self._container(raw) for raw in raws]
        listed = []
        for ref in ids:
            with contextlib.suppress(ContainerNotFound):
                listed.append(self._inspect(ref))
        return listed

    def _batch_inspect(
        self, command: Sequence[str], refs: Sequence[str], gone_re: re.Pattern[str], operation: str
    ) -> tuple[list[Any], bool]:
        """The records one ``inspect`` prints for ``refs``, and whether it
        answered for all of them.  An object removed since it was listed
        makes nerdctl exit 1; for containers and images nerdctl 2.x then
        prints nothing at all (seen with 2.2.2 on containerd 2 when another
        process removed one meanwhile), so the batch is run again without
        the refs its error names.  ``False`` when that did not settle it."""
        remaining = list(refs)
        for _ in range(3):
            if not remaining:
                return [], True
            done = self._shell.run([*command, "--", *remaining], operation=operation, check=False)
            found = list(_cli.parse_json_stream(done.stdout))
            if done.returncode == 0 or found:
                return found, True
            gone = set(gone_re.findall(done.stderr.decode("utf-8", "replace")))
            if not gone & set(remaining):
                break
            remaining = [r for r in remaining if r not in gone]
        return [], False

    def _ps(self, spec: PsSpec) -> list[Container]:
        args = [
            "ps",
            "--no-trunc",
            "--format",
            "{{json .}}",
            *_cli.filter_args(spec.labels, spec.name),
        ]
        if spec.all:
            args.append("-a")
        listed = self._json(args, "ps")
        return self._inspect_many([item["ID"] for item in listed])

    def _inspect(self, ref: str) -> Container:
        found = self._json(
            ["container", "inspect", "--mode", "dockercompat", "--", ref],
            "inspect",
            target="container",
            ref=ref,
        )
        if not found:
            raise ContainerNotFound(ref, f"nerdctl: container not found: {ref}")
        if len(found) > 1:
            # nerdctl prints every container the prefix matches; the others
            # refuse an ambiguous reference.
            raise CommandFailed(
                f"ambiguous reference {ref}: {len(found)} containers match",
                runtime=self.name,
                operation="inspect",
            )
        return self._container(found[0])

    def _logs(self, spec: LogsSpec) -> Iterator[LogLine]:
        ref = spec.container
        args = _cli.logs_args(spec)
        if spec.follow:
            self._inspect(ref)  # fail now, not on the first next()
            procs: list[subprocess.Popen[bytes]] = []

            def release() -> None:
                # Another thread (a follow's timeout) ends a follow blocked
                # on a silent container by ending its process.
                for proc in procs:
                    terminate(proc, grace=1)

            return _logs.Closing(self._follow(args, spec, procs.append), release, release)
        return self._plain_logs(args, spec)

    def _plain_logs(self, args: list[str], spec: LogsSpec) -> Iterator[LogLine]:
        """A log read to its end, streamed: memory stays flat whatever its size.

        A last line without a newline comes when nerdctl kept it (2.2
        mostly, never 2.0)."""
        ref = spec.container
        argv = [*args, "--", ref]

        def failed(code: int, stderr: bytes) -> BaseException:
            done = Completed(tuple(argv), code, b"", stderr)
            return self._shell.error(done, operation="logs", target="container", ref=ref)

        items = self._shell.stream_batches(
            argv, operation="logs", idle_timeout=self.default_timeout
        )
        return _logs.cli_lines(items, spec, failed=failed)

    def _follow(
        self, args: list[str], spec: LogsSpec, on_start: Callable[[Any], object]
    ) -> Iterator[LogLine]:
        ref = spec.container
        joiner = _logs.LineJoiner(keep_timestamps=spec.timestamps)
        wanted = _logs.wanted(spec)
        own: list[bytes] = []  # nerdctl's own messages: the lines without a timestamp
        code = 0
        mark = _logs.FollowMark()
        for stream, data in self._shell.stream(
            [*args, "--follow", "--", ref], operation="logs", on_start=on_start
        ):
            if stream == "exit":
                code = int(data)
                break
            ts, payload = _logs.split_timestamp(data)
            if ts is None and stream == "stderr":
                own.append(data)
                continue
            mark.see(stream, data.partition(b" ")[0])
            if stream in wanted:
                yield from joiner.feed(stream, payload, ts)
        if code != 0:
            # A follow that nerdctl ended early must not look like the end of the logs.
            done = Completed(tuple(args), code, b"", b"".join(own))
            raise self._shell.error(done, operation="logs", target="container", ref=ref)
        # nerdctl 2.0 stops following as soon as the task exits, before it has
        # read the whole log file (a 20 MB log came back 14-16 MB): read the
        # rest.  (2.2 waits for its logger first: the read finds nothing new.)
        since = mark.since()
        rest = ["logs", "--timestamps", "--since", since[1].decode()] if since else args
        try:
            done = self._shell.run(
                [*rest, "--", ref], operation="logs", target="container", ref=ref
            )
        except ContainerNotFound:
            return  # removed on exit (remove=True): the follow saw the end
        for record in _records(done):
            if record.stream in wanted and mark.is_new(record.stream, record.raw):
                yield from joiner.feed(record.stream, record.payload, record.ts)
        yield from joiner.flush()

    def _stop(self, ref: str, *, timeout: float) -> None:
        seconds = max(0, round(timeout))
        self._shell.run(
            ["stop", "-t", str(seconds), "--", ref],
            operation="stop",
            target="container",
            ref=ref,
            timeout=seconds + self.default_timeout,
        )

    def _kill(self, ref: str, *, signal: str) -> None:
        self._shell.run(
            ["kill", "-s", signal, "--", ref], operation="kill", target="container", ref=ref
        )

    def _wait(self, ref: str, *, timeout: float | None) -> int:
        try:
            done = self._shell.run(
                ["wait", "--", ref],
                operation="wait",
                target="container",
                ref=ref,
                timeout=timeout if timeout is not None else FOREVER,
            )
        except Timeout:
            raise Timeout(f"nerdctl: container {ref} still running after {timeout} s") from None
        return int(done.stdout.decode().strip().splitlines()[-1])

    def _remove(self, ref: str, *, force: bool) -> None:
        args = ["rm", *(["-f"] if force else []), "--", ref]
        try:
            done = self._shell.run(args, operation="remove", target="container", ref=ref)
        except CommandFailed as exc:
            # See _MONITOR_RACE: the monitor restarted the task `rm -f` had
            # just killed, so the container stayed. Its next tick is 10 s away.
            if not (force and self._monitor_races and _MONITOR_RESTARTED in exc.stderr):
                raise
            done = self._shell.run(args, operation="remove", target="container", ref=ref)
        missing = forced_remove_missing(self._shell, done, ref)
        if missing is not None:
            raise missing

    def _exec(self, spec: ExecSpec) -> ExecResult:
        return collect(self._exec_lines(spec, idle_timeout=self.default_timeout))

    def _exec_stream(self, spec: ExecSpec) -> ExecStream:
        self._require_running(spec.container, "exec")
        return ExecStream(self._exec_lines(spec, idle_timeout=None), secrets=spec.env)

    def _exec_lines(
        self, spec: ExecSpec, idle_timeout: float | None
    ) -> Generator[LogLine, None, int]:
        # nerdctl's own failure, and the command's exit code, come last as a
        # logrus fatal line on stderr (exec_result).
        return _cli.exec_lines(
            self._shell,
            attrs.evolve(spec, stdin=exec_input(spec.stdin)),
            outcome=exec_result,
            held=lambda line, seen: b"level=fatal" in line,
            idle_timeout=idle_timeout,
        )

    def _exec_detached(self, spec: ExecSpec) -> None:
        _cli.exec_detached(self._shell, spec)

    # -- files in and out: `nerdctl cp`, which takes no tar on stdin or stdout ----

    def _copy_to(self, ref: str, source: str, dest: str) -> None:
        # "DIR/." copies the directory's contents: DIR becomes dest, never
        # dest/DIR when dest exists.
        local = os.path.join(source, ".") if os.path.isdir(source) else source
        self._shell.run(
            ["cp", "--", local, f"{ref}:{dest}"],
            operation="copy_to",
            target="container",
            ref=ref,
            path=posixpath.dirname(dest),
        )

    def _copy_from(self, ref: str, path: str, target: str) -> None:
        # `cp -L` would follow every link of a tree: only the top one is
        # followed, resolved inside the container as the engines' APIs do.
        for _ in range(_MAX_LINKS):
            self._shell.run(
                ["cp", "--", f"{ref}:{path}", target],
                operation="copy_from",
                target="container",
                ref=ref,
                path=path,
            )
            if not os.path.islink(target):
                return
            path = posixpath.normpath(posixpath.join(posixpath.dirname(path), os.readlink(target)))
            os.unlink(target)
        raise CommandFailed(
            f"too many levels of symbolic links at {path}", runtime=self.name, operation="copy_from"
        )

    # -- the rest of the lifecycle ------------------------------------------------------------

    def _create(self, spec: RunSpec) -> str:
        check_cli_labels(spec.labels)
        # `create --rm` only records the wish (label nerdctl/auto-remove):
        # _start honours it.
        return _cli.run_detached(self._shell, spec, create=True, init_binary=self.init_binary)

    def _verb(self, operation: str, *args: str, ref: str, **kwargs: Any) -> Completed:
        return self._shell.run(
            [operation, *args, "--", ref],
            operation=operation,
            target="container",
            ref=ref,
            **kwargs,
        )

    def _start(self, ref: str) -> None:
        found = self._started("start", ref=ref)
        labels = (found[0].get("Config") or {}).get("Labels") or {} if found else {}
        if labels.get("nerdctl/auto-remove") == "true":
            self._remove_on_exit(found[0]["Id"])

    def _started(
        self, operation: str, *args: str, ref: str, record: bool = True, **kwargs: Any
    ) -> Any:
        """``start`` or ``restart``, then the container's inspect record
        (``None`` when not ``record`` and the containerd does not race).

        On a containerd whose restart monitor races nerdctl (see
        _MONITOR_RACE), a start the monitor took over waits for the
        monitor's start instead of failing; should the monitor not start it
        within a tick, the verb runs once more.
        """
        try:
            self._verb(operation, *args, ref=ref, **kwargs)
        except CommandFailed as exc:
            if not self._monitor_races or not _MONITOR_RACE.search(exc.stderr):
                raise
            found = self._monitor_start(ref, operation)
            if found is None:
                raise
            if found:
                return found
            self._verb(operation, *args, ref=ref, **kwargs)
        if not record and not self._monitor_races:
            return None
        found = self._inspect_json(ref, operation)
        if self._monitor_races and found and _restarting(found[0]):
            # Started, then killed by the monitor's tick.
            found = self._monitor_start(ref, operation) or found
        return found

    def _monitor_start(self, ref: str, operation: str) -> Any:
        """The inspect record once the restart monitor has started ``ref``;
        ``None`` when no monitor is involved (no restart label), ``[]`` when
        it did not start it within MONITOR_GRACE."""
        deadline = time.monotonic() + MONITOR_GRACE
        log.debug("%s of %s: waiting for containerd's restart monitor", operation, ref)
        while True:
            found = self._inspect_json(ref, operation)
            labels = ((found[0].get("Config") or {}).get("Labels") or {}) if found else {}
            if labels.get("containerd.io/restart.status") != "running":
                return None
            if not _restarting(found[0]):
                return found
            if time.monotonic() >= deadline:
                return []
            time.sleep(0.1)

    def _inspect_json(self, ref: str, operation: str) -> Any:
        return self._json(
            ["container", "inspect", "--", ref], operation, target="container", ref=ref
        )

    def _remove_on_exit(self, container_id: str) -> None:
        # Returns as soon as the detached remover is started.
        remover = Shell("nerdctl", sys.executable, timeout=self.default_timeout)
        helper = ["-m", "runtimes._autoremove", "--detach", *self._shell.argv([])]
        remover.run([*helper, "--", container_id], operation="run")

    def _restart(self, ref: str, *, timeout: float) -> None:
        seconds = max(0, round(timeout))
        self._started(
            "restart",
            "-t",
            str(seconds),
            ref=ref,
            record=False,
            timeout=seconds + self.default_timeout,
        )

    def _pause(self, ref: str) -> None:
        self._verb("pause", ref=ref)

    def _unpause(self, ref: str) -> None:
        self._verb("unpause", ref=ref)

    def _rename(self, ref: str, name: str) -> None:
        self._shell.run(
            ["rename", "--", ref, name], operation="rename", target="container", ref=ref
        )

    def _stats(self, ref: str) -> Stats:
        cpu = Capability.STATS_CPU in self.capabilities
        args = ("stats", "--no-stream", "--format", "{{json .}}")
        if self.nerdctl_version is None or self.nerdctl_version < STATS_OF_STOPPED_SINCE:
            # Such a nerdctl never returns for a container that is not running:
            # ask the state first, and again if it stopped during the sample.
            if not self._running(ref):
                return stats_record(STOPPED_STATS_ROW, self._host_memory, cpu=cpu)
            try:
                done = self._verb(*args, ref=ref, timeout=_STATS_RECHECK)
            except Timeout:
                if self._running(ref):
                    raise
                return stats_record(STOPPED_STATS_ROW, self._host_memory, cpu=cpu)
        else:
            done = self._verb(*args, ref=ref)
        rows = list(_cli.parse_json_stream(done.stdout))
        if not rows:
            raise CommandFailed(
                "nerdctl printed no statistics", runtime=self.name, operation="stats"
            )
        return stats_record(rows[0], self._host_memory, cpu=cpu)

    def _running(self, ref: str) -> bool:
        return self._inspect(ref).state is ContainerState.RUNNING

    @functools.cached_property
    def _host_memory(self) -> int | None:
        """The host's memory, which stands for "no limit" as on Docker and Podman."""
        info = self._json(["info", "--format", "{{json .}}"], "stats")
        total = info[0].get("MemTotal") if info else None
        return int(total) if isinstance(total, int) else None

    def _top(self, ref: str) -> list[Process]:
        done = self._shell.run(
            ["top", "--", ref, *_normalize.TOP_PS_ARGS.split()],
            operation="top",
            target="container",
            ref=ref,
        )
        titles, rows = top_table(done.stdout)
        if not titles:
            # nerdctl prints nothing, and exits 0, for a container that has exited.
            self._require_running(ref, "top")
            return []
        return _normalize.processes(titles, rows, runtime=self.name)

    # -- volumes -------------------------------------------------------------------------------

    # nerdctl's create returns an existing volume; the contract is NameConflict.
    volume_create_is_idempotent = True

    def _create_volume(self, name: str, *, labels: Mapping[str, str]) -> Volume:
        check_cli_labels(labels)
        self._shell.run(
            ["volume", "create", *_cli.label_args(labels), "--", name],
            operation="create_volume",
            target="volume",
            ref=name,
        )
        return self._volume(name)

    def _volume(self, name: str) -> Volume:
        found = self._json(["volume", "inspect", "--", name], "volume", target="volume", ref=name)
        if not found:
            raise VolumeNotFound(name, f"nerdctl: volume not found: {name}")
        return _normalize.volume(found[0])

    def _volumes(self, labels: Mapping[str, str]) -> list[Volume]:
        listed = self._json(
            ["volume", "ls", "--format", "{{json .}}", *_cli.filter_args(labels)], "volumes"
        )
        names = [item["Name"] for item in listed]
        if not names:
            return []
        done = self._shell.run(
            ["volume", "inspect", "--", *names], operation="volumes", check=False
        )
        return [_normalize.volume(raw) for raw in _cli.parse_json_stream(done.stdout)]

    def _remove_volume(self, name: str, *, force: bool) -> None:
        self._shell.run(
            ["volume", "rm", *(["-f"] if force else []), "--", name],
            operation="remove_volume",
            target="volume",
            ref=name,
        )

    # -- networks -------------------------------------------------------------------------------

    def _create_network(self, spec: NetworkSpec) -> Network:
        check_cli_labels(spec.labels)
        subnet = ["--subnet", spec.subnet] if spec.subnet else []
        self._shell.run(
            ["network", "create", *_cli.label_args(spec.labels), *subnet, "--", spec.name],
            operation="create_network",
            target="network",
            ref=spec.name,
        )
        return self._network(spec.name)

    def _network(self, name: str) -> Network:
        found = self._json(
            ["network", "inspect", "--", name], "network", target="network", ref=name
        )
        if not found:
            raise NetworkNotFound(name, f"nerdctl: network not found: {name}")
        return _normalize.network_from_engine(found[0])

    def _networks(self, labels: Mapping[str, str]) -> list[Network]:
        listed = self._json(
            ["network", "ls", "--format", "{{json .}}", *_cli.filter_args(labels)], "networks"
        )
        # host and none are listed without a configuration to inspect.
        names = [item["Name"] for item in listed if item.get("Name") not in ("host", "none")]
        if not names:
            return []
        done = self._shell.run(
            ["network", "inspect", "--", *names], operation="networks", check=False
        )
        return [_normalize.network_from_engine(raw) for raw in _cli.parse_json_stream(done.stdout)]

    def _remove_network(self, name: str) -> None:
        self._shell.run(
            ["network", "rm", "--", name],
            operation="remove_network",
            target="network",
            ref=name,
        )


def inspect_refs(ids: Sequence[str]) -> list[str]:
    """What to hand ``nerdctl container inspect`` for ``ids`` (full ids).

    nerdctl resolves each reference by asking containerd for every
    container of the namespace (a prefix or name filter), so inspecting N
    ids costs N walks of all T containers: at T = 200, 200 ids took 3.4-4.4 s
    and their 16 distinct first hex digits 0.7-1.1 s for the same records
    (nerdctl 2.2.2, containerd 2.4.2).  A prefix returns every container it
    matches (:func:`pick_inspected` keeps the ones asked for), so few ids
    keep their own walks."""
    if len(ids) < PREFIX_INSPECT_FROM or not all(_FULL_ID.fullmatch(i) for i in ids):
        return list(ids)
    return sorted({i[0] for i in ids})


def pick_inspected(raws: Iterable[Mapping[str, Any]], ids: Sequence[str]) -> list[Any]:
    """The records of ``ids``, in their order, from an inspect by prefix
    (which also returns other containers, maybe one named like a prefix);
    an id with no record was removed since it was listed."""
    by_id = {raw.get("Id"): raw for raw in raws}
    return [by_id[i] for i in ids if i in by_id]


def nerdctl_version(output: bytes) -> tuple[int, int, int] | None:
    """The release ``nerdctl --version`` names, or ``None`` when it names none.

    Releases print ``nerdctl version 2.2.2``; a nerdctl built without the
    release's ``-ldflags`` (``go build`` in the module) prints ``nerdctl
    version <unknown>``.
    """
    match = _VERSION.match(output.strip())
    if match is None:
        return None
    major, minor, patch = (int(part) for part in match.groups())
    return (major, minor, patch)


def _restarting(record: Mapping[str, Any]) -> bool:
    """Whether an inspect record shows no task started yet (status "" or
    created): what a container the restart monitor is restarting shows."""
    return (record.get("State") or {}).get("Status") in ("", "created")


def capabilities_for(
    version: tuple[int, int, int] | None, containerd: tuple[int, int, int] | None = None
) -> frozenset[Capability]:
    """What the adapter provides on nerdctl ``version`` and ``containerd``'s:
    the one place where a version changes a promise.  An unknown version
    gets only what every supported release provides."""
    found = set(NerdctlRuntime.capabilities)
    if containerd is not None and containerd >= RESTART_POLICIES_SINCE:
        found.add(Capability.RESTART_POLICIES)
    if version is not None and version >= KEEPS_LAST_LINE_SINCE:
        found.add(Capability.KEEPS_UNTERMINATED_LAST_LINE)
    if version is not None and version >= STATS_CPU_SINCE:
        found.add(Capability.STATS_CPU)
    if version is not None and version >= EXEC_STDIN_SINCE:
        found.add(Capability.EXEC_STDIN)
    return frozenset(found)


class _Peeked(io.RawIOBase):
    """A binary file whose first bytes were already read (``head``)."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if not self._head:
            chunk = self._rest.read(len(view))
        else:
            chunk, self._head = self._head[: len(view)], self._head[len(view) :]
        view[: len(chunk)] = chunk
        return len(chunk)


def exec_input(stdin: bytes | IO[bytes] | None) -> bytes | IO[bytes] | None:
    """What ``exec -i`` is given for ``stdin``: an empty input goes as none.

    Every nerdctl release through 2.3.5 loses the end of an input that ends
    while its exec is being created (its closer is installed only after
    ``task.Exec`` returns; fixed upstream by nerdctl commit 48f77dd, not yet
    released), and the command then waits forever.  An empty input ends at
    once: 37 of 40 ``exec -i ... wc -c </dev/null`` hung on 2.2.2 here,
    against none of 40 with a few bytes, which end only once the shim reads
    them.  Without ``-i`` the command reads ``/dev/null``: the same empty
    input, with no end of file to lose.  A file is peeked to know.
    """
    if stdin is None or isinstance(stdin, bytes):
        return stdin or None
    head = stdin.read(1 << 16)
    if not head:
        return None
    return io.BufferedReader(_Peeked(head, stdin))


def check_cli_labels(labels: Mapping[str, str]) -> None:
    """Refuse label values that nerdctl could not give back unambiguously.

    nerdctl's own listings print labels as one ``k=v,k2=v2`` string, so a
    value holding both ``,`` and ``=`` would read back as several labels.
    """
    for key, value in labels.items():
        if "," in value and "=" in value:
            raise InvalidSpec(f"label {key}: value may not contain both ',' and '=' on nerdctl")


def exec_result(done: Completed) -> ExecResult | None:
    """The exec'd command's result, or ``None`` when nerdctl itself failed.

    nerdctl exits 1 and reports the command's own non-zero exit code as its
    last stderr line, ``level=fatal msg="exec failed with exit code N"``;
    that line is not the command's output and is dropped.
    """
    stderr, exit_code = done.stderr, done.returncode
    if exit_code != 0 and _is_nerdctl_failure(stderr):
        *kept, last = stderr.rstrip(b"\n").split(b"\n")
        match = _EXEC_EXIT.search(last.decode("utf-8", "replace"))
        if match is None:
            # The process could not start: Docker and Podman report that as
            # the shell does, 127 (not found) or 126 (not executable).
            reason = clean_error_text(last.decode("utf-8", "replace"))
            code = _unstartable_code(reason)
            if code is None:
                return None
            return ExecResult(exit_code=code, stdout=done.stdout, stderr=reason.encode() + b"\n")
        exit_code = int(match.group(1))
        stderr = b"".join(line + b"\n" for line in kept)
    return ExecResult(exit_code=exit_code, stdout=done.stdout, stderr=stderr)


def forced_remove_missing(
    shell: Shell, done: Completed, ref: str, target: Target = "container"
) -> RuntimesError | None:
    """The error hidden in a successful ``rm -f`` or ``rmi -f``, or ``None``.

    ``nerdctl rm -f missing`` exits 0 and only logs ``level=error ... no such
    container`` (``rmi -f``: ``no such image``); the contract is
    :class:`~runtimes.ContainerNotFound` (:class:`~runtimes.ImageNotFound`).
    An ambiguous prefix is logged the same way and removes nothing.
    """
    if done.returncode != 0 or b"level=error" not in done.stderr:
        return None
    error = shell.error(done, operation="remove", target=target, ref=ref)
    if isinstance(error, NotFound) or "ambiguous reference" in str(error):
        return error
    return None


def log_lines(done: Completed, spec: LogsSpec) -> list[LogLine]:
    """:func:`_logs.ordered_lines` of a whole output read at once."""
    items: list[tuple[_logs.Stream, bytes]] = [("stdout", line) for line in _lines(done.stdout)]
    items += [("stderr", line) for line in _lines(done.stderr)]
    return list(_logs.ordered_lines(items, spec, window=None))


class _Record(NamedTuple):
    ts: datetime | None
    order: int
    stream: _logs.Stream
    payload: bytes
    raw: bytes  # the timestamp as nerdctl printed it (nanoseconds)
    nanos: int


def _records(done: Completed) -> list[_Record]:
    """The records of ``logs --timestamps``, stdout and stderr in time order."""
    records = []
    for index, (stream, data) in enumerate(
        [("stdout", line) for line in _lines(done.stdout)]
        + [("stderr", line) for line in _lines(done.stderr)]
    ):
        ts, payload = _logs.split_timestamp(data)
        raw = data.partition(b" ")[0] if ts is not None else b""
        nanos = _logs.timestamp_nanos(raw) if ts is not None else -1
        records.append(_Record(ts, index, stream, payload, raw, nanos))  # type: ignore[arg-type]
    # Python's datetime keeps microseconds; nanos keeps nerdctl's nanoseconds.
    records.sort(key=lambda r: (r.ts is None, r.nanos, r.order))
    return records


def _lines(data: bytes) -> list[bytes]:
    """Records split on ``\n`` only: ``bytes.splitlines`` also splits on
    ``\r`` (and ``\x0b``, ``\x1c``...), which a log line may hold."""
    parts = data.split(b"\n")
    lines = [part + b"\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _unstartable_code(reason: str) -> int | None:
    lowered = reason.lower()
    if "exec failed" not in lowered and "unable to start container process" not in lowered:
        return None  # nerdctl itself failed (no container, no containerd...)
    if "executable file not found" in lowered or "no such file or directory" in lowered:
        return 127
    if "permission denied" in lowered:
        return 126
    return None


def _is_nerdctl_failure(stderr: bytes) -> bool:
    """Did nerdctl itself fail (logrus fatal), rather than the exec'd command?"""
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    return bool(lines) and "level=fatal" in lines[-1]


_ROW = re.compile(
    r"^(?P<name>\S+?):\s+(?P<status>[a-z]+(?: [a-z]+)?)\s+\|[^|]*\|"
    r"(?:\s+(?P<current>[0-9.]+ ?[KMGT]?i?B)\s*/\s*(?P<total>[0-9.]+ ?[KMGT]?i?B))?"
)
_UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}
_NERDCTL_STATUS: dict[str, ProgressStatus] = {
    "waiting": "waiting",
    "downloading": "downloading",
    "uploading": "uploading",
    "extracting": "extracting",
    "unpacking": "extracting",
    "exists": "exists",
    "already exists": "exists",
    "done": "done",
}


def _bytes(text: str | None) -> int | None:
    if not text:
        return None
    number, _, unit = text.replace(" ", "\x00", 1).partition("\x00")
    if not unit:  # "1.0MiB"
        match = re.fullmatch(r"([0-9.]+)([KMGT]?i?B)", text)
        if match is None:
            return None
        number, unit = match.groups()
    return int(float(number) * _UNITS.get(unit, 1))


class ProgressRows:
    """nerdctl's pull/push progress table, read line by line.

    Without a terminal nerdctl reprints its whole table every 100 ms::

        127.0.0.1:5000/x:1:        resolved       |++++++++++++++++++++++|
        manifest-sha256:<hex>:     done           |++++++++++++++++++++++|
        layer-sha256:<hex>:        downloading    |+++++-----------------| 1.0 MiB/2.0 MiB
        elapsed: 0.2 s             total:  1.0 Mi (5.1 MiB/s)

    A row becomes an event only when its status or byte count changes.
    ``layer-`` rows are layers; ``manifest-``, ``index-`` and ``config-``
    rows and the reference's own row are image-level (``layer=None``).
    """

    def __init__(self, action: Literal["pull", "push"]) -> None:
        self.action: Literal["pull", "push"] = action
        self._seen: dict[str, tuple[str, str | None]] = {}

    def event(self, line: str) -> Progress | None:
        match = _ROW.match(line.strip())
        if match is None or match["name"] == "elapsed":
            return None
        name, status = match["name"], match["status"]
        if self._seen.get(name) == (status, match["current"]):
            return None
        self._seen[name] = (status, match["current"])
        kind, _, digest = name.partition("-sha256:")
        if kind == "layer" and digest:
            return Progress(
                action=self.action,
                layer=digest[:12],
                status=_NERDCTL_STATUS.get(status, "info"),
                current=_bytes(match["current"]),
                total=_bytes(match["total"]),
                message=line.strip(),
            )
        return Progress(action=self.action, layer=None, status="info", message=line.strip())

    def pushed_digest(self) -> str | None:
        """The digest of the index, else the manifest, that was pushed."""
        for kind in ("index", "manifest"):
            for name in self._seen:
                if name.startswith(f"{kind}-sha256:"):
                    return name[len(kind) + 1 :]
        return None


# go-units: HumanSize (decimal, for I/O) and BytesSize (binary, for memory).
_SIZE = re.compile(r"(?P<number>[0-9.]+)\s*(?P<unit>[kKMGTPEZY]?i?B)")
_SIZE_UNITS = {
    **{p + "B": 1000**i for i, p in enumerate(("", "k", "M", "G", "T", "P", "E", "Z", "Y"))},
    "KB": 1000,
    **{p + "iB": 1024 ** (i + 1) for i, p in enumerate(("K", "M", "G", "T", "P", "E", "Z", "Y"))},
}
# cgroup v1's "no limit" (PAGE_COUNTER_MAX pages), which nerdctl prints as 8EiB.
_UNLIMITED = 1 << 62


def size_bytes(text: str) -> int | None:
    """``"484KiB"``, ``"1.45kB"``, ``"0B"`` -> bytes (rounded: the CLI
    prints three or four significant digits)."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        return None
    return round(float(match["number"]) * int(_SIZE_UNITS.get(match["unit"], 1)))


def _pair(text: object) -> tuple[int | None, int | None]:
    first, _, second = str(text or "").partition("/")
    return size_bytes(first), size_bytes(second)


def stats_record(row: Mapping[str, Any], host_memory: int | None, *, cpu: bool) -> Stats:
    """One row of ``nerdctl stats --no-stream --format '{{json .}}'`` as
    :class:`~runtimes.Stats`.

    Every figure is humanised text.  ``CPUPerc`` is read only with ``cpu``
    (:data:`STATS_CPU_SINCE`): nerdctl 2.0 prints ``0.00%`` or thousands of
    percent for a busy container.  A memory limit of 8 EiB means none: the
    host's memory stands for it, as on Docker and Podman.
    """
    usage, limit = _pair(row.get("MemUsage"))
    if limit is not None and limit >= _UNLIMITED and host_memory:
        limit = host_memory
    rx, tx = _pair(row.get("NetIO"))
    read, write = _pair(row.get("BlockIO"))
    pids = str(row.get("PIDs") or "").strip()
    percent = str(row.get("CPUPerc") or "").strip().removesuffix("%")
    try:
        cpu_percent = float(percent) if cpu else None
    except ValueError:
        cpu_percent = None
    return Stats(
        cpu_percent=cpu_percent,
        memory_usage=usage,
        memory_limit=limit,
        network_rx=rx,
        network_tx=tx,
        block_read=read,
        block_write=write,
        pids=int(pids) if pids.isdigit() else None,
        raw=row,
    )


def top_table(output: bytes) -> tuple[list[str], list[list[str]]]:
    """``nerdctl top``'s table: titles, and rows split into as many cells
    (the last one, the command, keeps its spaces)."""
    lines = [line for line in output.decode("utf-8", "replace").splitlines() if line.strip()]
    if not lines:
        return [], []
    titles = lines[0].split()
    rows = [line.split(None, len(titles) - 1) for line in lines[1:]]
    return titles, rows
