"""Turn each runtime's field formats into the model's.

Pure functions over plain values, shared by every adapter and pinned by unit
tests on recorded output.  Nothing here knows which runtime it serves: the
adapter picks the function that fits the shape it received.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
import signal as _signal
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from runtimes.errors import CommandFailed
from runtimes.models import (
    Container,
    ContainerState,
    Image,
    Network,
    NetworkAttachment,
    PortBinding,
    Process,
    Volume,
)

_STATES: dict[str, ContainerState] = {
    "created": ContainerState.CREATED,
    "configured": ContainerState.CREATED,  # libpod internal state
    "initialized": ContainerState.CREATED,  # podman, after `podman init`
    "": ContainerState.CREATED,  # nerdctl: a container that has no task yet
    "running": ContainerState.RUNNING,
    "up": ContainerState.RUNNING,
    "stopping": ContainerState.RUNNING,  # podman: the process has not exited yet
    "paused": ContainerState.PAUSED,
    "pausing": ContainerState.PAUSED,  # nerdctl
    "restarting": ContainerState.RESTARTING,
    "removing": ContainerState.REMOVING,
    "exited": ContainerState.EXITED,
    "stopped": ContainerState.EXITED,  # podman (transient) and containerd
    "dead": ContainerState.DEAD,
    "unknown": ContainerState.UNKNOWN,
}

_EXIT_RE = re.compile(r"^Exited \((-?\d+)\)")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
# Go's zero time, which runtimes print for "never".
_ZERO_YEAR = 1


def carries(labels: Mapping[str, str], wanted: Mapping[str, str]) -> bool:
    """Whether ``labels`` holds every one of ``wanted``."""
    return all(labels.get(k) == v for k, v in wanted.items())


def state(value: str | None) -> ContainerState:
    """Map any runtime's state word onto :class:`ContainerState`."""
    return _STATES.get((value or "").strip().lower(), ContainerState.UNKNOWN)


def exit_code_from_status(status: str | None) -> int | None:
    """``"Exited (137) 3 seconds ago"`` -> 137; ``None`` when not exited."""
    match = _EXIT_RE.match((status or "").strip())
    return int(match.group(1)) if match else None


def timestamp(value: Any) -> datetime | None:
    """A UTC datetime from RFC 3339 (any precision), Go's ``time.String()``,
    Docker's ``2026-11-28 20:07:06 +0000 UTC`` or epoch seconds.

    Go's zero time and non-positive epochs mean "never" and give ``None``.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        fast = utc_rfc3339(value)
        if fast is not None:
            return fast
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value <= 0:
            return None
        return datetime.fromtimestamp(value, tz=UTC)
    if not isinstance(value, str):
        return None
    text = value.strip()
    # Go's time.String(): "2026-11-28 20:08:06.548412161 +0000 UTC [m=+0.1]"
    text = re.sub(r" m=[+-][0-9.]+$", "", text)
    text = re.sub(r" [A-Z]{2,5}$", "", text)
    text = text.replace(" ", "T", 1) if re.match(r"^\d{4}-\d\d-\d\d \d", text) else text
    text = re.sub(r"T(\S+) ([+-]\d\d)(\d\d)$", r"T\1\2:\3", text)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    # Python takes at most 6 fractional digits; Go prints up to 9.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    return None if parsed.year <= _ZERO_YEAR else parsed


def utc_rfc3339(text: str) -> datetime | None:
    """The form every log line's timestamp takes (``...T20:08:56.127213296Z``),
    parsed without the general path's regular expressions: a log of millions
    of lines parses one per line.  ``None`` for any other form."""
    if len(text) < 20 or text[10] != "T" or text[-1] != "Z":
        return None
    if len(text) == 20:
        fraction = ""
    elif text[19] == "." and text[20:-1].isdigit():
        fraction = text[20:-1]
    else:
        return None
    second = _utc_second(text[:19])
    if second is None:
        return None
    return second.replace(microsecond=int((fraction + "00000")[:6])) if fraction else second


@functools.lru_cache(maxsize=256)
def _utc_second(text: str) -> datetime | None:
    """``2026-11-28T20:08:56`` as UTC: lines come many to a second."""
    try:
        parsed = datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        return None
    return None if parsed.year <= _ZERO_YEAR else parsed


def labels(value: Any) -> dict[str, str]:
    """Labels from a dict, ``None`` or a ``"k=v,k2=v2"`` string (nerdctl)."""
    if not value:
        return {}
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, str):
        out: dict[str, str] = {}
        for item in value.split(","):
            if not item:
                continue
            key, sep, val = item.partition("=")
            if not sep or not key:
                # a value with a comma: glue it back to the previous value
                last = next(reversed(out)) if out else None
                if last is not None:
                    out[last] += "," + item
                continue
            out[key] = val
        return out
    return {}


def container_name(value: Any) -> str:
    """Names as a string without the leading ``/`` (Docker), or a list (Podman)."""
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    return str(value or "").lstrip("/")


def image_id(value: str | None) -> str:
    """``sha256:<64 hex>`` from a bare or prefixed id."""
    text = (value or "").strip()
    if _HEX64.match(text):
        return "sha256:" + text
    return text


_IMPLICIT_PREFIXES = ("localhost/", "docker.io/library/", "docker.io/")


def image_tag(value: str) -> str:
    """An image name as the user typed it: without the ``localhost/`` Podman
    puts on local images or the ``docker.io/[library/]`` nerdctl adds."""
    for prefix in _IMPLICIT_PREFIXES:
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def command(entrypoint: Any, cmd: Any) -> tuple[str, ...]:
    """Entrypoint plus command, from lists, ``None`` or Podman's ``""``."""
    out: list[str] = []
    for part in (entrypoint, cmd):
        if isinstance(part, str):
            if part:
                out.append(part)
        elif part:
            out.extend(str(p) for p in part)
    return tuple(out)


_SHELL_SPACE = re.compile(r"[ \t\r\n]+")


def command_text(value: str | None) -> tuple[str, ...]:
    """A listing's one-string command (shell-quoted by Docker) as argv."""
    text = value or ""
    if not any(c in text for c in "\"'\\"):
        # Nothing quoted: shlex (which sets no comment characters here) would
        # split on its whitespace alone, at ten times the cost per listing
        # entry.  Its whitespace, not str.split's (which also cuts at \x0b,
        # \x0c or a no-break space).
        return tuple(part for part in _SHELL_SPACE.split(text) if part)
    import shlex

    try:
        return tuple(shlex.split(value or ""))
    except ValueError:  # truncated listings (nerdctl) may cut a quote in half
        return tuple((value or "").split())


def ports_from_inspect(value: Mapping[str, Any] | None) -> tuple[PortBinding, ...]:
    """``NetworkSettings.Ports``: ``{"8080/tcp": [{"HostIp":…,"HostPort":…}]}``."""
    out: list[PortBinding] = []
    for key, bindings in (value or {}).items():
        port, _, proto = key.partition("/")
        for binding in bindings or ():
            host_port = str(binding.get("HostPort") or "")
            if not host_port.isdigit() or int(host_port) == 0:
                continue
            out.append(
                PortBinding(
                    container_port=int(port),
                    protocol=proto or "tcp",
                    host_ip=binding.get("HostIp") or "0.0.0.0",
                    host_port=int(host_port),
                )
            )
    return tuple(sorted(out, key=_port_key))


def ports_from_list(value: Iterable[Mapping[str, Any]] | None) -> tuple[PortBinding, ...]:
    """Engine API list shape ``[{"PrivatePort","PublicPort","IP","Type"}]`` or
    Podman's ``[{"container_port","host_port","host_ip","protocol","range"}]``."""
    out: list[PortBinding] = []
    for item in value or ():
        if "PrivatePort" in item:
            if not item.get("PublicPort"):
                continue
            out.append(
                PortBinding(
                    container_port=int(item["PrivatePort"]),
                    protocol=item.get("Type") or "tcp",
                    host_ip=item.get("IP") or "0.0.0.0",
                    host_port=int(item["PublicPort"]),
                )
            )
        else:
            span = int(item.get("range") or 1)
            for offset in range(span):
                out.append(
                    PortBinding(
                        container_port=int(item["container_port"]) + offset,
                        protocol=item.get("protocol") or "tcp",
                        host_ip=item.get("host_ip") or "0.0.0.0",
                        host_port=int(item["host_port"]) + offset,
                    )
                )
    return tuple(sorted(set(out), key=_port_key))


def _port_key(b: PortBinding) -> tuple[int, str, str, int]:
    return (b.container_port, b.protocol, b.host_ip, b.host_port)


def container_from_inspect(
    raw: Mapping[str, Any],
    *,
    runtime: str,
    image: str,
    command: tuple[str, ...],
    labels: Mapping[str, str],
    networks: tuple[NetworkAttachment, ...] = (),
) -> Container:
    """A Container from the Docker-shaped ``inspect`` record all three
    runtimes print; the caller picks image, command, labels and networks,
    which is where their records differ."""
    status = raw.get("State") or {}
    host_config = raw.get("HostConfig") or {}
    config = raw.get("Config") or {}
    container_state = state(status.get("Status"))
    exited = container_state in (ContainerState.EXITED, ContainerState.DEAD)
    return Container(
        id=raw["Id"],
        name=container_name(raw.get("Name")),
        image=image,
        command=command,
        state=container_state,
        exit_code=status.get("ExitCode") if exited else None,
        created_at=timestamp(raw.get("Created")),
        started_at=timestamp(status.get("StartedAt")),
        finished_at=timestamp(status.get("FinishedAt")) if exited else None,
        ports=ports_from_inspect((raw.get("NetworkSettings") or {}).get("Ports")),
        labels=labels,
        networks=networks,
        health=health_status(status),
        restart_policy=restart_policy(host_config.get("RestartPolicy")),
        restart_count=int(raw.get("RestartCount") or 0),
        stop_signal=signal_name(config.get("StopSignal")),
        stop_timeout=stop_timeout(config.get("StopTimeout")),
        runtime=runtime,
        raw=raw,
    )


#: What Docker's stop does unless the container or its image says otherwise.
DEFAULT_STOP_SIGNAL = "SIGTERM"
DEFAULT_STOP_TIMEOUT = 10


def restart_policy(policy: object) -> str:
    """``HostConfig.RestartPolicy`` (``{"Name", "MaximumRetryCount"}``, Docker
    and Podman) or nerdctl's ``containerd.io/restart.policy`` label text, as
    ``run`` takes it: ``""`` is ``"no"``, a count only for ``on-failure``."""
    if isinstance(policy, Mapping):
        name = str(policy.get("Name") or "no")
        count = policy.get("MaximumRetryCount") or 0
    elif isinstance(policy, str) and policy:
        name, _, count_text = policy.partition(":")
        count = int(count_text) if count_text.isdigit() else 0
    else:
        return "no"
    if name == "on-failure" and count:
        return f"on-failure:{count}"
    return name


def signal_name(value: object) -> str:
    """A stop signal as a name: Docker says ``"SIGUSR1"``, Podman ``10``."""
    if (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, str) and value.isdigit()
    ):
        try:
            return _signal.Signals(int(value)).name
        except ValueError:
            return str(value)
    if isinstance(value, str) and value:
        return value if value.startswith("SIG") else f"SIG{value}"
    return DEFAULT_STOP_SIGNAL


def stop_timeout(value: object) -> int:
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return DEFAULT_STOP_TIMEOUT


def health_status(state: Mapping[str, Any]) -> str | None:
    """``State.Health.Status`` (Podman 4 also ``State.Healthcheck``), when
    the engine runs a healthcheck; ``None`` otherwise."""
    record = state.get("Health") or state.get("Healthcheck") or {}
    value = record.get("Status") if isinstance(record, Mapping) else None
    return value if value in ("starting", "healthy", "unhealthy") else None


def image_record(raw: Mapping[str, Any], tags: Iterable[str]) -> Image:
    """An Image from an Engine-API image record (a listing's or an inspect's,
    which keep labels at the top or under ``Config``); the caller normalises
    the tags, which is where runtimes differ."""
    labels_value = raw.get("Labels")
    if labels_value is None:
        labels_value = (raw.get("Config") or {}).get("Labels")
    return Image(
        id=image_id(raw.get("Id")),
        tags=tuple(tags),
        labels=labels(labels_value),
        created_at=timestamp(raw.get("Created")),
        size=raw.get("Size"),
        raw=raw,
    )


def volume(raw: Mapping[str, Any]) -> Volume:
    """A Volume from the ``{"Name", "Labels"}`` record all three runtimes print."""
    return Volume(name=raw["Name"], labels=labels(raw.get("Labels")), raw=raw)


# -- networks ----------------------------------------------------------------------

_MODES = ("host", "none")


def _ipv4_subnets(values: Iterable[Any]) -> tuple[str, ...]:
    out = []
    for value in values:
        try:
            network = ipaddress.ip_network(str(value), strict=False)
        except ValueError:
            continue
        if isinstance(network, ipaddress.IPv4Network):
            out.append(str(network))
    return tuple(out)


def network_from_engine(raw: Mapping[str, Any]) -> Network:
    """A Network from the Engine API's record (Docker's, and nerdctl's
    ``dockercompat`` one, which has no ``Internal``)."""
    config = (raw.get("IPAM") or {}).get("Config") or ()
    return Network(
        name=raw["Name"],
        id=raw.get("Id") or "",
        subnets=_ipv4_subnets(c.get("Subnet") for c in config if c.get("Subnet")),
        internal=bool(raw.get("Internal")),
        labels=labels(raw.get("Labels")),
        raw=raw,
    )


def network_from_netavark(raw: Mapping[str, Any]) -> Network:
    """A Network from Podman's netavark record (snake_case, ``subnets`` list)."""
    return Network(
        name=raw["name"],
        id=raw.get("id") or "",
        subnets=_ipv4_subnets(s.get("subnet") for s in raw.get("subnets") or () if s.get("subnet")),
        internal=bool(raw.get("internal")),
        labels=labels(raw.get("labels")),
        raw=raw,
    )


def _attachment(
    network: str, ip: Any, aliases: Iterable[str], hidden: set[str]
) -> NetworkAttachment:
    return NetworkAttachment(
        network=network,
        ip_address=str(ip) if ip else None,
        aliases=tuple(sorted({str(a) for a in aliases} - hidden)),
    )


def attachments(
    value: Mapping[str, Any] | None,
    *,
    container_id: str,
    name: str | None = None,
    hostname: str | None = None,
) -> tuple[NetworkAttachment, ...]:
    """``NetworkSettings.Networks`` of Docker and Podman, inspect or listing:
    ``{"net": {"IPAddress": "10.89.0.2", "Aliases": [...]}}``.

    Both runtimes add the short id to the aliases, Docker the hostname too
    (and the adapters add the hostname on Podman and a generated name on
    Docker, for the same resolution everywhere): none is an alias the
    caller gave.  A stopped container's address is ``""``.
    """
    hidden = {container_id[:12], container_name(name), hostname or ""}
    return tuple(
        sorted(
            (
                _attachment(
                    name,
                    (settings or {}).get("IPAddress"),
                    (settings or {}).get("Aliases") or (),
                    hidden,
                )
                for name, settings in (value or {}).items()
                if name not in _MODES
            ),
            key=lambda a: a.network,
        )
    )


def attachments_from_names(names: Iterable[str] | None) -> tuple[NetworkAttachment, ...]:
    """Podman's listing: network names only."""
    return tuple(NetworkAttachment(network=n) for n in sorted(set(names or ())) if n not in _MODES)


def nerdctl_attachments(
    container_labels: Mapping[str, str], settings: Mapping[str, Any] | None
) -> tuple[NetworkAttachment, ...]:
    """nerdctl's networks: the names are in the ``nerdctl/networks`` label
    (JSON, in attachment order) and the addresses in
    ``NetworkSettings.Networks`` under ``unknown-eth<N>`` for the Nth
    network (nerdctl 2.0 does not know the name there; empty once stopped).
    nerdctl has no aliases.
    """
    try:
        names = json.loads(container_labels.get("nerdctl/networks") or "[]")
    except ValueError:
        names = []
    if not isinstance(names, list):
        names = []
    by_interface = {
        key.removeprefix("unknown-"): (value or {}).get("IPAddress")
        for key, value in ((settings or {}).get("Networks") or {}).items()
    }
    return tuple(
        sorted(
            (
                _attachment(str(name), by_interface.get(f"eth{index}"), (), set())
                for index, name in enumerate(names)
                if name not in _MODES
            ),
            key=lambda a: a.network,
        )
    )


#: What ``top`` asks the host's ``ps`` for (Docker, nerdctl): the columns of
#: :class:`~runtimes.Process`, the user name unabridged.
TOP_PS_ARGS = "-ww -o pid,user:64,args"
#: The same through Podman's own ``ps`` descriptors: host pid and host user.
PODMAN_TOP_DESCRIPTORS = "hpid,huser,args"
_PID_TITLES = ("PID", "HPID")
_USER_TITLES = ("USER", "HUSER", "UID")
_COMMAND_TITLES = ("COMMAND", "CMD", "ARGS")


def processes(titles: Any, rows: Any, *, runtime: str) -> list[Process]:
    """``top``'s table (``Titles`` and ``Processes``) as processes.

    Columns are found by title, whichever ``ps`` printed them.
    """
    names = [str(t).upper() for t in titles or ()]

    def column(wanted: tuple[str, ...]) -> int | None:
        return next((names.index(t) for t in wanted if t in names), None)

    pid, user, command = column(_PID_TITLES), column(_USER_TITLES), column(_COMMAND_TITLES)
    if pid is None or command is None:
        raise CommandFailed(
            f"top printed no PID or command column: {names}", runtime=runtime, operation="top"
        )
    found = []
    for row in rows or ():
        cells = [str(cell) for cell in row]
        if len(cells) != len(names) or not cells[pid].isdigit():
            continue
        found.append(
            Process(
                pid=int(cells[pid]),
                user=cells[user] if user is not None else "",
                command=cells[command].strip(),
            )
        )
    return found
