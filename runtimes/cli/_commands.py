"""One handler per verb of the ``runtimes`` command.

Each takes the connected runtime and the parsed arguments, calls the
library, prints through :mod:`runtimes.cli._format`, and returns the exit
code.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
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
    processes_table,
    short,
    stats_table,
    to_json,
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
    env = _pairs(args.env, "-e")
    if args.detach:
        rt.exec(
            args.container, args.command, env=env, workdir=args.workdir, user=args.user,
            detach=True,
        )  # fmt: skip
        return 0
    with rt.exec(
        args.container,
        args.command,
        env=env,
        workdir=args.workdir,
        user=args.user,
        stdin=sys.stdin.buffer if args.interactive else None,
        tty=args.tty,
        stream=True,
    ) as lines:
        for line in lines:
            stream = sys.stdout if line.stream == "stdout" else sys.stderr
            stream.buffer.write(line.data)
            stream.flush()
    return lines.exit_code or 0


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


# -- stacks ------------------------------------------------------------------------


def cmd_up(rt: Runtime, args: argparse.Namespace) -> int:
    from runtimes import stacks

    stack = stacks.Stack.from_compose(args.file, args.name)
    running = stacks.start(rt, stack, labels=None, timeout=args.timeout)
    try:
        rows = [
            {
                "service": service,
                "container": running[service].name,
                "ports": [
                    f"{b.host_ip}:{b.host_port}->{b.container_port}/{b.protocol}"
                    for b in running[service].ports
                ],
            }
            for service in running
        ]
        if args.format == "json":
            print_json({"stack": stack.name, "network": running.network, "services": rows})
        else:
            for row in rows:
                print(f"{row['service']}\t{row['container']}\t{' '.join(row['ports'])}")
        sys.stdout.flush()
        if args.detach:
            return 0  # left running on purpose: `runtimes down NAME` removes it
        print(f"stack {stack.name} is up; Ctrl-C removes it", file=sys.stderr)
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
    except BaseException:
        running.remove()
        raise
    running.remove()
    return 0


def cmd_down(rt: Runtime, args: argparse.Namespace) -> int:
    for item in rt.down(args.name):
        print(item)
    return 0


# -- the rest of the lifecycle: files, control, stats, top, prune ---------------------------


def _container_path(text: str) -> tuple[str, str] | None:
    """``CONTAINER:PATH`` split, or ``None`` for a local path (``./a:b``,
    ``/x:y``: a ``/`` before the colon makes it local, as in ``docker cp``)."""
    name, sep, path = text.partition(":")
    if not sep or not name or "/" in name:
        return None
    return name, path


def cmd_cp(rt: Runtime, args: argparse.Namespace) -> int:
    source, dest = _container_path(args.source), _container_path(args.dest)
    if (source is None) == (dest is None):
        raise InvalidSpec("cp copies between a container and here: give one CONTAINER:PATH")
    if source is not None:
        if args.dest == "-":
            sys.stdout.buffer.write(rt.copy_from(source[0], source[1]) or b"")
            sys.stdout.flush()
        else:
            rt.copy_from(source[0], source[1], args.dest)
        return 0
    assert dest is not None
    data = sys.stdin.buffer.read() if args.source == "-" else args.source
    rt.copy_to(dest[0], data, dest[1])
    return 0


def cmd_start(rt: Runtime, args: argparse.Namespace) -> int:
    return _each(args, rt.start)


def cmd_restart(rt: Runtime, args: argparse.Namespace) -> int:
    return _each(args, lambda ref: rt.restart(ref, timeout=args.time))


def cmd_pause(rt: Runtime, args: argparse.Namespace) -> int:
    return _each(args, rt.pause)


def cmd_unpause(rt: Runtime, args: argparse.Namespace) -> int:
    return _each(args, rt.unpause)


def cmd_stats(rt: Runtime, args: argparse.Namespace) -> int:
    refs = args.containers or [c.id for c in rt.ps()]
    # Each sample takes about a second: all containers are sampled at once.
    with ThreadPoolExecutor(max_workers=min(8, len(refs) or 1)) as pool:
        while True:
            try:
                samples = list(zip(refs, pool.map(rt.stats, refs), strict=True))
            except KeyboardInterrupt:
                return 130
            if args.format == "json":
                print_json([{"container": ref, **to_json(sample)} for ref, sample in samples])
            else:
                stats_table(Output(sys.stdout), samples)
            sys.stdout.flush()
            if args.no_stream:
                return 0


def cmd_top(rt: Runtime, args: argparse.Namespace) -> int:
    emit(rt.top(args.container), args.format, processes_table)
    return 0


def cmd_prune(rt: Runtime, args: argparse.Namespace) -> int:
    labels: dict[str, str] = {}
    for item in args.filter or ():
        key, value = _specs.parse_assignment(item, "filter")
        if key != "label":
            raise InvalidSpec(f"unknown filter {key!r}: use label=K=V")
        k, _, v = value.partition("=")
        labels[k] = v
    if not labels and not args.force:
        raise InvalidSpec(
            "prune without --filter label=K=V removes everything unused, other people's too: "
            "add a label filter, or --force"
        )
    every = not (args.containers or args.images or args.volumes)
    report = rt.prune(
        labels=labels,
        containers=every or args.containers,
        images=every or args.images,
        volumes=every or args.volumes,
    )
    if args.format == "json":
        print_json(report)
        return 0
    for kind, removed in (
        ("container", report.containers),
        ("volume", report.volumes),
        ("image", report.images),
    ):
        for item in removed:
            print(f"{kind} {item}")
    return 0
