"""Validate caller input before anything reaches a runtime.

Every function raises :class:`~runtimes.InvalidSpec` with a message that
names the bad value, so a typo fails the same way on every runtime instead of
producing three different daemon errors.  :class:`~runtimes.Runtime` calls
the ``*_spec`` builders and hands their :mod:`runtimes.specs` result to the
adapter, which never validates again.

Patterns use ``fullmatch``: ``re.match`` with ``$`` would accept a trailing
newline.
"""

from __future__ import annotations

import io
import ipaddress
import json
import math
import os
import re
import shlex
import signal
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import IO, Any

import attrs

from runtimes import _normalize
from runtimes.errors import InvalidSpec
from runtimes.models import (
    Container,
    Healthcheck,
    Mount,
    MountType,
    PortMapping,
    Progress,
    RegistryAuth,
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

_PROTOCOLS = ("tcp", "udp", "sctp")
# Container and volume names as docker, podman and nerdctl all accept them.
# Also what makes a reference safe: no "-" first (a flag to a CLI), no "/",
# "?", "#" or ".." (a different URL path to an API).
_NAME_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
# nerdctl keeps a file named ".temp.<name>": 255 bytes in all; 128 leaves room
# and is what Docker's tooling treats as a sane upper bound.
_MAX_NAME = 128
# Image references: [host[:port]/]path[:tag][@digest], lower-case path.  As
# in Docker's grammar, a first component is a registry host only when it has
# a "." or a ":port" or is "localhost": "Upper/x" is a bad path, not a host.
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_HOST = rf"(?:localhost|{_LABEL}(?:\.{_LABEL})+|{_LABEL}(?=:))(?::[0-9]+)?"
_REF_RE = re.compile(
    rf"(?:(?P<host>{_HOST})/)?"
    r"(?P<path>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?"
)
_ID_RE = re.compile(r"(?:sha256:)?[0-9a-f]{12,64}")
_ENV_KEY_RE = re.compile(r"[^=\s\x00]+")
_LABEL_KEY_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._/-]*")
_SIGNALS = frozenset(
    {s.name for s in signal.Signals if not s.name.startswith("CTRL_")}
    | {"SIGRTMIN", "SIGRTMAX", *(f"SIGRTMIN+{i}" for i in range(1, 16))}
    | {f"SIGRTMAX-{i}" for i in range(1, 15)}
)
_SIGNAL_RE = re.compile(r"(?:SIG)?[A-Z][A-Z0-9+-]*|[0-9]{1,2}")
_DURATION_RE = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?")
# Counts and times every runtime can take (Podman and nerdctl parse 32 bits,
# Go's time a year below 10000).
_MAX_TAIL = 2**31 - 1
_MAX_SECONDS = 2**31 - 1
_MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z

_HOST_RE = re.compile(_HOST)
_PLATFORM_RE = re.compile(r"[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?")
#: Where an unqualified name resolves, on every runtime (Podman's own
#: short-name rules would otherwise ask, or search other registries).
DEFAULT_REGISTRY = "docker.io"
PULL_POLICIES = ("never", "missing", "always")

ContainerRef = Container | str
PullPolicy = str
Since = datetime | timedelta | float | int | str


def check_name(name: str) -> str:
    """A container or volume name."""
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name) or len(name) > _MAX_NAME:
        raise InvalidSpec(
            f"invalid name {name!r}: use letters, digits, '_', '.' and '-', "
            "starting with a letter or digit"
        )
    return name


def check_image_ref(ref: str) -> str:
    """An image reference (``name[:tag][@digest]``) or an image id."""
    if not isinstance(ref, str) or not ref or len(ref) > 4096:
        raise InvalidSpec(f"invalid image reference {ref!r}")
    if _ID_RE.fullmatch(ref) or _REF_RE.fullmatch(ref):
        return ref
    raise InvalidSpec(
        f"invalid image reference {ref!r}: expected [registry/]name[:tag][@digest] "
        "with a lower-case name"
    )


def is_image_id(ref: str) -> bool:
    """Whether a checked reference is an image id rather than a name."""
    return _ID_RE.fullmatch(ref) is not None


def qualify(ref: str) -> tuple[str, str]:
    """``(registry, fully qualified reference)`` for a checked image reference.

    ``postgres:16`` becomes ``docker.io/library/postgres:16``, as Docker and
    nerdctl read it; a reference without tag or digest gets ``:latest``.
    Image ids cannot be pulled or pushed (:class:`~runtimes.InvalidSpec`).
    """
    match = _REF_RE.fullmatch(check_image_ref(ref))
    if match is None or _ID_RE.fullmatch(ref):
        raise InvalidSpec(f"{ref!r} is an image id; pull and push need a name[:tag] reference")
    host, path = match["host"], match["path"]
    if host is None:
        host = DEFAULT_REGISTRY
        if "/" not in path:
            path = f"library/{path}"
    suffix = ""
    if match["tag"]:
        suffix += f":{match['tag']}"
    if match["digest"]:
        suffix += f"@{match['digest']}"
    return host, f"{host}/{path}{suffix or ':latest'}"


def split_reference(ref: str) -> tuple[str, str | None]:
    """``(repository, tag or digest)`` of a checked reference, as the Engine
    API's ``fromImage``/``tag`` pair wants them (a digest wins over a tag)."""
    match = _REF_RE.fullmatch(ref)
    if match is None:
        return ref, None
    repository = f"{match['host']}/{match['path']}" if match["host"] else match["path"]
    return repository, match["digest"] or match["tag"]


def check_registry(registry: str) -> str:
    """A registry host, ``host[:port]``, without scheme or path."""
    if not isinstance(registry, str) or not _HOST_RE.fullmatch(registry):
        raise InvalidSpec(
            f"invalid registry {registry!r}: expected host[:port] without scheme or path, "
            "e.g. 'registry.example.com' or '127.0.0.1:5000'"
        )
    return registry


def check_pull_policy(policy: object) -> str:
    """``"never"``, ``"missing"`` or ``"always"``."""
    if policy not in PULL_POLICIES:
        raise InvalidSpec(f"pull must be one of {', '.join(PULL_POLICIES)}, got {policy!r}")
    return str(policy)


def check_auth(auth: object) -> RegistryAuth | None:
    """Credentials that every transport can carry (stdin lines, auth headers)."""
    if auth is None:
        return None
    if not isinstance(auth, RegistryAuth):
        raise InvalidSpec("auth must be a runtimes.RegistryAuth(username, password)")
    return RegistryAuth(check_username(auth.username), check_secret(auth.password))


def check_username(username: object) -> str:
    if not isinstance(username, str) or not username or len(username) > 1024:
        raise InvalidSpec(f"invalid registry user name {username!r}")
    if ":" in username or any(c.isspace() or c == "\x00" for c in username):
        raise InvalidSpec(f"invalid registry user name {username!r}: no ':' or spaces")
    return username


def check_secret(secret: object) -> str:
    # Never show the value: a mistyped password is still a password.
    if not isinstance(secret, str) or not secret:
        raise InvalidSpec("the registry password or token must be a non-empty string")
    if any(c in secret for c in "\r\n\x00") or len(secret) > 65536:
        raise InvalidSpec("the registry password or token contains a newline or NUL byte")
    return secret


def check_env(env: Mapping[str, str] | None) -> dict[str, str]:
    """Environment variables: keys without ``=`` or spaces, string values."""
    out: dict[str, str] = {}
    for key, value in _mapping(env, "env").items():
        if not isinstance(key, str) or not _ENV_KEY_RE.fullmatch(key):
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
    for key, value in _mapping(labels, "labels").items():
        if not isinstance(key, str) or not _LABEL_KEY_RE.fullmatch(key):
            raise InvalidSpec(f"invalid label key {key!r}")
        if not isinstance(value, str) or "\x00" in value:
            raise InvalidSpec(f"label {key} must have a string value without NUL bytes")
        out[key] = value
    return out


def _mapping(value: object, what: str) -> Mapping[Any, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidSpec(f"{what} must be a mapping of strings, got {type(value).__name__}")
    return value


def label_filters(labels: Mapping[str, str]) -> dict[str, list[str]]:
    """Engine API ``filters`` for containers, images or volumes carrying every label."""
    return {"label": [f"{k}={v}" for k, v in labels.items()]} if labels else {}


def check_command(command: str | Sequence[str] | None, what: str = "command") -> list[str] | None:
    """A command as an argv list; a plain string is split like a shell would."""
    if command is None:
        return None
    if isinstance(command, str):
        if "\x00" in command:
            raise InvalidSpec(f"{what} contains a NUL byte")
        try:
            return shlex.split(command)
        except ValueError as exc:
            raise InvalidSpec(f"invalid {what} {command!r}: {exc}") from exc
    if not isinstance(command, Sequence):
        raise InvalidSpec(f"{what} must be a string or a list of strings")
    argv = list(command)
    if not all(isinstance(a, str) and "\x00" not in a for a in argv):
        raise InvalidSpec(f"{what} must be a string or a list of strings without NUL bytes")
    return argv


def _port_number(text: str, spec: object) -> int:
    if len(text) > 5:
        raise InvalidSpec(f"invalid port {text[:12]!r}: must be 1-65535")
    # isascii: "²".isdigit() is true but int("²") fails.
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 65535:
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
        if not 1 <= spec <= 65535:
            raise InvalidSpec("invalid port: must be 1-65535")
        return PortMapping(container_port=spec)
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


def parse_ports(specs: Iterable[str | int | PortMapping] | str | int | None) -> list[PortMapping]:
    if specs is None:
        return []
    if isinstance(specs, (str, int, PortMapping)):
        specs = [specs]
    # bytes would iterate as ints (b"80" -> ports 56 and 48); a dict would
    # silently lose its host ports.
    if not isinstance(specs, (list, tuple)):
        raise InvalidSpec(f"ports must be a list of port specs, got {type(specs).__name__}")
    return [parse_port(s) for s in specs]


def parse_volume(spec: str | Mount) -> Mount:
    """``host_path:container_path[:ro|rw]``, ``volume_name:container_path[:ro]``.

    A source with a ``/`` or starting with ``.`` or ``~`` is a host path; it is
    made absolute and must exist.  Anything else is a named volume.
    """
    if isinstance(spec, Mount):
        try:
            kind = MountType(spec.type)
        except ValueError:
            raise InvalidSpec(f"invalid mount type {spec.type!r}: use bind or volume") from None
        if not isinstance(spec.source, str) or not spec.source:
            raise InvalidSpec(f"invalid mount source {spec.source!r}")
        if not isinstance(spec.read_only, bool):
            raise InvalidSpec("Mount.read_only must be True or False")
        mount = Mount(source=spec.source, target=spec.target, type=kind, read_only=spec.read_only)
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
    check_path(mount.target, "volume target")
    # A CLI reads "src:dst:opts": a ':' or ',' would smuggle mount options in.
    if ":" in mount.target or "," in mount.target or ":" in mount.source or "," in mount.source:
        raise InvalidSpec(
            f"mount {mount.source!r} -> {mount.target!r}: ':' and ',' are not allowed"
        )
    if mount.type is MountType.BIND:
        source = os.path.abspath(os.path.expanduser(mount.source))
        if not os.path.exists(source):
            raise InvalidSpec(f"bind mount source {source!r} does not exist")
        return Mount(source=source, target=mount.target, type=mount.type, read_only=mount.read_only)
    check_name(mount.source)
    return mount


def parse_volumes(specs: Iterable[str | Mount] | str | None) -> list[Mount]:
    if specs is None:
        return []
    if isinstance(specs, (str, Mount)):
        specs = [specs]
    if not isinstance(specs, (list, tuple)):
        raise InvalidSpec(f"volumes must be a list of volume specs, got {type(specs).__name__}")
    return [parse_volume(s) for s in specs]


# -- networks ----------------------------------------------------------------------

# Host names and aliases: DNS labels (RFC 1123, plus "_" as Docker allows),
# dot-separated; sethostname(2) takes at most 64 bytes.
_DNS_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?"
_HOSTNAME_RE = re.compile(rf"{_DNS_LABEL}(?:\.{_DNS_LABEL})*")
_MAX_HOSTNAME = 63
#: Modes every runtime accepts for ``network=`` that are not networks.
NETWORK_MODES = frozenset({"host", "none"})


def check_hostname(hostname: str | None, what: str = "hostname") -> str | None:
    """A host name or alias (``db``, ``db.internal``), or ``None``."""
    if hostname is None:
        return None
    if (
        not isinstance(hostname, str)
        or len(hostname) > _MAX_HOSTNAME
        or not _HOSTNAME_RE.fullmatch(hostname)
    ):
        raise InvalidSpec(
            f"invalid {what} {hostname!r}: use at most {_MAX_HOSTNAME} letters, digits, '-' "
            "and '_' in dot-separated labels, each starting and ending with a letter or digit"
        )
    return hostname


def check_aliases(
    aliases: Sequence[str] | str | None, network: str | None, builtin: frozenset[str]
) -> tuple[str, ...]:
    """Network aliases, which only a user network can resolve.

    A plain string is one alias.  Refused without ``network`` or on one of
    the adapter's ``builtin`` networks: Docker refuses them there, Podman
    accepts and ignores them.
    """
    if aliases is None:
        return ()
    if isinstance(aliases, str):
        aliases = [aliases]
    if not isinstance(aliases, (list, tuple)):
        raise InvalidSpec(f"aliases must be a list of names, got {type(aliases).__name__}")
    checked: dict[str, None] = {}
    for alias in aliases:
        if alias is None:
            raise InvalidSpec("invalid alias None")
        checked[check_hostname(alias, "alias") or ""] = None
    if checked and network is None:
        raise InvalidSpec("aliases need a user network: pass network= (see create_network)")
    if checked and network in builtin:
        raise InvalidSpec(
            f"aliases need a user network, and {network} is the runtime's own: "
            "create one with create_network"
        )
    return tuple(checked)


def check_subnet(subnet: str | None) -> str | None:
    """An IPv4 subnet in CIDR form (``10.89.3.0/24``), or ``None``."""
    if subnet is None:
        return None
    if not isinstance(subnet, str) or not subnet.isascii():
        raise InvalidSpec(f"invalid subnet {subnet!r}: expected IPv4 CIDR text like 10.89.3.0/24")
    try:
        network = ipaddress.ip_network(subnet, strict=False)
    except ValueError:
        raise InvalidSpec(
            f"invalid subnet {subnet!r}: expected IPv4 CIDR text like 10.89.3.0/24"
        ) from None
    if "/" not in subnet or not isinstance(network, ipaddress.IPv4Network):
        raise InvalidSpec(f"invalid subnet {subnet!r}: only IPv4 subnets like 10.89.3.0/24")
    if str(network) != subnet:
        raise InvalidSpec(f"invalid subnet {subnet!r}: host bits are set; did you mean {network}?")
    # A bridge needs its own address, a gateway and one container at least.
    if not 8 <= network.prefixlen <= 30:
        raise InvalidSpec(f"invalid subnet {subnet!r}: the prefix length must be 8 to 30")
    return subnet


def check_network_name(name: str, builtin: frozenset[str]) -> str:
    """A network name that is not one of the runtime's own (``bridge``, ``host``...)."""
    checked = check_name(name)
    if checked in builtin:
        raise InvalidSpec(
            f"{checked} is the runtime's own network or network mode, not one to create or remove"
        )
    return checked


def network_spec(
    name: str,
    *,
    labels: Mapping[str, str] | None,
    internal: bool,
    subnet: str | None,
    builtin: frozenset[str],
) -> NetworkSpec:
    return NetworkSpec(
        name=check_network_name(name, builtin),
        labels=check_labels(labels),
        internal=check_flag(internal, "internal"),
        subnet=check_subnet(subnet),
    )


def check_tail(tail: int | None) -> int | None:
    """``tail`` for logs: ``None`` (everything) or a count."""
    if tail is not None and (isinstance(tail, bool) or not isinstance(tail, int) or tail < 0):
        raise InvalidSpec(f"tail must be a non-negative integer, got {type(tail).__name__}")
    if tail is not None and tail > _MAX_TAIL:
        raise InvalidSpec(f"tail must be at most {_MAX_TAIL}; use None for all")
    return tail


def parse_assignment(text: str, what: str) -> tuple[str, str]:
    """``KEY=VALUE`` as given on a command line."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise InvalidSpec(f"invalid {what} {text!r}: expected KEY=VALUE")
    return key, value


def check_ref(container: ContainerRef) -> str:
    """A container reference: a :class:`~runtimes.Container`, a name or an id.

    Refused before any transport sees it: text a CLI would read as a flag
    (``--privileged``) or an API as another URL path (``../images/x``).
    """
    if isinstance(container, Container):
        # A Container can be built by hand: its id reaches a URL path too.
        container = container.id
    if (
        not isinstance(container, str)
        or not _NAME_RE.fullmatch(container)
        or len(container) > _MAX_NAME
    ):
        raise InvalidSpec(f"expected a Container, a name or an id, got {container!r}")
    return container


def check_seconds(value: float | None, what: str, *, optional: bool = False) -> float | None:
    """A finite, non-negative number of seconds (``None`` only if ``optional``)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidSpec(f"{what} must be a number of seconds, got {type(value).__name__}")
    # Compare before anything converts: a huge int overflows float() and str().
    if not (0 <= value <= _MAX_SECONDS):  # NaN fails this too
        raise InvalidSpec(f"{what} must be a finite number between 0 and {_MAX_SECONDS} seconds")
    return float(value)


def check_signal(signal: str | int) -> str:
    """A signal as a name (``SIGTERM``, ``TERM``) or a number, as text."""
    if isinstance(signal, int) and not isinstance(signal, bool):
        if not 1 <= signal <= 64:
            raise InvalidSpec("invalid signal number: must be 1-64")
        return str(signal)
    if not isinstance(signal, str) or not _SIGNAL_RE.fullmatch(signal):
        raise InvalidSpec(f"invalid signal {signal!r}: use a name like SIGTERM or a number")
    if signal.isdigit():
        return check_signal(int(signal))
    name = signal if signal.startswith("SIG") else f"SIG{signal}"
    if name not in _SIGNALS:
        raise InvalidSpec(f"unknown signal {signal!r}")
    return name


def check_path(path: str | None, what: str) -> str | None:
    """An absolute path inside a container, or ``None``."""
    if path is None:
        return None
    if not isinstance(path, str) or not path.startswith("/") or not path.isprintable():
        raise InvalidSpec(f"{what} {path!r} must be an absolute path without control characters")
    return path


def check_container_path(path: object, what: str) -> str:
    """An absolute path inside a container, below ``/``, without ``..``.

    ``..`` is refused rather than resolved: every runtime resolves paths
    inside the container's root, but a caller writing ``/app/../../etc``
    meant something else than ``/etc``.  ``//`` and ``/./`` are collapsed
    and a trailing ``/`` dropped.
    """
    if not isinstance(path, str) or not path.startswith("/") or not path.isprintable():
        raise InvalidSpec(
            f"{what} {path!r} must be an absolute path inside the container, "
            "without control characters"
        )
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InvalidSpec(f"{what} {path!r} may not contain '..': give the path from /")
    if not parts:
        raise InvalidSpec(f"{what} {path!r} must name a file or directory below /")
    return "/" + "/".join(parts)


def check_copy_source(source: object) -> str | bytes:
    """What ``copy_to`` copies: bytes, or an existing local file or directory
    (made absolute)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    try:
        path = os.fspath(source)  # type: ignore[call-overload]
    except TypeError:
        raise InvalidSpec(
            f"copy source must be bytes or a local path, got {type(source).__name__}"
        ) from None
    if not isinstance(path, str) or not path or "\x00" in path:
        raise InvalidSpec(f"copy source must be bytes or a text path, got {source!r}")
    absolute = os.path.abspath(os.path.expanduser(path))
    if not os.path.exists(absolute):
        raise InvalidSpec(f"copy source {absolute!r} does not exist")
    if not (os.path.isfile(absolute) or os.path.isdir(absolute)):
        raise InvalidSpec(f"copy source {absolute!r} is neither a file nor a directory")
    return absolute


def check_copy_destination(dest: object) -> str | None:
    """Where ``copy_from`` writes: ``None`` (return the bytes) or a local
    path whose directory exists (made absolute)."""
    if dest is None:
        return None
    try:
        path = os.fspath(dest)  # type: ignore[call-overload]
    except TypeError:
        raise InvalidSpec(f"copy destination must be a local path, got {dest!r}") from None
    if not isinstance(path, str) or not path or "\x00" in path:
        raise InvalidSpec(f"copy destination must be a text path, got {dest!r}")
    absolute = os.path.abspath(os.path.expanduser(path))
    if not os.path.isdir(os.path.dirname(absolute)):
        raise InvalidSpec(f"the directory of copy destination {absolute!r} does not exist")
    return absolute


def check_user(user: str | None) -> str | None:
    """``user[:group]`` (names or ids), or ``None``; ``""`` means ``None``."""
    if user is None or user == "":
        return None
    if not isinstance(user, str) or not re.fullmatch(r"[a-zA-Z0-9_.-]+(?::[a-zA-Z0-9_.-]+)?", user):
        raise InvalidSpec(f"invalid user {user!r}: use name, uid, name:group or uid:gid")
    return user


def check_since(since: Since | None) -> int | None:
    try:
        return _check_since(since)
    except (OverflowError, ValueError) as exc:
        if isinstance(exc, InvalidSpec):
            raise
        raise InvalidSpec("invalid since value: out of range") from None


def _check_since(since: Since | None) -> int | None:
    """A ``since`` bound as epoch seconds.

    Accepts a datetime (naive means UTC), a timedelta or a duration text
    (``"10m"``, ``"1h30m"``: that long ago), epoch seconds as a number or
    text, or RFC 3339 text.
    """
    if since is None:
        return None
    if isinstance(since, bool):
        raise InvalidSpec(f"invalid since value {since!r}")
    if isinstance(since, timedelta):
        try:
            return check_since(max(0, int((datetime.now(UTC) - since).timestamp())))
        except OverflowError:
            raise InvalidSpec(f"invalid since value {since!r}: out of range") from None
    if isinstance(since, datetime):
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return check_since(max(0, int(since.timestamp())))
    if isinstance(since, (int, float)):
        if not math.isfinite(since) or not 0 <= since <= _MAX_EPOCH:
            raise InvalidSpec(f"invalid since value {since!r}: epoch seconds out of range")
        return int(since)
    if isinstance(since, str):
        text = since.strip()
        if text.isascii() and text.isdigit():
            return check_since(int(text))
        duration = _DURATION_RE.fullmatch(text)
        if duration and text:
            hours, minutes, seconds = (float(g) if g else 0.0 for g in duration.groups())
            return check_since(timedelta(hours=hours, minutes=minutes, seconds=seconds))
        parsed = _normalize.timestamp(text)
        if parsed is not None:
            return check_since(max(0, int(parsed.timestamp())))
    raise InvalidSpec(
        f"invalid since value {since!r}: use a datetime, a timedelta, a duration like 10m, "
        "epoch seconds or RFC 3339"
    )


def check_flag(value: object, what: str) -> bool:
    """A real ``bool``: ``"false"`` or ``0`` would mean the opposite of what was meant."""
    if not isinstance(value, bool):
        raise InvalidSpec(f"{what} must be True or False, got {value!r}")
    return value


# -- one builder per verb with more than a reference to check ----------------------


def run_spec(
    image: str,
    command: str | Sequence[str] | None,
    *,
    name: str | None,
    env: Mapping[str, str] | None,
    ports: Sequence[str | int | PortMapping] | str | int | None,
    volumes: Sequence[str | Mount] | str | None,
    labels: Mapping[str, str] | None,
    workdir: str | None,
    user: str | None,
    entrypoint: str | Sequence[str] | None,
    network: str | None,
    remove: bool,
    aliases: Sequence[str] | str | None = None,
    hostname: str | None = None,
    builtin_networks: frozenset[str] = frozenset(),
) -> RunSpec:
    checked_env = check_env(env)
    cmd = check_command(command)
    entry = check_command(entrypoint, "entrypoint")
    checked_network = check_name(network) if network is not None else None
    return RunSpec(
        check_image_ref(image),
        command=tuple(cmd) if cmd is not None else None,
        name=check_name(name) if name is not None else None,
        env=checked_env,
        ports=tuple(parse_ports(ports)),
        volumes=tuple(parse_volumes(volumes)),
        labels=check_labels(labels),
        workdir=check_path(workdir, "workdir"),
        user=check_user(user),
        entrypoint=tuple(entry) if entry is not None else None,
        network=checked_network,
        aliases=check_aliases(aliases, checked_network, builtin_networks),
        hostname=check_hostname(hostname),
        remove=check_flag(remove, "remove"),
    )


def build_spec(
    context_dir: str | os.PathLike[str],
    *,
    tag: str | None,
    dockerfile: str | None,
    build_args: Mapping[str, str] | None,
    target: str | None,
    labels: Mapping[str, str] | None,
    no_cache: bool,
    on_output: Callable[[str], None] | None,
) -> BuildSpec:
    try:
        path = os.fspath(context_dir)
    except TypeError:
        raise InvalidSpec(f"build context must be a path, got {context_dir!r}") from None
    if not isinstance(path, str) or "\x00" in path:
        raise InvalidSpec(f"build context must be a text path, got {context_dir!r}")
    context = os.path.abspath(path)
    if not os.path.isdir(context):
        raise InvalidSpec(f"build context {context!r} is not a directory")
    if dockerfile is not None:
        if not isinstance(dockerfile, str) or not dockerfile or os.path.isabs(dockerfile):
            raise InvalidSpec(f"dockerfile {dockerfile!r} must be a path relative to the context")
        if not os.path.isfile(os.path.join(context, dockerfile)):
            raise InvalidSpec(f"dockerfile {dockerfile!r} not found in {context}")
    if target is not None and (not isinstance(target, str) or not _NAME_RE.fullmatch(target)):
        raise InvalidSpec(f"invalid build target {target!r}")
    if on_output is not None and not callable(on_output):
        raise InvalidSpec("on_output must be callable")
    args = check_env(build_args)
    return BuildSpec(
        context=context,
        tag=check_image_ref(tag) if tag is not None else None,
        dockerfile=dockerfile,
        build_args=args,
        target=target,
        labels=check_labels(labels),
        no_cache=check_flag(no_cache, "no_cache"),
        on_output=on_output,
    )


def ps_spec(all: bool, labels: Mapping[str, str] | None, name: str | None) -> PsSpec:  # noqa: A002
    return PsSpec(
        all=check_flag(all, "all"),
        labels=check_labels(labels),
        name=check_name(name) if name is not None else None,
    )


def logs_spec(
    container: ContainerRef,
    *,
    follow: bool,
    tail: int | None,
    since: Since | None,
    timestamps: bool,
    stdout: bool,
    stderr: bool,
) -> LogsSpec:
    return LogsSpec(
        container=check_ref(container),
        follow=check_flag(follow, "follow"),
        tail=check_tail(tail),
        since=check_since(since),
        timestamps=check_flag(timestamps, "timestamps"),
        stdout=check_flag(stdout, "stdout"),
        stderr=check_flag(stderr, "stderr"),
    )


def exec_spec(
    container: ContainerRef,
    command: str | Sequence[str],
    *,
    env: Mapping[str, str] | None,
    workdir: str | None,
    user: str | None,
    stdin: object = None,
    stream: bool = False,
    detach: bool = False,
    tty: bool = False,
) -> ExecSpec:
    ref = check_ref(container)
    argv = check_command(command) or []
    if not argv:
        raise InvalidSpec("exec needs a command")
    checked_env = check_env(env)
    checked_stdin = check_stdin(stdin)
    check_flag(stream, "stream")
    check_flag(detach, "detach")
    check_flag(tty, "tty")
    if detach and (stream or checked_stdin is not None or tty):
        raise InvalidSpec("exec(detach=True) returns at once: it takes no stream, stdin or tty")
    if tty and checked_stdin is not None:
        # A terminal never passes on the end of the input: the command
        # would wait for more forever.
        raise InvalidSpec("exec takes stdin or tty, not both")
    return ExecSpec(
        container=ref,
        command=tuple(argv),
        env=checked_env,
        workdir=check_path(workdir, "workdir"),
        user=check_user(user),
        stdin=checked_stdin,
        tty=tty,
    )


def check_stdin(stdin: object) -> bytes | IO[bytes] | None:
    """``exec``'s input: ``None``, bytes, or a file opened in binary mode."""
    if stdin is None:
        return None
    if isinstance(stdin, (bytes, bytearray, memoryview)):
        return bytes(stdin)
    if isinstance(stdin, (io.TextIOBase, str)):
        raise InvalidSpec("stdin must be bytes or a file opened in binary mode, not text")
    if not callable(getattr(stdin, "read", None)):
        raise InvalidSpec(f"stdin must be bytes or a binary file, got {type(stdin).__name__}")
    return stdin  # type: ignore[return-value]


_FROM_RE = re.compile(r"^\s*FROM\s+(?P<rest>.+)$", re.I)


def dockerfile_bases(text: str) -> list[str]:
    """The base images a Dockerfile names, to check they are local before a build.

    Leaves out ``scratch``, earlier stages (``FROM build``) and references
    built from ``ARG`` values (``$``), which only the builder can resolve.
    """
    joined = re.sub(r"\\\r?\n", " ", text)
    stages: set[str] = set()
    bases: list[str] = []
    for line in joined.splitlines():
        match = _FROM_RE.match(line)
        if not match:
            continue
        words = [w for w in match["rest"].split() if not w.startswith("--")]
        if not words:
            continue
        ref = words[0]
        if len(words) >= 3 and words[1].lower() == "as":
            stages.add(words[2].lower())
        if ref.lower() == "scratch" or ref.lower() in stages or "$" in ref or ref in bases:
            continue
        bases.append(ref)
    return bases


def pull_spec(
    ref: str,
    *,
    platform: str | None,
    auth: RegistryAuth | None,
    on_progress: Callable[[Progress], None] | None,
    insecure_registries: Iterable[str],
    registry_certs: str | None,
    push: bool = False,
) -> PullSpec:
    registry, qualified = qualify(ref)
    if platform is not None and (
        not isinstance(platform, str) or not _PLATFORM_RE.fullmatch(platform)
    ):
        raise InvalidSpec(f"invalid platform {platform!r}: expected os/arch[/variant]")
    if on_progress is not None and not callable(on_progress):
        raise InvalidSpec("on_progress must be callable")
    cls = PushSpec if push else PullSpec
    return cls(
        ref=qualified,
        registry=registry,
        platform=platform,
        auth=check_auth(auth),
        insecure=registry in insecure_registries,
        certs_dir=registry_certs_dir(registry_certs, registry),
        on_progress=on_progress,
    )


def registry_certs_dir(root: str | None, registry: str) -> str | None:
    """``root/registry`` when that directory exists (Docker's certs.d layout)."""
    if root is None:
        return None
    path = os.path.join(root, registry)
    return path if os.path.isdir(path) else None


HEALTHCHECK_LABEL = "runtimes.healthcheck"


def check_healthcheck(value: object) -> Healthcheck | None:
    """A :class:`~runtimes.Healthcheck` with a non-empty test and sane numbers."""
    if value is None:
        return None
    if not isinstance(value, Healthcheck):
        raise InvalidSpec(f"healthcheck must be a Healthcheck, got {type(value).__name__}")
    argv = check_command(value.test, "healthcheck test")
    if not argv:
        raise InvalidSpec("healthcheck test must not be empty")
    interval = check_seconds(value.interval, "healthcheck interval")
    timeout = check_seconds(value.timeout, "healthcheck timeout")
    start_period = check_seconds(value.start_period, "healthcheck start_period")
    assert interval is not None
    assert timeout is not None
    assert start_period is not None
    # Docker refuses intervals under 1 ms; a zero timeout would fail every check.
    if interval < 0.001 or timeout < 0.001:
        raise InvalidSpec("healthcheck interval and timeout must be at least 1 ms")
    retries = value.retries
    if isinstance(retries, bool) or not isinstance(retries, int) or not 1 <= retries <= 1000:
        raise InvalidSpec("healthcheck retries must be an integer between 1 and 1000")
    return Healthcheck(
        test=tuple(argv),
        interval=interval,
        timeout=timeout,
        retries=retries,
        start_period=start_period,
    )


def healthcheck_label(check: Healthcheck) -> str:
    """The label value that keeps a container's healthcheck findable later."""
    return json.dumps(attrs.asdict(check), separators=(",", ":"))


def healthcheck_from_labels(labels: Mapping[str, str]) -> Healthcheck | None:
    """The healthcheck that :meth:`~runtimes.Runtime.run` stored, if any."""
    raw = labels.get(HEALTHCHECK_LABEL)
    if not raw:
        return None
    try:
        data = json.loads(raw)
        return check_healthcheck(Healthcheck(**{**data, "test": tuple(data["test"])}))
    except (ValueError, TypeError, KeyError, InvalidSpec):
        return None  # not ours, or damaged: treat as no healthcheck


def wait_conditions(
    *,
    log: str | re.Pattern[str] | None,
    port: int | None,
    http: str | None,
    exec: str | Sequence[str] | None,  # noqa: A002 - the verb's name
    healthy: bool,
    timeout: float,
) -> tuple[re.Pattern[str] | None, int | None, str | None, list[str] | None, bool, float]:
    """Validate :meth:`~runtimes.Runtime.wait_for`'s conditions."""
    pattern: re.Pattern[str] | None = None
    if isinstance(log, re.Pattern):
        pattern = log
    elif log is not None:
        if not isinstance(log, str) or not log:
            raise InvalidSpec("wait_for log= must be a non-empty regular expression")
        try:
            pattern = re.compile(log)
        except re.error as exc:
            raise InvalidSpec(f"wait_for log= is not a valid regular expression: {exc}") from exc
    if port is not None and (
        isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535
    ):
        raise InvalidSpec(f"wait_for port= must be a port number 1-65535, got {port!r}")
    if http is not None:
        if not isinstance(http, str) or not http.startswith("/") or any(c.isspace() for c in http):
            raise InvalidSpec(f"wait_for http= must be a path starting with '/', got {http!r}")
        if port is None:
            raise InvalidSpec("wait_for http= needs port= (the container port to GET)")
    argv = check_command(exec, "wait_for exec") if exec is not None else None
    if exec is not None and not argv:
        raise InvalidSpec("wait_for exec= must not be empty")
    flag = check_flag(healthy, "healthy")
    seconds = check_seconds(timeout, "timeout")
    assert seconds is not None
    if pattern is None and port is None and argv is None and not flag:
        raise InvalidSpec("wait_for needs a condition: log=, port=, http=, exec= or healthy=True")
    return pattern, port, http, argv, flag, seconds
