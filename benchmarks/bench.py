"""Per-call cost of runtimes next to the raw SDK or CLI, in one run.

    python benchmarks/bench.py [--containers 20] [--repeat 9] [docker podman nerdctl]

For each runtime it creates N labelled containers, then times listing them
with every field filled (state, exit code, ports, labels) and one run-to-exit,
printing medians in milliseconds and the ratio to runtimes.  Everything it
creates is removed at the end.  Figures, never assertions: the machine's
load decides absolute numbers, the ratios are what to read.
"""

from __future__ import annotations

import argparse
import json
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
    binary = {"docker": "docker", "podman": "podman", "nerdctl": "nerdctl"}[name]
    own[f"{binary} run --rm (CLI)"] = lambda: cli(
        binary, "run", "--rm", "--label", label, image, "true"
    )
    return own


def _is_run(what: str) -> bool:
    return " run" in what


def bench(name: str, count: int, repeat: int) -> None:
    rt = runtimes.connect(name)
    session = uuid.uuid4().hex[:8]
    label = f"runtimes.bench={session}"
    labels = {"runtimes.bench": session}
    image = f"runtimes-bench:{session}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            rt.build(write_busybox_context(Path(tmp)), tag=image, labels=labels)
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--containers", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("runtimes", nargs="*", default=["docker", "podman", "nerdctl"])
    args = parser.parse_args()
    for name in args.runtimes:
        bench(name, args.containers, args.repeat)


if __name__ == "__main__":
    main()
