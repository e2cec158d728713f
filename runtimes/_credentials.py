"""Registry credentials in the Docker config format, shared by every runtime.

Docker and nerdctl keep credentials in ``$DOCKER_CONFIG/config.json``
(default ``~/.docker/config.json``); Podman's ``auth.json`` has the same
``auths`` table.  The format::

    {"auths": {"127.0.0.1:5000": {"auth": base64("user:password")}},
     "credsStore": "pass",                      # optional: a helper for all
     "credHelpers": {"ghcr.io": "gh"}}          # optional: a helper per host

A helper is the program ``docker-credential-<name>``: ``store`` reads
``{"ServerURL", "Username", "Secret"}`` on stdin, ``erase`` reads the server
URL.  Secrets travel on stdin or in 0600 files, never on a command line.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runtimes._shell import Shell
from runtimes.errors import CommandFailed, RuntimesError
from runtimes.models import RegistryAuth

__all__ = [
    "auth_config",
    "config_key",
    "docker_config_path",
    "erase",
    "lookup",
    "podman_auth_files",
    "store",
    "temporary_config",
]

#: The key Docker's tools use for Docker Hub.
DOCKER_HUB_KEY = "https://index.docker.io/v1/"


def config_key(registry: str) -> str:
    """The ``auths`` key of a registry host."""
    return DOCKER_HUB_KEY if registry in ("docker.io", "index.docker.io") else registry


def docker_config_path() -> Path:
    """``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``."""
    directory = os.environ.get("DOCKER_CONFIG") or os.path.join(Path.home(), ".docker")
    return Path(directory) / "config.json"


def auth_config(registry: str, auth: RegistryAuth) -> dict[str, str]:
    """The Engine API's auth object for one call."""
    return {
        "username": auth.username,
        "password": auth.password,
        "serveraddress": config_key(registry),
    }


def _encoded(auth: RegistryAuth) -> str:
    return base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode()


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise CommandFailed(
            f"cannot read {path}: {exc}", runtime="runtimes", operation="login"
        ) from None
    return data if isinstance(data, dict) else {}


def _write(path: Path, data: dict[str, Any]) -> None:
    # Whole-file replace, 0600 from the start: never a readable half-written file.
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=1)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _helper(data: dict[str, Any], key: str) -> str | None:
    helpers = data.get("credHelpers") or {}
    name = helpers.get(key) if isinstance(helpers, dict) else None
    store_name = data.get("credsStore")
    return str(name or store_name) if (name or store_name) else None


def _run_helper(name: str, action: str, stdin: bytes, timeout: float) -> None:
    Shell("runtimes", f"docker-credential-{name}", timeout=timeout).run(
        [action], operation=f"credential helper {action}", stdin=stdin
    )


def store(registry: str, auth: RegistryAuth, *, path: Path, timeout: float = 30) -> None:
    """Keep ``auth`` for ``registry`` in the config at ``path`` (or its helper)."""
    key = config_key(registry)
    data = _load(path)
    helper = _helper(data, key)
    if helper is not None:
        payload = {"ServerURL": key, "Username": auth.username, "Secret": auth.password}
        _run_helper(helper, "store", json.dumps(payload).encode(), timeout)
        auths = data.setdefault("auths", {})
        if auths.get(key) != {}:
            auths[key] = {}  # what docker writes: "credentials live in the helper"
            _write(path, data)
        return
    data.setdefault("auths", {})[key] = {"auth": _encoded(auth)}
    _write(path, data)


def erase(registry: str, *, path: Path, timeout: float = 30) -> None:
    """Forget ``registry`` in the config at ``path`` (and its helper)."""
    key = config_key(registry)
    data = _load(path)
    helper = _helper(data, key)
    if helper is not None:
        with contextlib.suppress(CommandFailed):  # nothing stored is fine
            _run_helper(helper, "erase", key.encode(), timeout)
    auths = data.get("auths")
    if isinstance(auths, dict) and key in auths:
        del auths[key]
        _write(path, data)


@contextlib.contextmanager
def temporary_config(registry: str, auth: RegistryAuth, filename: str) -> Iterator[Path]:
    """A private directory holding a config file with only ``auth``, for one
    CLI call (``DOCKER_CONFIG`` for nerdctl, ``--authfile`` for Podman)."""
    with tempfile.TemporaryDirectory(prefix="runtimes-auth-") as tmp:
        path = Path(tmp) / filename
        # Podman keys Docker Hub as "docker.io", Docker's tools by its index URL.
        entry = {"auth": _encoded(auth)}
        _write(path, {"auths": {registry: entry, config_key(registry): entry}})
        yield path


def podman_auth_files() -> list[Path]:
    """Where Podman's client looks for stored credentials, in its order:
    ``REGISTRY_AUTH_FILE``, else ``$XDG_RUNTIME_DIR/containers/auth.json``
    (``/run/containers/UID/auth.json``), then ``~/.config/containers/auth.json``
    and Docker's config."""
    first = os.environ.get("REGISTRY_AUTH_FILE")
    if first:
        return [Path(first)]
    runtime_dir = os.environ.get("XDG_RUNTIME_DIR") or f"/run/containers/{os.getuid()}"
    if os.environ.get("XDG_RUNTIME_DIR"):
        runtime_dir = os.path.join(runtime_dir, "containers")
    config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(Path.home(), ".config")
    return [
        Path(runtime_dir) / "auth.json",
        Path(config_home) / "containers" / "auth.json",
        docker_config_path(),
    ]


def lookup(registry: str, paths: list[Path], *, timeout: float = 30) -> RegistryAuth | None:
    """The credentials stored for ``registry`` in the first of ``paths``
    that has some (its ``auths`` entry, or its credential helper), else
    ``None``: what a CLI would send, for an API call made on its behalf."""
    keys = dict.fromkeys((registry, config_key(registry), f"https://{registry}"))
    for path in paths:
        try:
            data = _load(path)
        except CommandFailed:
            continue
        found_auths = data.get("auths")
        auths: dict[str, Any] = found_auths if isinstance(found_auths, dict) else {}
        for key in keys:
            helper = _helper(data, key)
            if helper is not None:
                found = _helper_get(helper, key, timeout)
                if found is not None:
                    return found
            entry = auths.get(key)
            if isinstance(entry, dict) and entry.get("auth"):
                try:
                    user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
                except (ValueError, UnicodeDecodeError):
                    continue
                return RegistryAuth(user, password)
    return None


def _helper_get(name: str, key: str, timeout: float) -> RegistryAuth | None:
    try:
        done = Shell("runtimes", f"docker-credential-{name}", timeout=timeout).run(
            ["get"], operation="credential helper get", stdin=key.encode()
        )
        found = json.loads(done.stdout)
    except (RuntimesError, ValueError):
        return None  # "credentials not found" is an error exit; so is a missing helper
    if not isinstance(found, dict) or not found.get("Username"):
        return None
    return RegistryAuth(str(found["Username"]), str(found.get("Secret") or ""))
