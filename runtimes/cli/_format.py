"""Output of the ``runtimes`` command: JSON and the Docker-like tables.

Pure formatting: nothing here talks to a runtime.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TextIO

import attrs

from runtimes.models import Container, ContainerState, Image, Network, Process, Progress, Stats

__all__ = [
    "Output",
    "ProgressDisplay",
    "containers_table",
    "emit",
    "human_duration",
    "human_size",
    "images_table",
    "networks_table",
    "print_json",
    "processes_table",
    "short",
    "stats_table",
    "status_text",
    "to_json",
]


def _serialize(_inst: object, _field: object, value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, (frozenset, set)):
        return sorted(_serialize(None, None, v) for v in value)
    return value


def to_json(value: Any, *, raw: bool = False) -> Any:
    """Plain JSON data for a model, a list of models, or plain data.

    ``raw`` (the backend's own record) is left out unless asked for.
    """
    if attrs.has(type(value)):
        return attrs.asdict(
            value,
            filter=lambda field, _: raw or field.name != "raw",
            value_serializer=_serialize,
        )
    if isinstance(value, (list, tuple)):
        return [to_json(v, raw=raw) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v, raw=raw) for k, v in value.items()}
    return _serialize(None, None, value)


def print_json(value: Any, *, raw: bool = False) -> None:
    json.dump(to_json(value, raw=raw), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


def human_duration(seconds: float) -> str:
    """Docker's wording: ``Less than a second``, ``3 minutes``, ``2 hours``..."""
    seconds = max(0.0, seconds)
    if seconds < 1:
        return "Less than a second"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= size:
            count = int(seconds // size)
            if unit == "second" or count > 1 or seconds >= 2 * size:
                return f"{count} {unit}{'s' if count != 1 else ''}"
            return f"About a{'n' if unit == 'hour' else ''} {unit}"
    return "Less than a second"  # pragma: no cover


def human_size(size: int | None) -> str:
    """Decimal units like Docker: ``1.99MB``."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.3g}{unit}"
        value /= 1000
    return f"{size}B"  # pragma: no cover


def _ago(moment: datetime | None, now: datetime) -> str:
    return f"{human_duration((now - moment).total_seconds())} ago" if moment else ""


def status_text(c: Container) -> str:
    """``Up``, ``Exited (3)``...: from fields every runtime's listing has, so
    the table is the same on each (the CREATED column carries the time)."""
    if c.state is ContainerState.RUNNING:
        return "Up"
    if c.state is ContainerState.EXITED:
        return f"Exited ({c.exit_code})"
    return c.state.value.capitalize()


class Output:
    """Tables on stdout, with colour only on a terminal and never with NO_COLOR."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.colour = stream.isatty() and "NO_COLOR" not in os.environ

    def paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour and text else text

    def table(self, headers: Sequence[str], rows: Iterable[Sequence[str]], paint: int = -1) -> None:
        rows = [list(r) for r in rows]
        widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

        def line(cells: Sequence[str], colour: str = "") -> str:
            padded = [c.ljust(w) for c, w in zip(cells, widths, strict=True)]
            if colour and paint >= 0:
                padded[paint] = self.paint(padded[paint], colour)
            return "   ".join(padded).rstrip()

        print(line(headers), file=self.stream)
        for row in rows:
            colour = ""
            if paint >= 0:
                colour = "32" if row[paint].startswith("Up") else ""
                colour = (
                    "31"
                    if row[paint].startswith("Exited (") and not row[paint].startswith("Exited (0)")
                    else colour
                )
            print(line(row, colour), file=self.stream)


def containers_table(out: Output, containers: Sequence[Container]) -> None:
    now = datetime.now(UTC)
    rows = [
        [
            c.short_id,
            c.image,
            short(" ".join(c.command), 30),
            _ago(c.created_at, now),
            status_text(c),
            ", ".join(
                f"{p.host_ip}:{p.host_port}->{p.container_port}/{p.protocol}" for p in c.ports
            ),
            c.name,
        ]
        for c in containers
    ]
    out.table(
        ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"], rows, paint=4
    )


def images_table(out: Output, images: Sequence[Image]) -> None:
    now = datetime.now(UTC)
    rows = []
    for image in images:
        for tag in image.tags or ("<none>:<none>",):
            repo, _, version = tag.rpartition(":")
            rows.append(
                [
                    repo or tag,
                    version,
                    image.id.removeprefix("sha256:")[:12],
                    _ago(image.created_at, now),
                    human_size(image.size),
                ]
            )
    out.table(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"], rows)


def networks_table(out: Output, networks: Sequence[Network]) -> None:
    rows = [
        [
            n.id[:12],
            n.name,
            ", ".join(n.subnets),
            "yes" if n.internal else "",
            short(",".join(f"{k}={v}" for k, v in n.labels.items()), 50),
        ]
        for n in networks
    ]
    out.table(["NETWORK ID", "NAME", "SUBNET", "INTERNAL", "LABELS"], rows)


def stats_table(out: Output, samples: Sequence[tuple[str, Stats]]) -> None:
    """``docker stats --no-stream``'s columns; a figure the runtime does not give is ``--``."""

    def size(value: int | None) -> str:
        return "--" if value is None else human_size(value)

    rows = []
    for ref, s in samples:
        memory = "--"
        if s.memory_usage is not None and s.memory_limit:
            memory = f"{100 * s.memory_usage / s.memory_limit:.2f}%"
        rows.append(
            [
                short(ref, 20),
                "--" if s.cpu_percent is None else f"{s.cpu_percent:.2f}%",
                f"{size(s.memory_usage)} / {size(s.memory_limit)}",
                memory,
                f"{size(s.network_rx)} / {size(s.network_tx)}",
                f"{size(s.block_read)} / {size(s.block_write)}",
                "--" if s.pids is None else str(s.pids),
            ]
        )
    out.table(
        ["CONTAINER", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"], rows
    )


def processes_table(out: Output, processes: Sequence[Process]) -> None:
    out.table(["PID", "USER", "COMMAND"], [[str(p.pid), p.user, p.command] for p in processes])


def short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def emit(value: Any, fmt: str, table: Any = None, *, raw: bool = False) -> None:
    """Print ``value`` as JSON, or through ``table(Output, value)``."""
    if fmt == "json" or table is None:
        print_json(value, raw=raw)
    else:
        table(Output(sys.stdout), value)


class ProgressDisplay:
    """Pull/push progress on stderr: on a terminal one line per layer,
    redrawn in place as ``docker pull`` does; otherwise one plain line per
    event, for logs."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.live = stream.isatty() and os.environ.get("TERM") != "dumb"
        self._rows: dict[str, str] = {}
        self._drawn = 0

    @staticmethod
    def line(event: Progress) -> str:
        if event.layer is None:
            return event.message
        text = f"{event.layer}: {event.status}"
        if event.current is not None and event.total:
            text += f" {human_size(event.current)}/{human_size(event.total)}"
        return text

    def __call__(self, event: Progress) -> None:
        text = self.line(event)
        if not self.live:
            print(text, file=self.stream, flush=True)
            return
        self._rows[event.layer or f"\x00{len(self._rows)}"] = text
        # Move up over what was drawn, then redraw every row.
        up = f"\x1b[{self._drawn}F" if self._drawn else ""
        body = "".join(f"\x1b[2K{row}\n" for row in self._rows.values())
        self.stream.write(up + body)
        self.stream.flush()
        self._drawn = len(self._rows)
