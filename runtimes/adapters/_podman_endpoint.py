"""Which Podman service to talk to, and why: Podman's own rules for a remote.

First that applies:

1. the adapter option ``host`` (a URL: ``unix://``, ``ssh://``, ``tcp://``);
2. the adapter option ``connection``: a system connection by name;
3. ``CONTAINER_HOST`` (with ``CONTAINER_SSHKEY`` for an ``ssh://`` URL);
4. ``CONTAINER_CONNECTION``: a system connection by name;
5. the default system connection: ``Connection.Default`` in
   ``podman-connections.json`` (Podman 5: ``PODMAN_CONNECTIONS_CONF``, else
   ``$XDG_CONFIG_HOME/containers/``, else ``~/.config/containers/``), else
   ``[engine] active_service`` in ``containers.conf`` (Podman 4:
   ``CONTAINERS_CONF`` alone when set, else ``/usr/share/containers/``,
   ``/etc/containers/`` and the user's file, later ones winning);
6. nothing: this machine's Podman (the standard socket, or a private
   service), decided by the adapter.

A connection is ``{"URI": ..., "Identity": ...}`` in the JSON file and
``[engine.service_destinations.NAME] uri = ... identity = ...`` in
``containers.conf``.  The SSH key is the option ``ssh_identity``, else
``CONTAINER_SSHKEY``, else the connection's identity.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from runtimes.errors import RuntimeUnavailable

__all__ = ["Connection", "PodmanEndpoint", "connections", "resolve"]


@attrs.frozen
class Connection:
    """One Podman system connection."""

    #: Its name (``podman system connection list``).
    name: str
    #: Service URL, e.g. ``ssh://user@host:22/run/podman/podman.sock``.
    uri: str
    #: SSH private key, if the connection names one.
    identity: str | None = None


@attrs.frozen
class PodmanEndpoint:
    """A resolved service address and where it came from."""

    #: Service URL, or ``None`` for this machine's Podman.
    url: str | None
    #: Why this one (``"option host"``, ``"CONTAINER_HOST"``, ``"default
    #: connection 'x' in /path"``...).
    source: str
    #: SSH private key for an ``ssh://`` URL.
    identity: str | None = None

    def describe(self) -> str:
        return f"{self.url} (from {self.source})"


def _config_home(env: Mapping[str, str]) -> Path:
    return Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def containers_conf_files(env: Mapping[str, str]) -> list[Path]:
    """``containers.conf`` files in the order Podman reads them."""
    if env.get("CONTAINERS_CONF"):
        return [Path(env["CONTAINERS_CONF"])]
    return [
        Path("/usr/share/containers/containers.conf"),
        Path("/etc/containers/containers.conf"),
        _config_home(env) / "containers" / "containers.conf",
    ]


def connections_file(env: Mapping[str, str]) -> Path:
    """Podman 5's ``podman-connections.json``."""
    if env.get("PODMAN_CONNECTIONS_CONF"):
        return Path(env["PODMAN_CONNECTIONS_CONF"])
    return _config_home(env) / "containers" / "podman-connections.json"


def connections(env: Mapping[str, str]) -> tuple[dict[str, Connection], tuple[str, str] | None]:
    """Every system connection, and the default one's ``(name, where)``.

    ``podman-connections.json`` wins over ``containers.conf`` for a name and
    for the default, as in Podman 5.
    """
    found: dict[str, Connection] = {}
    default: tuple[str, str] | None = None
    for path in containers_conf_files(env):
        engine = _read_toml(path).get("engine")
        if not isinstance(engine, dict):
            continue
        for name, item in (engine.get("service_destinations") or {}).items():
            if isinstance(item, dict) and item.get("uri"):
                found[name] = Connection(name, str(item["uri"]), item.get("identity") or None)
        if engine.get("active_service"):
            default = (str(engine["active_service"]), f"active_service in {path}")
    path = connections_file(env)
    table = _read_json(path).get("Connection") or {}
    for name, item in (table.get("Connections") or {}).items():
        if isinstance(item, dict) and item.get("URI"):
            found[name] = Connection(name, str(item["URI"]), item.get("Identity") or None)
    if table.get("Default"):
        default = (str(table["Default"]), f"Default in {path}")
    return found, default


def resolve(
    *,
    host: str | None = None,
    connection: str | None = None,
    ssh_identity: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> PodmanEndpoint:
    """Apply the rules above; :class:`~runtimes.RuntimeUnavailable` for a
    connection name that no file defines."""
    env = os.environ if environ is None else environ
    key = ssh_identity or env.get("CONTAINER_SSHKEY") or None
    if host:
        return PodmanEndpoint(host, "option host", key)
    if connection:
        return _named(connection, "option connection", key, env)
    if env.get("CONTAINER_HOST"):
        return PodmanEndpoint(env["CONTAINER_HOST"], "CONTAINER_HOST", key)
    if env.get("CONTAINER_CONNECTION"):
        return _named(env["CONTAINER_CONNECTION"], "CONTAINER_CONNECTION", key, env)
    found, default = connections(env)
    if default is not None:
        name, where = default
        if name in found:
            chosen = found[name]
            return PodmanEndpoint(
                chosen.uri, f"default connection {name!r} ({where})", key or chosen.identity
            )
    return PodmanEndpoint(None, "this machine")


def _named(name: str, source: str, key: str | None, env: Mapping[str, str]) -> PodmanEndpoint:
    found, _ = connections(env)
    if name not in found:
        raise RuntimeUnavailable(
            "podman",
            f"no Podman system connection {name!r} (from {source}) in "
            f"{connections_file(env)} or containers.conf",
            hint="`podman system connection list` lists them",
            reason="unknown-connection",
        )
    chosen = found[name]
    return PodmanEndpoint(chosen.uri, f"connection {name!r} ({source})", key or chosen.identity)
