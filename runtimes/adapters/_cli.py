"""Argument building shared by the adapters that drive a Docker-compatible CLI.

nerdctl (every verb) and Podman (the verbs where its CLI beats its API)
accept the same ``run`` flags; the differences that matter are avoided
here rather than branched on: host ports are always written ``IP::PORT`` or
``PORT`` when the caller leaves them open (Podman 4.3 rejects ``0`` and
nerdctl binds it literally), and images are never pulled.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import tempfile
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from runtimes._shell import Completed, Shell, clean_error_text
from runtimes._translate import translate
from runtimes.errors import BuildFailed, InvalidSpec, RuntimesError, Timeout
from runtimes.models import ExecResult, LogLine, Mount, PortMapping, Progress
from runtimes.specs import BuildSpec, ExecSpec, LogsSpec, PullSpec, RunSpec

_BUILD_EXIT = re.compile(r"exit code: (\d+)")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# What the classic Docker builder (" ---> 1a2b3c4d5e6f") and Buildah ("--> 1a2b3c4d5e6")
# print after committing a step: the image a failed build leaves behind.
_STEP_IMAGE = re.compile(r"^\s*-{2,3}> ([0-9a-f]{11,64})\s*$")
# A new step ("Step 2/5 : RUN ...", "STEP 2/5: RUN ..."), and the lines that
# say the id that follows is not this build's own: the base image after
# FROM, a cached step.
_STEP_HEADER = re.compile(r"^\s*step \d+/\d+\s*:\s*(?P<instruction>\S+)", re.I)
_USING_CACHE = re.compile(r"^\s*-{2,3}> Using cache", re.I)


def port_arg(p: PortMapping) -> str:
    """``-p`` value for one mapping, never with host port 0."""
    ip = p.host_ip or ""
    if ip and isinstance(ipaddress.ip_address(ip), ipaddress.IPv6Address):
        ip = f"[{ip}]"
    host = str(p.host_port) if p.host_port else ""
    if ip:
        return f"{ip}:{host}:{p.container_port}/{p.protocol}"
    if host:
        return f"{host}:{p.container_port}/{p.protocol}"
    return f"{p.container_port}/{p.protocol}"


def volume_arg(m: Mount) -> str:
    return f"{m.source}:{m.target}{':ro' if m.read_only else ''}"


def label_args(labels: Mapping[str, str]) -> list[str]:
    return [arg for k, v in labels.items() for arg in ("--label", f"{k}={v}")]


def filter_args(labels: Mapping[str, str], name: str | None = None) -> list[str]:
    args = [arg for k, v in labels.items() for arg in ("--filter", f"label={k}={v}")]
    if name is not None:
        args += ["--filter", f"name={name}"]
    return args


def run_args(
    spec: RunSpec,
    *,
    remove_flag: bool = True,
    cidfile: str | None = None,
    env_args: Sequence[str] = (),
    create: bool = False,
    init_binary: str | None = None,
) -> list[str]:
    """``run -d --pull never ...`` (or ``create --pull never ...``) arguments
    for a validated spec.

    ``env_args`` carry the environment (see :func:`env_transport`): values
    never go on the command line, where any local user can read them.
    """
    args = ["create", "--pull", "never"] if create else ["run", "-d", "--pull", "never"]
    if cidfile:
        args += ["--cidfile", cidfile]
    if spec.name:
        args += ["--name", spec.name]
    args += env_args
    args += label_args(spec.labels)
    if spec.workdir:
        args += ["-w", spec.workdir]
    if spec.user:
        args += ["-u", spec.user]
    for p in spec.ports:
        args += ["-p", port_arg(p)]
    for m in spec.volumes:
        args += ["-v", volume_arg(m)]
    if spec.network:
        args += ["--network", spec.network]
    for alias in spec.aliases:
        args += ["--network-alias", alias]
    if spec.hostname:
        args += ["--hostname", spec.hostname]
    if spec.remove and remove_flag:
        args.append("--rm")
    args += resource_args(spec, init_binary=init_binary)
    command = list(spec.command or [])
    if spec.entrypoint is not None:
        # The CLI takes one entrypoint word; the rest belongs before the command.
        args += ["--entrypoint", spec.entrypoint[0] if spec.entrypoint else ""]
        command = [*spec.entrypoint[1:], *command]
    args += ["--", spec.image, *command]
    return args


def resource_args(spec: RunSpec, *, init_binary: str | None = None) -> list[str]:
    """The flags of the resource and security options, which Podman and
    nerdctl spell as Docker does.  ``init_binary``: ``--init-binary`` (nerdctl)."""
    args: list[str] = []
    if spec.memory is not None:
        args += ["--memory", str(spec.memory)]
    if spec.cpus is not None:
        args += ["--cpus", f"{spec.cpus:g}"]
    if spec.restart_policy is not None:
        args += ["--restart", spec.restart_policy]
    if spec.init:
        args.append("--init")
        if init_binary:
            args += ["--init-binary", init_binary]
    if spec.read_only:
        args.append("--read-only")
    for cap in spec.cap_add:
        args += ["--cap-add", cap]
    for cap in spec.cap_drop:
        args += ["--cap-drop", cap]
    if spec.privileged:
        args.append("--privileged")
    for path, options in spec.tmpfs.items():
        args += ["--tmpfs", f"{path}:{options}" if options else path]
    if spec.shm_size is not None:
        args += ["--shm-size", str(spec.shm_size)]
    for u in spec.ulimits:
        args += ["--ulimit", f"{u.name}={u.soft}:{u.hard}"]
    for server in spec.dns:
        args += ["--dns", server]
    for host, ip in spec.extra_hosts.items():
        args += ["--add-host", f"{host}:{ip}"]
    if spec.platform is not None:
        args += ["--platform", spec.platform]
    if spec.stop_signal is not None:
        args += ["--stop-signal", spec.stop_signal]
    if spec.stop_timeout is not None:
        args += ["--stop-timeout", str(spec.stop_timeout)]
    return args


# Variables the CLI itself reads: a build arg of that name stays on the
# command line rather than change how the CLI runs.
_CLI_ENV = re.compile(
    r"PATH|HOME|TMPDIR|USER|SHELL|LANG|LC_.*|XDG_.*|CONTAINERS?_.*|BUILDKIT_.*|DOCKER_.*|"
    r"REGISTRY_.*|STORAGE_.*|NERDCTL_.*|CONTAINERD_.*|(HTTPS?|NO|ALL)_PROXY|(https?|no|all)_proxy"
)


def build_args_from_env(build_args: Mapping[str, str]) -> dict[str, str]:
    """The build args to pass through the CLI's environment, not its argv."""
    return {k: v for k, v in build_args.items() if not _CLI_ENV.fullmatch(k)}


def inherited_env(env: Mapping[str, str]) -> dict[str, str]:
    """The variables an env file cannot hold exactly.

    Env-file parsers drop or change some values: a newline ends the value,
    surrounding spaces and quotes are stripped, a key starting with ``#``
    is a comment, and nerdctl caps a line at 64 KiB.  Those go through the
    CLI process's own environment (``-e KEY``) instead, unless the CLI
    itself reads that variable (``PATH``...): then the value is refused.
    """
    out = {}
    for key, value in env.items():
        if (
            "\n" in value
            or "\r" in value
            or value != value.strip()
            or value[:1] in "\"'"
            or key.startswith("#")
            or len(key) + len(value) > 60_000
        ):
            if _CLI_ENV.fullmatch(key):
                raise InvalidSpec(
                    f"environment variable {key}: this value can only be passed through the "
                    "CLI's own environment, and the CLI reads that variable itself"
                )
            out[key] = value
    return out


def env_transport(directory: str, env: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """How ``env`` reaches a CLI: its arguments, and additions to its environment.

    Values go to a ``0600`` env file in ``directory`` (``--env-file``); the
    ones an env file would alter (:func:`inherited_env`) are named with
    ``-e KEY`` and passed in the CLI process's own environment, readable by
    its owner only.  Never ``-e KEY=VALUE``: ``/proc/PID/cmdline`` is public.
    """
    through_env = inherited_env(env)
    args: list[str] = []
    lines = [f"{k}={v}\n" for k, v in env.items() if k not in through_env]
    if lines:
        path = os.path.join(directory, "env")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.writelines(lines)
        args += ["--env-file", path]
    for key in through_env:
        args += ["-e", key]
    return args, through_env


def run_detached(
    shell: Shell,
    spec: RunSpec,
    *,
    remove_flag: bool = True,
    create: bool = False,
    init_binary: str | None = None,
) -> str:
    """``run -d`` (or ``create``) and return the new id; a container the CLI
    created but could not start (found through ``--cidfile``) is removed
    before the error."""
    operation = "create" if create else "run"
    with tempfile.TemporaryDirectory(prefix="runtimes-run-") as tmp:
        cidfile = os.path.join(tmp, "cid")
        env_args, through_env = env_transport(tmp, spec.env)
        args = run_args(
            spec,
            remove_flag=remove_flag,
            cidfile=cidfile,
            env_args=env_args,
            create=create,
            init_binary=init_binary,
        )
        try:
            done = shell.run(args, operation=operation, check=False, env=through_env)
        except Timeout:
            # The CLI was killed: whatever it created must go too.
            _remove_created(shell, cidfile)
            raise
        if done.returncode != 0:
            _remove_created(shell, cidfile)
            raise shell.error(done, operation=operation, target="image", ref=spec.image)
    return done.stdout.decode().strip().splitlines()[-1]


def _remove_created(shell: Shell, cidfile: str) -> None:
    """Remove the container a failed ``run`` created, known by its cidfile.

    Never by name: a CLI killed before it wrote the file may have created
    nothing, and the name may be another container's.
    """
    cid = Path(cidfile).read_text().strip() if os.path.exists(cidfile) else ""
    if cid:
        with contextlib.suppress(RuntimesError):
            shell.run(["rm", "-f", "--", cid], operation="run", check=False)


def logs_args(spec: LogsSpec) -> list[str]:
    """``logs --timestamps`` with the spec's tail and since, before the
    reference: timestamps always, to order stdout against stderr, which a
    CLI writes to two pipes (they are stripped unless asked for)."""
    args = ["logs", "--timestamps"]
    if spec.tail is not None:
        args += ["--tail", str(spec.tail)]
    if spec.since is not None:
        args += ["--since", str(spec.since)]
    return args


def exec_args(spec: ExecSpec, env_args: Sequence[str], *, detach: bool = False) -> list[str]:
    """``exec`` arguments for a validated spec (env through ``env_args``)."""
    args = ["exec", *env_args]
    if detach:
        args.append("-d")
    if spec.stdin is not None:
        args.append("-i")
    if spec.tty:
        args.append("-t")
    if spec.workdir:
        args += ["-w", spec.workdir]
    if spec.user:
        args += ["-u", spec.user]
    return [*args, "--", spec.container, *spec.command]


def exec_lines(
    shell: Shell,
    spec: ExecSpec,
    *,
    outcome: Callable[[Completed], ExecResult | None],
    held: Callable[[bytes, bool], bool],
    idle_timeout: float | None,
    global_args: Sequence[str] = (),
    release_on_output: bool = False,
) -> Generator[LogLine, None, int]:
    """``exec`` through the CLI: its output lines as they come, then its exit code.

    The CLI's own messages share the command's stderr.  ``held(line,
    output_seen)`` says which stderr lines may be the CLI's: they are held
    back until the end, or only until more output comes when
    ``release_on_output`` (a CLI that fails before the command prints
    anything).  At the end ``outcome`` reads the exit code and the held
    lines as a ``Completed`` (no stdout) and returns the command's result,
    or ``None`` when the CLI itself failed (raised).  Lines it gives back as
    the command's stderr are yielded last.
    """
    with tempfile.TemporaryDirectory(prefix="runtimes-exec-") as tmp:
        env_args, through_env = env_transport(tmp, spec.env)
        args = [*global_args, *exec_args(spec, env_args)]
        pending: list[bytes] = []
        seen = False
        code = 0
        for stream, data in shell.stream(
            args,
            operation="exec",
            idle_timeout=idle_timeout,
            env=through_env,
            stdin=spec.stdin,
            tty=spec.tty,
        ):
            if stream == "exit":
                code = int(data)
                continue
            if stream == "stderr" and held(data, seen):
                pending.append(data)
                continue
            if release_on_output:
                for line in pending:
                    yield LogLine(stream="stderr", data=line)
                pending.clear()
            seen = True
            yield LogLine(stream=stream, data=data)
    done = Completed(tuple(shell.argv(args)), code, b"", b"".join(pending))
    result = outcome(done)
    if result is None:
        raise shell.error(done, operation="exec", target="container", ref=spec.container)
    for line in result.stderr.splitlines(keepends=True):
        yield LogLine(stream="stderr", data=line)
    return result.exit_code


def exec_detached(shell: Shell, spec: ExecSpec, global_args: Sequence[str] = ()) -> None:
    """``exec -d``: returns once the command is started."""
    with tempfile.TemporaryDirectory(prefix="runtimes-exec-") as tmp:
        env_args, through_env = env_transport(tmp, spec.env)
        shell.run(
            [*global_args, *exec_args(spec, env_args, detach=True)],
            operation="exec",
            target="container",
            ref=spec.container,
            env=through_env,
        )


def parse_json_stream(data: bytes) -> Iterator[Any]:
    """Objects from NDJSON, one JSON array (Podman) or several arrays (nerdctl)."""
    text = data.decode("utf-8", "replace").strip()
    decoder = json.JSONDecoder()
    index = 0
    while index < len(text):
        obj, end = decoder.raw_decode(text, index)
        # nerdctl prints one array per argument of a batched inspect.
        if isinstance(obj, list):
            yield from obj
        else:
            yield obj
        index = end
        while index < len(text) and text[index] in " \r\n\t":
            index += 1


# Warnings and notes a CLI logs while it retries or skips TLS checks: not the error.
_NOT_ERROR = re.compile(r"level=(warning|info|debug)\b")


def transfer(
    shell: Shell,
    args: Sequence[str],
    spec: PullSpec,
    *,
    operation: str,
    parse: Callable[[str], Progress | None],
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """Run a pull/push/login command, passing each progress event to
    ``spec.on_progress`` as the CLI prints it; return its output lines.

    ``parse`` turns one output line (either pipe, ANSI colours removed) into
    an event, or ``None``.  The command may print nothing for the shell's
    timeout before :class:`~runtimes.Timeout`.  A failure raises the error
    its text means, classified knowing the registry it talked to.
    """
    lines: list[str] = []
    errors: list[str] = []
    code = 0
    for stream, raw in shell.stream(args, operation=operation, idle_timeout=shell.timeout, env=env):
        if stream == "exit":
            code = int(raw)
            continue
        text = _ANSI.sub("", raw.decode("utf-8", "replace")).rstrip("\r\n")
        lines.append(text)
        if stream == "stderr" and not _NOT_ERROR.search(text):
            errors.append(text)
        event = parse(text)
        if event is not None:
            spec.emit(event)
    if code != 0:
        raise translate(
            shell.runtime,
            operation,
            clean_error_text("\n".join(errors[-20:])) or f"exit code {code}",
            target="image",
            ref=spec.ref,
            exit_code=code,
            command=shell.argv(args),
            registry=spec.registry,
        )
    return lines


def build(shell: Shell, spec: BuildSpec, *, extra_args: Sequence[str]) -> str:
    """``build --iidfile``, streaming every output line to ``spec.on_output``;
    return the image id or raise :class:`~runtimes.BuildFailed`.

    The failing step's exit code is BuildKit's ``exit code: N`` when the
    output has one, else the CLI's own exit code (Podman exits with the
    step's code).
    """
    with tempfile.TemporaryDirectory(prefix="runtimes-build-") as tmp:
        iidfile = Path(tmp) / "iid"
        args = ["build", *extra_args, "--iidfile", str(iidfile)]
        if spec.tag is not None:
            args += ["-t", spec.tag]
        if spec.dockerfile is not None:
            args += ["-f", os.path.join(spec.context, spec.dockerfile)]
        from_env = build_args_from_env(spec.build_args)
        for key, value in spec.build_args.items():
            # ``--build-arg KEY`` takes the value from the CLI's environment,
            # where other local users cannot read it.
            args += ["--build-arg", key if key in from_env else f"{key}={value}"]
        if spec.target:
            args += ["--target", spec.target]
        args += label_args(spec.labels)
        if spec.no_cache:
            args.append("--no-cache")
        args += ["--", spec.context]
        tail: list[str] = []
        steps = StepImages()
        code = 0
        for stream, line in shell.stream(
            args, operation="build", idle_timeout=shell.timeout, env=from_env
        ):
            if stream == "exit":
                code = int(line)
                continue
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            steps.note(text)
            tail.append(text)
            del tail[:-50]
            spec.emit(text)
        image_id = iidfile.read_text().strip() if code == 0 and iidfile.exists() else ""
    if image_id:
        return image_id
    remove_step_images(lambda ref: _remove_if_untagged(shell, ref), steps.ids)
    message = clean_error_text("\n".join(tail[-5:])) or f"exit code {code}"
    found = _BUILD_EXIT.findall("\n".join(tail))
    exit_code = int(found[-1]) if found else code
    raise BuildFailed(message, runtime=shell.runtime, exit_code=exit_code, output=tail)


class StepImages:
    """The ids of the images a build committed, read from its output.

    The classic Docker builder and Buildah print ``---> <id>`` / ``--> <id>``
    after each step; the id after ``FROM`` is the base image and the id
    after ``Using cache`` an older image, neither of which is this build's.
    """

    def __init__(self) -> None:
        self.ids: list[str] = []
        self._skip_next = False

    def note(self, line: str) -> None:
        header = _STEP_HEADER.match(line)
        if header:
            self._skip_next = header["instruction"].upper() == "FROM"
            return
        if _USING_CACHE.match(line):
            self._skip_next = True
            return
        match = _STEP_IMAGE.match(line)
        if match:
            if not self._skip_next:
                self.ids.append(match.group(1))
            self._skip_next = False


def remove_step_images(remove: Callable[[str], object], steps: Sequence[str]) -> None:
    """Remove the step images a failed build committed, newest first.

    ``remove`` must leave tagged images alone and fail quietly: a step image
    that another image still uses (a cached layer) is refused and stays.
    """
    for image_id in reversed(dict.fromkeys(steps)):
        remove(image_id)


def _remove_if_untagged(shell: Shell, image_id: str) -> None:
    done = shell.run(["image", "inspect", "--", image_id], operation="build", check=False)
    records = list(parse_json_stream(done.stdout)) if done.returncode == 0 else []
    if records and not any(r.get("RepoTags") for r in records):
        shell.run(["rmi", "--", image_id], operation="build", check=False)
