"""Validate caller input before anything reaches a runtime.

Every function raises :class:`~runtimes.InvalidSpec` with a message that
names the bad value, so a typo fails the same way on every runtime instead of
producing three different daemon errors.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterable, Mapping, Sequence

from runtimes.errors import InvalidSpec
from runtimes.models import Mount, MountType, PortMapping

_PROTOCOLS = ("tcp", "udp", "sctp")
# Container names as docker, podman and nerdctl all accept them.
_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
# Image references: [host[:port]/]path[:tag][@digest], lower-case path.
_REF_RE = re.compile(
    r"^(?:(?P<host>[a-zA-Z0-9.-]+(?::[0-9]+)?)/)?"
    r"(?P<path>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
_ID_RE = re.compile(r"^(?:sha256:)?[0-9a-f]{12,64}$")
_ENV_KEY_RE = re.compile(r"^[^=\s\x00]+$")
_LABEL_KEY_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._/-]*$")


def check_name(name: str) -> str:
    """A container or volume name."""
    if not isinstance(name, str) or not _NAME_RE.match(name) or len(name) > 253:
        raise InvalidSpec(
            f"invalid name {name!r}: use letters, digits, '_', '.' and '-', "
            "starting with a letter or digit"
        )
    return name


def check_image_ref(ref: str) -> str:
    """An image reference (``name[:tag][@digest]``) or an image id."""
    if not isinstance(ref, str) or not ref or len(ref) > 4096:
        raise InvalidSpec(f"invalid image reference {ref!r}")
    if _ID_RE.match(ref) or _REF_RE.match(ref):
        return ref
    raise InvalidSpec(
        f"invalid image reference {ref!r}: expected [registry/]name[:tag][@digest] "
        "with a lower-case name"
    )


def check_env(env: Mapping[str, str] | None) -> dict[str, str]:
    """Environment variables: keys without ``=`` or spaces, string values."""
    out: dict[str, str] = {}
    for key, value in (env or {}).items():
        if not isinstance(key, str) or not _ENV_KEY_RE.match(key):
            raise InvalidSpec(f"invalid environment variable name {key!r}")
        if not isinstance(value, str):
            raise InvalidSpec(f"environment variable {key} must be a string")
        if "\x00" in value:
            raise InvalidSpec(f"environment variable {key} contains a NUL byte")
        out[key] = value
    return out


def check_labels(labels: Mapping[str, str] | None) -> dict[str, str]:
    """Labels: keys like ``com.example.key``, string values."""
    out: dict[str, str] = {}
    for key, value in (labels or {}).items():
        if not isinstance(key, str) or not _LABEL_KEY_RE.match(key):
            raise InvalidSpec(f"invalid label key {key!r}")
        if not isinstance(value, str):
            raise InvalidSpec(f"label {key} must have a string value")
        if "," in value and "=" in value:
            # nerdctl reports labels as one "k=v,k2=v2" string; such a value
            # could not be read back unambiguously.
            raise InvalidSpec(f"label {key}: value may not contain both ',' and '='")
        out[key] = value
    return out


def label_filters(labels: Mapping[str, str]) -> dict[str, list[str]]:
    """Engine API ``filters`` for containers, images or volumes carrying every label."""
    return {"label": [f"{k}={v}" for k, v in labels.items()]} if labels else {}


def check_command(command: str | Sequence[str] | None, what: str = "command") -> list[str] | None:
    """A command as an argv list; a plain string is split like a shell would."""
    if command is None:
        return None
    if isinstance(command, str):
        import shlex

        try:
            return shlex.split(command)
        except ValueError as exc:
            raise InvalidSpec(f"invalid {what} {command!r}: {exc}") from exc
    argv = list(command)
    if not all(isinstance(a, str) for a in argv):
        raise InvalidSpec(f"{what} must be a string or a list of strings")
    return argv


def _port_number(text: str, spec: object) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise InvalidSpec(f"invalid port {text!r} in {spec!r}: must be 1-65535")
    return int(text)


def parse_port(spec: str | int | PortMapping) -> PortMapping:
    """``[ip:][host_port:]container_port[/proto]``; ``ip::port`` = any host port."""
    if isinstance(spec, PortMapping):
        _port_number(str(spec.container_port), spec)
        if spec.host_port is not None:
            _port_number(str(spec.host_port), spec)
        if spec.protocol not in _PROTOCOLS:
            raise InvalidSpec(f"invalid protocol {spec.protocol!r} in {spec!r}")
        if spec.host_ip is not None:
            _check_ip(spec.host_ip, spec)
        return spec
    if isinstance(spec, int) and not isinstance(spec, bool):
        return PortMapping(container_port=_port_number(str(spec), spec))
    if not isinstance(spec, str) or not spec:
        raise InvalidSpec(f"invalid port spec {spec!r}")
    rest, _, proto = spec.partition("/")
    protocol = proto or "tcp"
    if protocol not in _PROTOCOLS:
        raise InvalidSpec(f"invalid protocol {protocol!r} in port spec {spec!r}")
    host_ip: str | None = None
    if rest.startswith("["):  # [::1]:8080:80
        close = rest.find("]")
        if close < 0 or rest[close + 1 : close + 2] != ":":
            raise InvalidSpec(f"invalid port spec {spec!r}")
        host_ip = _check_ip(rest[1:close], spec)
        parts = rest[close + 2 :].split(":")
        if len(parts) != 2:
            raise InvalidSpec(f"invalid port spec {spec!r}")
        host, container = parts
    else:
        parts = rest.split(":")
        if len(parts) == 1:
            host, container = "", parts[0]
        elif len(parts) == 2:
            host, container = parts
        elif len(parts) == 3:
            host_ip = _check_ip(parts[0], spec) if parts[0] else None
            host, container = parts[1], parts[2]
        else:
            raise InvalidSpec(f"invalid port spec {spec!r}")
    if host == "0":
        host = ""  # "any free port": podman rejects 0 and nerdctl binds it literally
    return PortMapping(
        container_port=_port_number(container, spec),
        protocol=protocol,
        host_ip=host_ip,
        host_port=_port_number(host, spec) if host else None,
    )


def _check_ip(text: str, spec: object) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise InvalidSpec(f"invalid host address {text!r} in port spec {spec!r}") from None


def parse_ports(specs: Iterable[str | int | PortMapping] | None) -> list[PortMapping]:
    if specs is None:
        return []
    if isinstance(specs, (str, int, PortMapping)):
        specs = [specs]
    return [parse_port(s) for s in specs]


def parse_volume(spec: str | Mount) -> Mount:
    """``host_path:container_path[:ro|rw]``, ``volume_name:container_path[:ro]``.

    A source with a ``/`` or starting with ``.`` or ``~`` is a host path; it is
    made absolute and must exist.  Anything else is a named volume.
    """
    if isinstance(spec, Mount):
        mount = spec
    else:
        if not isinstance(spec, str) or not spec:
            raise InvalidSpec(f"invalid volume spec {spec!r}")
        parts = spec.split(":")
        if len(parts) == 2:
            source, target, mode = parts[0], parts[1], ""
        elif len(parts) == 3:
            source, target, mode = parts
        else:
            raise InvalidSpec(f"invalid volume spec {spec!r}: expected source:target[:ro]")
        if mode not in ("", "ro", "rw"):
            raise InvalidSpec(f"invalid volume mode {mode!r} in {spec!r}: use ro or rw")
        if not source:
            raise InvalidSpec(f"invalid volume spec {spec!r}: empty source")
        is_path = "/" in source or source.startswith((".", "~"))
        mount = Mount(
            source=source,
            target=target,
            type=MountType.BIND if is_path else MountType.VOLUME,
            read_only=mode == "ro",
        )
    if not mount.target.startswith("/"):
        raise InvalidSpec(f"volume target {mount.target!r} must be an absolute path")
    if mount.type is MountType.BIND:
        source = os.path.abspath(os.path.expanduser(mount.source))
        if not os.path.exists(source):
            raise InvalidSpec(f"bind mount source {source!r} does not exist")
        return Mount(source=source, target=mount.target, type=mount.type, read_only=mount.read_only)
    check_name(mount.source)
    return mount


def parse_volumes(specs: Iterable[str | Mount] | None) -> list[Mount]:
    if specs is None:
        return []
    if isinstance(specs, (str, Mount)):
        specs = [specs]
    return [parse_volume(s) for s in specs]


def check_tail(tail: int | None) -> None:
    """``tail`` for logs: ``None`` (everything) or a count."""
    if tail is not None and (isinstance(tail, bool) or not isinstance(tail, int) or tail < 0):
        raise InvalidSpec(f"tail must be a non-negative integer, got {tail!r}")


def parse_assignment(text: str, what: str) -> tuple[str, str]:
    """``KEY=VALUE`` as given on a command line."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise InvalidSpec(f"invalid {what} {text!r}: expected KEY=VALUE")
    return key, value
