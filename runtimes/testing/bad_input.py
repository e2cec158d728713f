"""The bad-input matrix (issue 9): malformed or missing input on every verb.

Bind it like the rest of the contract suite::

    from runtimes.testing.bad_input import BadInputContract

    class TestBadInput(BadInputContract):
        pass

Every row of :data:`CASES` calls one public verb of :class:`~runtimes.Runtime`
(or :func:`runtimes.connect`) with one bad argument and names the one
:class:`~runtimes.RuntimesError` subclass it must raise, the same on every
runtime:

* :class:`~runtimes.InvalidSpec` for malformed input (wrong type, a reference
  that starts with ``-`` or holds ``/``, ``?``, ``#``, ``..``, a newline...);
* :class:`~runtimes.ContainerNotFound`, :class:`~runtimes.ImageNotFound`,
  :class:`~runtimes.VolumeNotFound` or :class:`~runtimes.NetworkNotFound`
  for a well-formed reference to nothing (a named volume that ``run`` mounts
  but nobody created included: ``run`` must not create it behind the
  caller's back; a network ``run`` or ``connect_network`` names, too, even
  on a runtime that would then refuse the verb as ``Unsupported``);
* :class:`~runtimes.Timeout` for ``wait(timeout=0)`` on a running container;
* :class:`~runtimes.CommandFailed` when the container's process cannot start
  (missing executable or entrypoint, non-executable file, a workdir that is a
  file), which is what Docker raises for all of them;
* :class:`~runtimes.BuildFailed` for a Dockerfile the builder rejects
  (syntax, unknown target, missing base image, failing step); a context or
  Dockerfile that does not exist is checked before any builder runs, so it is
  :class:`~runtimes.InvalidSpec`.

The exception must be of exactly that class (``type(exc) is expected``), not
merely a subclass.  Each case must also create nothing and change nothing:
the containers (``ps(all=True)``), images and volumes are listed before and
after, and the networks too.  Engines are shared with other sessions, so only *attributable* new
objects count: those whose name or tag holds the case's unique marker, those
labelled by this test session, and, for ``run`` and ``build`` cases only,
unlabelled objects created during the case (what a runtime makes on its own:
an auto-created volume, a failed build's layer images or intermediate
containers).  Objects labelled by other sessions are never counted nor
touched, and unlabelled newcomers during any other verb are someone else's.
Objects of this session that vanish during a case, a running container that
stops, a test image that disappears, and sockets or files that the call
dropped without closing them (a ``ResourceWarning`` during a garbage
collection right after the case) are reported too.  Leaked objects
that carry the marker or the session label are removed after the report;
unlabelled ones are only reported (marked "unlabelled"), since they might
belong to a concurrent session.  A network that a case creates carries the
marker in its name; the session's networks that vanish are reported too.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import io
import math
import re
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import attrs
import pytest

import runtimes
from runtimes.base import Runtime
from runtimes.errors import (
    BuildFailed,
    CommandFailed,
    ContainerNotFound,
    ImageNotFound,
    InvalidSpec,
    NetworkNotFound,
    NotFound,
    PathNotFound,
    RuntimesError,
    Timeout,
    UnknownRuntime,
    VolumeNotFound,
)
from runtimes.models import Capability, Container, ContainerState, ExecResult
from runtimes.testing._base import CONTAINER_VERBS, _Base, need
from runtimes.testing.images import build_test_image, write_busybox_context
from runtimes.testing.plugin import SESSION_LABEL

__all__ = ["BAD_RUN_OPTIONS", "CASES", "BadInputContract", "Case", "Ctx"]

Launch = Callable[..., Container]

#: Seconds the container that "running" cases get lives.  It bounds how long
#: a verb that wrongly accepts an infinite timeout can block.
RUNNING_SECONDS = 30

NAN = math.nan
INF = math.inf


@attrs.define
class Ctx:
    """What a case may use; everything it creates carries ``marker``."""

    rt: Runtime
    #: Unique to the case and runtime; lower-case, valid as a name and a tag.
    marker: str
    session_labels: dict[str, str]
    test_image: str
    tmp_path: Path
    running_container: Container | None = None
    volume_name: str | None = None
    network_name: str | None = None

    @property
    def running(self) -> str:
        """Name of a container running ``sleep`` (cases that ask for "running")."""
        assert self.running_container is not None, "the case does not declare 'running'"
        return self.running_container.name

    @property
    def volume(self) -> str:
        """Name of an existing volume (cases that ask for "volume")."""
        assert self.volume_name is not None, "the case does not declare 'volume'"
        return self.volume_name

    @property
    def network(self) -> str:
        """Name of an existing user network (cases that ask for "network")."""
        assert self.network_name is not None, "the case does not declare 'network'"
        return self.network_name

    @property
    def missing(self) -> str:
        """A well-formed name that no object has."""
        return f"{self.marker}-missing"

    @property
    def missing_image(self) -> str:
        """A well-formed image reference that no local image has; never pullable."""
        return f"127.0.0.1:1/{self.marker}:missing"

    @property
    def tag(self) -> str:
        return f"runtimes-test/{self.marker}:bad"

    def labels(self, **extra: str) -> dict[str, str]:
        return {**self.session_labels, **extra}

    def context(self, dockerfile: str, *, dockerfile_name: str = "Dockerfile") -> Path:
        """A build context with a static busybox and ``dockerfile``."""
        directory = write_busybox_context(self.tmp_path / "context", dockerfile)
        if dockerfile_name != "Dockerfile":
            (directory / "Dockerfile").rename(directory / dockerfile_name)
        return directory


class Case(NamedTuple):
    """One row of the matrix."""

    id: str
    #: Called with the runtime (typed ``Any``: the point is to pass bad types)
    #: and the case's :class:`Ctx`.
    call: Callable[[Any, Ctx], object]
    expected: type[RuntimesError]
    #: Fixtures prepared before the "before" listing: "running", "volume", "network".
    needs: tuple[str, ...] = ()


# -- the rows -----------------------------------------------------------------------

_CONTAINER_VERBS = CONTAINER_VERBS

# (id, reference built from the ctx, expected class)
_BAD_REFS: list[tuple[str, Callable[[Ctx], object], type[RuntimesError]]] = [
    ("dash-help", lambda ctx: "--help", InvalidSpec),
    ("dash-privileged", lambda ctx: "--privileged", InvalidSpec),
    ("dash-f", lambda ctx: "-f", InvalidSpec),
    ("traversal-image", lambda ctx: "../images/" + ctx.test_image, InvalidSpec),
    ("slash", lambda ctx: f"{ctx.marker}/x", InvalidSpec),
    ("question-mark", lambda ctx: f"{ctx.marker}?x=1", InvalidSpec),
    ("hash", lambda ctx: f"{ctx.marker}#x", InvalidSpec),
    ("dotdot", lambda ctx: "..", InvalidSpec),
    ("trailing-newline", lambda ctx: ctx.marker + "\n", InvalidSpec),
    ("space", lambda ctx: f"{ctx.marker} x", InvalidSpec),
    ("nul", lambda ctx: f"{ctx.marker}\x00x", InvalidSpec),
    ("empty", lambda ctx: "", InvalidSpec),
    ("none", lambda ctx: None, InvalidSpec),
    ("int", lambda ctx: 123, InvalidSpec),
    ("missing", lambda ctx: ctx.missing, ContainerNotFound),
]


def _on_ref(
    verb: Callable[[Any, object], object], ref: Callable[[Ctx], object], rt: Any, ctx: Ctx
) -> object:
    return verb(rt, ref(ctx))


def _container_ref_cases() -> list[Case]:
    return [
        Case(f"{verb}-ref-{ref_id}", functools.partial(_on_ref, call, ref), expected)
        for verb, call in _CONTAINER_VERBS.items()
        for ref_id, ref, expected in _BAD_REFS
    ]


def _run(rt: Any, ctx: Ctx, **kwargs: Any) -> object:
    """``run`` of the test image, named and labelled so a leak is attributable."""
    kwargs.setdefault("name", f"{ctx.marker}-c")
    if "labels" not in kwargs:
        kwargs["labels"] = ctx.labels()
    image = kwargs.pop("image", ctx.test_image)
    command = kwargs.pop("command", ["true"])
    return rt.run(image, command, **kwargs)


#: One bad value per resource or security option of ``run`` and ``create``:
#: each is :class:`~runtimes.InvalidSpec`, whatever the runtime would do.
BAD_RUN_OPTIONS: list[tuple[str, dict[str, Any]]] = [
    ("memory-negative", {"memory": -1}),
    ("memory-negative-text", {"memory": "-64m"}),
    ("memory-below-6m", {"memory": 1024}),
    ("memory-unit-typo", {"memory": "64x"}),
    ("memory-words", {"memory": "lots"}),
    ("memory-float", {"memory": 64.5}),
    ("memory-bool", {"memory": True}),
    ("memory-huge", {"memory": 2**64}),
    ("cpus-zero", {"cpus": 0}),
    ("cpus-negative", {"cpus": -1}),
    ("cpus-nan", {"cpus": NAN}),
    ("cpus-inf", {"cpus": INF}),
    ("cpus-str", {"cpus": "half"}),
    ("cpus-bool", {"cpus": True}),
    ("restart-typo", {"restart_policy": "alwyas"}),
    ("restart-empty", {"restart_policy": ""}),
    ("restart-count-text", {"restart_policy": "on-failure:x"}),
    ("restart-count-negative", {"restart_policy": "on-failure:-1"}),
    ("restart-count-on-always", {"restart_policy": "always:3"}),
    ("restart-int", {"restart_policy": 3}),
    ("restart-with-remove", {"restart_policy": "always", "remove": True}),
    ("init-str", {"init": "yes"}),
    ("init-int", {"init": 1}),
    ("read-only-str", {"read_only": "true"}),
    ("privileged-str", {"privileged": "no"}),
    ("cap-add-unknown", {"cap_add": ["NET_ADMINN"]}),
    ("cap-add-unknown-prefixed", {"cap_add": ["CAP_BOGUS"]}),
    ("cap-add-empty", {"cap_add": [""]}),
    ("cap-add-int", {"cap_add": [1]}),
    ("cap-add-bytes", {"cap_add": b"NET_ADMIN"}),
    ("cap-add-dict", {"cap_add": {"NET_ADMIN": True}}),
    ("cap-drop-unknown", {"cap_drop": ["BOGUS"]}),
    ("cap-added-and-dropped", {"cap_add": ["NET_ADMIN"], "cap_drop": ["cap_net_admin"]}),
    ("tmpfs-relative", {"tmpfs": ["relative"]}),
    ("tmpfs-root", {"tmpfs": ["/"]}),
    ("tmpfs-colon", {"tmpfs": ["/x:size=1m"]}),
    ("tmpfs-dotdot", {"tmpfs": ["/a/../etc"]}),
    ("tmpfs-bad-size", {"tmpfs": {"/x": "size=lots"}}),
    ("tmpfs-unknown-option", {"tmpfs": {"/x": "bogus"}}),
    ("tmpfs-option-int", {"tmpfs": {"/x": 1}}),
    ("tmpfs-int", {"tmpfs": 123}),
    ("shm-size-negative", {"shm_size": -1}),
    ("shm-size-zero", {"shm_size": 0}),
    ("shm-size-words", {"shm_size": "big"}),
    ("ulimit-unknown-name", {"ulimits": {"nofiles": 10}}),
    ("ulimit-negative", {"ulimits": {"nofile": -1}}),
    ("ulimit-soft-above-hard", {"ulimits": {"nofile": "10:5"}}),
    ("ulimit-text", {"ulimits": {"nofile": "a"}}),
    ("ulimit-float", {"ulimits": {"nofile": 1.5}}),
    ("ulimit-bool", {"ulimits": {"nofile": True}}),
    ("ulimit-list", {"ulimits": ["nofile=10"]}),
    ("dns-bad-ip", {"dns": ["8.8.8"]}),
    ("dns-name", {"dns": ["dns.example"]}),
    ("dns-newline", {"dns": ["1.2.3.4\n"]}),
    ("dns-int", {"dns": 123}),
    ("extra-hosts-bad-ip", {"extra_hosts": {"h": "999.1.1.1"}}),
    ("extra-hosts-bad-name", {"extra_hosts": {"-bad": "1.2.3.4"}}),
    ("extra-hosts-list", {"extra_hosts": ["h:1.2.3.4"]}),
    ("extra-hosts-int-ip", {"extra_hosts": {"h": 1}}),
    ("platform-os-only", {"platform": "linux"}),
    ("platform-swapped", {"platform": "amd64/linux"}),
    ("platform-unknown-arch", {"platform": "linux/amd65"}),
    ("platform-upper-case", {"platform": "Linux/amd64"}),
    ("platform-int", {"platform": 1}),
    ("stop-signal-unknown", {"stop_signal": "SIGBOGUS"}),
    ("stop-signal-out-of-range", {"stop_signal": 99}),
    ("stop-signal-empty", {"stop_signal": ""}),
    ("stop-timeout-negative", {"stop_timeout": -1}),
    ("stop-timeout-float", {"stop_timeout": 1.5}),
    ("stop-timeout-str", {"stop_timeout": "10"}),
    ("stop-timeout-bool", {"stop_timeout": True}),
]


def _run_cases() -> list[Case]:
    rows: list[tuple[str, Callable[[Ctx], dict[str, Any]], type[RuntimesError]]] = [
        # image
        ("image-dash-help", lambda ctx: {"image": "--help"}, InvalidSpec),
        ("image-empty", lambda ctx: {"image": ""}, InvalidSpec),
        ("image-none", lambda ctx: {"image": None}, InvalidSpec),
        ("image-int", lambda ctx: {"image": 123}, InvalidSpec),
        ("image-trailing-newline", lambda ctx: {"image": ctx.test_image + "\n"}, InvalidSpec),
        ("image-upper-case", lambda ctx: {"image": "Runtimes-Test/X:1"}, InvalidSpec),
        ("image-dotdot", lambda ctx: {"image": "../" + ctx.test_image}, InvalidSpec),
        ("image-missing", lambda ctx: {"image": ctx.missing_image}, ImageNotFound),
        # name
        ("name-dash-help", lambda ctx: {"name": "--help"}, InvalidSpec),
        ("name-trailing-newline", lambda ctx: {"name": ctx.marker + "\n"}, InvalidSpec),
        ("name-slash", lambda ctx: {"name": ctx.marker + "/x"}, InvalidSpec),
        ("name-empty", lambda ctx: {"name": ""}, InvalidSpec),
        ("name-int", lambda ctx: {"name": 123}, InvalidSpec),
        (
            "name-250-chars",
            lambda ctx: {"name": (ctx.marker + "-" + "a" * 250)[:250]},
            InvalidSpec,
        ),
        # ports
        ("ports-bytes", lambda ctx: {"ports": b"80"}, InvalidSpec),
        ("ports-superscript-two", lambda ctx: {"ports": "²"}, InvalidSpec),
        ("ports-superscript-in-list", lambda ctx: {"ports": ["²:80"]}, InvalidSpec),
        ("ports-dict", lambda ctx: {"ports": {"80/tcp": 8080}}, InvalidSpec),
        ("ports-bytes-in-list", lambda ctx: {"ports": [b"80"]}, InvalidSpec),
        ("ports-bool", lambda ctx: {"ports": [True]}, InvalidSpec),
        ("ports-float", lambda ctx: {"ports": [80.0]}, InvalidSpec),
        ("ports-65536", lambda ctx: {"ports": [65536]}, InvalidSpec),
        ("ports-negative", lambda ctx: {"ports": [-1]}, InvalidSpec),
        ("ports-trailing-newline", lambda ctx: {"ports": ["80\n"]}, InvalidSpec),
        ("ports-two-protocols", lambda ctx: {"ports": ["80/tcp/udp"]}, InvalidSpec),
        # env
        ("env-str", lambda ctx: {"env": "A=B"}, InvalidSpec),
        ("env-list", lambda ctx: {"env": ["A=B"]}, InvalidSpec),
        ("env-int-value", lambda ctx: {"env": {"A": 1}}, InvalidSpec),
        ("env-key-trailing-newline", lambda ctx: {"env": {"A\n": "x"}}, InvalidSpec),
        ("env-int-key", lambda ctx: {"env": {1: "x"}}, InvalidSpec),
        # labels (the name carries the marker, so a leak is still attributable)
        ("labels-str", lambda ctx: {"labels": "a=b"}, InvalidSpec),
        ("labels-list", lambda ctx: {"labels": ["a=b"]}, InvalidSpec),
        ("labels-int-value", lambda ctx: {"labels": {**ctx.labels(), "a": 1}}, InvalidSpec),
        (
            "labels-key-trailing-newline",
            lambda ctx: {"labels": ctx.labels(**{"k\n": "v"})},
            InvalidSpec,
        ),
        # workdir, user, command, entrypoint
        ("workdir-int", lambda ctx: {"workdir": 123}, InvalidSpec),
        ("workdir-bytes", lambda ctx: {"workdir": b"/tmp"}, InvalidSpec),
        ("workdir-nul", lambda ctx: {"workdir": "/tmp\x00x"}, InvalidSpec),
        ("user-int", lambda ctx: {"user": 123}, InvalidSpec),
        ("user-list", lambda ctx: {"user": ["root"]}, InvalidSpec),
        ("command-int", lambda ctx: {"command": 123}, InvalidSpec),
        ("command-int-item", lambda ctx: {"command": ["echo", 1]}, InvalidSpec),
        ("command-unclosed-quote", lambda ctx: {"command": "echo 'x"}, InvalidSpec),
        ("entrypoint-int", lambda ctx: {"entrypoint": 123}, InvalidSpec),
        ("entrypoint-int-item", lambda ctx: {"entrypoint": ["sh", 1]}, InvalidSpec),
        # volumes
        (
            "volume-undeclared",
            lambda ctx: {"volumes": [f"{ctx.marker}-undeclared:/data"]},
            VolumeNotFound,
        ),
        ("volume-name-dash", lambda ctx: {"volumes": ["--help:/data"]}, InvalidSpec),
        ("volume-empty-source", lambda ctx: {"volumes": [":/data"]}, InvalidSpec),
        ("volume-bad-mode", lambda ctx: {"volumes": [f"{ctx.marker}-v:/data:zz"]}, InvalidSpec),
        ("volume-int", lambda ctx: {"volumes": [123]}, InvalidSpec),
        ("volume-dict", lambda ctx: {"volumes": {f"{ctx.marker}-v": "/data"}}, InvalidSpec),
        (
            "volume-target-newline",
            lambda ctx: {"volumes": [f"{ctx.marker}-v:/data\n"]},
            InvalidSpec,
        ),
        # network
        ("network-dash-help", lambda ctx: {"network": "--help"}, InvalidSpec),
        ("network-int", lambda ctx: {"network": 123}, InvalidSpec),
        # resource and security options (each bad one refused before anything is created)
        *(
            (f"option-{oid}", functools.partial(lambda kw, ctx: dict(kw), kw), InvalidSpec)
            for oid, kw in BAD_RUN_OPTIONS
        ),
        # more CPUs than the engine's host has (Docker refuses, the others would not)
        ("option-cpus-above-the-host", lambda ctx: {"cpus": 1000}, InvalidSpec),
        # the container's process cannot start: what docker raises, CommandFailed
        ("missing-executable", lambda ctx: {"command": [f"/{ctx.marker}-exe"]}, CommandFailed),
        (
            "missing-entrypoint",
            lambda ctx: {"entrypoint": [f"/{ctx.marker}-entry"]},
            CommandFailed,
        ),
        ("non-executable-binary", lambda ctx: {"command": ["/www/index.html"]}, CommandFailed),
        (
            "workdir-is-a-file",
            lambda ctx: {"workdir": "/www/index.html"},
            CommandFailed,
        ),
    ]

    def call(kwargs: Callable[[Ctx], dict[str, Any]], rt: Any, ctx: Ctx) -> object:
        return _run(rt, ctx, **kwargs(ctx))

    return [Case(f"run-{rid}", functools.partial(call, kw), exp) for rid, kw, exp in rows]


def _logs_cases() -> list[Case]:
    rows: list[tuple[str, dict[str, Any]]] = [
        ("tail-10e20", {"tail": 10**20}),
        ("tail-negative", {"tail": -1}),
        ("tail-str", {"tail": "10"}),
        ("tail-float", {"tail": 1.5}),
        ("tail-bool", {"tail": True}),
        ("since-nan", {"since": NAN}),
        ("since-inf", {"since": INF}),
        ("since-minus-inf", {"since": -INF}),
        ("since-huge", {"since": 10**30}),
        ("since-words", {"since": "yesterday"}),
        ("since-list", {"since": [1]}),
    ]

    def call(kwargs: dict[str, Any], rt: Any, ctx: Ctx) -> object:
        return rt.logs(ctx.running, **kwargs)

    return [
        Case(f"logs-{rid}", functools.partial(call, kw), InvalidSpec, ("running",))
        for rid, kw in rows
    ]


def _lifecycle_cases() -> list[Case]:
    running = ("running",)
    stop: list[tuple[str, object]] = [
        ("nan", NAN),
        ("inf", INF),
        ("negative", -1),
        ("str", "abc"),
        ("huge", 10**20),
    ]
    kill: list[tuple[str, object]] = [
        ("none", None),
        ("empty", ""),
        ("unknown-name", "SIGNOPE"),
        ("negative", -1),
        ("1000", 1000),
        ("float", 1.5),
        ("trailing-newline", "SIGTERM\n"),
        ("dash-help", "--help"),
    ]
    wait: list[tuple[str, object]] = [
        ("nan", NAN),
        ("inf", INF),
        ("negative", -1),
        ("str", "abc"),
    ]
    cases = [
        Case(
            f"stop-timeout-{sid}",
            functools.partial(lambda v, rt, ctx: rt.stop(ctx.running, timeout=v), value),
            InvalidSpec,
            running,
        )
        for sid, value in stop
    ]
    cases += [
        Case(
            f"kill-signal-{kid}",
            functools.partial(lambda v, rt, ctx: rt.kill(ctx.running, signal=v), value),
            InvalidSpec,
            running,
        )
        for kid, value in kill
    ]
    cases += [
        Case(
            f"wait-timeout-{wid}",
            functools.partial(lambda v, rt, ctx: rt.wait(ctx.running, timeout=v), value),
            InvalidSpec,
            running,
        )
        for wid, value in wait
    ]
    cases.append(
        Case("wait-timeout-0", lambda rt, ctx: rt.wait(ctx.running, timeout=0), Timeout, running)
    )
    return cases


def _control_cases() -> list[Case]:
    running = ("running",)
    cases = [
        Case(
            f"restart-timeout-{sid}",
            functools.partial(lambda v, rt, ctx: rt.restart(ctx.running, timeout=v), value),
            InvalidSpec,
            running,
        )
        for sid, value in [("nan", NAN), ("inf", INF), ("negative", -1), ("str", "abc")]
    ]
    names: list[tuple[str, Callable[[Ctx], object], type[RuntimesError]]] = [
        ("dash-help", lambda ctx: "--help", InvalidSpec),
        ("slash", lambda ctx: f"{ctx.marker}/x", InvalidSpec),
        ("empty", lambda ctx: "", InvalidSpec),
        ("none", lambda ctx: None, InvalidSpec),
        ("int", lambda ctx: 123, InvalidSpec),
        ("trailing-newline", lambda ctx: f"{ctx.marker}\n", InvalidSpec),
        ("250-chars", lambda ctx: (ctx.marker + "-" + "a" * 250)[:250], InvalidSpec),
    ]
    cases += [
        Case(
            f"rename-name-{nid}",
            functools.partial(lambda n, rt, ctx: rt.rename(ctx.running, n(ctx)), name),
            expected,
            running,
        )
        for nid, name, expected in names
    ]
    prune: list[tuple[str, dict[str, Any]]] = [
        ("labels-str", {"labels": "a=b"}),
        ("labels-list", {"labels": ["a=b"]}),
        ("labels-int-value", {"labels": {"a": 1}}),
        ("labels-bad-key", {"labels": {"bad key": "v"}}),
        ("containers-int", {"labels": {"runtimes.never": "x"}, "containers": 1}),
        ("images-str", {"labels": {"runtimes.never": "x"}, "images": "no"}),
        ("volumes-none", {"labels": {"runtimes.never": "x"}, "volumes": None}),
    ]
    cases += [
        Case(
            f"prune-{pid}",
            functools.partial(lambda kw, rt, ctx: rt.prune(**kw), kwargs),
            InvalidSpec,
        )
        for pid, kwargs in prune
    ]
    create: list[tuple[str, Callable[[Ctx], dict[str, Any]], type[RuntimesError]]] = [
        ("image-missing", lambda ctx: {"image": ctx.missing_image}, ImageNotFound),
        ("image-dash-help", lambda ctx: {"image": "--help"}, InvalidSpec),
        ("name-dash-help", lambda ctx: {"name": "--help"}, InvalidSpec),
        ("ports-bytes", lambda ctx: {"ports": b"80"}, InvalidSpec),
        ("env-list", lambda ctx: {"env": ["A=B"]}, InvalidSpec),
        (
            "volume-undeclared",
            lambda ctx: {"volumes": [f"{ctx.marker}-undeclared:/data"]},
            VolumeNotFound,
        ),
        ("remove-str", lambda ctx: {"remove": "yes"}, InvalidSpec),
        ("pull-bad", lambda ctx: {"pull": "sometimes"}, InvalidSpec),
        *(
            (f"option-{oid}", functools.partial(lambda kw, ctx: dict(kw), kw), InvalidSpec)
            for oid, kw in BAD_RUN_OPTIONS
        ),
    ]

    def create_call(kwargs: Callable[[Ctx], dict[str, Any]], rt: Any, ctx: Ctx) -> object:
        options = {"name": f"{ctx.marker}-c", "labels": ctx.labels(), **kwargs(ctx)}
        image = options.pop("image", ctx.test_image)
        return rt.create(image, ["true"], **options)

    cases += [
        Case(f"create-{cid}", functools.partial(create_call, kw), expected)
        for cid, kw, expected in create
    ]
    return cases


def _exec_cases() -> list[Case]:
    running = ("running",)
    rows: list[tuple[str, Callable[[Ctx], tuple[object, dict[str, Any]]]]] = [
        ("command-empty-list", lambda ctx: ([], {})),
        ("command-empty-str", lambda ctx: ("", {})),
        ("command-int", lambda ctx: (123, {})),
        ("command-int-item", lambda ctx: (["echo", 1], {})),
        ("env-str", lambda ctx: (["true"], {"env": "A=B"})),
        ("env-list", lambda ctx: (["true"], {"env": ["A=B"]})),
        ("env-int-value", lambda ctx: (["true"], {"env": {"A": 1}})),
        ("env-key-trailing-newline", lambda ctx: (["true"], {"env": {"A\n": "x"}})),
        ("workdir-int", lambda ctx: (["true"], {"workdir": 123})),
        ("workdir-relative", lambda ctx: (["true"], {"workdir": "tmp"})),
        ("user-int", lambda ctx: (["true"], {"user": 123})),
        ("stdin-str", lambda ctx: (["cat"], {"stdin": "text"})),
        ("stdin-int", lambda ctx: (["cat"], {"stdin": 123})),
        ("stdin-list", lambda ctx: (["cat"], {"stdin": [b"x"]})),
        ("stdin-text-file", lambda ctx: (["cat"], {"stdin": io.StringIO("text")})),
        ("stream-str", lambda ctx: (["true"], {"stream": "yes"})),
        ("stream-int", lambda ctx: (["true"], {"stream": 1})),
        ("detach-int", lambda ctx: (["true"], {"detach": 1})),
        ("tty-none", lambda ctx: (["true"], {"tty": None})),
        ("detach-and-stream", lambda ctx: (["true"], {"detach": True, "stream": True})),
        ("detach-and-stdin", lambda ctx: (["cat"], {"detach": True, "stdin": b"x"})),
        ("detach-and-tty", lambda ctx: (["true"], {"detach": True, "tty": True})),
        ("tty-and-stdin", lambda ctx: (["cat"], {"tty": True, "stdin": b"x"})),
    ]

    def call(args: Callable[[Ctx], tuple[object, dict[str, Any]]], rt: Any, ctx: Ctx) -> object:
        command, kwargs = args(ctx)
        return rt.exec(ctx.running, command, **kwargs)

    cases = [
        Case(f"exec-{eid}", functools.partial(call, args), InvalidSpec, running)
        for eid, args in rows
    ]
    cases.append(
        Case(
            "exec-flag-injection-privileged",
            lambda rt, ctx: rt.exec(
                "--privileged", [ctx.running, "sh", "-c", "grep CapEff /proc/self/status"]
            ),
            InvalidSpec,
            running,
        )
    )
    return cases


def _copy_cases() -> list[Case]:
    running = ("running",)
    to_rows: list[tuple[str, Callable[[Ctx], tuple[object, object]], type[RuntimesError]]] = [
        # the source (local)
        ("source-missing", lambda ctx: (ctx.tmp_path / "no-such-file", "/tmp/x"), InvalidSpec),
        ("source-none", lambda ctx: (None, "/tmp/x"), InvalidSpec),
        ("source-int", lambda ctx: (123, "/tmp/x"), InvalidSpec),
        ("source-str-list", lambda ctx: (["a"], "/tmp/x"), InvalidSpec),
        ("source-empty-path", lambda ctx: ("", "/tmp/x"), InvalidSpec),
        ("source-dev-null", lambda ctx: ("/dev/null", "/tmp/x"), InvalidSpec),
        # the destination (in the container)
        ("dest-dotdot-etc", lambda ctx: (b"x", "../../etc"), InvalidSpec),
        ("dest-dotdot-etc-passwd", lambda ctx: (b"x", "../../etc/passwd"), InvalidSpec),
        ("dest-absolute-dotdot", lambda ctx: (b"x", "/tmp/../../etc/passwd"), InvalidSpec),
        ("dest-relative", lambda ctx: (b"x", "tmp/x"), InvalidSpec),
        ("dest-root", lambda ctx: (b"x", "/"), InvalidSpec),
        ("dest-empty", lambda ctx: (b"x", ""), InvalidSpec),
        ("dest-none", lambda ctx: (b"x", None), InvalidSpec),
        ("dest-int", lambda ctx: (b"x", 123), InvalidSpec),
        ("dest-bytes", lambda ctx: (b"x", b"/tmp/x"), InvalidSpec),
        ("dest-newline", lambda ctx: (b"x", "/tmp/x\n"), InvalidSpec),
        ("dest-nul", lambda ctx: (b"x", "/tmp/x\x00y"), InvalidSpec),
        ("dest-parent-missing", lambda ctx: (b"x", f"/{ctx.marker}/x"), PathNotFound),
    ]
    from_rows: list[tuple[str, Callable[[Ctx], tuple[object, object]], type[RuntimesError]]] = [
        ("src-missing", lambda ctx: (f"/{ctx.marker}", None), PathNotFound),
        ("src-missing-to-dest", lambda ctx: (f"/{ctx.marker}", ctx.tmp_path / "out"), PathNotFound),
        ("src-dotdot", lambda ctx: ("../../etc/passwd", None), InvalidSpec),
        ("src-absolute-dotdot", lambda ctx: ("/tmp/../../etc/passwd", None), InvalidSpec),
        ("src-relative", lambda ctx: ("etc/passwd", None), InvalidSpec),
        ("src-root", lambda ctx: ("/", ctx.tmp_path / "out"), InvalidSpec),
        ("src-int", lambda ctx: (123, None), InvalidSpec),
        ("src-none", lambda ctx: (None, None), InvalidSpec),
        ("src-directory-without-dest", lambda ctx: ("/www", None), InvalidSpec),
        (
            "dest-parent-missing",
            lambda ctx: ("/etc/passwd", ctx.tmp_path / "no" / "x"),
            InvalidSpec,
        ),
        ("dest-int", lambda ctx: ("/etc/passwd", 123), InvalidSpec),
        ("dest-empty", lambda ctx: ("/etc/passwd", ""), InvalidSpec),
    ]

    def copy_to(args: Callable[[Ctx], tuple[object, object]], rt: Any, ctx: Ctx) -> object:
        source, dest = args(ctx)
        return rt.copy_to(ctx.running, source, dest)

    def copy_from(args: Callable[[Ctx], tuple[object, object]], rt: Any, ctx: Ctx) -> object:
        src, dest = args(ctx)
        return rt.copy_from(ctx.running, src, dest)

    return [
        *(
            Case(f"copy_to-{cid}", functools.partial(copy_to, args), exp, running)
            for cid, args, exp in to_rows
        ),
        *(
            Case(f"copy_from-{cid}", functools.partial(copy_from, args), exp, running)
            for cid, args, exp in from_rows
        ),
    ]


def _image_cases() -> list[Case]:
    refs: list[tuple[str, Callable[[Ctx], object], type[RuntimesError], tuple[str, ...]]] = [
        ("dash-help", lambda ctx: "--help", InvalidSpec, ()),
        ("dash-f", lambda ctx: "-f", InvalidSpec, ()),
        ("empty", lambda ctx: "", InvalidSpec, ()),
        ("none", lambda ctx: None, InvalidSpec, ()),
        ("int", lambda ctx: 123, InvalidSpec, ()),
        ("trailing-newline", lambda ctx: ctx.test_image + "\n", InvalidSpec, ()),
        ("space", lambda ctx: ctx.test_image + " x", InvalidSpec, ()),
        ("question-mark", lambda ctx: ctx.test_image + "?x=1", InvalidSpec, ()),
        (
            "traversal-container",
            lambda ctx: "../containers/" + ctx.running,
            InvalidSpec,
            ("running",),
        ),
        ("missing", lambda ctx: ctx.missing_image, ImageNotFound, ()),
        ("missing-id", lambda ctx: "sha256:" + "0" * 64, ImageNotFound, ()),
    ]
    verbs: dict[str, Callable[[Any, object], object]] = {
        "image": lambda rt, ref: rt.image(ref),
        "remove_image": lambda rt, ref: rt.remove_image(ref, force=True),
    }
    cases = [
        Case(f"{verb}-ref-{rid}", functools.partial(_on_ref, call, ref), expected, needs)
        for verb, call in verbs.items()
        for rid, ref, expected, needs in refs
    ]
    listing: list[tuple[str, object]] = [
        ("str", "a=b"),
        ("list", ["a=b"]),
        ("bad-key", {"bad key": "v"}),
        ("int-value", {"a": 1}),
        ("key-trailing-newline", {"k\n": "v"}),
    ]
    for what in ("images", "volumes", "ps"):
        cases += [
            Case(
                f"{what}-labels-{lid}",
                functools.partial(
                    lambda w, v, rt, ctx: (
                        rt.ps(all=True, labels=v) if w == "ps" else getattr(rt, w)(labels=v)
                    ),
                    what,
                    value,
                ),
                InvalidSpec,
            )
            for lid, value in listing
        ]
    names: list[tuple[str, object]] = [
        ("trailing-newline", "x\n"),
        ("slash", "a/b"),
        ("int", 123),
        ("empty", ""),
        ("dash-help", "--help"),
    ]
    cases += [
        Case(
            f"ps-name-{nid}",
            functools.partial(lambda v, rt, ctx: rt.ps(all=True, name=v), value),
            InvalidSpec,
        )
        for nid, value in names
    ]
    return cases


def _volume_cases() -> list[Case]:
    names: list[tuple[str, Callable[[Ctx], object]]] = [
        ("dash-help", lambda ctx: "--help"),
        ("dash-f", lambda ctx: "-f"),
        ("empty", lambda ctx: ""),
        ("none", lambda ctx: None),
        ("int", lambda ctx: 123),
        ("trailing-newline", lambda ctx: ctx.marker + "\n"),
        ("slash", lambda ctx: ctx.marker + "/x"),
        ("dotdot", lambda ctx: ".."),
        ("space", lambda ctx: ctx.marker + " x"),
        ("300-chars", lambda ctx: (ctx.marker + "-" + "a" * 300)[:300]),
    ]
    cases = [
        Case(
            f"create_volume-name-{nid}",
            functools.partial(
                lambda n, rt, ctx: rt.create_volume(n(ctx), labels=ctx.labels()), name
            ),
            InvalidSpec,
        )
        for nid, name in names
    ]
    label_rows: list[tuple[str, Callable[[Ctx], object]]] = [
        ("str", lambda ctx: "a=b"),
        ("list", lambda ctx: ["a=b"]),
        ("int-value", lambda ctx: {**ctx.labels(), "a": 1}),
        ("key-trailing-newline", lambda ctx: ctx.labels(**{"k\n": "v"})),
    ]
    cases += [
        Case(
            f"create_volume-labels-{lid}",
            functools.partial(
                lambda lab, rt, ctx: rt.create_volume(f"{ctx.marker}-v", labels=lab(ctx)), labels
            ),
            InvalidSpec,
        )
        for lid, labels in label_rows
    ]
    removals: list[tuple[str, Callable[[Ctx], object], type[RuntimesError], tuple[str, ...]]] = [
        (rid, ref, InvalidSpec, ()) for rid, ref in names if rid != "300-chars"
    ]
    removals += [
        (
            "traversal-volume",
            lambda ctx: f"../volumes/{ctx.volume}",
            InvalidSpec,
            ("volume",),
        ),
        ("missing", lambda ctx: ctx.missing, VolumeNotFound, ()),
    ]
    cases += [
        Case(
            f"remove_volume-name-{rid}",
            functools.partial(lambda r, rt, ctx: rt.remove_volume(r(ctx), force=True), ref),
            expected,
            needs,
        )
        for rid, ref, expected, needs in removals
    ]
    cases.append(
        Case(
            "remove-ref-traversal-volume",
            lambda rt, ctx: rt.remove(f"../volumes/{ctx.volume}", force=True),
            InvalidSpec,
            ("volume",),
        )
    )
    return cases


def _network_cases() -> list[Case]:
    names: list[tuple[str, Callable[[Ctx], object]]] = [
        ("dash-help", lambda ctx: "--help"),
        ("dash-f", lambda ctx: "-f"),
        ("empty", lambda ctx: ""),
        ("none", lambda ctx: None),
        ("int", lambda ctx: 123),
        ("trailing-newline", lambda ctx: ctx.marker + "\n"),
        ("slash", lambda ctx: ctx.marker + "/x"),
        ("question-mark", lambda ctx: ctx.marker + "?x=1"),
        ("dotdot", lambda ctx: ".."),
        ("space", lambda ctx: ctx.marker + " x"),
        ("nul", lambda ctx: ctx.marker + "\x00x"),
    ]
    creates: list[tuple[str, Callable[[Ctx], dict[str, Any]]]] = [
        *(
            (f"name-{nid}", functools.partial(lambda n, ctx: {"name": n(ctx)}, name))
            for nid, name in names
        ),
        ("name-300-chars", lambda ctx: {"name": (ctx.marker + "-" + "a" * 300)[:300]}),
        ("name-host", lambda ctx: {"name": "host"}),
        ("name-none-mode", lambda ctx: {"name": "none"}),
        ("labels-str", lambda ctx: {"labels": "a=b"}),
        ("labels-list", lambda ctx: {"labels": ["a=b"]}),
        ("labels-int-value", lambda ctx: {"labels": {**ctx.labels(), "a": 1}}),
        ("labels-key-trailing-newline", lambda ctx: {"labels": ctx.labels(**{"k\n": "v"})}),
        ("subnet-prefix-33", lambda ctx: {"subnet": "10.213.0.0/33"}),
        ("subnet-words", lambda ctx: {"subnet": "not-a-subnet"}),
        ("subnet-host-bits", lambda ctx: {"subnet": "10.213.0.1/24"}),
        ("subnet-no-prefix", lambda ctx: {"subnet": "10.213.0.0"}),
        ("subnet-prefix-31", lambda ctx: {"subnet": "10.213.0.0/31"}),
        ("subnet-prefix-4", lambda ctx: {"subnet": "0.0.0.0/4"}),
        ("subnet-ipv6", lambda ctx: {"subnet": "fd00:213::/64"}),
        ("subnet-int", lambda ctx: {"subnet": 123}),
        ("subnet-trailing-newline", lambda ctx: {"subnet": "10.213.0.0/24\n"}),
        ("subnet-leading-zero", lambda ctx: {"subnet": "10.213.0.0/024"}),
        ("subnet-dash-help", lambda ctx: {"subnet": "--help"}),
        ("internal-str", lambda ctx: {"internal": "yes"}),
        ("internal-int", lambda ctx: {"internal": 1}),
    ]

    def create(kwargs: Callable[[Ctx], dict[str, Any]], rt: Any, ctx: Ctx) -> object:
        args = {"name": f"{ctx.marker}-n", "labels": ctx.labels(), **kwargs(ctx)}
        return rt.create_network(args.pop("name"), **args)

    cases = [
        Case(f"create_network-{cid}", functools.partial(create, kw), InvalidSpec)
        for cid, kw in creates
    ]
    lookups: list[tuple[str, Callable[[Ctx], object], type[RuntimesError], tuple[str, ...]]] = [
        *((nid, name, InvalidSpec, ()) for nid, name in names),
        ("traversal-network", lambda ctx: f"../networks/{ctx.network}", InvalidSpec, ("network",)),
        (
            "traversal-container",
            lambda ctx: f"../containers/{ctx.running}",
            InvalidSpec,
            ("running",),
        ),
        ("missing", lambda ctx: ctx.missing, NetworkNotFound, ()),
    ]
    verbs: dict[str, Callable[[Any, object], object]] = {
        "network": lambda rt, ref: rt.network(ref),
        "remove_network": lambda rt, ref: rt.remove_network(ref),
    }
    cases += [
        Case(f"{verb}-ref-{rid}", functools.partial(_on_ref, call, ref), expected, needs)
        for verb, call in verbs.items()
        for rid, ref, expected, needs in lookups
    ]
    # host and none are modes, not networks: never found, never removed.
    cases += [
        Case("network-ref-host", lambda rt, ctx: rt.network("host"), NetworkNotFound),
        Case("remove_network-ref-host", lambda rt, ctx: rt.remove_network("host"), InvalidSpec),
        Case(
            "remove_network-ref-none-mode", lambda rt, ctx: rt.remove_network("none"), InvalidSpec
        ),
        Case("remove_network-ref-bridge", lambda rt, ctx: rt.remove_network("bridge"), InvalidSpec),
    ]
    listing: list[tuple[str, object]] = [
        ("str", "a=b"),
        ("list", ["a=b"]),
        ("bad-key", {"bad key": "v"}),
        ("int-value", {"a": 1}),
    ]
    cases += [
        Case(
            f"networks-labels-{lid}",
            functools.partial(lambda v, rt, ctx: rt.networks(labels=v), value),
            InvalidSpec,
        )
        for lid, value in listing
    ]
    # run: the network, its aliases and the hostname
    runs: list[
        tuple[str, Callable[[Ctx], dict[str, Any]], type[RuntimesError], tuple[str, ...]]
    ] = [
        ("network-missing", lambda ctx: {"network": ctx.missing}, NetworkNotFound, ()),
        (
            "network-missing-with-aliases",
            lambda ctx: {"network": ctx.missing, "aliases": ["db"]},
            NetworkNotFound,
            (),
        ),
        ("aliases-without-network", lambda ctx: {"aliases": ["db"]}, InvalidSpec, ()),
        (
            "aliases-on-bridge",
            lambda ctx: {"network": "bridge", "aliases": ["db"]},
            InvalidSpec,
            (),
        ),
        ("aliases-on-host", lambda ctx: {"network": "host", "aliases": ["db"]}, InvalidSpec, ()),
        ("aliases-on-none", lambda ctx: {"network": "none", "aliases": ["db"]}, InvalidSpec, ()),
    ]
    bad_aliases: list[tuple[str, object]] = [
        ("dash-help", ["--help"]),
        ("space", ["a b"]),
        ("int", [1]),
        ("none", [None]),
        ("dict", {"db": "x"}),
        ("bytes", b"db"),
        ("trailing-newline", ["db\n"]),
        ("64-chars", ["a" * 64]),
        ("empty", [""]),
        ("leading-dot", [".db"]),
    ]
    runs += [
        (
            f"aliases-{aid}",
            functools.partial(lambda v, ctx: {"network": ctx.network, "aliases": v}, value),
            InvalidSpec,
            ("network",),
        )
        for aid, value in bad_aliases
    ]
    bad_hostnames: list[tuple[str, object]] = [
        ("dash-help", "--help"),
        ("space", "a b"),
        ("int", 123),
        ("empty", ""),
        ("trailing-newline", "h\n"),
        ("64-chars", "h" * 64),
        ("slash", "a/b"),
        ("trailing-dash", "h-"),
    ]
    runs += [
        (
            f"hostname-{hid}",
            functools.partial(lambda v, ctx: {"hostname": v}, value),
            InvalidSpec,
            (),
        )
        for hid, value in bad_hostnames
    ]

    def run(kwargs: Callable[[Ctx], dict[str, Any]], rt: Any, ctx: Ctx) -> object:
        return _run(rt, ctx, **kwargs(ctx))

    cases += [
        Case(f"run-{rid}", functools.partial(run, kw), exp, needs) for rid, kw, exp, needs in runs
    ]
    # connect_network and disconnect_network: checked the same way on a
    # runtime without Capability.NETWORK_CONNECT, before it refuses.
    connects: list[
        tuple[str, Callable[[Any, Ctx], object], type[RuntimesError], tuple[str, ...]]
    ] = [
        (
            "container-dash-help",
            lambda rt, ctx: rt.connect_network("--help", ctx.network),
            InvalidSpec,
            ("network",),
        ),
        (
            "container-traversal",
            lambda rt, ctx: rt.connect_network(f"../networks/{ctx.network}", ctx.network),
            InvalidSpec,
            ("network",),
        ),
        (
            "container-missing",
            lambda rt, ctx: rt.connect_network(ctx.missing, ctx.network),
            ContainerNotFound,
            ("network",),
        ),
        (
            "network-dash-help",
            lambda rt, ctx: rt.connect_network(ctx.running, "--help"),
            InvalidSpec,
            ("running",),
        ),
        (
            "network-int",
            lambda rt, ctx: rt.connect_network(ctx.running, 123),
            InvalidSpec,
            ("running",),
        ),
        (
            "network-missing",
            lambda rt, ctx: rt.connect_network(ctx.running, ctx.missing),
            NetworkNotFound,
            ("running",),
        ),
        (
            "aliases-dash-help",
            lambda rt, ctx: rt.connect_network(ctx.running, ctx.network, aliases=["--help"]),
            InvalidSpec,
            ("running", "network"),
        ),
        (
            "aliases-on-bridge",
            lambda rt, ctx: rt.connect_network(ctx.running, "bridge", aliases=["db"]),
            InvalidSpec,
            ("running",),
        ),
    ]
    cases += [
        Case(f"connect_network-{cid}", call, exp, needs) for cid, call, exp, needs in connects
    ]
    disconnects: list[
        tuple[str, Callable[[Any, Ctx], object], type[RuntimesError], tuple[str, ...]]
    ] = [
        (
            "container-dash-help",
            lambda rt, ctx: rt.disconnect_network("--help", ctx.network),
            InvalidSpec,
            ("network",),
        ),
        (
            "container-missing",
            lambda rt, ctx: rt.disconnect_network(ctx.missing, ctx.network),
            ContainerNotFound,
            ("network",),
        ),
        (
            "network-dash-help",
            lambda rt, ctx: rt.disconnect_network(ctx.running, "--help"),
            InvalidSpec,
            ("running",),
        ),
        (
            "network-missing",
            lambda rt, ctx: rt.disconnect_network(ctx.running, ctx.missing),
            NetworkNotFound,
            ("running",),
        ),
    ]
    cases += [
        Case(f"disconnect_network-{cid}", call, exp, needs) for cid, call, exp, needs in disconnects
    ]
    return cases


def _endpoint_option(rt: Runtime) -> dict[str, str]:
    """An explicit endpoint where nothing listens, in the adapter's own option."""
    if "address" in type(rt).options:
        return {"address": "/nonexistent/runtimes-bad-input.sock"}
    if "kubeconfig" in type(rt).options:
        return {"kubeconfig": "/nonexistent/runtimes-bad-input.kubeconfig"}
    return {"host": "unix:///nonexistent/runtimes-bad-input.sock"}


def _connect(rt: Any, ctx: Ctx, *, name: str | None = None, **options: Any) -> object:
    """``connect`` and, if that succeeds, one call; the runtime is closed after."""
    connected = runtimes.connect(name if name is not None else rt.name, **options)
    try:
        return connected.info()
    finally:
        connected.close()


def _connect_cases() -> list[Case]:
    rows: list[tuple[str, Callable[[Any, Ctx], object], type[RuntimesError]]] = [
        ("unknown-option", lambda rt, ctx: _connect(rt, ctx, bogus=1), InvalidSpec),
        ("timeout-str", lambda rt, ctx: _connect(rt, ctx, timeout="abc"), InvalidSpec),
        ("timeout-nan", lambda rt, ctx: _connect(rt, ctx, timeout=NAN), InvalidSpec),
        ("timeout-inf", lambda rt, ctx: _connect(rt, ctx, timeout=INF), InvalidSpec),
        ("timeout-negative", lambda rt, ctx: _connect(rt, ctx, timeout=-1), InvalidSpec),
        ("timeout-list", lambda rt, ctx: _connect(rt, ctx, timeout=[1]), InvalidSpec),
        (
            "endpoint-nothing-listens",
            lambda rt, ctx: _connect(rt, ctx, **_endpoint_option(rt)),
            runtimes.RuntimeUnavailable,
        ),
        ("name-unknown", lambda rt, ctx: _connect(rt, ctx, name=ctx.marker), UnknownRuntime),
        ("name-dash-help", lambda rt, ctx: _connect(rt, ctx, name="--help"), UnknownRuntime),
    ]
    return [Case(f"connect-{cid}", call, exp) for cid, call, exp in rows]


def _build(rt: Any, ctx: Ctx, context: object, **kwargs: Any) -> object:
    kwargs.setdefault("tag", ctx.tag)
    kwargs.setdefault("labels", ctx.labels())
    return rt.build(context, **kwargs)


_FROM_BUSYBOX = "FROM scratch\nCOPY busybox /bin/busybox\n"


def _build_cases() -> list[Case]:
    def ok_context(ctx: Ctx) -> Path:
        return ctx.context(_FROM_BUSYBOX)

    rows: list[tuple[str, Callable[[Any, Ctx], object], type[RuntimesError]]] = [
        ("context-dash-help", lambda rt, ctx: _build(rt, ctx, "--help"), InvalidSpec),
        (
            "context-missing",
            lambda rt, ctx: _build(rt, ctx, ctx.tmp_path / "no-such-context"),
            InvalidSpec,
        ),
        ("context-int", lambda rt, ctx: _build(rt, ctx, 123), InvalidSpec),
        (
            "context-is-a-file",
            lambda rt, ctx: _build(rt, ctx, ok_context(ctx) / "Dockerfile"),
            InvalidSpec,
        ),
        (
            "dockerfile-missing",
            lambda rt, ctx: _build(rt, ctx, ok_context(ctx), dockerfile="Nope.Dockerfile"),
            InvalidSpec,
        ),
        (
            "dockerfile-dash-help",
            lambda rt, ctx: _build(rt, ctx, ok_context(ctx), dockerfile="--help"),
            InvalidSpec,
        ),
        (
            "tag-dash-help",
            lambda rt, ctx: _build(rt, ctx, ok_context(ctx), tag="--help"),
            InvalidSpec,
        ),
        (
            "tag-upper-case",
            lambda rt, ctx: _build(rt, ctx, ok_context(ctx), tag=f"Runtimes-Test/{ctx.marker}:1"),
            InvalidSpec,
        ),
        (
            "tag-trailing-newline",
            lambda rt, ctx: _build(rt, ctx, ok_context(ctx), tag=ctx.tag + "\n"),
            InvalidSpec,
        ),
        (
            "build-args-str",
            lambda rt, ctx: _build(rt, ctx, ok_context(ctx), build_args="A=B"),
            InvalidSpec,
        ),
        (
            "build-args-int-value",
            lambda rt, ctx: _build(rt, ctx, ok_context(ctx), build_args={"A": 1}),
            InvalidSpec,
        ),
        (
            "labels-str",
            lambda rt, ctx: _build(rt, ctx, ok_context(ctx), labels="a=b"),
            InvalidSpec,
        ),
        (
            "labels-int-value",
            lambda rt, ctx: _build(rt, ctx, ok_context(ctx), labels={**ctx.labels(), "a": 1}),
            InvalidSpec,
        ),
        (
            "target-dash-help",
            lambda rt, ctx: _build(rt, ctx, ok_context(ctx), target="--help"),
            InvalidSpec,
        ),
        # the builder's own verdicts
        (
            "target-unknown",
            lambda rt, ctx: _build(rt, ctx, ok_context(ctx), target="nope"),
            BuildFailed,
        ),
        (
            "dockerfile-syntax-error",
            lambda rt, ctx: _build(rt, ctx, ctx.context("FROM scratch\nBOGUS x\n")),
            BuildFailed,
        ),
        (
            "base-image-missing",
            lambda rt, ctx: _build(rt, ctx, ctx.context(f"FROM {ctx.missing_image}\n")),
            BuildFailed,
        ),
        (
            "step-fails",
            lambda rt, ctx: _build(
                rt,
                ctx,
                ctx.context(_FROM_BUSYBOX + 'RUN ["/bin/busybox", "sh", "-c", "exit 3"]\n'),
                no_cache=True,
            ),
            BuildFailed,
        ),
    ]
    return [Case(f"build-{bid}", call, exp) for bid, call, exp in rows]


#: Every row of the matrix.
def _registry_cases() -> list[Case]:
    def auth(username: Any, password: Any) -> runtimes.RegistryAuth:
        # Built unchecked: RegistryAuth itself is a plain value; the verbs check it.
        return runtimes.RegistryAuth(username, password)

    host = "127.0.0.1:1"  # nothing listens on port 1: a case that reached it would fail otherwise

    def ref(ctx: Ctx) -> str:
        return f"{host}/{ctx.marker}:bad"

    bad_refs: list[tuple[str, object]] = [
        ("empty", ""),
        ("upper", "Runtimes/UPPER:1"),
        ("space", "a b"),
        ("dash", "-x"),
        ("scheme", "http://127.0.0.1:1/x:1"),
        ("two-tags", "x:1:2"),
        ("bad-digest", "x@sha256:abc"),
        ("image-id", "sha256:" + "a" * 64),
        ("newline", "x:1\n"),
        ("none", None),
        ("bytes", b"x:1"),
    ]
    cases = [
        Case(f"{verb}-ref-{rid}", functools.partial(_registry_verb, verb, value), InvalidSpec)
        for verb in ("pull", "push")
        for rid, value in bad_refs
    ]
    return [
        *cases,
        Case("pull-platform-bad", lambda rt, ctx: rt.pull(ref(ctx), platform="linux"), InvalidSpec),
        Case(
            "pull-progress-not-callable",
            lambda rt, ctx: rt.pull(ref(ctx), on_progress=1),
            InvalidSpec,
        ),
        Case("pull-auth-tuple", lambda rt, ctx: rt.pull(ref(ctx), auth=("u", "p")), InvalidSpec),
        Case("pull-auth-text", lambda rt, ctx: rt.pull(ref(ctx), auth="u:p"), InvalidSpec),
        Case(
            "pull-auth-empty-user",
            lambda rt, ctx: rt.pull(ref(ctx), auth=auth("", "p")),
            InvalidSpec,
        ),
        Case(
            "pull-auth-colon-user",
            lambda rt, ctx: rt.pull(ref(ctx), auth=auth("a:b", "p")),
            InvalidSpec,
        ),
        Case(
            "pull-auth-empty-password",
            lambda rt, ctx: rt.pull(ref(ctx), auth=auth("u", "")),
            InvalidSpec,
        ),
        Case(
            "push-auth-newline-password",
            lambda rt, ctx: rt.push(ref(ctx), auth=auth("u", "p\nq")),
            InvalidSpec,
        ),
        Case(
            "push-auth-int-password",
            lambda rt, ctx: rt.push(ref(ctx), auth=auth("u", 123)),
            InvalidSpec,
        ),
        Case(
            "login-scheme", lambda rt, ctx: rt.login("https://127.0.0.1:1", "u", "p"), InvalidSpec
        ),
        Case("login-path", lambda rt, ctx: rt.login("127.0.0.1:1/v2", "u", "p"), InvalidSpec),
        Case("login-no-secret", lambda rt, ctx: rt.login(host, "u"), InvalidSpec),
        Case(
            "login-password-and-token",
            lambda rt, ctx: rt.login(host, "u", "p", token="t"),
            InvalidSpec,
        ),
        Case("login-empty-user", lambda rt, ctx: rt.login(host, "", "p"), InvalidSpec),
        Case("logout-bad-host", lambda rt, ctx: rt.logout("-h"), InvalidSpec),
        Case(
            "tag-target-id",
            lambda rt, ctx: rt.tag(ctx.test_image, "sha256:" + "b" * 64),
            InvalidSpec,
        ),
        Case("tag-target-dash", lambda rt, ctx: rt.tag(ctx.test_image, "-x"), InvalidSpec),
        Case(
            "tag-source-missing", lambda rt, ctx: rt.tag(ctx.missing_image, ctx.tag), ImageNotFound
        ),
        Case("run-pull-policy-bad", lambda rt, ctx: _run(rt, ctx, pull="sometimes"), InvalidSpec),
        Case("run-pull-policy-bool", lambda rt, ctx: _run(rt, ctx, pull=True), InvalidSpec),
        Case(
            "run-pull-never-missing",
            lambda rt, ctx: _run(rt, ctx, image=ctx.missing_image, pull="never"),
            ImageNotFound,
        ),
        Case(
            "build-pull-policy-bad",
            lambda rt, ctx: rt.build(ctx.context("FROM scratch\n"), tag=ctx.tag, pull="yes"),
            InvalidSpec,
        ),
        Case("push-missing-local", lambda rt, ctx: rt.push(ref(ctx)), ImageNotFound),
    ]


def _registry_verb(verb: str, value: object, rt: Any, ctx: Ctx) -> object:
    return getattr(rt, verb)(value)


CASES: list[Case] = [
    *_container_ref_cases(),
    *_run_cases(),
    *_logs_cases(),
    *_lifecycle_cases(),
    *_exec_cases(),
    *_control_cases(),
    *_copy_cases(),
    *_image_cases(),
    *_volume_cases(),
    *_network_cases(),
    *_connect_cases(),
    *_build_cases(),
    *_registry_cases(),
]


# -- the harness -----------------------------------------------------------------------


@attrs.frozen
class _Listing:
    containers: dict[str, Container]
    images: dict[str, runtimes.Image]
    volumes: dict[str, runtimes.Volume]
    networks: dict[str, runtimes.Network]


def _list(rt: Runtime) -> _Listing:
    has = rt.capabilities
    return _Listing(
        containers={c.id: c for c in rt.ps(all=True)},
        images={i.id: i for i in rt.images()} if Capability.IMAGE_STORE in has else {},
        volumes={v.name: v for v in rt.volumes()} if Capability.VOLUMES in has else {},
        networks={n.name: n for n in rt.networks()} if Capability.NETWORKS in has else {},
    )


#: What each verb needs beyond validation (the first part of a case's id).
_VERB_NEEDS: dict[str, Capability] = {
    "build": Capability.BUILD,
    **dict.fromkeys(
        ("image", "images", "remove_image", "tag", "pull", "push", "login", "logout"),
        Capability.IMAGE_STORE,
    ),
    **dict.fromkeys(("volume", "volumes", "create_volume", "remove_volume"), Capability.VOLUMES),
    **dict.fromkeys(
        (
            "network",
            "networks",
            "create_network",
            "remove_network",
            "connect_network",
            "disconnect_network",
        ),
        Capability.NETWORKS,
    ),
}
_FIXTURE_NEEDS = {"volume": Capability.VOLUMES, "network": Capability.NETWORKS}
_ERROR_NEEDS: dict[type[RuntimesError], Capability] = {
    NetworkNotFound: Capability.NETWORKS,
    VolumeNotFound: Capability.VOLUMES,
}


def case_capabilities(case: Case) -> set[Capability]:
    """What a case needs of the runtime: bad input is refused before any
    capability matters, but the case's fixtures and a verb's own errors
    (``ImageNotFound`` from ``tag``) need what they use."""
    needed = {_FIXTURE_NEEDS[n] for n in case.needs if n in _FIXTURE_NEEDS}
    verb = case.id.split("-", 1)[0]
    if case.expected is not InvalidSpec and verb in _VERB_NEEDS:
        needed.add(_VERB_NEEDS[verb])
    if case.expected in _ERROR_NEEDS:
        needed.add(_ERROR_NEEDS[case.expected])
    if verb in ("copy_to", "copy_from") and "running" in case.needs:
        needed.add(Capability.COPY)  # paths are checked in the container
    if verb == "create" and case.expected is ImageNotFound:
        needed.add(Capability.IMAGE_STORE)  # looked up in the store before the start
    return needed


#: Verbs that can create objects without labels of their own: an anonymous
#: or auto-created volume (run), layer images or intermediate containers (build).
_UNLABELLED_MAKERS = ("run-", "build-")


@attrs.frozen
class _Attribution:
    """Which new objects a case is answerable for (see the module doc)."""

    marker: str
    session: str
    #: Wall-clock interval of the case, when its verb can create unlabelled
    #: objects; ``None`` when it cannot, so unlabelled newcomers are someone else's.
    window: tuple[datetime, datetime] | None

    def marked(self, labels: Any, names: tuple[str, ...]) -> bool:
        """Surely this case's: it carries the marker or this session's label."""
        return any(self.marker in n for n in names) or labels.get(SESSION_LABEL) == self.session

    def ours(self, labels: Any, names: tuple[str, ...], created: datetime | None) -> bool:
        if self.marked(labels, names):
            return True
        if labels or self.window is None:
            return False
        return created is None or self.window[0] <= created <= self.window[1]


def _compare(rt: Runtime, before: _Listing, after: _Listing, who: _Attribution) -> list[str]:
    """Describe what the case left behind or removed; remove what is surely ours.

    Unlabelled newcomers without the marker are only reported ("unlabelled"):
    they are probably the case's, but could belong to a concurrent session.
    """
    problems: list[str] = []

    def note(kind: str, labels: Any, names: tuple[str, ...], text: str) -> bool:
        marked = who.marked(labels, names)
        problems.append(f"leaked {kind} {text}" + ("" if marked else " (unlabelled)"))
        return marked

    for cid, c in after.containers.items():
        if cid in before.containers or not who.ours(c.labels, (c.name,), c.created_at):
            continue
        if note("container", c.labels, (c.name,), f"{c.name} ({cid[:12]}, {c.state})"):
            with contextlib.suppress(RuntimesError):
                rt.remove(cid, force=True)
    for iid, i in after.images.items():
        if iid in before.images or not who.ours(i.labels, i.tags, i.created_at):
            continue
        if note("image", i.labels, i.tags, f"{iid[:19]} tags={list(i.tags)}"):
            with contextlib.suppress(RuntimesError):
                rt.remove_image(iid, force=True)
    for name, v in after.volumes.items():
        if name in before.volumes or not who.ours(v.labels, (name,), None):
            continue
        if note("volume", v.labels, (name,), f"{name!r} labels={dict(v.labels)}"):
            with contextlib.suppress(RuntimesError):
                rt.remove_volume(name, force=True)
    for name, n in after.networks.items():
        if name in before.networks or not who.ours(n.labels, (name,), None):
            continue
        if note("network", n.labels, (name,), f"{name!r} labels={dict(n.labels)}"):
            with contextlib.suppress(RuntimesError):
                rt.remove_network(name)
    for cid, c in before.containers.items():
        if cid not in after.containers and c.labels.get(SESSION_LABEL) == who.session:
            problems.append(f"removed container {c.name} ({cid[:12]})")
    for iid, i in before.images.items():
        if iid not in after.images and i.labels.get(SESSION_LABEL) == who.session:
            problems.append(f"removed image {iid[:19]} tags={list(i.tags)}")
    for name, v in before.volumes.items():
        if name not in after.volumes and v.labels.get(SESSION_LABEL) == who.session:
            problems.append(f"removed volume {name!r}")
    for name, n in before.networks.items():
        if name not in after.networks and n.labels.get(SESSION_LABEL) == who.session:
            problems.append(f"removed network {name!r}")
    return problems


@contextlib.contextmanager
def _unclosed_resources() -> Iterator[list[str]]:
    """Collect the ``ResourceWarning``s raised inside the block and by a garbage
    collection at its end: sockets or files dropped without being closed.

    Other warnings are re-issued, so the test session's filters still apply.
    """
    found: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield found
        gc.collect()
    for w in caught:
        if issubclass(w.category, ResourceWarning):
            found.append(f"unclosed resource: {w.message}")
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _drain(result: object) -> object:
    """Consume what a verb returned, so errors raised lazily count too."""
    if isinstance(result, Runtime):
        result.close()
    elif isinstance(result, Iterator):
        try:
            for _ in zip(range(10_000), result, strict=False):
                pass
        finally:
            close = getattr(result, "close", None)
            if callable(close):
                close()
    return result


def _describe(result: object) -> str:
    if isinstance(result, ExecResult):
        out = (result.stdout + result.stderr).decode(errors="replace").strip()
        return f"ExecResult(exit_code={result.exit_code}, output={out[:200]!r})"
    if isinstance(result, Container):
        return f"Container(name={result.name!r}, state={result.state}, image={result.image!r})"
    text = repr(result)
    return text if len(text) <= 200 else text[:200] + "..."


def _restore_test_image(rt: Runtime, test_image: str, session_labels: dict[str, str]) -> str:
    """Check the test image survived the case; rebuild it if the case deleted it."""
    if Capability.IMAGE_STORE not in rt.capabilities:
        return ""  # no verb of the library can delete it
    try:
        rt.image(test_image)
    except ImageNotFound:
        pass
    else:
        return ""
    if not test_image.startswith("runtimes-test/busybox:"):
        return f"test image {test_image} was deleted and cannot be rebuilt"
    build_test_image(rt, test_image, session_labels)
    return f"test image {test_image} was deleted (rebuilt for the next cases)"


_CAP_EFF = re.compile(r"CapEff:\s*([0-9a-fA-F]+)")


class BadInputContract(_Base):
    """Bad input raises one exact error class on every runtime and creates nothing."""

    @pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
    def test_bad_input(
        self,
        rt: Runtime,
        case: Case,
        launch: Launch,
        test_image: str,
        session_labels: dict[str, str],
        unique_name: Callable[[str], str],
        tmp_path: Path,
        request: pytest.FixtureRequest,
    ) -> None:
        need(rt, *sorted(case_capabilities(case)))
        ctx = Ctx(
            rt=rt,
            marker=unique_name("bad"),
            session_labels=session_labels,
            test_image=test_image,
            tmp_path=tmp_path,
        )
        if "running" in case.needs:
            ctx.running_container = launch(
                ["sleep", str(RUNNING_SECONDS)], name=f"{ctx.marker}-run"
            )
        if "volume" in case.needs:
            ctx.volume_name = rt.create_volume(f"{ctx.marker}-vol", labels=session_labels).name
        if "network" in case.needs:
            ctx.network_name = rt.create_network(f"{ctx.marker}-net", labels=session_labels).name
        try:
            gc.collect()  # what earlier tests dropped is not this case's
            before = _list(rt)
            wall_start = datetime.now(UTC)
            started = time.monotonic()
            with _unclosed_resources() as unclosed:
                error: Exception | None = None
                result: object = None
                try:
                    result = _drain(case.call(rt, ctx))
                except Exception as exc:
                    error = exc
                elapsed = time.monotonic() - started
                if error is None:
                    error_class, actual = None, f"no error, returned {_describe(result)}"
                else:
                    error_class = type(error)
                    actual = f"{error_class.__module__}.{error_class.__qualname__}: {error}"
                # The traceback holds the frames, and so whatever a failed call
                # opened: drop it, so that an unclosed socket is this case's finding.
                del error, result
            problems = list(unclosed)
            after = _list(rt)
            slack = timedelta(seconds=2)
            who = _Attribution(
                marker=ctx.marker,
                session=session_labels[SESSION_LABEL],
                window=(wall_start - slack, datetime.now(UTC) + slack)
                if case.id.startswith(_UNLABELLED_MAKERS)
                else None,
            )
            problems += _compare(rt, before, after, who)
            if ctx.running_container is not None:
                try:
                    state = rt.inspect(ctx.running_container.id).state
                except ContainerNotFound:
                    state = None
                if state is not ContainerState.RUNNING and not (
                    elapsed >= RUNNING_SECONDS - 5 and state is ContainerState.EXITED
                ):
                    problems.append(f"the running container is now {state or 'gone'}")
            damage = _restore_test_image(rt, test_image, session_labels)
            if damage:
                problems.append(damage)
        finally:
            if ctx.volume_name is not None:
                with contextlib.suppress(NotFound):
                    rt.remove_volume(ctx.volume_name, force=True)
            if ctx.network_name is not None:
                # A case that wrongly attached a container leaves it in use.
                for container in rt.ps(all=True, labels=session_labels):
                    if any(a.network == ctx.network_name for a in container.networks):
                        with contextlib.suppress(RuntimesError):
                            rt.remove(container.id, force=True)
                with contextlib.suppress(NotFound):
                    rt.remove_network(ctx.network_name)

        # For report plugins (pytest-json-report, xunit1): one row of the matrix.
        request.node.user_properties += [
            ("runtime", rt.name),
            ("expected", case.expected.__name__),
            ("actual_class", "none" if error_class is None else error_class.__name__),
            ("actual", actual[:500]),
            ("elapsed", round(elapsed, 2)),
            ("problems", "; ".join(problems)),
        ]
        wrong_class = error_class is not case.expected
        if wrong_class or problems:
            pytest.fail(
                f"{case.id} on {rt.name}: expected {case.expected.__name__}, got {actual[:500]}"
                f" (after {elapsed:.1f}s)"
                + (f"; side effects: {'; '.join(problems)}" if problems else "")
            )

    def test_exec_flag_injection_runs_nothing_privileged(self, rt: Runtime, launch: Launch) -> None:
        """``exec("--privileged", [name, ...])`` must be refused, and nothing may run.

        The injected command writes its capabilities to a file; a plain exec
        afterwards reads it, so whatever the verb returned or raised, the test
        knows whether a process ran and with which capabilities.
        """
        c = launch(["sleep", "120"])
        baseline = rt.exec(c, ["sh", "-c", "grep CapEff /proc/self/status"])
        evidence = "/tmp/runtimes-injected"
        error: Exception | None = None
        try:
            result: object = rt.exec(
                "--privileged",
                [c.name, "sh", "-c", f"grep CapEff /proc/self/status | tee {evidence}"],
            )
        except Exception as exc:
            error = exc
            result = None
        ran = rt.exec(c, ["cat", evidence])
        normal = _CAP_EFF.search(baseline.stdout.decode())
        injected = _CAP_EFF.search(ran.stdout.decode()) if ran.exit_code == 0 else None
        verdict = "nothing ran"
        if injected is not None:
            verdict = f"a process ran with CapEff={injected.group(1)}"
            if normal is not None and int(injected.group(1), 16) > int(normal.group(1), 16):
                verdict += f", more than the normal {normal.group(1)}: PRIVILEGED"
        got = "no error" if error is None else f"{type(error).__name__}: {error}"
        if type(error) is not InvalidSpec or injected is not None:
            pytest.fail(
                f"{rt.name}: expected InvalidSpec and nothing run; got {got} "
                f"(returned {_describe(result)}); {verdict}"
            )

    def test_remove_traversal_keeps_image(
        self, rt: Runtime, test_image: str, session_labels: dict[str, str]
    ) -> None:
        """``remove("../images/<ref>")`` must be refused and the image must survive."""
        need(rt, Capability.IMAGE_STORE)
        image = rt.image(test_image)
        error: Exception | None = None
        try:
            rt.remove("../images/" + test_image, force=True)
        except Exception as exc:
            error = exc
        try:
            survived = rt.image(test_image).id == image.id
        except ImageNotFound:
            survived = False
        if not survived:
            _restore_test_image(rt, test_image, session_labels)
        got = "no error" if error is None else f"{type(error).__name__}: {error}"
        if type(error) is not InvalidSpec or not survived:
            pytest.fail(
                f"{rt.name}: expected InvalidSpec with the image intact; got {got}; "
                f"image {'still exists' if survived else 'WAS DELETED'}"
            )

    def test_run_missing_workdir(
        self, rt: Runtime, launch: Launch, runtimes_session_id: str, session_labels: dict[str, str]
    ) -> None:
        """A workdir missing from the image is created where the runtime can
        (as Docker does); elsewhere ``run`` raises CommandFailed and leaves nothing."""
        workdir = f"/rt-{runtimes_session_id}/missing/dir"
        if Capability.CREATES_MISSING_WORKDIR in rt.capabilities:
            c = launch(["pwd"], workdir=workdir)
            assert rt.wait(c, timeout=60) == 0
            assert [line.text for line in rt.logs(c)] == [workdir]
            return
        before = {c.id for c in rt.ps(all=True, labels=session_labels)}
        with pytest.raises(CommandFailed, match="workdir"):
            launch(["pwd"], workdir=workdir)
        assert {c.id for c in rt.ps(all=True, labels=session_labels)} == before

    @pytest.mark.parametrize(
        ("command", "codes"),
        [(["/runtimes-no-such-binary"], (126, 127)), (["/www/index.html"], (126,))],
        ids=["missing-binary", "non-executable"],
    )
    def test_exec_unstartable_gives_exit_code(
        self, rt: Runtime, launch: Launch, command: list[str], codes: tuple[int, ...]
    ) -> None:
        """An exec whose binary cannot start is an exit code (126/127), as on Docker."""
        c = launch(["sleep", "120"])
        try:
            result = rt.exec(c, command)
        except Exception as exc:
            pytest.fail(f"{rt.name}: expected exit code {codes}, got {type(exc).__name__}: {exc}")
        assert result.exit_code in codes, f"{rt.name}: {_describe(result)}"
