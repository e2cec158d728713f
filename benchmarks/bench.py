"""Per-call cost of runtimes next to the raw SDK or CLI, in one run.

    python benchmarks/bench.py [--containers 20] [--repeat 9] [--registry-mb 50] [--copy-mb 10]
                               [docker podman nerdctl kubernetes]

For each runtime it creates N labelled containers, then times listing them
with every field filled (state, exit code, ports, labels) and one run-to-exit,
printing medians in milliseconds and the ratio to runtimes.  Then it pushes
and pulls an image with a layer of ``--registry-mb`` random megabytes to and
from a registry on 127.0.0.1 (``runtimes.testing.registry``), through
runtimes and through the runtime's own CLI (``0`` skips this), and copies a
``--copy-mb`` file in and out of a running and a stopped container, through
runtimes and the runtime's own ``cp``.  Everything it
creates is removed at the end.  For ``kubernetes`` (pods, with
``kubectl`` on PATH and ``RUNTIMES_TEST_IMAGE_LOADER`` set as for the
contract suite): ``ps`` next to ``kubectl get pods -o json``, run-to-exit
next to ``kubectl run --rm -i --restart=Never``; no registry or copy figures.
Figures, never assertions: the machine's load decides absolute numbers,
the ratios are what to read.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import runtimes
from runtimes.testing import cleanup
from runtimes.testing.images import write_busybox_context


def median_ms(call: Callable[[], Any], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def cli(*argv: str) -> bytes:
    return subprocess.run(list(argv), capture_output=True, check=True, timeout=120).stdout


def contenders(
    name: str, rt: runtimes.Runtime, label: str, image: str
) -> dict[str, Callable[[], Any]]:
    flt = f"label={label}"
    own: dict[str, Callable[[], Any]] = {
        "runtimes ps(all)": lambda: rt.ps(all=True, labels=dict([label.split("=")])),
    }
    if name == "docker":
        import docker

        client = docker.from_env()
        own["docker SDK containers.list (N+1 inspects)"] = lambda: [
            c.attrs for c in client.containers.list(all=True, filters={"label": label})
        ]
        own["docker SDK api.containers (no exit code)"] = lambda: client.api.containers(
            all=True, filters={"label": label}
        )
        own["docker CLI ps + batched inspect"] = lambda: cli(
            "docker", "inspect", *cli("docker", "ps", "-aq", "--filter", flt).split()
        )
    elif name == "podman":
        own["podman CLI ps --format json"] = lambda: json.loads(
            cli("podman", "ps", "-a", "--format", "json", "--filter", flt)
        )
        host = getattr(rt, "host", "")
        import podman

        client = podman.PodmanClient(base_url=host)
        own["podman-py containers.list(sparse=False)"] = lambda: client.containers.list(
            all=True, filters={"label": label}, sparse=False
        )
    elif name == "kubernetes":
        own["kubectl get pods -o json"] = lambda: json.loads(
            cli("kubectl", "get", "pods", "-o", "json", "-l", label)
        )
    else:
        ids = lambda: cli("nerdctl", "ps", "-aq", "--no-trunc", "--filter", flt).split()  # noqa: E731
        own["nerdctl ps + one inspect per container (python-on-whales style)"] = lambda: [
            cli("nerdctl", "inspect", i.decode()) for i in ids()
        ]
        own["nerdctl ps only (no state)"] = lambda: cli(
            "nerdctl", "ps", "-a", "--format", "{{json .}}", "--filter", flt
        )

    def run_to_exit() -> None:
        c = rt.run(image, ["true"], labels=dict([label.split("=")]))
        rt.wait(c)
        rt.remove(c)

    own["runtimes run+wait+remove"] = run_to_exit
    if name == "kubernetes":
        own["kubectl run --rm -i --restart=Never"] = lambda: cli(
            "kubectl",
            "run",
            f"bench-{uuid.uuid4().hex[:8]}",
            "--rm",
            "-i",
            "--restart=Never",
            f"--image={image}",
            "--image-pull-policy=Never",
            f"--labels={label}",
            "--quiet",
            "--command",
            "--",
            "true",
        )
        return own
    binary = {"docker": "docker", "podman": "podman", "nerdctl": "nerdctl"}[name]
    own[f"{binary} run --rm (CLI)"] = lambda: cli(
        binary, "run", "--rm", "--label", label, image, "true"
    )
    return own


def bench_image(rt: runtimes.Runtime, image: str, labels: dict[str, str]) -> Callable[[], None]:
    """Build the busybox image; a runtime that cannot build (a cluster) gets
    docker's, loaded by ``RUNTIMES_TEST_IMAGE_LOADER`` as in the contract
    suite.  Returns what removes the builder's copy."""
    if runtimes.Capability.BUILD in rt.capabilities:
        with tempfile.TemporaryDirectory() as tmp:
            rt.build(write_busybox_context(Path(tmp)), tag=image, labels=labels)
        return lambda: None
    import shlex

    builder = runtimes.connect(os.environ.get("RUNTIMES_TEST_IMAGE_BUILDER", "docker"))
    with tempfile.TemporaryDirectory() as tmp:
        builder.build(write_busybox_context(Path(tmp)), tag=image, labels=labels)
    loader = shlex.split(os.environ["RUNTIMES_TEST_IMAGE_LOADER"])
    subprocess.run([*loader, image], capture_output=True, check=True, timeout=600)

    def drop() -> None:
        builder.remove_image(image, force=True)
        builder.close()

    return drop


def _is_run(what: str) -> bool:
    return " run" in what


def bench(name: str, count: int, repeat: int) -> None:
    rt = runtimes.connect(name)
    session = uuid.uuid4().hex[:8]
    label = f"runtimes.bench={session}"
    labels = {"runtimes.bench": session}
    image = f"runtimes-bench:{session}"
    drop_image: Callable[[], None] = lambda: None  # noqa: E731
    try:
        drop_image = bench_image(rt, image, labels)
        for _ in range(count):
            rt.run(image, ["sleep", "1000"], labels=labels)
        print(f"\n== {name}: {count} containers, median of {repeat} runs")
        figures = {
            what: median_ms(call, repeat)
            for what, call in contenders(name, rt, label, image).items()
        }
        for group, base_name in (("list", "runtimes ps(all)"), ("run", "runtimes run+wait+remove")):
            base = figures[base_name]
            print(f"  -- {group} (ratio to {base_name})")
            for what, ms in figures.items():
                if _is_run(what) == (group == "run"):
                    print(f"  {ms:8.1f} ms  {ms / base:5.2f}x  {what}")
    finally:
        cleanup(rt, labels)
        rt.close()
        drop_image()


CLI_REGISTRY_FLAGS = {
    "docker": [],  # dockerd treats 127.0.0.0/8 as insecure
    "podman": ["--tls-verify=false"],
    "nerdctl": ["--insecure-registry"],
}


def bench_registry(name: str, megabytes: int, repeat: int) -> None:
    """Push and pull timings; each push goes to a fresh registry and each
    pull starts with no local copy, so every byte moves every time."""
    from runtimes.testing.registry import LocalRegistry

    rt = runtimes.connect(name)
    session = uuid.uuid4().hex[:8]
    labels = {"runtimes.bench": session}
    flags = CLI_REGISTRY_FLAGS[name]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            context = write_busybox_context(
                Path(tmp), "FROM scratch\nCOPY busybox /bin/busybox\nCOPY blob /blob\n"
            )
            (context / "blob").write_bytes(os.urandom(megabytes << 20))
            local = f"runtimes-bench/blob:{session}"
            rt.build(context, tag=local, labels=labels)
        figures: dict[str, list[float]] = {}

        def timed(what: str, call: Callable[[], Any]) -> None:
            started = time.perf_counter()
            call()
            figures.setdefault(what, []).append((time.perf_counter() - started) * 1000)

        for _ in range(repeat):
            for what in ("runtimes push", f"{name} push (CLI)"):
                with LocalRegistry() as registry:
                    ref = registry.ref(f"bench/{session}", "1")
                    rt.configure(insecure_registries=[registry.host])
                    rt.tag(local, ref)
                    if what == "runtimes push":
                        timed(what, lambda ref=ref: rt.push(ref))
                    else:
                        timed(what, lambda ref=ref: cli(name, "push", *flags, ref))
                    rt.remove_image(ref)
        with LocalRegistry() as registry:
            ref = registry.ref(f"bench/{session}", "1")
            rt.configure(insecure_registries=[registry.host])
            rt.tag(local, ref)
            rt.push(ref)
            rt.remove_image(ref)
            rt.remove_image(local, force=True)  # no local copy of the layer is left
            for _ in range(repeat):
                for what in ("runtimes pull", f"{name} pull (CLI)"):
                    if what == "runtimes pull":
                        timed(what, lambda ref=ref: rt.pull(ref))
                    else:
                        timed(what, lambda ref=ref: cli(name, "pull", *flags, ref))
                    rt.remove_image(ref, force=True)
        print(f"\n== {name}: push and pull of a {megabytes} MB layer, median of {repeat}")
        for verb in ("push", "pull"):
            base = statistics.median(figures[f"runtimes {verb}"])
            print(f"  -- {verb} (ratio to runtimes {verb})")
            for what, samples in figures.items():
                if verb in what:
                    ms = statistics.median(samples)
                    print(f"  {ms:8.1f} ms  {ms / base:5.2f}x  {what}")
    finally:
        cleanup(rt, labels)
        rt.close()


def bench_copy(name: str, megabytes: int, repeat: int) -> None:
    """copy_to / copy_from of one file, running and stopped containers, next
    to the runtime's own ``cp`` (which writes to a local path, as
    ``copy_from(dest=...)`` does)."""
    rt = runtimes.connect(name)
    session = uuid.uuid4().hex[:8]
    labels = {"runtimes.bench": session}
    image = f"runtimes-bench:{session}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            rt.build(write_busybox_context(Path(tmp)), tag=image, labels=labels)
            source = Path(tmp) / "blob"
            source.write_bytes(os.urandom(megabytes << 20))
            back = Path(tmp) / "back"
            running = rt.run(image, ["sleep", "1000"], labels=labels)
            stopped = rt.run(image, ["true"], labels=labels)
            rt.wait(stopped)
            print(f"\n== {name}: copy of a {megabytes} MB file, median of {repeat}")
            for state, c in (("running", running), ("stopped", stopped)):
                calls: dict[str, Callable[[], Any]] = {
                    "runtimes copy_to": lambda c=c: rt.copy_to(c, source, "/tmp/blob"),
                    f"{name} cp in (CLI)": lambda c=c: cli(
                        name, "cp", str(source), f"{c.id}:/tmp/blob"
                    ),
                    "runtimes copy_from (bytes)": lambda c=c: rt.copy_from(c, "/tmp/blob"),
                    "runtimes copy_from (to a path)": lambda c=c: rt.copy_from(
                        c, "/tmp/blob", back
                    ),
                    f"{name} cp out (CLI)": lambda c=c: cli(
                        name, "cp", f"{c.id}:/tmp/blob", str(back)
                    ),
                }
                for what, call in calls.items():
                    print(f"  {median_ms(call, repeat):8.1f} ms  {state:8}  {what}")
    finally:
        cleanup(rt, labels)
        rt.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--containers", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--registry-mb", type=int, default=50)
    parser.add_argument("--registry-repeat", type=int, default=3)
    parser.add_argument("--copy-mb", type=int, default=10)
    parser.add_argument("runtimes", nargs="*", default=["docker", "podman", "nerdctl"])
    args = parser.parse_args()
    for name in args.runtimes:
        bench(name, args.containers, args.repeat)
        if args.registry_mb and name in CLI_REGISTRY_FLAGS:
            bench_registry(name, args.registry_mb, args.registry_repeat)
        if args.copy_mb and name in CLI_REGISTRY_FLAGS:
            bench_copy(name, args.copy_mb, args.repeat)


if __name__ == "__main__":
    main()
