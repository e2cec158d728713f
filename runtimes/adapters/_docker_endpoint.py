"""Which Docker daemon to talk to, how, and why: the rules of the docker CLI.

First that applies:

1. the adapter option ``host`` (``connect(host=...)``, ``RUNTIMES_DOCKER_HOST``,
   ``[tool.runtimes.docker] host``);
2. the adapter option ``context``: a Docker context by name;
3. ``DOCKER_HOST``;
4. ``DOCKER_CONTEXT``;
5. ``currentContext`` in ``$DOCKER_CONFIG/config.json`` (``~/.docker``);
6. the standard socket ``unix:///var/run/docker.sock``.

The context named ``default`` is the standard socket, as for the CLI.  A
context is read from the CLI's store: ``contexts/meta/<sha256 of the
name>/meta.json`` gives ``Endpoints.docker.Host`` and ``SkipTLSVerify``,
``contexts/tls/<sha256>/docker/{ca,cert,key}.pem`` its TLS material.

TLS for a ``tcp://`` host from 1. or 3.: the options ``tls_ca``,
``tls_cert``, ``tls_key``, ``tls_verify`` when any is given (then the peer is
verified unless ``tls_verify`` is false); else ``DOCKER_TLS_VERIFY`` (any
non-empty value verifies) and ``DOCKER_CERT_PATH`` (default ``~/.docker``;
``ca.pem``, ``cert.pem``, ``key.pem``), like the CLI: a cert path without
``DOCKER_TLS_VERIFY`` means TLS without verifying the daemon.  A context's
TLS comes from the context only, unless options are given.
"""

from __future__ import annotations

import hashlib
import json
import os
import ssl
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from runtimes._credentials import docker_config_path
from runtimes.errors import InvalidSpec, RuntimeUnavailable

__all__ = ["DEFAULT_HOST", "DockerEndpoint", "TlsFiles", "parse_flag", "resolve"]

DEFAULT_HOST = "unix:///var/run/docker.sock"


@attrs.frozen
class TlsFiles:
    """TLS settings for a ``tcp://`` daemon."""

    #: Verify the daemon's certificate (against ``ca``, else the system CAs).
    verify: bool
    #: CA bundle that signed the daemon's certificate.
    ca: str | None = None
    #: Client certificate (PEM) the daemon may ask for.
    cert: str | None = None
    #: Its private key (PEM).
    key: str | None = None


@attrs.frozen
class DockerEndpoint:
    """A resolved daemon address and where it came from."""

    #: ``unix://...``, ``tcp://host:port`` or ``ssh://[user@]host[:port]``.
    url: str
    #: Why this one: ``"option host"``, ``"DOCKER_HOST"``, ``"Docker context
    #: 'x' (DOCKER_CONTEXT)"``, ``"default socket"``...
    source: str
    #: TLS settings for a ``tcp://`` URL, ``None`` for plain HTTP.
    tls: TlsFiles | None = None
    #: The Docker context it came from, if any.
    context: str | None = None

    @property
    def scheme(self) -> str:
        return self.url.partition("://")[0].lower()

    def describe(self) -> str:
        """``URL (from SOURCE)``, for messages and ``runtimes info``."""
        return f"{self.url} (from {self.source})"


def parse_flag(value: object, name: str) -> bool:
    """A yes/no option given as a bool or as text (``1``, ``true``, ``0``...)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise InvalidSpec(f"docker: {name} must be true or false, got {value!r}")


def resolve(
    *,
    host: str | None = None,
    context: str | None = None,
    tls_verify: object = None,
    tls_ca: str | None = None,
    tls_cert: str | None = None,
    tls_key: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> DockerEndpoint:
    """Apply the rules above; :class:`~runtimes.RuntimeUnavailable` for a
    context that does not exist, :class:`~runtimes.InvalidSpec` for a TLS
    file that does not."""
    env = os.environ if environ is None else environ
    options_tls = _options_tls(tls_verify, tls_ca, tls_cert, tls_key)
    if host:
        return _with_tls(DockerEndpoint(host, "option host"), options_tls, env)
    if context:
        return _from_context(context, "option context", options_tls, env)
    if env.get("DOCKER_HOST"):
        return _with_tls(DockerEndpoint(env["DOCKER_HOST"], "DOCKER_HOST"), options_tls, env)
    if env.get("DOCKER_CONTEXT"):
        return _from_context(env["DOCKER_CONTEXT"], "DOCKER_CONTEXT", options_tls, env)
    config = _config_dir(env) / "config.json"
    current = _current_context(config)
    if current:
        return _from_context(current, f"currentContext in {config}", options_tls, env)
    return DockerEndpoint(DEFAULT_HOST, "default socket")


def _config_dir(env: Mapping[str, str]) -> Path:
    if env.get("DOCKER_CONFIG"):
        return Path(env["DOCKER_CONFIG"])
    return docker_config_path().parent


def _current_context(config: Path) -> str | None:
    try:
        data = json.loads(config.read_text())
    except (OSError, ValueError):
        return None
    name = data.get("currentContext") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name else None


def _options_tls(
    verify: object, ca: str | None, cert: str | None, key: str | None
) -> TlsFiles | None:
    if verify is None and not (ca or cert or key):
        return None
    checked = {}
    for name, path in (("tls_ca", ca), ("tls_cert", cert), ("tls_key", key)):
        if path:
            path = os.path.expanduser(os.fspath(path))
            if not os.path.isfile(path):
                raise InvalidSpec(f"docker: {name} {path!r} is not a file")
        checked[name] = path or None
    if bool(checked["tls_cert"]) != bool(checked["tls_key"]):
        raise InvalidSpec("docker: tls_cert and tls_key go together")
    return TlsFiles(
        verify=True if verify is None else parse_flag(verify, "tls_verify"),
        ca=checked["tls_ca"],
        cert=checked["tls_cert"],
        key=checked["tls_key"],
    )


def _env_tls(env: Mapping[str, str]) -> TlsFiles | None:
    verify = bool(env.get("DOCKER_TLS_VERIFY"))
    cert_path = env.get("DOCKER_CERT_PATH")
    if not verify and not cert_path:
        return None
    directory = Path(cert_path) if cert_path else _config_dir(env)
    return _tls_dir(directory, verify=verify)


def _tls_dir(directory: Path, *, verify: bool) -> TlsFiles:
    def found(name: str) -> str | None:
        path = directory / name
        return str(path) if path.is_file() else None

    cert, key = found("cert.pem"), found("key.pem")
    both = cert is not None and key is not None
    return TlsFiles(
        verify=verify, ca=found("ca.pem"), cert=cert if both else None, key=key if both else None
    )


def _with_tls(
    endpoint: DockerEndpoint, options_tls: TlsFiles | None, env: Mapping[str, str]
) -> DockerEndpoint:
    if endpoint.scheme not in ("tcp", "https"):
        return endpoint
    tls = options_tls if options_tls is not None else _env_tls(env)
    return attrs.evolve(endpoint, tls=tls)


def _from_context(
    name: str, source: str, options_tls: TlsFiles | None, env: Mapping[str, str]
) -> DockerEndpoint:
    if name == "default":
        return DockerEndpoint(DEFAULT_HOST, f"Docker context 'default' ({source})", context=name)
    store = _config_dir(env) / "contexts"
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta_path = store / "meta" / digest / "meta.json"
    try:
        meta: Any = json.loads(meta_path.read_text())
        endpoint = meta["Endpoints"]["docker"]
        url = str(endpoint["Host"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RuntimeUnavailable(
            "docker",
            f"Docker context {name!r} (from {source}) is not in {store}: {exc}",
            hint="`docker context ls` lists the contexts",
            reason="unknown-context",
        ) from None
    described = f"Docker context {name!r} ({source})"
    if options_tls is not None:
        return _with_tls(DockerEndpoint(url, described, context=name), options_tls, env)
    tls = None
    tls_dir = store / "tls" / digest / "docker"
    if url.startswith(("tcp://", "https://")) and tls_dir.is_dir():
        tls = _tls_dir(tls_dir, verify=not endpoint.get("SkipTLSVerify", False))
    return DockerEndpoint(url, described, tls=tls, context=name)


def certificate_expired(path: str) -> str | None:
    """``notAfter`` of the PEM certificate at ``path`` if it has passed, else
    ``None`` (also when the file cannot be read).

    The standard library has no public certificate parser; the ssl module's
    decoder, used by its own tests, is enough for one date.
    """
    decode = getattr(getattr(ssl, "_ssl", None), "_test_decode_cert", None)
    if decode is None:
        return None
    try:
        not_after = str(decode(path)["notAfter"])
        if ssl.cert_time_to_seconds(not_after) < time.time():
            return not_after
    except (OSError, ValueError, KeyError, ssl.SSLError):
        return None
    return None
