"""Argument building shared by the adapters that drive a Docker-compatible CLI.

nerdctl (every verb) and Podman (the verbs where its CLI beats its API)
accept the same ``run`` flags; the differences that matter are avoided
here rather than branched on: host ports are always written ``IP::PORT`` or
``PORT`` when the caller leaves them open (Podman 4.3 rejects ``0`` and
nerdctl binds it literally), and images are never pulled.
"""

from __future__ import annotations

import ipaddress
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from runtimes import _specs
from runtimes._redact import remember_secrets
from runtimes._shell import Shell
from runtimes.base import RunSpec
from runtimes.errors import InvalidSpec
from runtimes.models import Mount, PortMapping


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


def run_args(spec: RunSpec, *, remove_flag: bool = True, cidfile: str | None = None) -> list[str]:
    """``run -d --pull never ...`` arguments for a validated spec."""
    args = ["run", "-d", "--pull", "never"]
    if cidfile:
        args += ["--cidfile", cidfile]
    if spec.name:
        args += ["--name", spec.name]
    for key, value in spec.env.items():
        args += ["-e", f"{key}={value}"]
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
    if spec.remove and remove_flag:
        args.append("--rm")
    command = list(spec.command or [])
    if spec.entrypoint is not None:
        # The CLI takes one entrypoint word; the rest belongs before the command.
        args += ["--entrypoint", spec.entrypoint[0] if spec.entrypoint else ""]
        command = [*spec.entrypoint[1:], *command]
    args += ["--", spec.image, *command]
    return args


def run_detached(shell: Shell, spec: RunSpec, *, remove_flag: bool = True) -> str:
    """``run -d`` and return the new id; a container the CLI created but could
    not start (found through ``--cidfile``) is removed before the error."""
    with tempfile.TemporaryDirectory(prefix="runtimes-run-") as tmp:
        cidfile = os.path.join(tmp, "cid")
        done = shell.run(
            run_args(spec, remove_flag=remove_flag, cidfile=cidfile), operation="run", check=False
        )
        if done.returncode != 0:
            cid = Path(cidfile).read_text().strip() if os.path.exists(cidfile) else ""
            if cid:
                shell.run(["rm", "-f", cid], operation="run", check=False)
            raise shell.error(done, operation="run", target="image", ref=spec.image)
    return done.stdout.decode().strip().splitlines()[-1]


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


def build(
    shell: Shell,
    context_dir: str | os.PathLike[str],
    *,
    extra_args: Sequence[str],
    tag: str | None,
    dockerfile: str | None,
    build_args: Mapping[str, str] | None,
    target: str | None,
    labels: Mapping[str, str] | None,
    no_cache: bool,
    on_output: Callable[[str], None] | None,
) -> tuple[int, list[str], str | None]:
    """``build --iidfile`` streaming every output line to ``on_output``.

    Returns the exit code, the last 50 lines and the image id (``None`` on
    failure); the caller turns a failure into its own error.
    """
    context = os.fspath(context_dir)
    if not os.path.isdir(context):
        raise InvalidSpec(f"build context {context!r} is not a directory")
    args_env = _specs.check_env(build_args)
    remember_secrets(args_env)
    with tempfile.TemporaryDirectory(prefix="runtimes-build-") as tmp:
        iidfile = Path(tmp) / "iid"
        args = ["build", *extra_args, "--iidfile", str(iidfile)]
        if tag is not None:
            args += ["-t", _specs.check_image_ref(tag)]
        if dockerfile is not None:
            args += ["-f", os.path.join(context, dockerfile)]
        for key, value in args_env.items():
            args += ["--build-arg", f"{key}={value}"]
        if target:
            args += ["--target", target]
        args += label_args(_specs.check_labels(labels))
        if no_cache:
            args.append("--no-cache")
        args.append(context)
        tail: list[str] = []
        code = 0
        for stream, line in shell.stream(args, operation="build"):
            if stream == "exit":
                code = int(line)
                continue
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            tail.append(text)
            del tail[:-50]
            if on_output is not None:
                on_output(text)
        image_id = iidfile.read_text().strip() if code == 0 else None
    return code, tail, image_id
