"""pytest plugin (entry point ``pytest11``): runtime fixtures for contract tests.

* ``--runtime=docker,podman`` picks the runtimes; by default every runtime
  that :func:`runtimes.available` finds, plus every runtime named in
  ``RUNTIMES_REQUIRE``.
* A runtime that is not reachable is skipped with the reason, unless it is
  named in ``RUNTIMES_REQUIRE=docker,podman,...``: then its tests FAIL.
* ``RUNTIME@VARIANT`` (``docker@tls``, ``docker@ssh``, ``podman@ssh``...) names
  the same adapter connected with other options, each read from
  ``RUNTIMES_REMOTE_<RUNTIME>_<VARIANT>_<OPTION>`` (``RUNTIMES_REMOTE_DOCKER_TLS_HOST``,
  ``RUNTIMES_REMOTE_DOCKER_TLS_TLS_CA``...; ``scripts/second-engine.sh env``
  prints them for the engine it starts).  A variant runs only when named,
  in ``--runtime`` or ``RUNTIMES_REQUIRE``, and only for the contract
  classes (:class:`~runtimes.testing.RuntimeContract` and its parts).
* Everything the tests create (containers, images, volumes, networks)
  carries the session label ``runtimes.test-session=<id>`` and is removed
  when the runtime's fixture ends, even when tests fail; the teardown then
  fails if anything labelled is still there.

For application tests (testing your app with containers, not an adapter):

* ``runtime``: the runtime the usual selection picks (``RUNTIMES_DEFAULT``,
  ``[tool.runtimes]``, else the first available), one per session, through
  a :class:`LabelledRuntime` that adds the session label to everything
  created through it; all of it is removed at the session's end;
* ``stack``: ``stack(Stack(...))`` brings a stack up on ``runtime`` for
  one test and returns the running stack; it is torn down after the test.

Local registries (opt-in: nothing starts unless a test asks), from
:mod:`runtimes.testing.registry`, all on 127.0.0.1 and removed with
their storage when their scope ends (``engine_registry`` gives one that the
runtime under test reaches, on this machine's address towards a remote
engine):

* ``local_registry``: plain HTTP, one per session;
* ``local_registry_auth``: HTTP basic auth (``.credentials``), one per session;
* ``local_registry_tls``: HTTPS with a throwaway CA (``.ca_path``), one per session;
* ``registry_factory``: ``registry_factory(tls=..., auth=...)`` starts a
  fresh registry for one test (its request count starts at zero);
* ``unreachable_registry``: an address where connections are refused;
* ``engine_registry("plain" | "auth" | "tls")``: the session's registry of
  that kind that ``container_runtime`` reaches (on 127.0.0.1 for an engine
  of this machine).

A machine without the registry binary (Debian: ``docker-registry``),
``htpasswd`` or ``openssl`` skips these tests, unless ``registry`` is
named in ``RUNTIMES_REQUIRE``: then they FAIL.

Support matrix: with ``--support-matrix=PATH`` (or ``RUNTIMES_SUPPORT_MATRIX``)
the session writes, as JSON, which contract tests passed, were skipped (and
why) or failed on each runtime, with the engine's version; see
:mod:`runtimes.testing.matrix`.  The docs render it as a table.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

import runtimes
from runtimes import _sweep
from runtimes.base import Runtime
from runtimes.errors import (
    NotFound,
    RuntimesError,
    RuntimeUnavailable,
    UnknownRuntime,
)
from runtimes.models import Capability, Container, Network

if TYPE_CHECKING:
    from runtimes.testing.registry import LocalRegistry, UnreachableRegistry

SESSION_LABEL = "runtimes.test-session"
_SELECTED = pytest.StashKey[list[str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("runtimes")
    group.addoption(
        "--runtime",
        action="store",
        default=None,
        help="comma-separated runtimes to run contract tests against "
        "(default: every reachable runtime plus those in RUNTIMES_REQUIRE)",
    )
    group.addoption(
        "--support-matrix",
        action="store",
        default=os.environ.get("RUNTIMES_SUPPORT_MATRIX") or None,
        metavar="PATH",
        help="write the contract tests' outcome per runtime and engine version to PATH "
        "as JSON, merged with what PATH already holds for other runtimes "
        "(default: $RUNTIMES_SUPPORT_MATRIX)",
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Count the tests skipped for each missing capability, per runtime."""
    from runtimes.testing._base import CAPABILITY_SKIP

    counts: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", ()):
        longrepr = getattr(report, "longrepr", None)
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else ""
        found = re.search(rf"(\S+) {CAPABILITY_SKIP} (\S+):", str(reason))
        if found:
            key = f"{found.group(1)}: {found.group(2)}"
            counts[key] = counts.get(key, 0) + 1
    if counts:
        terminalreporter.write_sep("-", "skipped for a missing capability")
        for key, count in sorted(counts.items()):
            terminalreporter.write_line(f"{key}: {count} skipped")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "runtimes_contract: a contract test that runs against real runtimes"
    )
    path = config.getoption("--support-matrix")
    if path:
        # Imported only when asked for: the plugin loads in every user's session.
        from runtimes.testing.matrix import MatrixRecorder

        config.pluginmanager.register(MatrixRecorder(path), "runtimes-support-matrix")


def engine_seen(config: pytest.Config, name: str, info: Any = None, problem: str = "") -> None:
    """Tell the support-matrix recorder (when there is one) which engine a
    runtime name stood for in this session, or why it was unusable."""
    recorder = config.pluginmanager.get_plugin("runtimes-support-matrix")
    if recorder is not None:
        recorder.engine(name, info, problem)


#: Names ``RUNTIMES_REQUIRE`` accepts besides runtimes: test endpoints.
REQUIRABLE_ENDPOINTS = ("registry",)


def _required_names() -> list[str]:
    return [n.strip() for n in os.environ.get("RUNTIMES_REQUIRE", "").split(",") if n.strip()]


def required_runtimes() -> list[str]:
    """Runtimes (and ``runtime@variant`` names) whose absence fails the run
    (``RUNTIMES_REQUIRE``)."""
    return [n for n in _required_names() if n not in REQUIRABLE_ENDPOINTS]


#: Prefix of the variables that define a ``runtime@variant``.
VARIANT_PREFIX = "RUNTIMES_REMOTE_"


def variant_options(name: str) -> tuple[str, dict[str, str]]:
    """``("docker", {"host": ..., "tls_ca": ...})`` for ``"docker@tls"``: the
    adapter and the options that ``RUNTIMES_REMOTE_DOCKER_TLS_<OPTION>``
    variables give; ``(name, {})`` for a plain runtime name.

    Raises ``LookupError`` when no variable defines the variant.
    """
    runtime, sep, variant = name.partition("@")
    if not sep:
        return name, {}
    from runtimes.registry import COMMON_OPTIONS, adapter_class

    prefix = f"{VARIANT_PREFIX}{runtime}_{variant}_".upper().replace("-", "_")
    accepted = (*adapter_class(runtime).options, *COMMON_OPTIONS)
    options = {
        option: os.environ[prefix + option.upper()]
        for option in accepted
        if os.environ.get(prefix + option.upper())
    }
    if not options:
        raise LookupError(
            f"no {prefix}* variables define {name!r} (scripts/second-engine.sh env prints "
            "them for this machine's second engine)"
        )
    return runtime, options


def registry_required() -> bool:
    """Whether ``RUNTIMES_REQUIRE`` names ``registry``: a local registry
    that cannot start then fails the tests that use it instead of skipping them."""
    return "registry" in _required_names()


def _selected(config: pytest.Config) -> list[str]:
    cached: list[str] | None = config.stash.get(_SELECTED, None)
    if cached is not None:
        return cached
    option = config.getoption("--runtime")
    if option:
        names = [n.strip() for n in option.split(",") if n.strip()]
    else:
        names = runtimes.available()
        names += [n for n in required_runtimes() if n not in names]
    config.stash[_SELECTED] = names
    return names


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "container_runtime" not in metafunc.fixturenames:
        return
    bound = getattr(metafunc.cls, "runtime_name", None)
    names = [bound] if bound else _selected(metafunc.config)
    if not _is_contract(metafunc.cls):
        # A runtime@variant is the same adapter elsewhere: tests outside the
        # contract drive runtimes by name (CLI subprocesses, the demo).
        names = [n for n in names if "@" not in n]
    if not names:
        names = ["<none>"]
    metafunc.parametrize("container_runtime", names, indirect=True, ids=names, scope="session")


def _is_contract(cls: type | None) -> bool:
    from runtimes.testing._base import _Base

    return cls is not None and issubclass(cls, _Base)


@pytest.fixture(scope="session")
def runtimes_session_id() -> str:
    """Identifies this test session's objects on every runtime."""
    return uuid.uuid4().hex[:12]


@pytest.fixture(scope="session")
def session_labels(runtimes_session_id: str) -> dict[str, str]:
    """Labels that every object created by the tests must carry."""
    return {SESSION_LABEL: runtimes_session_id}


@pytest.fixture(scope="session")
def container_runtime(
    request: pytest.FixtureRequest, session_labels: dict[str, str]
) -> Iterator[Runtime]:
    """A connected runtime, one per selected name; cleaned up at session end."""
    name: str = request.param
    if name == "<none>":
        pytest.skip("no container runtime is reachable (see `runtimes info`)")
    try:
        adapter, options = variant_options(name)
        rt = runtimes.connect(adapter, **options)
        try:
            engine_seen(request.config, name, rt.info())
        except BaseException:
            rt.close()
            raise
    except (RuntimeUnavailable, UnknownRuntime, LookupError) as exc:
        engine_seen(request.config, name, problem=str(exc))
        if name in required_runtimes():
            pytest.fail(f"runtime {name} is required by RUNTIMES_REQUIRE but unusable: {exc}")
        pytest.skip(f"runtime {name} unavailable: {exc}")
    try:
        yield rt
    finally:
        try:
            leftovers = cleanup(rt, session_labels)
        finally:
            rt.close()
        if leftovers:
            pytest.fail(f"{name}: objects labelled by this session survived cleanup: {leftovers}")


class LabelledRuntime:
    """A :class:`~runtimes.Runtime` whose creating verbs (``run``,
    ``running``, ``create``, ``build``, ``create_volume``, ``create_network``, ``up``)
    add ``labels`` to what they create; every other attribute is the
    runtime's own."""

    def __init__(self, runtime: Runtime, labels: dict[str, str]) -> None:
        #: The wrapped runtime.
        self.runtime = runtime
        #: Labels added to everything created through this object.
        self.labels = dict(labels)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.runtime, name)

    def _merged(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {**kwargs, "labels": {**self.labels, **(kwargs.get("labels") or {})}}

    def run(self, image: str, command: Any = None, **kwargs: Any) -> Container:
        return self.runtime.run(image, command, **self._merged(kwargs))

    def running(self, image: str, command: Any = None, **kwargs: Any) -> Any:
        return self.runtime.running(image, command, **self._merged(kwargs))

    def create(self, image: str, command: Any = None, **kwargs: Any) -> Container:
        return self.runtime.create(image, command, **self._merged(kwargs))

    def build(self, context_dir: Any, **kwargs: Any) -> Any:
        return self.runtime.build(context_dir, **self._merged(kwargs))

    def create_volume(self, name: str, **kwargs: Any) -> Any:
        return self.runtime.create_volume(name, **self._merged(kwargs))

    def create_network(self, name: str, **kwargs: Any) -> Network:
        return self.runtime.create_network(name, **self._merged(kwargs))

    def up(self, stack: Any, **kwargs: Any) -> Any:
        return self.runtime.up(stack, **self._merged(kwargs))

    def __repr__(self) -> str:
        return f"<LabelledRuntime {self.runtime!r} {self.labels}>"


@pytest.fixture(scope="session")
def runtime(session_labels: dict[str, str]) -> Iterator[LabelledRuntime]:
    """The selected runtime for application tests; everything created
    through it carries the session label and is removed at the end."""
    try:
        rt = runtimes.connect()
    except (RuntimeUnavailable, UnknownRuntime) as exc:
        if required_runtimes():
            pytest.fail(f"no usable runtime although RUNTIMES_REQUIRE is set: {exc}")
        pytest.skip(f"no container runtime: {exc}")
    try:
        yield LabelledRuntime(rt, session_labels)
    finally:
        try:
            leftovers = cleanup(rt, session_labels)
        finally:
            rt.close()
        if leftovers:
            pytest.fail(
                f"{rt.name}: objects labelled by this session survived cleanup: {leftovers}"
            )


@pytest.fixture
def stack(runtime: LabelledRuntime) -> Iterator[Callable[..., Any]]:
    """``stack(Stack(...), **up_kwargs)``: the stack up on ``runtime`` for
    this test (a :class:`~runtimes.stacks.RunningStack`), down afterwards."""
    with contextlib.ExitStack() as stacks:

        def start(definition: Any, **kwargs: Any) -> Any:
            return stacks.enter_context(runtime.up(definition, **kwargs))

        yield start


def cleanup(rt: Runtime, labels: dict[str, str]) -> list[str]:
    """Remove every container, image, volume and network carrying ``labels``;
    return what could not be removed (``"container NAME"``...).

    What cannot be removed is returned, not raised, so that everything else
    still goes (:func:`runtimes._sweep.remove_labelled`).
    """
    _sweep.remove_labelled(rt, labels)
    return [f"{kind} {ref}" for kind, ref in _sweep.left_labelled(rt, labels)]


@pytest.fixture(scope="session")
def test_image(
    container_runtime: Runtime, session_labels: dict[str, str], runtimes_session_id: str
) -> Iterator[str]:
    """Reference of the busybox test image (built once per runtime and session)."""
    configured = os.environ.get("RUNTIMES_TEST_IMAGE")
    if configured:
        yield configured
        return
    from runtimes.testing.images import build_test_image

    tag = f"runtimes-test/busybox:{runtimes_session_id}"
    if Capability.BUILD not in container_runtime.capabilities:
        yield from _imported_test_image(container_runtime, tag, session_labels)
        return
    try:
        build_test_image(container_runtime, tag, session_labels)
    except LookupError as exc:
        pytest.fail(str(exc))
    yield tag


def _imported_test_image(rt: Runtime, tag: str, session_labels: dict[str, str]) -> Iterator[str]:
    """For a runtime that cannot build (a cluster): build the test image with
    ``RUNTIMES_TEST_IMAGE_BUILDER`` (default docker) and hand it to the
    command in ``RUNTIMES_TEST_IMAGE_LOADER`` (the reference is its last
    argument), which puts it where ``rt`` runs images from; the builder's
    copy is removed at the end."""
    import shlex

    from runtimes._shell import Shell
    from runtimes.testing.images import build_test_image

    loader = shlex.split(os.environ.get("RUNTIMES_TEST_IMAGE_LOADER", ""))
    if not loader:
        why = (
            f"{rt.name} cannot build the test image: set RUNTIMES_TEST_IMAGE_LOADER to a "
            "command that loads a locally built image into it (or RUNTIMES_TEST_IMAGE)"
        )
        if rt.name in required_runtimes():
            pytest.fail(why)
        pytest.skip(why)
    builder_name = os.environ.get("RUNTIMES_TEST_IMAGE_BUILDER", "docker")
    try:
        builder = runtimes.connect(builder_name)
    except RuntimesError as exc:
        pytest.fail(f"{rt.name} cannot build: the builder {builder_name} is unusable: {exc}")
    try:
        try:
            build_test_image(builder, tag, session_labels)
        except LookupError as exc:
            pytest.fail(str(exc))
        # The project's one shell-out path: argv, a timeout, the command logged.
        shell = Shell(rt.name, loader[0], global_args=loader[1:], timeout=600)
        try:
            done = shell.run([tag], operation="load the test image", check=False)
        except RuntimesError as exc:  # the loader missing, or out of time
            pytest.fail(f"loading the test image into {rt.name} failed: {exc}")
        if done.returncode != 0:
            stderr = done.stderr.decode(errors="replace").strip()[-2000:]
            pytest.fail(
                f"loading the test image into {rt.name} failed (exit {done.returncode}): {stderr}"
            )
        yield tag
    finally:
        with contextlib.suppress(RuntimesError):
            builder.remove_image(tag, force=True)
        builder.close()


@pytest.fixture
def unique_name(runtimes_session_id: str) -> Callable[[str], str]:
    """``unique_name("web")`` -> a name no other test or session uses."""
    counter = itertools.count()

    def make(prefix: str = "c") -> str:
        return f"rt-{runtimes_session_id}-{prefix}-{uuid.uuid4().hex[:6]}{next(counter)}"

    return make


@pytest.fixture
def launch(
    container_runtime: Runtime, test_image: str, session_labels: dict[str, str]
) -> Iterator[Callable[..., Container]]:
    """``launch(command, **run_kwargs)``: run the test image with the session
    labels; every container is force-removed when the test ends."""
    started: list[Container] = []

    def run(command: Any = None, image: str | None = None, **kwargs: Any) -> Container:
        labels = {**session_labels, **kwargs.pop("labels", {})}
        container = container_runtime.run(image or test_image, command, labels=labels, **kwargs)
        started.append(container)
        return container

    yield run
    for container in started:
        with contextlib.suppress(RuntimesError):
            container_runtime.remove(container, force=True)


@pytest.fixture
def make_network(
    container_runtime: Runtime,
    session_labels: dict[str, str],
    unique_name: Callable[[str], str],
) -> Iterator[Callable[..., Network]]:
    """``make_network(prefix, **create_network_kwargs)``: a user network with
    a unique name and the session labels; removed when the test ends, after
    the session's containers still attached to it."""
    made: list[Network] = []

    def create(prefix: str = "net", **kwargs: Any) -> Network:
        labels = {**session_labels, **kwargs.pop("labels", {})}
        network = container_runtime.create_network(unique_name(prefix), labels=labels, **kwargs)
        made.append(network)
        return network

    yield create
    for network in made:
        for container in container_runtime.ps(all=True, labels=session_labels):
            if any(a.network == network.name for a in container.networks):
                with contextlib.suppress(RuntimesError):
                    container_runtime.remove(container.id, force=True)
        with contextlib.suppress(NotFound):
            container_runtime.remove_network(network.name)


def _start_registry(**options: Any) -> LocalRegistry:
    # Imported here: the plugin loads in every pytest session of every user.
    from runtimes.testing.registry import LocalRegistry, RegistryToolMissing

    registry = LocalRegistry(**options)
    try:
        return registry.start()
    except RegistryToolMissing as exc:
        if registry_required():
            pytest.fail(f"a local registry is required by RUNTIMES_REQUIRE but cannot start: {exc}")
        pytest.skip(f"no local registry: {exc}")


_KINDS: dict[str, dict[str, bool]] = {"plain": {}, "auth": {"auth": True}, "tls": {"tls": True}}


class _RegistryPool:
    """The session's registries, one per kind and listening address."""

    def __init__(self) -> None:
        self._started: dict[tuple[str, str], LocalRegistry] = {}

    def get(self, kind: str, host_ip: str = "127.0.0.1") -> LocalRegistry:
        key = (kind, host_ip)
        if key not in self._started:
            self._started[key] = _start_registry(host_ip=host_ip, **_KINDS[kind])
        return self._started[key]

    def stop(self) -> None:
        for registry in self._started.values():
            registry.stop()
        self._started.clear()


@pytest.fixture(scope="session")
def _registry_pool() -> Iterator[_RegistryPool]:
    pool = _RegistryPool()
    try:
        yield pool
    finally:
        pool.stop()


@pytest.fixture(scope="session")
def local_registry(_registry_pool: _RegistryPool) -> LocalRegistry:
    """A plain-HTTP registry on 127.0.0.1 for the whole session.

    Shared by every test that asks for it: count requests as differences, or
    use ``registry_factory`` for a registry of your own.
    """
    return _registry_pool.get("plain")


@pytest.fixture(scope="session")
def local_registry_auth(_registry_pool: _RegistryPool) -> LocalRegistry:
    """A plain-HTTP registry with basic auth (``.credentials``) for the session."""
    return _registry_pool.get("auth")


@pytest.fixture(scope="session")
def local_registry_tls(_registry_pool: _RegistryPool) -> LocalRegistry:
    """An HTTPS registry whose certificate only ``.ca_path`` vouches for."""
    return _registry_pool.get("tls")


@pytest.fixture(scope="session")
def registry_host_ip(container_runtime: Runtime) -> str:
    """Where a registry must listen for ``container_runtime``'s engine to
    reach it: 127.0.0.1, or this machine's address towards a remote engine
    (whose loopback is its own)."""
    if container_runtime.engine_host is None:
        return "127.0.0.1"
    from runtimes.testing.registry import address_towards

    return address_towards(container_runtime.engine_host)


@pytest.fixture
def engine_registry(
    _registry_pool: _RegistryPool, registry_host_ip: str
) -> Callable[[str], LocalRegistry]:
    """``engine_registry("plain" | "auth" | "tls")``: the session's registry
    of that kind that the runtime under test reaches."""
    return lambda kind: _registry_pool.get(kind, registry_host_ip)


@pytest.fixture
def registry_factory() -> Iterator[Callable[..., LocalRegistry]]:
    """``registry_factory(tls=False, auth=False, username=None, password=None)``:
    a fresh registry for this test, stopped and removed when the test ends."""
    started: list[LocalRegistry] = []

    def make(**options: Any) -> LocalRegistry:
        registry = _start_registry(**options)
        started.append(registry)
        return registry

    try:
        yield make
    finally:
        for registry in started:
            registry.stop()


@pytest.fixture
def unreachable_registry() -> Iterator[UnreachableRegistry]:
    """A registry address on 127.0.0.1 where every connection is refused."""
    from runtimes.testing.registry import UnreachableRegistry

    with UnreachableRegistry() as address:
        yield address
