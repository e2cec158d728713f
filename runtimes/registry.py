"""Find adapters and decide which runtime ``connect()`` uses.

Adapters are looked up lazily: the built-in ones and those added with
:func:`register_adapter` by import string, third-party packages' through
the ``runtimes.adapters`` entry-point group, which is read only when a name
is asked for that is not already known.  Nothing is imported until a
runtime is asked for, so ``import runtimes`` stays light.

Selection precedence (first that applies wins):

1. the name passed to :func:`connect`;
2. the ``RUNTIMES_DEFAULT`` environment variable;
3. ``[tool.runtimes] default = "..."`` in the nearest ``pyproject.toml`` from
   the working directory up, then ``default = "..."`` in the user config file
   (``~/.config/runtimes/config.toml`` on Linux);
4. auto-detection: the first of docker, podman, nerdctl that is installed and
   reachable.

Adapter options come from ``connect(**options)``, then
``RUNTIMES_<NAME>_<OPTION>``, then ``[tool.runtimes.<name>]`` (pyproject) or
``[<name>]`` (user config).  Adapters also honour their ecosystem's own
variables (``DOCKER_HOST``, ``CONTAINER_HOST``, ``CONTAINERD_ADDRESS``...).
"""

from __future__ import annotations

import importlib
import logging
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from runtimes.errors import InvalidSpec, RuntimeUnavailable, UnknownRuntime

if TYPE_CHECKING:
    from runtimes.base import Runtime

__all__ = [
    "AdapterSpec",
    "Selection",
    "adapter_class",
    "available",
    "connect",
    "known",
    "load_config",
    "register_adapter",
    "select",
]

log = logging.getLogger("runtimes")

ENTRY_POINT_GROUP = "runtimes.adapters"
#: Options every adapter takes, applied by :meth:`Runtime.configure`; they may
#: also be set for all runtimes at once (``RUNTIMES_PULL``, ``[tool.runtimes]
#: pull = "missing"``).
COMMON_OPTIONS = ("pull", "insecure_registries", "registry_certs", "engine_host")
AUTO_ORDER = ("docker", "podman", "nerdctl")


@attrs.frozen
class AdapterSpec:
    """Where an adapter lives and how to get what it needs."""

    #: Registry name.
    name: str
    #: ``"module:Class"``.
    target: str
    #: What to run when the adapter's Python dependencies are missing.
    install_hint: str
    #: How to install or start the runtime itself.
    runtime_hint: str


BUILTIN: Mapping[str, AdapterSpec] = {
    "docker": AdapterSpec(
        "docker",
        "runtimes.adapters.docker:DockerRuntime",
        "pip install 'runtimes[docker]'",
        "install Docker (Debian: apt-get install docker.io) and start dockerd",
    ),
    "podman": AdapterSpec(
        "podman",
        "runtimes.adapters.podman:PodmanRuntime",
        "pip install 'runtimes[podman]'",
        "install Podman (Debian: apt-get install podman)",
    ),
    "nerdctl": AdapterSpec(
        "nerdctl",
        "runtimes.adapters.nerdctl:NerdctlRuntime",
        "nothing: the nerdctl adapter needs no Python package",
        "install nerdctl and start containerd (see scripts/prepare-machine.sh)",
    ),
    # Never auto-detected (not in AUTO_ORDER): a cluster is chosen by name.
    "kubernetes": AdapterSpec(
        "kubernetes",
        "runtimes.adapters.kubernetes:KubernetesRuntime",
        "pip install 'runtimes[kubernetes]'",
        "point KUBECONFIG (or RUNTIMES_KUBERNETES_KUBECONFIG) at a reachable cluster",
    ),
}

_cache: dict[str, type[Runtime]] = {}
# Adapters registered in this process with register_adapter().
_registered: dict[str, AdapterSpec] = {}


def entry_points(group: str) -> Any:
    """The installed entry points of ``group`` (importlib.metadata, imported
    only now: it costs more than the rest of ``import runtimes``)."""
    from importlib.metadata import entry_points as _entry_points

    return _entry_points(group=group)


def _entry_points() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in BUILTIN or ep.name in _registered:
            log.warning("ignoring entry point %r: shadows an adapter already known", ep.name)
            continue
        found.setdefault(ep.name, ep)
    return found


def register_adapter(
    name: str,
    target: str | type[Runtime],
    *,
    install_hint: str = "",
    runtime_hint: str = "",
    clobber: bool = False,
) -> None:
    """Make an adapter known as ``name`` in this process.

    ``target`` is ``"package.module:Class"`` (imported on first use) or the
    class itself.  A registered name goes after the built-ins in
    :func:`known`, before entry points, and can be selected like any other
    (``connect(name)``, ``RUNTIMES_DEFAULT``).  Re-registering a name raises
    ``ValueError`` unless ``clobber``; built-in names can't be replaced.
    """
    if not isinstance(name, str) or not name.replace("-", "").replace("_", "").isalnum():
        raise InvalidSpec(f"invalid adapter name {name!r}")
    if name in BUILTIN:
        raise ValueError(f"{name!r} is a built-in adapter and can't be replaced")
    if name in _registered and not clobber:
        raise ValueError(f"adapter {name!r} is already registered (pass clobber=True)")
    if isinstance(target, str):
        if ":" not in target:
            raise InvalidSpec(f"adapter target {target!r} must be 'module:Class'")
        text = target
    else:
        from runtimes.base import Runtime

        if not (isinstance(target, type) and issubclass(target, Runtime)):
            raise TypeError(f"adapter {name!r} is not a runtimes.Runtime subclass: {target!r}")
        text = f"{target.__module__}:{target.__qualname__}"
        _cache[name] = target
    _registered[name] = AdapterSpec(
        name,
        text,
        install_hint or "install the package that provides it",
        runtime_hint or f"see the documentation of the {name} adapter",
    )
    if isinstance(target, str):
        _cache.pop(name, None)


def known() -> list[str]:
    """Names of every adapter: built-in, then registered, then entry points (sorted)."""
    return [*BUILTIN, *_registered, *sorted(_entry_points())]


def adapter_class(name: str) -> type[Runtime]:
    """Import and return the adapter class registered under ``name``."""
    if name in _cache:
        return _cache[name]
    from runtimes.base import Runtime

    spec = BUILTIN.get(name) or _registered.get(name)
    if spec is not None:
        module_name, _, attr = spec.target.partition(":")
        try:
            cls = getattr(importlib.import_module(module_name), attr)
        except ImportError as exc:
            raise RuntimeUnavailable(
                name, f"missing Python dependency {exc.name!r}", hint=spec.install_hint
            ) from exc
    else:
        ep = _entry_points().get(name)
        if ep is None:
            raise UnknownRuntime(name, known())
        cls = ep.load()
    if not (isinstance(cls, type) and issubclass(cls, Runtime)):
        raise TypeError(f"adapter {name!r} is not a runtimes.Runtime subclass: {cls!r}")
    _cache[name] = cls
    return cls


def runtime_hint(name: str) -> str:
    spec = BUILTIN.get(name) or _registered.get(name)
    return spec.runtime_hint if spec else f"see the documentation of the {name} adapter"


# -- configuration files -------------------------------------------------------


@attrs.frozen
class Config:
    """What configuration files say, and where they were found."""

    #: ``default`` from the nearest pyproject's ``[tool.runtimes]``.
    project_default: str | None = None
    #: ``[tool.runtimes.<name>]`` tables of that pyproject.
    project_options: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    project_path: Path | None = None
    #: ``default`` from the user config file.
    user_default: str | None = None
    #: ``[<name>]`` tables of the user config file.
    user_options: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    user_path: Path | None = None
    #: Common options (``pull``...) set for every runtime in ``[tool.runtimes]``.
    project_common: Mapping[str, Any] = attrs.field(factory=dict)
    #: Common options set at the top of the user config file.
    user_common: Mapping[str, Any] = attrs.field(factory=dict)


def _user_config_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("runtimes")) / "config.toml"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        log.warning("ignoring unreadable config %s: %s", path, exc)
        return {}


def load_config(cwd: Path | None = None) -> Config:
    """Read the nearest ``pyproject.toml`` and the user config file."""
    project_default = None
    project_options: dict[str, Mapping[str, Any]] = {}
    project_path = None
    project_common: dict[str, Any] = {}
    start = (cwd or Path.cwd()).resolve()
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            table = _read_toml(candidate).get("tool", {}).get("runtimes", {})
            if table:
                project_path = candidate
                project_default = table.get("default")
                project_options = {k: v for k, v in table.items() if isinstance(v, dict)}
                project_common = {k: v for k, v in table.items() if k in COMMON_OPTIONS}
            break  # the nearest pyproject decides, even without a [tool.runtimes]
    user_path = _user_config_path()
    user: dict[str, Any] = _read_toml(user_path) if user_path.is_file() else {}
    return Config(
        project_default=project_default,
        project_options=project_options,
        project_path=project_path,
        user_default=user.get("default"),
        user_options={k: v for k, v in user.items() if isinstance(v, dict)},
        user_path=user_path if user else None,
        project_common=project_common,
        user_common={k: v for k, v in user.items() if k in COMMON_OPTIONS},
    )


# -- selection -------------------------------------------------------------------


@attrs.frozen
class Selection:
    """Which runtime ``connect()`` picks, and the rule that picked it."""

    #: Adapter name, or ``None`` when nothing is configured or detected.
    name: str | None
    #: Human description of the rule, e.g. ``"RUNTIMES_DEFAULT"``.
    rule: str


def select(name: str | None = None, *, config: Config | None = None) -> Selection:
    """Apply the selection precedence without connecting."""
    if name:
        return Selection(name, "argument to connect()")
    env = os.environ.get("RUNTIMES_DEFAULT", "").strip()
    if env:
        return Selection(env, "RUNTIMES_DEFAULT environment variable")
    config = config or load_config()
    if config.project_default:
        return Selection(
            config.project_default, f"[tool.runtimes] default in {config.project_path}"
        )
    if config.user_default:
        return Selection(config.user_default, f"default in {config.user_path}")
    for candidate in AUTO_ORDER:
        problem = detect(candidate, config=config)
        if problem is None:
            return Selection(
                candidate, "auto-detection (first of docker, podman, nerdctl reachable)"
            )
        endpoint = _configured_endpoint(candidate, config)
        if endpoint is not None:
            # A named endpoint that fails is an error to report, not a reason
            # to run the caller's containers somewhere else.
            return Selection(
                candidate, f"auto-detection: its endpoint {endpoint} is configured ({problem})"
            )
    return Selection(None, "auto-detection found no reachable runtime")


def resolve_options(
    name: str, cls: type[Runtime], explicit: Mapping[str, Any], config: Config | None = None
) -> dict[str, Any]:
    """Merge adapter options by precedence: explicit > env > config files.

    A common option (:data:`COMMON_OPTIONS`) may also be set for every
    runtime: ``RUNTIMES_<OPTION>`` after ``RUNTIMES_<NAME>_<OPTION>``, and
    ``[tool.runtimes]`` / the user file's top level after their tables.
    """
    accepted = (*cls.options, *COMMON_OPTIONS)
    unknown = sorted(set(explicit) - set(accepted))
    if unknown:
        raise InvalidSpec(
            f"{name}: unknown option(s) {', '.join(unknown)}; accepted: {', '.join(accepted)}"
        )
    merged: dict[str, Any] = {}
    config = config if config is not None else load_config()
    # every adapter's timeout is checked here, once, whatever its source
    for option in accepted:
        common = option in COMMON_OPTIONS
        if option in explicit and explicit[option] is not None:
            merged[option] = explicit[option]
            continue
        env_keys = [f"RUNTIMES_{name.upper()}_{option.upper()}"]
        if common:
            env_keys.append(f"RUNTIMES_{option.upper()}")
        env_key = next((k for k in env_keys if os.environ.get(k)), None)
        if env_key is not None:
            merged[option] = os.environ[env_key]
            continue
        tables = [config.project_options.get(name, {})]
        if common:
            tables.append(config.project_common)
        tables.append(config.user_options.get(name, {}))
        if common:
            tables.append(config.user_common)
        for table in tables:
            if option in table:
                merged[option] = table[option]
                break
    if "timeout" in merged:
        merged["timeout"] = _timeout_option(name, merged["timeout"])
    return merged


def _timeout_option(name: str, value: Any) -> float:
    from runtimes._specs import check_seconds

    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise InvalidSpec(
                f"{name}: timeout must be a number of seconds, got {value!r}"
            ) from None
    seconds = check_seconds(value, f"{name}: timeout")
    if not seconds:
        raise InvalidSpec(f"{name}: timeout must be more than 0 seconds")
    return seconds


def detect(name: str, *, config: Config | None = None, **options: Any) -> str | None:
    """``None`` if runtime ``name`` is usable here, else why not."""
    try:
        cls = adapter_class(name)
        return cls.detect(**resolve_options(name, cls, options, config))
    except (RuntimeUnavailable, UnknownRuntime) as exc:
        return str(exc)


def _configured_endpoint(name: str, config: Config) -> str | None:
    try:
        cls = adapter_class(name)
        return cls.configured_endpoint(**resolve_options(name, cls, {}, config))
    except (RuntimeUnavailable, UnknownRuntime, InvalidSpec):
        return None


def available() -> list[str]:
    """Names of runtimes that are installed and reachable right now."""
    config = load_config()
    return [name for name in known() if detect(name, config=config) is None]


def connect(name: str | None = None, **options: Any) -> Runtime:
    """Return a :class:`~runtimes.Runtime` for ``name`` or the selected one.

    Raises :class:`~runtimes.UnknownRuntime` for a name no adapter has, and
    :class:`~runtimes.RuntimeUnavailable` when nothing usable is found.
    """
    config = load_config()
    selection = select(name, config=config)
    if selection.name is None:
        raise RuntimeUnavailable(
            "runtimes",
            "no container runtime is reachable",
            hint="install and start docker, podman or containerd+nerdctl "
            "(`runtimes info` tells more)",
        )
    cls = adapter_class(selection.name)
    resolved = resolve_options(selection.name, cls, options, config)
    common = {k: resolved.pop(k) for k in COMMON_OPTIONS if k in resolved}
    log.debug("connecting to %s (%s)", selection.name, selection.rule)
    runtime = cls(**resolved)
    try:
        return runtime.configure(**common)
    except BaseException:
        runtime.close()
        raise
