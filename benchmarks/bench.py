"""The project's benchmark: every verb of runtimes beside the raw SDK and CLI paths, in one run.

    python benchmarks/bench.py [--runtimes docker,podman,nerdctl] [--quick] [--repeats 5]
                               [--logs-mb 200] [--threads 32] [--only ps,logs,...]
                               [--out benchmarks/results] [--docs]

For each runtime that is up it measures, in the same run and beside the
runtime's own SDK (docker-py, podman-py) and CLI: ``ps(all)`` over N
labelled containers (N = 10, 50, 200, with the cost per container),
``inspect``, run-to-exit (run + wait + remove against ``run --rm``), the
throughput of reading a large log (plus the growth of the reading process's
peak RSS), ``build`` of a small context, copy in and out, push and pull
through a registry on 127.0.0.1, and 32 threads doing run / wait / logs /
remove (throughput, errors, wrong log contents, leaked containers) beside the
same work done through the CLI with 32 threads.  ``import runtimes`` is timed
against ``import attrs`` once, in fresh interpreters.

It prints a table of ratios with the goals of issue 13 checked (PASS / MISS:
figures, never assertions; the machine's load decides absolute numbers, the
ratios are what to read) and writes ``bench.json``, ``bench.md`` and
``bench.png`` (``pip install 'runtimes[bench]'`` for the chart) to ``--out``.
``--docs`` also puts the table and chart into ``docs/performance.md``.

Everything it creates carries the label ``runtimes.bench=<run id>`` and is
removed at the end, also on Ctrl-C or failure; a leak check then prints
whatever survived.  ``--quick`` is a smoke run: N = 10, 5 MB of logs, 4
threads, 1 repeat.

``--runtimes kubernetes`` (not in the default list) measures pods on the
cluster ``KUBECONFIG`` names, with ``RUNTIMES_KUBECTL`` (else ``kubectl``) and
``RUNTIMES_TEST_IMAGE_LOADER`` set as for the contract suite: ``ps`` next
to ``kubectl get pods -o json``, ``inspect`` next to ``kubectl get pod``,
run-to-exit next to ``kubectl run --rm -i --restart=Never``; a cluster has
no image store, so no logs, build, copy, registry or thread figures.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import functools
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import runtimes
from runtimes import Capability
from runtimes.testing.images import write_busybox_context

ROOT = Path(__file__).resolve().parent.parent
LABEL = "runtimes.bench"
ALL_RUNTIMES = ("docker", "podman", "nerdctl")
#: Measured only when named in --runtimes: pods on the cluster that KUBECONFIG
#: names, beside kubectl (on PATH); the image reaches the node through
#: RUNTIMES_TEST_IMAGE_LOADER, as in the contract suite.
CLUSTER_RUNTIMES = ("kubernetes",)
CLI_TIMEOUT = 600.0
#: What ``--only`` may name: the import figure and each runtime's phases.
PHASES = ("import", "ps", "run", "logs", "build", "copy", "registry", "threads")
#: One log line: 99 bytes and a newline, so a byte count is a line count.
LOG_LINE = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" + b"." * 37 + b"\n"
#: The longest the logs figure waits for the engine to have stored the whole
#: log after the writer exited, before it times any read.
LOG_STORE_WAIT = 300.0
#: nerdctl's json-file driver rotates at 100 MB by default (nerdctl#3670,
#: since 2.0) and ``nerdctl logs`` reads only the newest file: 200 MB of
#: payload (340 MB of JSON) would leave 14.8 MB readable, by its CLI and by
#: the library alike.  The log container gets room for the whole log.
NERDCTL_LOG_OPTS = ["--log-opt", "max-size=4g"]
DOCS_BEGIN = "<!-- bench:begin (written by benchmarks/bench.py --docs) -->"
DOCS_END = "<!-- bench:end -->"


# -- settings and results -------------------------------------------------------------


@dataclass
class Settings:
    runtimes: list[str]
    ns: list[int]
    logs_mb: float
    threads: int
    jobs_per_thread: int
    repeats: int
    registry_mb: int
    copy_mb: int
    out: Path
    docs: bool
    quick: bool
    render: Path | None = None
    only: tuple[str, ...] = PHASES
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    @property
    def labels(self) -> dict[str, str]:
        return {LABEL: self.run_id}


@dataclass
class Contender:
    """One way of doing the work: ours or a raw SDK / CLI path."""

    label: str
    value: float | None = None  # ms, or MB/s, or jobs/s (see Figure.unit)
    error: str | None = None
    same_fields: bool = True  # may serve as the baseline of the ratio
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Figure:
    key: str
    title: str
    unit: str  # "ms", "MB/s", "jobs/s"
    higher_is_better: bool
    ours: Contender
    raw: list[Contender] = field(default_factory=list)
    goal: str = ""  # e.g. "<= 1.3x"; empty when the issue sets none
    goal_max: float | None = None  # ratio ceiling (time-like figures)
    goal_min: float | None = None  # ratio floor (throughput-like figures)
    checks: list[tuple[str, bool | None]] = field(default_factory=list)  # extra goal parts
    extra: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # how it was measured, printed under the table

    def baseline(self) -> Contender | None:
        usable = [c for c in self.raw if c.value is not None and c.same_fields]
        if not usable:
            return None
        pick = max if self.higher_is_better else min
        return pick(usable, key=lambda c: c.value or 0.0)

    def ratio(self) -> float | None:
        base = self.baseline()
        if base is None or self.ours.value is None or not base.value:
            return None
        return self.ours.value / base.value

    def status(self) -> str:
        """PASS / MISS against the issue's goal, ``n/a`` where none or not measurable."""
        parts: list[bool | None] = []
        ratio = self.ratio()
        if self.goal_max is not None:
            parts.append(None if ratio is None else ratio <= self.goal_max)
        if self.goal_min is not None:
            parts.append(None if ratio is None else ratio >= self.goal_min)
        parts += [ok for _, ok in self.checks]
        if not parts:
            return "-"
        if any(p is False for p in parts):
            return "MISS"
        if any(p is None for p in parts):
            return "n/a"
        return "PASS"

    def as_json(self) -> dict[str, Any]:
        base = self.baseline()
        return {
            "key": self.key,
            "title": self.title,
            "unit": self.unit,
            "higher_is_better": self.higher_is_better,
            "ours": _contender_json(self.ours),
            "raw": [_contender_json(c) for c in self.raw],
            "baseline": base.label if base else None,
            "ratio": self.ratio(),
            "goal": self.goal,
            "checks": [{"what": what, "ok": ok} for what, ok in self.checks],
            "status": self.status(),
            "extra": self.extra,
            "notes": self.notes,
        }


def _contender_json(c: Contender) -> dict[str, Any]:
    return {
        "label": c.label,
        "value": c.value,
        "error": c.error,
        "same_fields": c.same_fields,
        "extra": c.extra,
    }


# -- measuring ------------------------------------------------------------------------


class Interrupted(Exception):
    """Raised by SIGTERM so that the same ``finally`` blocks as Ctrl-C run."""


def timed_ms(
    label: str, call: Callable[[], Any], repeats: int, *, warmup: bool = True, **kw: Any
) -> Contender:
    """Median wall time of ``call`` over ``repeats`` runs, after one untimed
    call that pays connections and lazy imports; an error is recorded, not raised."""
    contender = Contender(label, **kw)
    try:
        if warmup:
            call()
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            call()
            samples.append((time.perf_counter() - started) * 1000)
        contender.value = statistics.median(samples)
        contender.extra["samples_ms"] = [round(s, 3) for s in samples]
    except (KeyboardInterrupt, Interrupted):
        raise
    except Exception as exc:
        contender.error = _short(exc)
    return contender


def timed_in_turn(calls: list[tuple[str, Callable[[], Any]]], repeats: int) -> list[Contender]:
    """:func:`timed_ms` for several paths of the same work, their samples
    taken in turn (the first of each round rotating), so that a change in
    the machine's load falls on every path alike, not on whichever ran last."""
    contenders = [Contender(label) for label, _ in calls]
    samples: list[list[float]] = [[] for _ in calls]

    def sample(i: int, keep: bool) -> None:
        if contenders[i].error is not None:
            return
        try:
            started = time.perf_counter()
            calls[i][1]()
            if keep:
                samples[i].append((time.perf_counter() - started) * 1000)
        except (KeyboardInterrupt, Interrupted):
            raise
        except Exception as exc:
            contenders[i].error = _short(exc)

    for i in range(len(calls)):
        sample(i, keep=False)  # pays connections and lazy imports
    for round_ in range(repeats):
        for step in range(len(calls)):
            sample((round_ + step) % len(calls), keep=True)
    for contender, taken in zip(contenders, samples, strict=True):
        if contender.error is None and taken:
            contender.value = statistics.median(taken)
            contender.extra["samples_ms"] = [round(t, 3) for t in taken]
    return contenders


def _expecting(n: int, call: Callable[[], Any], count: Callable[[Any], int]) -> Callable[[], None]:
    """``call``, failing unless what it lists counts ``n``."""

    def checked() -> None:
        got = count(call())
        if got != n:
            raise RuntimeError(f"listed {got} containers, not {n}")

    return checked


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) < 300 else text[:297] + "..."


def run_cli(
    argv: list[str], *, timeout: float = CLI_TIMEOUT, env: dict[str, str] | None = None
) -> bytes:
    done = subprocess.run(argv, capture_output=True, timeout=timeout, check=False, env=env)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv[:3])}... exited {done.returncode}: "
            f"{done.stderr.decode(errors='replace').strip()[-200:]}"
        )
    return done.stdout


def count_stream(argv: list[str], *, timeout: float = CLI_TIMEOUT) -> int:
    """Bytes a command writes on stdout, read in 1 MiB chunks and thrown away."""
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:
        assert proc.stdout is not None
        # The reads block: a stuck command is killed, which ends them.
        watchdog = threading.Timer(timeout, proc.kill)
        watchdog.start()
        try:
            total = 0
            while chunk := proc.stdout.read(1 << 20):
                total += len(chunk)
            if proc.wait(timeout=timeout) != 0:
                raise RuntimeError(f"{argv[0]} logs exited {proc.returncode}")
        finally:
            watchdog.cancel()
    return total


# -- import time ----------------------------------------------------------------------


def bench_import(tries: int) -> Figure:
    """Fresh interpreters, best of several, the three commands interleaved so
    that a burst of load on the machine hits all of them alike: the fastest
    run is the one the load disturbed least.  Each figure is the time on top
    of an interpreter that imports nothing (``-c pass``); the interpreter's
    own count (``-X importtime``) is a second, steadier measure of the same."""
    # Bytecode as an installed wheel has it: an editable checkout under
    # PYTHONDONTWRITEBYTECODE (set on this machine) would compile every
    # module from source on each import, attrs's never.
    import compileall

    import runtimes

    compileall.compile_dir(os.path.dirname(runtimes.__file__), quiet=1)
    codes = {
        "empty": "pass",
        "runtimes": "import runtimes",
        "attrs": "import attrs",
        # Everything loads on first use: the cost once the models are used.
        "models": "import runtimes; runtimes.Container; runtimes.ContainerNotFound",
    }
    wall: dict[str, float] = dict.fromkeys(codes, float("inf"))
    counted: dict[str, float] = {"runtimes": float("inf"), "attrs": float("inf")}
    for _ in range(tries):
        for what, code in codes.items():
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
            wall[what] = min(wall[what], (time.perf_counter() - started) * 1000)
        for module in counted:
            done = subprocess.run(
                [sys.executable, "-X", "importtime", "-c", f"import {module}"],
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
            )
            for line in done.stderr.splitlines():
                parts = [p.strip() for p in line.split("|")]
                if len(parts) == 3 and parts[2] == module:
                    counted[module] = min(counted[module], int(parts[1]) / 1000)
    ours = Contender(
        "import runtimes",
        wall["runtimes"] - wall["empty"],
        extra={"importtime_ms": counted["runtimes"], "modules_loaded": _modules_after("runtimes")},
    )
    attrs_ = Contender(
        "import attrs",
        wall["attrs"] - wall["empty"],
        extra={"importtime_ms": counted["attrs"], "modules_loaded": _modules_after("attrs")},
    )
    by_count = counted["runtimes"] / counted["attrs"]
    return Figure(
        "import",
        "import runtimes",
        "ms",
        False,
        ours,
        [attrs_],
        goal="<= 1.3x",
        goal_max=1.3,
        checks=[(f"-X importtime ratio {by_count:.2f}x (<= 1.3)", by_count <= 1.3)],
        extra={
            "empty_interpreter_ms": wall["empty"],
            "tries": tries,
            "importtime_ratio": by_count,
            "with_models_ms": wall["models"] - wall["empty"],
            "with_models_ratio": (wall["models"] - wall["empty"]) / (wall["attrs"] - wall["empty"]),
        },
    )


def _modules_after(module: str) -> int:
    code = (
        f"import sys; before = len(sys.modules); import {module}; print(len(sys.modules) - before)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return int(done.stdout.strip())


# -- raw paths ------------------------------------------------------------------------


def cli_prefix(name: str, rt: runtimes.Runtime) -> list[str]:
    """The runtime's own CLI on the adapter's engine: for nerdctl, the same
    binary, containerd socket and namespace as the adapter's."""
    if name == "kubernetes":
        # The test cluster's kubectl (kube-cluster.sh env), else the one on PATH.
        kubectl = os.environ.get("RUNTIMES_KUBECTL", "kubectl")
        return [kubectl, "--namespace", str(getattr(rt, "namespace", "default"))]
    if name != "nerdctl":
        return [name]
    return [
        os.environ.get("RUNTIMES_NERDCTL_BINARY", "nerdctl"),
        "--address",
        str(getattr(rt, "address", "")),
        "--namespace",
        str(getattr(rt, "namespace", "default")),
    ]


class Raw:
    """The runtime's own CLI (same engine, same options as the adapter) and SDK."""

    def __init__(self, name: str, rt: runtimes.Runtime) -> None:
        self.name = name
        self.cli = cli_prefix(name, rt)
        buildkit = getattr(rt, "buildkit_host", None) if name == "nerdctl" else None
        self.build_flags = ["--buildkit-host", buildkit] if buildkit else []
        self.sdk: Any = None
        if name == "docker":
            import docker

            self.sdk = docker.DockerClient(base_url=str(getattr(rt, "host", "")), timeout=600)
        elif name == "podman":
            import podman

            self.sdk = podman.PodmanClient(base_url=str(getattr(rt, "host", "")), timeout=600)

    def __call__(self, *args: str, timeout: float = CLI_TIMEOUT) -> bytes:
        return run_cli([*self.cli, *args], timeout=timeout)

    def close(self) -> None:
        if self.sdk is not None:
            with contextlib.suppress(Exception):
                self.sdk.close()


# -- one runtime ----------------------------------------------------------------------


class RuntimeBench:
    def __init__(self, name: str, settings: Settings) -> None:
        self.name = name
        self.s = settings
        self.rt = runtimes.connect(name)
        self.raw = Raw(name, self.rt)
        self.labels = settings.labels
        self.label_flag = f"{LABEL}={settings.run_id}"
        self.image = f"runtimes-bench:{settings.run_id}"
        self.figures: list[Figure] = []
        self.notes: list[str] = []
        self.info: dict[str, Any] = {}
        self._stop = threading.Event()
        self._pools: list[ThreadPoolExecutor] = []
        self.builder: runtimes.Runtime | None = None  # builds the image for a cluster

    def phase_labels(self, phase: str) -> dict[str, str]:
        return {**self.labels, f"{LABEL}.phase": phase}

    def step(self, what: str, call: Callable[[], None]) -> None:
        """One part of the benchmark; its failure is a note, the rest still runs."""
        print(f"  [{self.name}] {what}...", flush=True)
        started = time.perf_counter()
        try:
            call()
        except (KeyboardInterrupt, Interrupted):
            raise
        except Exception as exc:
            self.notes.append(f"{what}: {_short(exc)}")
            print(f"  [{self.name}] {what} failed: {_short(exc)}", flush=True)
            traceback.print_exc()
        print(f"  [{self.name}] {what} took {time.perf_counter() - started:.1f} s", flush=True)

    def run(self) -> None:
        info = self.rt.info()
        self.info = {
            "version": info.version,
            "api_version": info.api_version,
            "endpoint": info.endpoint,
            "storage_driver": info.storage_driver,
            "rootless": info.rootless,
        }
        # nerdctl's info().version is its engine's, containerd's; the CLI's
        # own release is in the raw record (as the support matrix reads it).
        client = info.raw.get("version", {}).get("Client", {}) if self.name == "nerdctl" else {}
        if client.get("Version"):
            self.info["client_version"] = str(client["Version"]).removeprefix("v")
        has = self.rt.capabilities
        if Capability.BUILD in has:
            with tempfile.TemporaryDirectory(prefix="runtimes-bench-") as tmp:
                self.rt.build(write_busybox_context(Path(tmp)), tag=self.image, labels=self.labels)
        else:
            self._load_image()
        only = self.s.only
        if "ps" in only:
            self.step("ps and inspect", self.bench_ps)
        if "run" in only:
            self.step("run to exit", self.bench_run)
        # A cluster (no image store, no copy, pods per thread job) gets the
        # two figures above; the rest compares engine paths it has none of.
        if Capability.IMAGE_STORE not in has:
            self.notes.append("logs, build, copy, registry and threads: engines only")
            return
        if "logs" in only:
            self.step("logs", self.bench_logs)
        if "build" in only:
            self.step("build", self.bench_build)
        if self.s.copy_mb and "copy" in only:
            self.step("copy", self.bench_copy)
        if self.s.registry_mb and "registry" in only:
            self.step("push and pull", self.bench_registry)
        if "threads" in only:
            self.step("threads", self.bench_threads)

    def _load_image(self) -> None:
        """The busybox image, built by a local engine and imported into the
        cluster's node by ``RUNTIMES_TEST_IMAGE_LOADER``, as the contract
        suite does; the builder's copy is removed by :meth:`cleanup`."""
        loader = os.environ.get("RUNTIMES_TEST_IMAGE_LOADER")
        if not loader:
            raise RuntimeError(f"{self.name}: set RUNTIMES_TEST_IMAGE_LOADER to load the image")
        self.builder = runtimes.connect(os.environ.get("RUNTIMES_TEST_IMAGE_BUILDER", "docker"))
        with tempfile.TemporaryDirectory(prefix="runtimes-bench-") as tmp:
            self.builder.build(write_busybox_context(Path(tmp)), tag=self.image, labels=self.labels)
        run_cli([*shlex.split(loader), self.image])

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    # -- ps and inspect

    def bench_ps(self) -> None:
        labels = self.phase_labels("ps")
        flt = f"label={LABEL}.phase=ps"
        flt_run = f"label={self.label_flag}"
        # Nothing matches yet: the fixed cost of one listing, subtracted below.
        empty = timed_ms("runtimes ps(all), N=0", self._ours_ps(labels, 0), self.s.repeats)
        created = 0
        per_container: dict[int, float] = {}
        for n in sorted(self.s.ns):
            self._create_containers(n - created, labels, first=created)
            created = n
            figure = self.add(
                Figure(
                    f"ps_n{n}",
                    f"ps(all), N={n}",
                    "ms",
                    False,
                    timed_ms("runtimes ps(all)", self._ours_ps(labels, n), self.s.repeats),
                    self._raw_ps(n, flt, flt_run),
                    goal="<= 1.3x" if n == max(self.s.ns) else "",
                    goal_max=1.3 if n == max(self.s.ns) else None,
                )
            )
            if figure.ours.value is not None and empty.value is not None:
                per_container[n] = (figure.ours.value - empty.value) / n * 1000
                figure.extra["us_per_container"] = per_container[n]
                figure.extra["ms_at_n0"] = empty.value
            base = figure.baseline()
            if base is not None and base.value is not None:
                figure.extra["raw_us_per_container"] = base.value / n * 1000
        ns = sorted(per_container)
        if ns:
            top = self.figures[-1]
            if len(ns) >= 2:
                grows = per_container[ns[-1]] / max(per_container[ns[-2]], 1e-9)
                top.checks.append(
                    (f"cost per container N={ns[-2]}->{ns[-1]} x{grows:.2f} (<= 1.5)", grows <= 1.5)
                )
                top.extra["per_container_growth"] = grows
            else:
                top.checks.append(("cost per container flat: needs two N", None))
        one = self.rt.ps(all=True, labels=labels)[0]
        self.add(
            Figure(
                "inspect",
                "inspect",
                "ms",
                False,
                timed_ms("runtimes inspect", lambda: self.rt.inspect(one.id), self.s.repeats),
                self._raw_inspect(one.id, one.name),
            )
        )

    def _ours_ps(self, labels: dict[str, str], n: int) -> Callable[[], Any]:
        return _expecting(n, lambda: self.rt.ps(all=True, labels=labels), len)

    def _create_containers(self, count: int, labels: dict[str, str], first: int) -> None:
        """``count`` more containers: one in five started (it exits at once,
        so state and exit code are real), the rest only created, because a
        stopped container costs the engine no process and N=200 running
        ones would need 200 shims on a shared machine."""

        def make(i: int) -> None:
            if self._stop.is_set():
                return
            if i % 5 == 0:
                c = self.rt.run(self.image, ["true"], labels=labels)
                self.rt.wait(c)
            else:
                self.rt.create(self.image, ["true"], labels=labels)

        with self._pool(4) as pool:
            list(pool.map(make, range(first, first + count)))

    @contextlib.contextmanager
    def _pool(self, workers: int) -> Iterator[ThreadPoolExecutor]:
        pool = ThreadPoolExecutor(workers)
        self._pools.append(pool)
        try:
            yield pool
        except BaseException:
            self._stop.set()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            self._pools.remove(pool)

    def _raw_ps(self, n: int, flt: str, flt_run: str) -> list[Contender]:
        """The raw listings; each must list exactly the ``n`` containers, or
        it is recorded as failed (a filter the SDK drops would list none, fast)."""
        r, sdk = self.raw, self.raw.sdk
        # Both filters, as ours: this run's label and the phase's.
        filters = ["--filter", flt, "--filter", flt_run]
        sdk_filter: Any = {"label": [self.label_flag, f"{LABEL}.phase=ps"]}
        if self.name == "podman":
            # podman-py turns a dict's list value into its str(); a list of
            # "key=value" gives each label its own filter.
            sdk_filter = [f"label={self.label_flag}", f"label={LABEL}.phase=ps"]
        lines = lambda out: len(out.splitlines())  # noqa: E731
        paths: list[tuple[str, Callable[[], Any], Callable[[Any], int], bool]] = []
        per_item = n <= 50  # one call per container: bounded, 200 of them add nothing
        if self.name == "docker":
            paths += [
                (
                    "docker SDK api.containers (one call)",
                    lambda: sdk.api.containers(all=True, filters=sdk_filter),
                    len,
                    True,
                ),
                (
                    "docker CLI ps + one batched inspect",
                    lambda: json.loads(r("inspect", *r("ps", "-aq", *filters).decode().split())),
                    len,
                    True,
                ),
                (
                    "docker CLI ps --format json (no exit code)",
                    lambda: r("ps", "-a", "--no-trunc", "--format", "{{json .}}", *filters),
                    lines,
                    False,
                ),
            ]
            if per_item:
                paths.append(
                    (
                        "docker SDK containers.list (N+1 calls)",
                        lambda: [
                            c.attrs for c in sdk.containers.list(all=True, filters=sdk_filter)
                        ],
                        len,
                        True,
                    )
                )
        elif self.name == "podman":
            paths += [
                (
                    "podman CLI ps --format json",
                    lambda: json.loads(r("ps", "-a", "--format", "json", *filters)),
                    len,
                    True,
                ),
                (
                    "podman-py containers.list (one call)",
                    lambda: sdk.containers.list(all=True, filters=sdk_filter),
                    len,
                    True,
                ),
            ]
            if per_item:
                paths.append(
                    (
                        "podman-py containers.list(sparse=False) (N+1 calls)",
                        lambda: sdk.containers.list(all=True, filters=sdk_filter, sparse=False),
                        len,
                        True,
                    )
                )
        elif self.name == "kubernetes":
            selector = f"{self.label_flag},{LABEL}.phase=ps"
            paths.append(
                (
                    "kubectl get pods -o json",
                    lambda: json.loads(r("get", "pods", "-o", "json", "-l", selector))["items"],
                    len,
                    True,
                )
            )
        else:

            def ids() -> list[str]:
                return r("ps", "-aq", "--no-trunc", *filters).decode().split()

            paths += [
                (
                    "nerdctl CLI ps + one batched inspect",
                    lambda: json.loads(r("inspect", *ids())),
                    len,
                    True,
                ),
                (
                    "nerdctl CLI ps only (no state)",
                    lambda: r("ps", "-a", "--format", "{{json .}}", *filters),
                    lines,
                    False,
                ),
            ]
            if per_item:
                paths.append(
                    (
                        "nerdctl CLI ps + one inspect each (python-on-whales style)",
                        lambda: [r("inspect", i) for i in ids()],
                        len,
                        True,
                    )
                )
        return [
            timed_ms(label, _expecting(n, call, count), self.s.repeats, same_fields=same)
            for label, call, count, same in paths
        ]

    def _raw_inspect(self, ref: str, name: str) -> list[Contender]:
        r, reps = self.raw, self.s.repeats
        if self.name == "kubernetes":
            get = lambda: json.loads(r("get", "pod", name, "-o", "json"))  # noqa: E731
            return [timed_ms("kubectl get pod -o json", get, reps)]
        raw = [timed_ms(f"{self.name} CLI inspect", lambda: json.loads(r("inspect", ref)), reps)]
        if self.name == "docker":
            raw.append(
                timed_ms(
                    "docker SDK api.inspect_container",
                    lambda: r.sdk.api.inspect_container(ref),
                    reps,
                )
            )
        elif self.name == "podman":
            raw.append(
                timed_ms("podman-py containers.get", lambda: r.sdk.containers.get(ref).attrs, reps)
            )
        return raw

    # -- run to exit

    def bench_run(self) -> None:
        labels = self.phase_labels("run")
        r, reps, flag = self.raw, self.s.repeats, f"{LABEL}.phase=run"

        def ours() -> None:
            c = self.rt.run(self.image, ["true"], labels=labels)
            self.rt.wait(c)
            self.rt.remove(c)

        # The paths are timed in turn: run to exit is a second of the
        # engine's work, and load that changes between whole series skewed
        # the ratio by up to 0.2.
        paths: list[tuple[str, Callable[[], Any]]] = [("runtimes run+wait+remove", ours)]
        if self.name == "kubernetes":
            # kubectl's nearest: a pod that is waited for and deleted.
            paths.append(
                (
                    "kubectl run --rm (CLI)",
                    lambda: r(
                        "run",
                        f"runtimes-bench-{uuid.uuid4().hex[:8]}",
                        "--rm",
                        "-i",
                        "--restart=Never",
                        f"--image={self.image}",
                        "--image-pull-policy=Never",
                        f"--labels={self.label_flag},{flag}",
                        "--quiet",
                        "--command",
                        "--",
                        "true",
                    ),
                )
            )
        else:
            paths.append(
                (
                    f"{self.name} run --rm (CLI)",
                    lambda: r(
                        "run",
                        "--rm",
                        "--label",
                        self.label_flag,
                        "--label",
                        flag,
                        self.image,
                        "true",
                    ),
                )
            )
        if self.name in ("docker", "podman"):
            sdk_label = (
                "docker SDK containers.run(remove=True)"
                if self.name == "docker"
                else "podman-py containers.run(remove=True)"
            )
            paths.append(
                (
                    sdk_label,
                    lambda: r.sdk.containers.run(self.image, ["true"], labels=labels, remove=True),
                )
            )
        ours_c, *raw = timed_in_turn(paths, reps)
        self.add(
            Figure(
                "run_to_exit",
                "run + wait + remove",
                "ms",
                False,
                ours_c,
                raw,
                goal="<= 1.05x run --rm",
                goal_max=1.05,
            )
        )
        figure = self.figures[-1]
        # The goal names the runtime's own `run --rm`, not the fastest path.
        for c in figure.raw:
            c.same_fields = c.label.endswith("run --rm (CLI)")

    # -- logs

    def bench_logs(self) -> None:
        labels = self.phase_labels("logs")
        lines = max(1, int(self.s.logs_mb * 1e6) // len(LOG_LINE))
        size = lines * len(LOG_LINE)
        text = LOG_LINE[:-1].decode()
        command = ["sh", "-c", f"yes {text} | head -n {lines}"]
        notes = []
        if self.name == "nerdctl":
            # The library has no log options: the raw CLI starts the writer.
            flags = [f for k, v in labels.items() for f in ("--label", f"{k}={v}")]
            cid = self.raw("run", "-d", *flags, *NERDCTL_LOG_OPTS, self.image, *command)
            c = self.rt.inspect(cid.decode().strip())
            notes.append(
                f"writer started by the CLI with {' '.join(NERDCTL_LOG_OPTS)}: the default"
                " 100 MB rotation leaves `nerdctl logs` only the newest file"
            )
        else:
            c = self.rt.run(self.image, command, labels=labels)
        code = self.rt.wait(c, timeout=600)
        if code != 0:
            raise RuntimeError(f"the log writer exited {code}")
        waited, stored, polls = self._wait_for_log(c.id, size)
        notes.append(
            f"waited {waited:.1f} s after the exit for the whole log to be stored:"
            f" {polls} CLI read(s), the last got {stored / 1e6:g} of {size / 1e6:g} MB"
        )
        reps = min(self.s.repeats, 3)

        def ours() -> int:
            got = n = 0
            for line in self.rt.logs(c.id):
                got += len(line.data)
                n += 1
            if got != size or n != lines:
                raise RuntimeError(
                    f"runtimes logs read {got} bytes in {n} lines, not {size} in {lines}"
                )
            return got

        def cli() -> int:
            got = count_stream([*self.raw.cli, "logs", c.id])
            if got != size:
                raise RuntimeError(f"CLI logs read {got} bytes, not {size}")
            return got

        def sdk() -> int:
            if self.name == "docker":
                stream = self.raw.sdk.api.logs(c.id, stream=True, follow=False)
            else:
                stream = self.raw.sdk.containers.get(c.id).logs(stream=True, follow=False)
            got = sum(len(chunk) for chunk in stream)
            if got != size:
                raise RuntimeError(f"SDK logs read {got} bytes, not {size}")
            return got

        def throughput(label: str, call: Callable[[], int]) -> Contender:
            timed = timed_ms(label, call, reps, warmup=False)
            if timed.value is not None:
                timed.extra["ms"] = timed.value
                timed.value = size / 1e6 / (timed.value / 1000)
            return timed

        raw = [throughput(f"{self.name} logs (CLI)", cli)]
        if self.name in ("docker", "podman"):
            sdk_label = (
                "docker SDK api.logs(stream)" if self.name == "docker" else "podman-py logs(stream)"
            )
            raw.append(throughput(sdk_label, sdk))
        ours_c = throughput("runtimes logs", ours)
        rss = self._rss_probe(c.id, "runtimes")
        ours_c.extra.update(rss)
        for contender in raw:
            if contender.label.startswith(("docker SDK", "podman-py")):
                contender.extra.update(self._rss_probe(c.id, "sdk"))
        growth = rss.get("rss_growth_mb")
        self.add(
            Figure(
                "logs",
                f"logs, {size / 1e6:g} MB",
                "MB/s",
                True,
                ours_c,
                raw,
                goal=">= 0.9x, RSS growth <= 32 MB",
                goal_min=0.9,
                checks=[
                    (
                        f"peak RSS growth {growth:.1f} MB (<= 32)"
                        if growth is not None
                        else "peak RSS growth not measured",
                        None if growth is None else growth <= 32,
                    )
                ],
                extra={"bytes": size, "lines": lines, "store_wait_s": waited},
                notes=notes,
            )
        )
        self.rt.remove(c, force=True)

    def _wait_for_log(self, ref: str, size: int) -> tuple[float, int, int]:
        """Seconds from the writer's exit to the start of the runtime's own
        CLI read that got ``size`` bytes of its log (a log driver may store
        the tail after ``wait`` has returned: 0 when the first read had it
        all), the bytes that read got and how many reads it took.
        It gives up after :data:`LOG_STORE_WAIT` s, or once 30 s of reads
        found nothing more: the timed reads then fail on the size check."""
        started = time.perf_counter()
        best, best_at, polls = -1, started, 0
        while True:
            began = time.perf_counter()
            stored = count_stream([*self.raw.cli, "logs", ref], timeout=LOG_STORE_WAIT)
            polls += 1
            now = time.perf_counter()
            if stored > best:
                best, best_at = stored, now
            if stored >= size or now - started > LOG_STORE_WAIT or now - best_at > 30:
                return began - started, stored, polls
            time.sleep(min(5.0, 0.5 * polls))

    def _rss_probe(self, ref: str, mode: str) -> dict[str, Any]:
        """Peak RSS growth of a fresh interpreter while it reads the whole
        log: VmHWM is reset to the current RSS (``clear_refs``) once the
        client is connected and warm, and read again at the end."""
        try:
            done = subprocess.run(
                [sys.executable, "-c", RSS_PROBE, self.name, ref, mode],
                capture_output=True,
                text=True,
                timeout=CLI_TIMEOUT,
                check=True,
            )
            probe: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        except (subprocess.CalledProcessError, ValueError, IndexError) as exc:
            stderr = getattr(exc, "stderr", "") or ""
            return {"rss_error": f"{_short(exc)} {stderr[-200:]}"}
        probe["rss_growth_mb"] = (probe["hwm_after_kb"] - probe["hwm_before_kb"]) / 1024
        return probe

    # -- build

    def bench_build(self) -> None:
        reps, r = self.s.repeats, self.raw
        counter = iter(range(1_000_000))
        with tempfile.TemporaryDirectory(prefix="runtimes-bench-build-") as tmp:
            context = write_busybox_context(Path(tmp), BUILD_DOCKERFILE)
            (context / "data").write_bytes(os.urandom(64 << 10))

            def tag() -> str:
                return f"runtimes-bench-build:{self.s.run_id}-{next(counter)}"

            def ours() -> None:
                t = tag()
                self.rt.build(context, tag=t, labels=self.labels, no_cache=True)
                self._drop_image(t)

            def cli() -> None:
                t = tag()
                r(
                    "build",
                    *r.build_flags,
                    "--no-cache",
                    "-t",
                    t,
                    "--label",
                    self.label_flag,
                    str(context),
                )
                self._drop_image(t)

            # No untimed warm-up: a build without cache pays nothing once only.
            raw = [timed_ms(f"{self.name} build --no-cache (CLI)", cli, reps, warmup=False)]
            if self.name in ("docker", "podman"):

                def sdk() -> None:
                    t = tag()
                    built = r.sdk.images.build(
                        path=str(context),
                        dockerfile="Dockerfile",
                        tag=t,
                        labels=self.labels,
                        nocache=True,
                        rm=True,
                    )
                    # podman-py's default name for the Dockerfile is a random
                    # one that it then fails to find; docker-py returns
                    # (image, log stream), podman-py too
                    if isinstance(built, tuple):
                        list(built[1])
                    self._drop_image(t)

                sdk_label = (
                    "docker SDK images.build" if self.name == "docker" else "podman-py images.build"
                )
                raw.append(timed_ms(sdk_label, sdk, reps, warmup=False))
            self.add(
                Figure(
                    "build",
                    "build (small context, no cache)",
                    "ms",
                    False,
                    timed_ms("runtimes build", ours, reps, warmup=False),
                    raw,
                )
            )

    def _drop_image(self, ref: str) -> None:
        with contextlib.suppress(runtimes.NotFound):
            self.rt.remove_image(ref, force=True)

    # -- copy (running and stopped containers)

    def bench_copy(self) -> None:
        labels = self.phase_labels("copy")
        with tempfile.TemporaryDirectory(prefix="runtimes-bench-copy-") as tmp:
            source = Path(tmp) / "blob"
            source.write_bytes(os.urandom(self.s.copy_mb << 20))
            back = Path(tmp) / "back"
            running = self.rt.run(self.image, ["sleep", "3600"], labels=labels)
            stopped = self.rt.run(self.image, ["true"], labels=labels)
            self.rt.wait(stopped)
            try:
                for state, c in (("running", running), ("stopped", stopped)):
                    self._copy_figures(state, c.id, source, back)
            finally:
                self.rt.remove(running, force=True)
                self.rt.remove(stopped, force=True)

    def _copy_figures(self, state: str, ref: str, source: Path, back: Path) -> None:
        reps, r, mb = self.s.repeats, self.raw, self.s.copy_mb

        def ours_in() -> None:
            self.rt.copy_to(ref, source, "/tmp/blob")

        def cli_in() -> None:
            r("cp", str(source), f"{ref}:/tmp/blob")

        def ours_out() -> None:
            self.rt.copy_from(ref, "/tmp/blob", back)

        def cli_out() -> None:
            r("cp", f"{ref}:/tmp/blob", str(back))

        self.add(
            Figure(
                f"copy_to_{state}",
                f"copy_to {mb} MB, {state}",
                "ms",
                False,
                timed_ms("runtimes copy_to", ours_in, reps),
                [timed_ms(f"{self.name} cp in (CLI)", cli_in, reps)],
            )
        )
        self.add(
            Figure(
                f"copy_from_{state}",
                f"copy_from {mb} MB to a path, {state}",
                "ms",
                False,
                timed_ms("runtimes copy_from (to a path)", ours_out, reps),
                [timed_ms(f"{self.name} cp out (CLI)", cli_out, reps)],
            )
        )

    # -- push and pull

    def bench_registry(self) -> None:
        """Each push goes to a fresh registry and each pull starts with no
        local copy, so every byte moves every time."""
        from runtimes.testing.registry import LocalRegistry

        flags = CLI_REGISTRY_FLAGS[self.name]
        reps, r = min(self.s.repeats, 3), self.raw
        with tempfile.TemporaryDirectory(prefix="runtimes-bench-reg-") as tmp:
            context = write_busybox_context(
                Path(tmp), "FROM scratch\nCOPY busybox /bin/busybox\nCOPY blob /blob\n"
            )
            (context / "blob").write_bytes(os.urandom(self.s.registry_mb << 20))
            local = f"runtimes-bench/blob:{self.s.run_id}"
            self.rt.build(context, tag=local, labels=self.labels)
        samples: dict[str, list[float]] = {}

        def timed(what: str, call: Callable[[], Any]) -> None:
            started = time.perf_counter()
            call()
            samples.setdefault(what, []).append((time.perf_counter() - started) * 1000)

        cli_push, cli_pull = f"{self.name} push (CLI)", f"{self.name} pull (CLI)"
        for _ in range(reps):
            for what in ("runtimes push", cli_push):
                with LocalRegistry() as registry:
                    ref = registry.ref(f"bench/{self.s.run_id}", "1")
                    self.rt.configure(insecure_registries=[registry.host])
                    self.rt.tag(local, ref)
                    if what == "runtimes push":
                        timed(what, functools.partial(self.rt.push, ref))
                    else:
                        timed(what, functools.partial(r, "push", *flags, ref))
                    self._drop_image(ref)
        with LocalRegistry() as registry:
            ref = registry.ref(f"bench/{self.s.run_id}", "1")
            self.rt.configure(insecure_registries=[registry.host])
            self.rt.tag(local, ref)
            self.rt.push(ref)
            self._drop_image(ref)
            self._drop_image(local)  # no local copy of the layer is left
            for _ in range(reps):
                for what in ("runtimes pull", cli_pull):
                    if what == "runtimes pull":
                        timed(what, lambda: self.rt.pull(ref))
                    else:
                        timed(what, lambda: r("pull", *flags, ref))
                    self._drop_image(ref)
        for verb, cli_label in (("push", cli_push), ("pull", cli_pull)):

            def contender(label: str) -> Contender:
                got = samples.get(label, [])
                return Contender(
                    label,
                    statistics.median(got) if got else None,
                    extra={"samples_ms": [round(s, 3) for s in got]},
                )

            self.add(
                Figure(
                    verb,
                    f"{verb} {self.s.registry_mb} MB layer",
                    "ms",
                    False,
                    contender(f"runtimes {verb}"),
                    [contender(cli_label)],
                )
            )

    # -- threads

    def bench_threads(self) -> None:
        jobs = self.s.threads * self.s.jobs_per_thread
        ours = self._threaded("threads-ours", jobs, self._job_ours)
        raw = self._threaded("threads-cli", jobs, self._job_cli)
        ours_c = Contender(
            f"runtimes, {self.s.threads} threads", ours.pop("jobs_per_s"), extra=ours
        )
        raw_c = Contender(
            f"{self.name} CLI run/wait/logs/rm, {self.s.threads} threads",
            raw.pop("jobs_per_s"),
            extra=raw,
        )
        self.add(
            Figure(
                "threads",
                f"{self.s.threads} threads x {self.s.jobs_per_thread} run/wait/logs/remove",
                "jobs/s",
                True,
                ours_c,
                [raw_c],
                goal=">= 0.9x, 0 errors / wrong logs / leaks",
                goal_min=0.9,
                checks=[
                    (f"errors {ours['errors']} (0)", ours["errors"] == 0),
                    (f"wrong logs {ours['wrong_logs']} (0)", ours["wrong_logs"] == 0),
                    (f"leaked {ours['leaked']} (0)", ours["leaked"] == 0),
                ],
            )
        )

    def _job_ours(self, token: str, labels: dict[str, str]) -> bytes:
        c = self.rt.run(self.image, ["echo", token], labels=labels)
        try:
            self.rt.wait(c, timeout=300)
            return b"".join(line.data for line in self.rt.logs(c))
        finally:
            self.rt.remove(c, force=True)

    def _job_cli(self, token: str, labels: dict[str, str]) -> bytes:
        flags = [x for k, v in labels.items() for x in ("--label", f"{k}={v}")]
        ref = self.raw("run", "-d", *flags, self.image, "echo", token).decode().split()[-1]
        try:
            self.raw("wait", ref, timeout=300)
            return self.raw("logs", ref)
        finally:
            self.raw("rm", "-f", ref)

    def _threaded(
        self, phase: str, jobs: int, job: Callable[[str, dict[str, str]], bytes]
    ) -> dict[str, Any]:
        labels = self.phase_labels(phase)
        errors: list[str] = []
        wrong: list[str] = []
        lock = threading.Lock()

        def one(i: int) -> None:
            if self._stop.is_set():
                return
            token = f"{self.s.run_id}-{phase}-{i}"
            try:
                got = job(token, labels)
            except Exception as exc:
                with lock:
                    errors.append(_short(exc))
                return
            if got != f"{token}\n".encode():
                with lock:
                    wrong.append(f"{token}: {got[:80]!r}")

        started = time.perf_counter()
        with self._pool(self.s.threads) as pool:
            list(pool.map(one, range(jobs)))
        seconds = time.perf_counter() - started
        leaked = self.rt.ps(all=True, labels=labels)
        return {
            "jobs_per_s": jobs / seconds,
            "jobs": jobs,
            "seconds": seconds,
            "errors": len(errors),
            "wrong_logs": len(wrong),
            "leaked": len(leaked),
            "error_samples": errors[:5],
            "wrong_samples": wrong[:5],
        }

    # -- cleanup

    def cleanup(self) -> list[str]:
        """Remove everything this run labelled; return what survived."""
        self._stop.set()
        for pool in list(self._pools):
            pool.shutdown(wait=True, cancel_futures=True)
        left = cleanup(self.rt, self.labels)
        if self.builder is not None:
            left += [f"{self.builder.name} {what}" for what in cleanup(self.builder, self.labels)]
        return left

    def close(self) -> None:
        self.raw.close()
        self.rt.close()
        if self.builder is not None:
            self.builder.close()


CLI_REGISTRY_FLAGS = {
    "docker": [],  # dockerd treats 127.0.0.0/8 as insecure
    "podman": ["--tls-verify=false"],
    "nerdctl": ["--insecure-registry"],
}

BUILD_DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
COPY data /data
RUN ["/bin/busybox", "cp", "/data", "/data.copy"]
"""

RSS_PROBE = r"""
import json, sys
name, ref, mode = sys.argv[1:4]

def hwm_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])

import runtimes
rt = runtimes.connect(name)
if mode == "runtimes":
    read = lambda: sum(len(line.data) for line in rt.logs(ref))
    warm = lambda: list(rt.logs(ref, tail=1))
elif name == "docker":
    import docker
    client = docker.DockerClient(base_url=rt.host, timeout=600)
    read = lambda: sum(len(c) for c in client.api.logs(ref, stream=True, follow=False))
    warm = lambda: client.api.logs(ref, tail=1)
else:
    import podman
    client = podman.PodmanClient(base_url=rt.host, timeout=600)
    read = lambda: sum(len(c) for c in client.containers.get(ref).logs(stream=True, follow=False))
    warm = lambda: list(client.containers.get(ref).logs(stream=True, tail=1))
warm()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset VmHWM to the current RSS
before = hwm_kb()
count = read()
print(json.dumps({"bytes_read": count, "hwm_before_kb": before, "hwm_after_kb": hwm_kb()}))
rt.close()  # a private Podman service it started goes with it
"""


def cleanup(rt: runtimes.Runtime, labels: dict[str, str]) -> list[str]:
    """Like ``runtimes.testing.cleanup``, without needing pytest installed."""
    store = runtimes.Capability.IMAGE_STORE in rt.capabilities
    for container in rt.ps(all=True, labels=labels):
        with contextlib.suppress(runtimes.NotFound):
            rt.remove(container, force=True)
    for image in rt.images(labels=labels) if store else ():
        with contextlib.suppress(runtimes.NotFound):
            rt.remove_image(image.id, force=True)
    left = [f"container {c.name} ({c.id[:12]})" for c in rt.ps(all=True, labels=labels)]
    left += [
        f"image {i.id[:19]} {' '.join(i.tags)}" for i in (rt.images(labels=labels) if store else ())
    ]
    return left


# -- report ---------------------------------------------------------------------------


def engine_label(name: str, info: dict[str, Any]) -> str:
    """``docker 20.10.24``; for nerdctl, whose engine is containerd,
    ``nerdctl 2.2.2 on containerd 2.4.2``."""
    version = info.get("version", "?")
    if info.get("client_version"):
        return f"{name} {info['client_version']} on containerd {version}"
    return f"{name} {version}"


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "error"
    if unit == "ms":
        return f"{value:.1f} ms" if value < 1000 else f"{value / 1000:.2f} s"
    return f"{value:.1f} {unit}"


def table_rows(result: dict[str, Any]) -> list[list[str]]:
    rows = []
    if result.get("import"):
        rows.append(_row("-", result["import"]))
    for name, runtime in result["runtimes"].items():
        for fig in runtime.get("figures", []):
            rows.append(_row(name, fig))
    return rows


def _row(name: str, fig: dict[str, Any]) -> list[str]:
    base = next((c for c in fig["raw"] if c["label"] == fig["baseline"]), None)
    ours = fmt(fig["ours"]["value"], fig["unit"])
    extra, ours_extra = fig["extra"], fig["ours"]["extra"]
    if "us_per_container" in extra:
        ours += f" ({extra['us_per_container']:.0f} µs/ctr)"
    if ours_extra.get("rss_growth_mb") is not None:
        ours += f", RSS +{ours_extra['rss_growth_mb']:.1f} MB"
    if "importtime_ms" in ours_extra:
        ours += f" (-X importtime {ours_extra['importtime_ms']:.1f} ms)"
    if fig["key"] == "threads":
        ours += (
            f", {ours_extra['errors']} err, {ours_extra['wrong_logs']} wrong,"
            f" {ours_extra['leaked']} leaked"
        )
    raw = f"{fmt(base['value'], fig['unit'])} {base['label']}" if base else "error"
    if base and "importtime_ms" in base["extra"]:
        raw += f" (-X importtime {base['extra']['importtime_ms']:.1f} ms)"
    ratio = f"{fig['ratio']:.2f}x" if fig["ratio"] is not None else "-"
    # Every part of the goal is shown, met or not: "PASS" alone hides which.
    parts = [
        c["what"] + ("" if c["ok"] else " MISS" if c["ok"] is False else " n/a")
        for c in fig["checks"]
    ]
    status = fig["status"] + (f" ({'; '.join(parts)})" if parts else "")
    return [name, fig["title"], ours, raw, ratio, fig["goal"] or "-", status]


HEADER = ["runtime", "figure", "runtimes", "fastest raw path", "ratio", "goal", "check"]


def markdown_table(result: dict[str, Any]) -> str:
    m = result["machine"]
    engines = ", ".join(engine_label(n, r.get("info", {})) for n, r in result["runtimes"].items())
    quick = (
        " (`--quick` smoke run: small sizes, 1 repeat; not a measurement)"
        if result["settings"]["quick"]
        else ""
    )
    lines = [
        f"Run `{result['run_id']}` on {result['date']}{quick}: {m['cores']} cores, "
        f"kernel {m['kernel']}, Python {m['python']}, load {m['loadavg']}; {engines}.",
        "",
        "Ratios are runtimes / the fastest raw path with the same fields (for MB/s and jobs/s, "
        "higher is better, so the goal is a floor).",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
    ]
    for row in table_rows(result):
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    lines += [f"\n- {e}" for e in contender_errors(result)]
    for name, runtime in result["runtimes"].items():
        for note in runtime.get("notes", []):
            lines.append(f"\n- {name}: {note}")
        if runtime.get("skipped"):
            lines.append(f"\n- {name}: not measured: {runtime['skipped']}")
        if runtime.get("survivors"):
            lines.append(f"\n- {name}: left behind: {', '.join(runtime['survivors'])}")
    return "\n".join(lines) + "\n"


def contender_errors(result: dict[str, Any]) -> list[str]:
    """The paths that failed (a raw path's failure is a finding too), and
    the figures' own notes on how they were measured."""
    errors = []
    for name, runtime in result["runtimes"].items():
        for fig in runtime.get("figures", []):
            for c in [fig["ours"], *fig["raw"]]:
                if c["error"]:
                    errors.append(f"{name}, {fig['title']}: {c['label']} failed: {c['error']}")
            errors += [f"{name}, {fig['title']}: {note}" for note in fig.get("notes", [])]
    return errors


def print_table(result: dict[str, Any]) -> None:
    rows = table_rows(result)
    widths = [max(len(r[i]) for r in [HEADER, *rows]) for i in range(len(HEADER))]
    print()
    for row in [HEADER, ["-" * w for w in widths], *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    for line in contender_errors(result):
        print(f"  {line}")
    for name, runtime in result["runtimes"].items():
        for note in runtime.get("notes", []):
            print(f"  {name}: {note}")
        if runtime.get("skipped"):
            print(f"  {name}: not measured: {runtime['skipped']}")
    print()


def write_chart(result: dict[str, Any], path: Path) -> bool:
    """One bar per figure and runtime: the cost ratio to the fastest raw path
    (time ratio; throughput ratios inverted so that below 1 is always
    faster), with each goal's ceiling marked."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no chart: matplotlib is missing (pip install 'runtimes[bench]')")
        return False
    names = list(result["runtimes"])
    titles: list[str] = []
    keys: list[str] = []
    for runtime in result["runtimes"].values():
        for fig in runtime.get("figures", []):
            if fig["key"] not in keys:
                keys.append(fig["key"])
                titles.append(re.sub(r", (running|stopped)$", r" (\1)", fig["title"]))
    fig_h = 1.5 + 0.3 * (len(keys) + 1) * max(1, len(names))
    figure, ax = plt.subplots(figsize=(9, fig_h))
    height = 0.8 / max(1, len(names))
    colors = {"docker": "#1d63ed", "podman": "#892ca0", "nerdctl": "#e67e22"}
    for i, name in enumerate(names):
        by_key = {f["key"]: f for f in result["runtimes"][name].get("figures", [])}
        ys, xs = [], []
        for j, key in enumerate(keys):
            f = by_key.get(key)
            if f is None or f["ratio"] is None:
                continue
            cost = 1 / f["ratio"] if f["higher_is_better"] else f["ratio"]
            ys.append(j + i * height)
            xs.append(cost)
            miss = f["status"] == "MISS"
            ax.text(
                cost,
                j + i * height,
                f" {cost:.2f}" + (" MISS" if miss else ""),
                va="center",
                fontsize=7,
                color="#c0392b" if miss else "black",
            )
        ax.barh(ys, xs, height=height, label=name, color=colors.get(name))
    imp = result.get("import")
    if imp and imp["ratio"] is not None:
        keys.append("import")
        titles.append("import runtimes vs import attrs")
        y = len(keys) - 1 + height * (len(names) - 1) / 2
        ax.barh([y], [imp["ratio"]], height=height, color="#777777")
        ax.text(imp["ratio"], y, f" {imp['ratio']:.2f}", va="center", fontsize=7)
    ax.set_yticks([j + height * (len(names) - 1) / 2 for j in range(len(keys))])
    ax.set_yticklabels(titles, fontsize=8)
    # Ratios: 2x slower and 2x faster are the same distance from 1.
    ax.set_xscale("log")
    ticks = [0.125, 0.25, 0.5, 1, 2, 4, 8, 16]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.set_xlim(0.1, 20)
    ax.set_ylim(len(keys) - 0.5 + height * (len(names) - 1), -0.5)
    ax.axvline(1.0, color="black", linewidth=0.8)
    for x, style in ((1.05, ":"), (1.3, "--")):
        ax.axvline(x, color="grey", linewidth=0.8, linestyle=style)
    ax.set_xlabel("cost of runtimes / fastest raw path (below 1: runtimes is faster)")
    m = result["machine"]
    quick = " (--quick smoke run)" if result["settings"]["quick"] else ""
    ax.set_title(
        f"runtimes benchmark {result['date'][:16]}{quick}\n"
        f"{m['cores']} cores, kernel {m['kernel']}",
        fontsize=9,
    )
    ax.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def update_docs(result: dict[str, Any], table: str, chart: Path | None) -> None:
    page = ROOT / "docs" / "performance.md"
    text = page.read_text()
    image = ""
    if chart is not None:
        target = ROOT / "docs" / "img" / "performance.png"
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(chart, target)
        image = "![runtimes against the raw paths](img/performance.png)\n\n"
    start, end = text.index(DOCS_BEGIN), text.index(DOCS_END)
    text = text[: start + len(DOCS_BEGIN)] + "\n\n" + image + table + "\n" + text[end:]
    page.write_text(text)


# -- main -----------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "runtimes_version": getattr(runtimes, "__version__", "?"),
    }


def parse(argv: list[str] | None) -> Settings:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runtimes", default=",".join(ALL_RUNTIMES), help="comma-separated")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: N=10, 5 MB, 4 threads, 1 repeat"
    )
    parser.add_argument(
        "--repeats", type=int, help="timed runs per figure, median kept (default 5)"
    )
    parser.add_argument("--ns", help="container counts for ps, comma-separated (default 10,50,200)")
    parser.add_argument("--logs-mb", type=float, help="size of the log read (default 200)")
    parser.add_argument("--threads", type=int, help="threads for the concurrent run (default 32)")
    parser.add_argument("--jobs-per-thread", type=int, help="default 4 (2 with --quick)")
    parser.add_argument(
        "--registry-mb", type=int, help="layer pushed and pulled; 0 skips (default 50)"
    )
    parser.add_argument("--copy-mb", type=int, help="file copied in and out; 0 skips (default 10)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--docs", action="store_true", help="also update docs/performance.md")
    parser.add_argument(
        "--only",
        help=f"comma-separated phases to measure (default all): {', '.join(PHASES)}",
    )
    parser.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="measure nothing: redraw the table and chart (and --docs) from a bench.json",
    )
    args = parser.parse_args(argv)
    quick = args.quick

    def pick(value: Any, full: Any, smoke: Any) -> Any:
        return value if value is not None else (smoke if quick else full)

    names = [n.strip() for n in args.runtimes.split(",") if n.strip()]
    unknown = sorted(set(names) - set(ALL_RUNTIMES) - set(CLUSTER_RUNTIMES))
    if unknown:
        parser.error(f"unknown runtime(s): {', '.join(unknown)}")
    only = tuple(p.strip() for p in args.only.split(",") if p.strip()) if args.only else PHASES
    if set(only) - set(PHASES):
        parser.error(f"unknown phase(s): {', '.join(sorted(set(only) - set(PHASES)))}")
    return Settings(
        runtimes=names,
        ns=[int(n) for n in pick(args.ns, "10,50,200", "10").split(",")],
        logs_mb=pick(args.logs_mb, 200.0, 5.0),
        threads=pick(args.threads, 32, 4),
        jobs_per_thread=pick(args.jobs_per_thread, 4, 2),
        repeats=pick(args.repeats, 5, 1),
        registry_mb=pick(args.registry_mb, 50, 1),
        copy_mb=pick(args.copy_mb, 10, 1),
        out=args.out,
        docs=args.docs,
        quick=quick,
        render=args.render,
        only=only,
    )


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Interrupted(f"signal {signum}")


def report(result: dict[str, Any], settings: Settings) -> None:
    settings.out.mkdir(parents=True, exist_ok=True)
    table = markdown_table(result)
    (settings.out / "bench.md").write_text(table)
    chart = settings.out / "bench.png"
    has_chart = write_chart(result, chart)
    print_table(result)
    print(f"wrote bench.md{', bench.png' if has_chart else ''} to {settings.out}")
    if settings.docs:
        update_docs(result, table, chart if has_chart else None)
        print("updated docs/performance.md")


def main(argv: list[str] | None = None) -> int:
    settings = parse(argv)
    if settings.render is not None:
        report(json.loads(settings.render.read_text()), settings)
        return 0
    signal.signal(signal.SIGTERM, _on_sigterm)
    started = datetime.datetime.now(datetime.UTC)
    result: dict[str, Any] = {
        "date": started.isoformat(timespec="seconds"),
        "run_id": settings.run_id,
        "machine": machine(),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(settings).items()},
        "runtimes": {},
    }
    print(f"runtimes benchmark, run {settings.run_id} (label {LABEL}={settings.run_id})")
    interrupted = False
    try:
        if "import" in settings.only:
            print("  import runtimes vs import attrs...", flush=True)
            tries = max(settings.repeats, 3 if settings.quick else 7)
            result["import"] = bench_import(tries).as_json()
        for name in settings.runtimes:
            entry: dict[str, Any] = {}
            result["runtimes"][name] = entry
            try:
                bench = RuntimeBench(name, settings)
            except runtimes.RuntimesError as exc:
                entry["skipped"] = _short(exc)
                print(f"  [{name}] not up, skipped: {_short(exc)}")
                continue
            try:
                bench.run()
            finally:
                entry["info"] = bench.info
                entry["figures"] = [f.as_json() for f in bench.figures]
                entry["notes"] = bench.notes
                # A second Ctrl-C must not cut the cleanup short.
                previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
                try:
                    entry["survivors"] = bench.cleanup()
                except Exception as exc:
                    entry["survivors"] = [f"cleanup failed: {_short(exc)}"]
                finally:
                    signal.signal(signal.SIGINT, previous)
                    bench.close()
    except (KeyboardInterrupt, Interrupted):
        interrupted = True
        print("\ninterrupted: cleaned up, writing what was measured")
    result["seconds"] = round(time.time() - started.timestamp(), 1)
    result["interrupted"] = interrupted
    leak_check(settings, result)
    settings.out.mkdir(parents=True, exist_ok=True)
    (settings.out / "bench.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {settings.out / 'bench.json'}")
    report(result, settings)
    return 130 if interrupted else 0


def leak_check(settings: Settings, result: dict[str, Any]) -> None:
    """Ask each engine again for anything labelled with this run: through a
    fresh connection and through the runtime's own CLI, which does not
    depend on the library under test listing correctly."""
    print("leak check:")
    flt = ["--filter", f"label={LABEL}={settings.run_id}"]
    for name in settings.runtimes:
        if result["runtimes"].get(name, {}).get("skipped"):
            continue
        try:
            with runtimes.connect(name) as rt:
                left = [f"container {c.name}" for c in rt.ps(all=True, labels=settings.labels)]
                store = runtimes.Capability.IMAGE_STORE in rt.capabilities
                left += [
                    f"image {' '.join(i.tags) or i.id[:19]}"
                    for i in (rt.images(labels=settings.labels) if store else ())
                ]
                cli = cli_prefix(name, rt)
            own_cli = [
                ("container", [*cli, "ps", "-aq", *flt]),
                ("image", [*cli, "images", "-q", *flt]),
            ]
            if name in CLUSTER_RUNTIMES:
                selector = f"{LABEL}={settings.run_id}"
                own_cli = [("pod", [*cli, "get", "pods", "-o", "name", "-l", selector])]
            for kind, argv in own_cli:
                ids = sorted(set(run_cli(argv, timeout=120).decode().split()))
                left += [f"{kind} {i} (seen by the CLI)" for i in ids]
        except (runtimes.RuntimesError, RuntimeError, OSError, subprocess.SubprocessError) as exc:
            left = [f"could not check: {_short(exc)}"]
        result["runtimes"].setdefault(name, {})["leaked_at_end"] = left
        print(f"  {name}: {'nothing left' if not left else 'LEFT BEHIND: ' + ', '.join(left)}")


if __name__ == "__main__":
    sys.exit(main())
