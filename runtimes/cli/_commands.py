"""One handler per verb of the ``runtimes`` command.

Each takes the connected runtime and the parsed arguments, calls the
library, prints through :mod:`runtimes.cli._format`, and returns the exit
code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from runtimes import _specs, registry
from runtimes.base import Runtime
from runtimes.cli._format import (
    Output,
    ProgressDisplay,
    containers_table,
    emit,
    images_table,
    networks_table,
    print_json,
    short,
)
from runtimes.errors import InvalidSpec, RuntimesError

ERROR_EXIT = 125


def report(exc: BaseException) -> None:
    """One line on stderr: the library's message, without its newlines."""
    message = " ".join(str(exc).split("\n")[0].split())
    print(f"runtimes: {message}", file=sys.stderr)


def _pairs(values: Sequence[str] | None, what: str) -> dict[str, str]:
    return dict(_specs.parse_assignment(v, what) for v in values or ())


def _endpoint_text(entry: dict[str, Any]) -> str:
    # "tcp://10.0.0.9:2376 (from DOCKER_CONTEXT ...)": where, and which rule said so.
    source = entry.get("endpoint_source")
    return f"{entry.get('endpoint', '')} (from {source})" if source else entry.get("endpoint", "")


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
                entry.update(
                    reachable=True,
                    version=info.version,
                    endpoint=info.endpoint,
                    endpoint_source=info.endpoint_source or None,
                )
            except RuntimesError as exc:
                problem = str(exc)
        if problem is not None:
            entry["problem"] = problem
            entry["fix"] = registry.runtime_hint(name)
        report.append(entry)
    if args.format == "json":
        print_json({"runtimes": report, "selected": selection.name, "rule": selection.rule})
        return 0
    out = Output(sys.stdout)
    rows = [
        [
            e["name"],
            out.paint("yes", "32") if e["reachable"] else out.paint("no", "31"),
            e["version"] or "",
            _endpoint_text(e) if e["reachable"] else short(e["problem"] or "", 70),
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


def cmd_demo(args: argparse.Namespace) -> int:
    from runtimes._demo import run_demo

    return run_demo([args.runtime] if args.runtime else None, sys.stdout, sys.stderr)


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
    emit(rt.ps(all=args.all, labels=labels or None, name=name), args.format, containers_table)
    return 0


def cmd_images(rt: Runtime, args: argparse.Namespace) -> int:
    emit(rt.images(), args.format, images_table)
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
    emit(image, "table" if args.quiet else args.format, lambda _out, i: print(i.id))
    return 0


def cmd_pull(rt: Runtime, args: argparse.Namespace) -> int:
    show = None if args.quiet else ProgressDisplay(sys.stderr)
    for ref in args.images:
        image = rt.pull(ref, platform=args.platform, on_progress=show)
        emit(image, "table" if args.quiet else args.format, lambda _out, i: print(i.id))
    return 0


def cmd_push(rt: Runtime, args: argparse.Namespace) -> int:
    show = None if args.quiet else ProgressDisplay(sys.stderr)
    for ref in args.images:
        digest = rt.push(ref, on_progress=show)
        if args.format == "json":
            print_json({"ref": ref, "digest": digest})
        else:
            print(digest)
    return 0


def cmd_tag(rt: Runtime, args: argparse.Namespace) -> int:
    emit(rt.tag(args.source, args.target), args.format, lambda _out, i: print(i.id))
    return 0


def cmd_login(rt: Runtime, args: argparse.Namespace) -> int:
    if not args.password_stdin:
        raise InvalidSpec(
            "give the password on stdin with --password-stdin "
            "(a password on the command line is readable by every local user)"
        )
    secret = sys.stdin.readline().rstrip("\r\n")
    rt.login(args.registry, args.username, secret)
    print("Login Succeeded")
    return 0


def cmd_logout(rt: Runtime, args: argparse.Namespace) -> int:
    rt.logout(args.registry)
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
        aliases=args.network_alias or (),
        hostname=args.hostname,
        remove=args.rm and args.detach,
        pull=args.pull,
    )
    if args.detach:
        emit(container, args.format, lambda _out, c: print(c.id))
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
            report(exc)
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
    emit(rt.inspect(args.container), "json", raw=args.raw)
    return 0


# -- networks ----------------------------------------------------------------------


def cmd_network_ls(rt: Runtime, args: argparse.Namespace) -> int:
    labels: dict[str, str] = {}
    for item in args.filter or ():
        key, value = _specs.parse_assignment(item, "filter")
        if key != "label":
            raise InvalidSpec(f"unknown filter {key!r}: use label=K=V")
        k, _, v = value.partition("=")
        labels[k] = v
    emit(rt.networks(labels=labels or None), args.format, networks_table)
    return 0


def cmd_network_create(rt: Runtime, args: argparse.Namespace) -> int:
    network = rt.create_network(
        args.name,
        labels=_pairs(args.label, "--label"),
        internal=args.internal,
        subnet=args.subnet,
    )
    emit(network, args.format, lambda _out, n: print(n.name))
    return 0


def cmd_network_rm(rt: Runtime, args: argparse.Namespace) -> int:
    failed = 0
    for name in args.networks:
        try:
            rt.remove_network(name)
            print(name)
        except RuntimesError as exc:
            report(exc)
            failed = ERROR_EXIT
    return failed


def cmd_network_inspect(rt: Runtime, args: argparse.Namespace) -> int:
    emit(rt.network(args.network), "json", raw=args.raw)
    return 0
