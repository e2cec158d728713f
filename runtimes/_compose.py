"""Load the services section of a compose file into a :class:`~runtimes.Stack`.

The common subset only; every other key is refused by name, so a file
never starts with part of its meaning silently dropped.  YAML is read with
PyYAML (the ``compose`` extra), imported here only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runtimes.errors import InvalidSpec
from runtimes.models import Healthcheck
from runtimes.stacks import Service, Stack

_TOP = frozenset({"services", "volumes", "name", "version"})
_SERVICE = frozenset(
    {
        "image",
        "build",
        "command",
        "entrypoint",
        "environment",
        "ports",
        "volumes",
        "depends_on",
        "healthcheck",
        "networks",
    }
)
_HEALTH = frozenset({"test", "interval", "timeout", "retries", "start_period", "disable"})
_CONDITIONS = {
    "service_started": "started",
    "service_healthy": "healthy",
    "service_completed_successfully": "completed",
}
_DURATION = re.compile(
    r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?"
)


def load(path: str | os.PathLike[str], name: str | None = None) -> Stack:
    """See :meth:`runtimes.Stack.from_compose`."""
    try:
        import yaml
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise InvalidSpec(
            "reading compose files needs PyYAML: pip install 'runtimes[compose]'"
        ) from exc
    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidSpec(f"cannot read compose file {file}: {exc}") from exc
    if not isinstance(data, Mapping) or not isinstance(data.get("services"), Mapping):
        raise InvalidSpec(f"{file}: no services: mapping")
    unsupported = [f"{key}" for key in data if key not in _TOP]
    services: dict[str, Service] = {}
    for service_name, raw in data["services"].items():
        if not isinstance(raw, Mapping):
            raise InvalidSpec(f"{file}: services.{service_name} must be a mapping")
        unsupported += [f"services.{service_name}.{key}" for key in raw if key not in _SERVICE]
        health = raw.get("healthcheck")
        if isinstance(health, Mapping):
            unsupported += [
                f"services.{service_name}.healthcheck.{key}" for key in health if key not in _HEALTH
            ]
        build = raw.get("build")
        if isinstance(build, Mapping):
            unsupported += [
                f"services.{service_name}.build.{key}" for key in build if key != "context"
            ]
        nets = raw.get("networks")
        if isinstance(nets, Mapping):
            for net, opts in nets.items():
                if net != "default":
                    unsupported.append(f"services.{service_name}.networks.{net}")
                elif isinstance(opts, Mapping):
                    unsupported += [
                        f"services.{service_name}.networks.default.{key}"
                        for key in opts
                        if key != "aliases"
                    ]
        elif nets is not None:
            unsupported.append(f"services.{service_name}.networks (only default: aliases)")
    volumes = data.get("volumes") or {}
    if isinstance(volumes, Mapping):
        unsupported += [f"volumes.{v}" for v, opts in volumes.items() if opts]
    if unsupported:
        raise InvalidSpec(
            f"{file}: unsupported compose keys: {', '.join(unsupported)} "
            "(runtimes reads image, build, command, entrypoint, environment, ports, "
            "volumes, depends_on, healthcheck and networks.default.aliases)"
        )
    for service_name, raw in data["services"].items():
        services[str(service_name)] = _service(file, str(service_name), raw)
    stack_name = name or data.get("name") or file.resolve().parent.name
    return Stack(str(stack_name), services=services)


def _service(file: Path, name: str, raw: Mapping[str, Any]) -> Service:
    where = f"{file}: services.{name}"
    build = raw.get("build")
    if isinstance(build, Mapping):
        build = build.get("context", ".")
    if build is not None:
        build = str((file.parent / str(build)).resolve())
    env = raw.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in map(str, env))
    if not isinstance(env, Mapping):
        raise InvalidSpec(f"{where}.environment must be a mapping or a list of K=V")
    depends = raw.get("depends_on") or {}
    if isinstance(depends, list):
        depends = {str(d): "started" for d in depends}
    elif isinstance(depends, Mapping):
        conditions = {}
        for dep, opts in depends.items():
            condition = (opts or {}).get("condition", "service_started")
            if condition not in _CONDITIONS:
                raise InvalidSpec(f"{where}.depends_on.{dep}: unknown condition {condition!r}")
            conditions[str(dep)] = _CONDITIONS[condition]
        depends = conditions
    else:
        raise InvalidSpec(f"{where}.depends_on must be a list or a mapping")
    volumes = [_volume(file, str(v)) for v in raw.get("volumes") or []]
    aliases: list[str] = []
    nets = raw.get("networks")
    if isinstance(nets, Mapping) and isinstance(nets.get("default"), Mapping):
        aliases = [str(a) for a in nets["default"].get("aliases") or []]
    return Service(
        image=raw.get("image") if build is None else None,
        build=build,
        command=raw.get("command"),
        entrypoint=raw.get("entrypoint"),
        env={str(k): "" if v is None else str(v) for k, v in env.items()},
        ports=[str(p) for p in raw.get("ports") or []],
        volumes=volumes,
        healthcheck=_healthcheck(where, raw.get("healthcheck")),
        depends_on=depends,
        aliases=aliases,
    )


def _volume(file: Path, spec: str) -> str:
    source, sep, rest = spec.partition(":")
    if sep and source.startswith((".", "~")):
        return f"{(file.parent / os.path.expanduser(source)).resolve()}:{rest}"
    return spec


def _healthcheck(where: str, raw: object) -> Healthcheck | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise InvalidSpec(f"{where}.healthcheck must be a mapping")
    if raw.get("disable"):
        return None
    test = raw.get("test")
    if isinstance(test, list) and test and test[0] == "CMD":
        argv: Any = [str(t) for t in test[1:]]
    elif isinstance(test, list) and len(test) == 2 and test[0] == "CMD-SHELL":
        argv = str(test[1])
    elif isinstance(test, str):
        argv = test
    else:
        raise InvalidSpec(f"{where}.healthcheck.test: use [CMD, ...], [CMD-SHELL, text] or text")
    return Healthcheck(
        test=argv,
        interval=_seconds(where, "interval", raw.get("interval", "30s")),
        timeout=_seconds(where, "timeout", raw.get("timeout", "30s")),
        retries=raw.get("retries", 3),
        start_period=_seconds(where, "start_period", raw.get("start_period", "0s")),
    )


def _seconds(where: str, key: str, value: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = _DURATION.fullmatch(str(value))
    if not isinstance(value, str) or not value or match is None:
        raise InvalidSpec(f"{where}.healthcheck.{key}: {value!r} is not a duration like 1m30s")
    h, m, s, ms = (float(g) if g else 0.0 for g in match.groups())
    return h * 3600 + m * 60 + s + ms / 1000
