"""One handler per verb of the ``runtimes`` command.

Each takes the connected runtime and the parsed arguments, calls the
library, prints through :mod:`runtimes.cli._format`, and returns the exit
code.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import signal
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from runtimes import _normalize, _specs, registry
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
    volumes_table,
)
from runtimes.cli._template import is_template
from runtimes.errors import (
    ContainerNotFound,
    ImageNotFound,
    InvalidSpec,
    NotFound,
    RuntimesError,
    UnknownRuntime,
)
from runtimes.models import Container, ContainerState

#: docker's exit code when the daemon (here: the runtime) reports an error.
ERROR_EXIT = 1
#: docker's exit code for its own errors: a bad command line or arguments,
#: and anything that stops ``run`` before the container runs.
CLI_ERROR_EXIT = 125


def exit_code(exc: RuntimesError, verb: str | None) -> int:
    """The exit code docker gives for the same failure (checked against
    docker 28 client / 20.10 daemon: ``rm``, ``inspect``, ``logs``, ``stop``,
    ``exec`` of a missing container exit 1; a bad flag exits 125; ``run``
    exits 125 whatever stops it)."""
    if isinstance(exc, (InvalidSpec, UnknownRuntime)) or verb == "run":
        return CLI_ERROR_EXIT
    return ERROR_EXIT


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


_STATUSES = {s.value for s in ContainerState} - {"unknown"}


def _label_filters(values: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """``label=K=V`` (the runtime filters) and ``label=K`` (key only,
    filtered here: a runtime's own key-only filter differs in spelling)."""
    pairs: dict[str, str] = {}
    keys: list[str] = []
    for value in values:
        key, sep, wanted = value.partition("=")
        if not key:
            raise InvalidSpec(f"invalid label filter {value!r}: use label=KEY or label=KEY=VALUE")
        if sep:
            pairs[key] = wanted
        else:
            keys.append(key)
    return pairs, keys


def _filters(items: Sequence[str] | None, allowed: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidSpec(f"invalid filter {item!r}: use KEY=VALUE")
        if key not in allowed:
            raise InvalidSpec(f"unknown filter {key!r}: use {', '.join(allowed)}")
        found.setdefault(key, []).append(value)
    return found


def _image_names(ref: str) -> set[str]:
    """The spellings of one image name: ``busybox`` is ``busybox:latest``,
    ``docker.io/library/busybox:latest`` and (on Podman) ``localhost/...``."""
    name = ref if re.search(r":[^/]*$", ref) or "@" in ref else f"{ref}:latest"
    bare = name
    for prefix in ("docker.io/library/", "docker.io/", "localhost/"):
        bare = bare.removeprefix(prefix)
    return {name, bare, f"docker.io/library/{bare}", f"docker.io/{bare}", f"localhost/{bare}"}


def _image_id(c: Container) -> str:
    # Docker and Podman list ImageID; nerdctl's dockercompat record has Image (the id).
    for key in ("ImageID", "Image"):
        value = c.raw.get(key)
        if isinstance(value, str) and value.startswith("sha256:"):
            return value
    return ""


def _ancestor_match(rt: Runtime, wanted: Sequence[str]) -> Callable[[Container], bool]:
    """docker's ``ancestor=``: the image by name (any spelling) or id.
    Images built on top of it are not followed (that needs every image's
    history)."""
    names: set[str] = set()
    ids: set[str] = set()
    for ref in wanted:
        names |= _image_names(ref)
        with contextlib.suppress(ImageNotFound, InvalidSpec):
            ids.add(rt.image(ref).id)
        if re.fullmatch(r"(sha256:)?[0-9a-f]{4,64}", ref):
            ids.add(ref if ref.startswith("sha256:") else f"sha256:{ref}")

    def match(c: Container) -> bool:
        if names & _image_names(c.image):
            return True
        own = _image_id(c)
        return bool(own) and any(own.startswith(i) for i in ids)

    return match


def _name_match(pattern: str) -> Callable[[str], bool]:
    # docker matches names as a regular expression, anywhere in the name.
    try:
        compiled = re.compile(pattern)
    except re.error:
        return lambda name: pattern in name
    return lambda name: compiled.search(name) is not None


def cmd_ps(rt: Runtime, args: argparse.Namespace) -> int:
    found = _filters(args.filter, ("label", "name", "status", "ancestor", "id"))
    labels, keys = _label_filters(found.get("label", ()))
    statuses = found.get("status", [])
    bad = [s for s in statuses if s not in _STATUSES]
    if bad:
        raise InvalidSpec(f"invalid status filter {bad[0]!r}: use {', '.join(sorted(_STATUSES))}")
    last = 1 if args.latest else args.last
    every = args.all or last >= 0 or any(s != "running" for s in statuses)
    containers = rt.ps(all=every, labels=labels or None)
    names = [_name_match(n) for n in found.get("name", ())]
    ancestors = _ancestor_match(rt, found["ancestor"]) if "ancestor" in found else None
    ids = found.get("id", [])
    containers = [
        c
        for c in containers
        if all(k in c.labels for k in keys)
        and (not names or any(m(c.name) for m in names))
        and (not statuses or c.state.value in statuses)
        and (ancestors is None or ancestors(c))
        and (not ids or any(c.id.startswith(i) for i in ids))
    ]
    # Newest first, as docker lists them.
    epoch = datetime.min.replace(tzinfo=UTC)
    containers.sort(key=lambda c: c.created_at or epoch, reverse=True)
    if last >= 0:
        containers = containers[:last]
    if args.quiet:
        for c in containers:
            print(c.id if args.no_trunc else c.short_id)
        return 0
    emit(
        containers,
        args.format,
        lambda out, cs: containers_table(out, cs, no_trunc=args.no_trunc),
        trunc=not args.no_trunc,
    )
    return 0


def cmd_images(rt: Runtime, args: argparse.Namespace) -> int:
    images = rt.images()
    if args.quiet:
        seen: list[str] = []
        for image in images:
            shown = image.id if args.no_trunc else image.id.removeprefix("sha256:")[:12]
            if shown not in seen:
                seen.append(shown)
                print(shown)
        return 0
    emit(images, args.format, images_table)
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


_EPOCH = re.compile(r"\d+(?:\.\d+)?")


def moment(text: str, what: str) -> datetime:
    """A ``--since``/``--until`` value as a time: a duration ago (``10m``,
    ``1h30m``), epoch seconds (``1700000000``, ``1700000000.5``) or RFC 3339."""
    text = text.strip()
    if _EPOCH.fullmatch(text):
        try:
            return datetime.fromtimestamp(float(text), UTC)
        except (OverflowError, ValueError, OSError):
            raise InvalidSpec(f"invalid {what} {text!r}: epoch seconds out of range") from None
    duration = _specs.DURATION_RE.fullmatch(text)
    if duration and text:
        hours, minutes, seconds = (float(g) if g else 0.0 for g in duration.groups())
        return datetime.now(UTC) - timedelta(hours=hours, minutes=minutes, seconds=seconds)
    parsed = _normalize.timestamp(text)
    if parsed is None:
        raise InvalidSpec(
            f"invalid {what} {text!r}: use a duration (10m, 1h30m), RFC 3339 or epoch seconds"
        )
    return parsed


def cmd_logs(rt: Runtime, args: argparse.Namespace) -> int:
    since = moment(args.since, "--since") if args.since is not None else None
    until = moment(args.until, "--until") if args.until is not None else None
    # --until is applied here, on each line's time: the runtimes' own
    # --until differ (nerdctl's and the docker API's exist, Podman's
    # service has none), while every one gives timestamps.
    for line in rt.logs(
        args.container,
        follow=args.follow,
        tail=args.tail,
        since=since,
        timestamps=args.timestamps or until is not None,
    ):
        if until is not None and line.timestamp is not None and line.timestamp > until:
            if args.follow:
                break
            continue
        stream = sys.stdout if line.stream == "stdout" else sys.stderr
        if line.timestamp is not None and args.timestamps:
            stamp = line.timestamp.isoformat().replace("+00:00", "Z")
            stream.buffer.write(stamp.encode() + b" ")
        stream.buffer.write(line.data)
        stream.flush()
    return 0


def _each(
    args: argparse.Namespace, action: Callable[[str], object], *, missing_ok: bool = False
) -> int:
    """``action`` on each container named; like docker, one failing does
    not stop the others, and the exit code is 1 if any failed."""
    failed = 0
    for ref in args.containers:
        try:
            action(ref)
            print(ref)
        except ContainerNotFound:
            if not missing_ok:
                report(ContainerNotFound(ref, f"no such container: {ref}"))
                failed = ERROR_EXIT
        except RuntimesError as exc:
            report(exc)
            failed = exit_code(exc, args.verb)
    return failed


def cmd_stop(rt: Runtime, args: argparse.Namespace) -> int:
    return _each(args, lambda ref: rt.stop(ref, timeout=args.time))


def cmd_kill(rt: Runtime, args: argparse.Namespace) -> int:
    return _each(args, lambda ref: rt.kill(ref, args.signal))


def cmd_rm(rt: Runtime, args: argparse.Namespace) -> int:
    # docker rm -f of a missing container exits 0 and says nothing.
    return _each(args, lambda ref: rt.remove(ref, force=args.force), missing_ok=args.force)


def cmd_wait(rt: Runtime, args: argparse.Namespace) -> int:
    code = 0
    for ref in args.containers:
        code = rt.wait(ref)
        print(code)
    return code


def cmd_exec(rt: Runtime, args: argparse.Namespace) -> int:
    env = _pairs(args.env, "-e")
    # The library takes stdin or a terminal, not both: -it forwards stdin
    # as -i does (a script's `exec -it db psql < dump.sql` works) and
    # allocates no terminal.
    tty = args.tty and not args.interactive
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
        tty=tty,
        stream=True,
    ) as lines:
        for line in lines:
            stream = sys.stdout if line.stream == "stdout" else sys.stderr
            stream.buffer.write(line.data)
            stream.flush()
    return lines.exit_code or 0


_KINDS: dict[str, Callable[[Runtime, str], Any]] = {
    "container": lambda rt, ref: rt.inspect(ref),
    "image": lambda rt, ref: rt.image(ref),
    "network": lambda rt, ref: rt.network(ref),
    "volume": lambda rt, ref: rt.volume(ref),
}


def _show_objects(
    args: argparse.Namespace, targets: Sequence[str], find: Callable[[str], Any], what: str
) -> int:
    """docker inspect's output: a JSON list of what was found (or one
    template line each), then one error line per name not found, exit 1."""
    found: list[Any] = []
    missing: list[str] = []
    for ref in targets:
        try:
            found.append(find(ref))
        except NotFound:
            missing.append(ref)
    fmt = args.format if is_template(args.format) else "json"
    if found or fmt == "json":
        emit(found, fmt, raw=args.raw, go_maps=True)
    for ref in missing:
        report(NotFound(ref, f"no such {what}: {ref}"))
    return ERROR_EXIT if missing else 0


def cmd_inspect(rt: Runtime, args: argparse.Namespace) -> int:
    kinds = [args.type] if args.type else list(_KINDS)

    def find(ref: str) -> Any:
        for kind in kinds:
            # A name that is invalid for one kind (an image reference with
            # capitals) is simply not of that kind.
            with contextlib.suppress(NotFound, InvalidSpec):
                return _KINDS[kind](rt, ref)
        raise NotFound(ref, f"no such {args.type or 'object'}: {ref}")

    return _show_objects(args, args.targets, find, args.type or "object")


# -- networks ----------------------------------------------------------------------


def cmd_network_ls(rt: Runtime, args: argparse.Namespace) -> int:
    found = _filters(args.filter, ("label",))
    labels, keys = _label_filters(found.get("label", ()))
    networks = [n for n in rt.networks(labels=labels or None) if all(k in n.labels for k in keys)]
    if args.quiet:
        for network in networks:
            print(network.name)
        return 0
    emit(networks, args.format, networks_table)
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
            failed = exit_code(exc, args.verb)
    return failed


def cmd_network_inspect(rt: Runtime, args: argparse.Namespace) -> int:
    return _show_objects(args, args.networks, rt.network, "network")


# -- volumes -----------------------------------------------------------------------


def cmd_volume_ls(rt: Runtime, args: argparse.Namespace) -> int:
    found = _filters(getattr(args, "filter", None), ("label",))
    labels, keys = _label_filters(found.get("label", ()))
    volumes = [v for v in rt.volumes(labels=labels or None) if all(k in v.labels for k in keys)]
    if getattr(args, "quiet", False):
        for volume in volumes:
            print(volume.name)
        return 0
    emit(volumes, args.format, volumes_table)
    return 0


def cmd_volume_create(rt: Runtime, args: argparse.Namespace) -> int:
    volume = rt.create_volume(args.name, labels=_pairs(args.label, "--label"))
    emit(volume, args.format, lambda _out, v: print(v.name))
    return 0


def cmd_volume_rm(rt: Runtime, args: argparse.Namespace) -> int:
    failed = 0
    for name in args.volumes:
        try:
            rt.remove_volume(name, force=args.force)
            print(name)
        except RuntimesError as exc:
            report(exc)
            failed = exit_code(exc, args.verb)
    return failed


def cmd_volume_inspect(rt: Runtime, args: argparse.Namespace) -> int:
    return _show_objects(args, args.volumes, rt.volume, "volume")


# -- shell completion --------------------------------------------------------------


def cmd_completion(args: argparse.Namespace) -> int:
    from runtimes.cli._completion import script
    from runtimes.cli._parser import build_parser

    sys.stdout.write(script(build_parser(), args.shell))
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
