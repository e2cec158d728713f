"""The ``runtimes`` command: the library's normalised view, on every runtime.

Exit codes follow Docker: 125 when the runtime or the library reports an
error, the container's own exit code for foreground ``run``, ``exec`` and
``wait``, 2 for a bad command line.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import textwrap
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any, NoReturn, TextIO

import attrs

from runtimes import _specs, registry
from runtimes.base import Runtime
from runtimes.errors import InvalidSpec, RuntimesError
from runtimes.models import Container, ContainerState, Image

__all__ = ["main"]

ERROR_EXIT = 125


# -- formatting ------------------------------------------------------------------------


def _to_json(value: Any, *, raw: bool = False) -> Any:
    if attrs.has(type(value)):
        out = {}
        for field in attrs.fields(type(value)):
            if field.name == "raw" and not raw:
                continue
            out[field.name] = _to_json(getattr(value, field.name), raw=raw)
        return out
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, (frozenset, set)):
        return sorted(_to_json(v, raw=raw) for v in value)
    if isinstance(value, (list, tuple)):
        return [_to_json(v, raw=raw) for v in value]
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _to_json(v, raw=raw) for k, v in value.items()}
    return value


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


def _containers_table(out: Output, containers: Sequence[Container]) -> None:
    now = datetime.now(UTC)
    rows = [
        [
            c.short_id,
            c.image,
            _short(" ".join(c.command), 30),
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


def _images_table(out: Output, images: Sequence[Image]) -> None:
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


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# -- verbs ---------------------------------------------------------------------------------


def _pairs(values: Sequence[str] | None, what: str) -> dict[str, str]:
    return dict(_specs.parse_assignment(v, what) for v in values or ())


def _print_json(value: Any, *, raw: bool = False) -> None:
    json.dump(_to_json(value, raw=raw), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


def cmd_info(args: argparse.Namespace) -> int:
    config = registry.load_config()
    selection = registry.select(args.runtime, config=config)
    report = []
    for name in registry.known():
        entry: dict[str, Any] = {"name": name, "reachable": False, "version": None, "problem": None}
        problem = registry.detect(name)
        if problem is None:
            try:
                with registry.connect(name) as rt:
                    info = rt.info()
                entry.update(reachable=True, version=info.version, endpoint=info.endpoint)
            except RuntimesError as exc:
                problem = str(exc)
        if problem is not None:
            entry["problem"] = problem
            entry["fix"] = registry.runtime_hint(name)
        report.append(entry)
    if args.format == "json":
        _print_json({"runtimes": report, "selected": selection.name, "rule": selection.rule})
        return 0
    out = Output(sys.stdout)
    rows = [
        [
            e["name"],
            out.paint("yes", "32") if e["reachable"] else out.paint("no", "31"),
            e["version"] or "",
            e.get("endpoint", "") if e["reachable"] else _short(e["problem"] or "", 70),
        ]
        for e in report
    ]
    out.table(["RUNTIME", "REACHABLE", "VERSION", "ENDPOINT / PROBLEM"], rows)
    print(f"\nconnect() picks: {selection.name or 'nothing'} ({selection.rule})")
    missing = [e for e in report if not e["reachable"]]
    if missing:
        print("\nTo get the missing ones:")
        for e in missing:
            print(f"  {e['name']}: {e['fix']}")
    print(
        "\nSelection order: connect(name) > RUNTIMES_DEFAULT > [tool.runtimes] default in "
        "pyproject.toml > user config > first reachable of docker, podman, nerdctl"
    )
    return 0


def cmd_ps(rt: Runtime, args: argparse.Namespace) -> int:
    labels: dict[str, str] = {}
    name = None
    for item in args.filter or ():
        key, value = _specs.parse_assignment(item, "filter")
        if key == "label":
            k, _, v = value.partition("=")
            labels[k] = v
        elif key == "name":
            name = value
        else:
            raise InvalidSpec(f"unknown filter {key!r}: use label=K=V or name=N")
    containers = rt.ps(all=args.all, labels=labels or None, name=name)
    if args.format == "json":
        _print_json(containers)
    else:
        _containers_table(Output(sys.stdout), containers)
    return 0


def cmd_images(rt: Runtime, args: argparse.Namespace) -> int:
    images = rt.images()
    if args.format == "json":
        _print_json(images)
    else:
        _images_table(Output(sys.stdout), images)
    return 0


def cmd_rmi(rt: Runtime, args: argparse.Namespace) -> int:
    for ref in args.images:
        rt.remove_image(ref, force=args.force)
        print(ref)
    return 0


def cmd_build(rt: Runtime, args: argparse.Namespace) -> int:
    def show(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    image = rt.build(
        args.path,
        tag=args.tag,
        dockerfile=args.file,
        build_args=_pairs(args.build_arg, "--build-arg"),
        target=args.target,
        labels=_pairs(args.label, "--label"),
        no_cache=args.no_cache,
        on_output=None if args.quiet else show,
    )
    if args.format == "json" and not args.quiet:
        _print_json(image)
    else:
        print(image.id)
    return 0


def cmd_run(rt: Runtime, args: argparse.Namespace) -> int:
    container = rt.run(
        args.image,
        args.command or None,
        name=args.name,
        env=_pairs(args.env, "-e"),
        ports=args.publish or None,
        volumes=args.volume or None,
        labels=_pairs(args.label, "--label"),
        workdir=args.workdir,
        user=args.user,
        entrypoint=[args.entrypoint] if args.entrypoint else None,
        network=args.network,
        remove=args.rm and args.detach,
    )
    if args.detach:
        if args.format == "json":
            _print_json(container)
        else:
            print(container.id)
        return 0
    try:
        for line in rt.logs(container, follow=True):
            stream = sys.stdout if line.stream == "stdout" else sys.stderr
            stream.buffer.write(line.data)
            stream.flush()
        code = rt.wait(container)
    except KeyboardInterrupt:
        rt.stop(container)
        code = 130
    finally:
        if args.rm:
            rt.remove(container, force=True)
    return code


def cmd_logs(rt: Runtime, args: argparse.Namespace) -> int:
    for line in rt.logs(
        args.container,
        follow=args.follow,
        tail=args.tail,
        since=args.since,
        timestamps=args.timestamps,
    ):
        stream = sys.stdout if line.stream == "stdout" else sys.stderr
        if line.timestamp is not None:
            stamp = line.timestamp.isoformat().replace("+00:00", "Z")
            stream.buffer.write(stamp.encode() + b" ")
        stream.buffer.write(line.data)
        stream.flush()
    return 0


def _each(args: argparse.Namespace, action: Callable[[str], object]) -> int:
    failed = 0
    for ref in args.containers:
        try:
            action(ref)
            print(ref)
        except RuntimesError as exc:
            _report(exc)
            failed = ERROR_EXIT
    return failed


def cmd_stop(rt: Runtime, args: argparse.Namespace) -> int:
    return _each(args, lambda ref: rt.stop(ref, timeout=args.time))


def cmd_kill(rt: Runtime, args: argparse.Namespace) -> int:
    return _each(args, lambda ref: rt.kill(ref, args.signal))


def cmd_rm(rt: Runtime, args: argparse.Namespace) -> int:
    return _each(args, lambda ref: rt.remove(ref, force=args.force))


def cmd_wait(rt: Runtime, args: argparse.Namespace) -> int:
    code = 0
    for ref in args.containers:
        code = rt.wait(ref)
        print(code)
    return code


def cmd_exec(rt: Runtime, args: argparse.Namespace) -> int:
    result = rt.exec(
        args.container,
        args.command,
        env=_pairs(args.env, "-e"),
        workdir=args.workdir,
        user=args.user,
    )
    sys.stdout.buffer.write(result.stdout)
    sys.stdout.flush()
    sys.stderr.buffer.write(result.stderr)
    sys.stderr.flush()
    return result.exit_code


def cmd_inspect(rt: Runtime, args: argparse.Namespace) -> int:
    _print_json(rt.inspect(args.container), raw=args.raw)
    return 0


# -- parser ----------------------------------------------------------------------------------


def _verb(
    sub: Any, name: str, handler: Callable[..., int], summary: str, examples: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=summary,
        description=summary,
        epilog="examples:\n" + textwrap.indent(textwrap.dedent(examples).strip(), "  "),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="runtimes",
        description="Containers on docker, podman or containerd (nerdctl), one interface.",
        epilog=textwrap.dedent(
            """\
            The runtime is chosen by --runtime, else RUNTIMES_DEFAULT, else
            [tool.runtimes] default in pyproject.toml, else the user config,
            else the first reachable of docker, podman, nerdctl.
            Exit codes: 125 on a runtime or library error; the container's own
            exit code for run (foreground), exec and wait."""
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--runtime", metavar="NAME", help="runtime to use (docker, podman, nerdctl...)"
    )
    parser.add_argument(
        "--format", choices=("table", "json"), default="table", help="output format"
    )
    sub = parser.add_subparsers(dest="verb", metavar="VERB", required=True)

    _verb(
        sub,
        "info",
        cmd_info,
        "Show every runtime, whether it is reachable, and which one is picked.",
        "runtimes info\nruntimes --format json info",
    )

    p = _verb(
        sub,
        "ps",
        cmd_ps,
        "List containers.",
        "runtimes ps\nruntimes ps -a --filter label=app=web\n"
        "runtimes --format json ps --filter name=web",
    )
    p.add_argument("-a", "--all", action="store_true", help="include stopped containers")
    p.add_argument("--filter", action="append", metavar="KEY=VALUE", help="label=K=V or name=N")

    _verb(
        sub,
        "images",
        cmd_images,
        "List local images.",
        "runtimes images\nruntimes --format json images",
    )

    p = _verb(
        sub, "rmi", cmd_rmi, "Remove images.", "runtimes rmi demo:1\nruntimes rmi -f demo:1 demo:2"
    )
    p.add_argument("-f", "--force", action="store_true", help="remove even if in use")
    p.add_argument("images", nargs="+", metavar="IMAGE")

    p = _verb(
        sub,
        "build",
        cmd_build,
        "Build an image, streaming its steps; print the image id.",
        "runtimes build -t demo:1 .\n"
        "runtimes build -q -t demo:1 --build-arg V=2 --target prod ./app",
    )
    p.add_argument("-t", "--tag", required=True, help="name:tag for the image")
    p.add_argument("-f", "--file", help="Dockerfile path relative to PATH")
    p.add_argument("--build-arg", action="append", metavar="K=V")
    p.add_argument("--target", help="stage to build")
    p.add_argument("--label", action="append", metavar="K=V")
    p.add_argument("--no-cache", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the image id")
    p.add_argument("path", metavar="PATH")

    p = _verb(
        sub,
        "run",
        cmd_run,
        "Run a container (foreground unless -d).",
        "runtimes run --rm demo:1 echo hello\n"
        "runtimes run -d --name web -p 127.0.0.1::8080 demo:1 httpd -f -p 8080 -h /www",
    )
    p.add_argument("-d", "--detach", action="store_true", help="print the id and return")
    p.add_argument("--rm", action="store_true", help="remove the container when it exits")
    p.add_argument("--name")
    p.add_argument(
        "-p", "--publish", action="append", metavar="SPEC", help="[ip:][host:]port[/proto]"
    )
    p.add_argument("-e", "--env", action="append", metavar="K=V")
    p.add_argument("-v", "--volume", action="append", metavar="SPEC", help="src:dst[:ro]")
    p.add_argument("-l", "--label", action="append", metavar="K=V")
    p.add_argument("-w", "--workdir")
    p.add_argument("-u", "--user")
    p.add_argument("--entrypoint")
    p.add_argument("--network")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="CMD")

    p = _verb(
        sub,
        "logs",
        cmd_logs,
        "Print a container's output.",
        "runtimes logs web\nruntimes logs -f --tail 10 -t web",
    )
    p.add_argument("-f", "--follow", action="store_true", help="follow until the container exits")
    p.add_argument("--tail", type=int, metavar="N")
    p.add_argument("-t", "--timestamps", action="store_true")
    p.add_argument("--since", metavar="T", help="RFC 3339 time or epoch seconds")
    p.add_argument("container", metavar="CONTAINER")

    p = _verb(
        sub,
        "stop",
        cmd_stop,
        "Stop containers (SIGTERM, then SIGKILL).",
        "runtimes stop web\nruntimes stop -t 1 a b",
    )
    p.add_argument("-t", "--time", type=float, default=10, metavar="SECONDS")
    p.add_argument("containers", nargs="+", metavar="CONTAINER")

    p = _verb(
        sub,
        "kill",
        cmd_kill,
        "Send a signal to containers.",
        "runtimes kill web\nruntimes kill -s SIGHUP web",
    )
    p.add_argument("-s", "--signal", default="SIGKILL")
    p.add_argument("containers", nargs="+", metavar="CONTAINER")

    p = _verb(sub, "rm", cmd_rm, "Remove containers.", "runtimes rm web\nruntimes rm -f web db")
    p.add_argument("-f", "--force", action="store_true", help="kill first if running")
    p.add_argument("containers", nargs="+", metavar="CONTAINER")

    p = _verb(
        sub,
        "exec",
        cmd_exec,
        "Run a command in a running container.",
        "runtimes exec web ls /\nruntimes exec -e A=1 -w /tmp -u 1000 web sh -c 'echo $A'",
    )
    p.add_argument("-e", "--env", action="append", metavar="K=V")
    p.add_argument("-w", "--workdir")
    p.add_argument("-u", "--user")
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="CMD")

    p = _verb(
        sub,
        "wait",
        cmd_wait,
        "Wait for containers to exit; print their exit codes.",
        "runtimes wait web",
    )
    p.add_argument("containers", nargs="+", metavar="CONTAINER")

    p = _verb(
        sub,
        "inspect",
        cmd_inspect,
        "Print a container as JSON.",
        "runtimes inspect web\nruntimes inspect --raw web",
    )
    p.add_argument("--raw", action="store_true", help="include the runtime's own record")
    p.add_argument("container", metavar="CONTAINER")
    return parser


def _report(exc: BaseException) -> None:
    message = " ".join(str(exc).split("\n")[0].split())
    print(f"runtimes: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    args = build_parser().parse_args(argv)
    if args.verb == "exec" and not args.command:
        build_parser().error("exec needs a command")
    # A broken pipe (``| head``) is not an error worth a traceback.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        if args.handler is cmd_info:
            code = cmd_info(args)
        else:
            with registry.connect(args.runtime) as rt:
                code = args.handler(rt, args)
    except RuntimesError as exc:
        _report(exc)
        code = ERROR_EXIT
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
