"""The kubernetes adapter's mapping, pinned on pods the API server really sent
(``tests/fixtures/kubernetes``, recorded from a v1.34 cluster), and its
options and errors without a cluster."""

from __future__ import annotations

import contextlib
import inspect
import json
import socket
import threading
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import runtimes
from runtimes.models import Capability, ContainerState, Mount, MountType, PortBinding
from runtimes.specs import RunSpec

kube = pytest.importorskip("runtimes.adapters.kubernetes")
pytest.importorskip("kubernetes")

Recorded = Callable[[str, str], Any]


def pod(recorded: Recorded, name: str) -> dict[str, Any]:
    data: dict[str, Any] = recorded("kubernetes", name)
    return data


# -- state mapping on recorded pods ------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "state", "exit_code"),
    [
        ("pod_pending.json", ContainerState.CREATED, None),
        ("pod_running.json", ContainerState.RUNNING, None),
        ("pod_succeeded.json", ContainerState.EXITED, 0),
        ("pod_failed.json", ContainerState.EXITED, 3),
        ("pod_stopped.json", ContainerState.EXITED, 137),
        ("pod_image_never_pull.json", ContainerState.CREATED, None),
    ],
)
def test_state_from_recorded_pods(
    recorded: Recorded, fixture: str, state: ContainerState, exit_code: int | None
) -> None:
    found = kube.container_from_pod(pod(recorded, fixture))
    assert found.state is state
    assert found.exit_code == exit_code
    assert len(found.id) == 64
    assert found.created_at is not None
    assert found.created_at.tzinfo is not None


def test_recorded_exited_pod_fields(recorded: Recorded) -> None:
    raw = pod(recorded, "pod_failed.json")
    found = kube.container_from_pod(raw)
    assert found.id == kube.container_id(raw["metadata"]["uid"])
    assert found.name == raw["metadata"]["name"]
    assert found.command == ("sh", "-c", "echo out; echo err >&2; exit 3")
    assert found.started_at is not None
    assert found.finished_at is not None
    assert found.started_at <= found.finished_at
    assert found.labels["runtimes.test-session"] == "fixtures"
    assert kube.MANAGED_LABEL not in found.labels
    assert found.raw["metadata"]["uid"] == raw["metadata"]["uid"]


def test_recorded_pull_failure_is_an_image_error(recorded: Recorded) -> None:
    reason, message = kube.waiting_reason(pod(recorded, "pod_image_never_pull.json"))
    assert reason == "ErrImageNeverPull"
    assert message


def test_recorded_ports_and_labels_round_trip(recorded: Recorded) -> None:
    found = kube.container_from_pod(pod(recorded, "pod_running.json"))
    assert found.port(8080) == PortBinding(
        container_port=8080,
        protocol="tcp",
        host_ip="127.0.0.1",
        host_port=found.port(8080).host_port,
    )
    assert found.labels["runtimes.healthcheck"].startswith("{")


def test_recorded_pod_list(recorded: Recorded) -> None:
    listed = recorded("kubernetes", "pod_list.json")
    assert listed["kind"] == "PodList"
    found = [kube.container_from_pod(p) for p in listed["items"]]
    assert found
    assert all(len(c.id) == 64 for c in found)


def test_recorded_exec_status_channel(recorded: Recorded) -> None:
    assert kube.exec_exit_code(recorded("kubernetes", "exec_status_exit4.json.txt")) == 4
    assert kube.exec_exit_code(b'{"metadata":{},"status":"Success"}') == 0


def test_recorded_logs_with_timestamps(recorded: Recorded) -> None:
    body: bytes = recorded("kubernetes", "logs_long_line_timestamps.txt")
    lines = list(kube.log_lines(iter([body]), timestamps=True))
    assert [len(line.data) for line in lines] == [100001, 6]
    assert lines[0].data == b"x" * 100000 + b"\n"
    assert all(line.timestamp is not None for line in lines)


# -- the manifest ---------------------------------------------------------------------


def test_manifest() -> None:
    spec = RunSpec(
        "runtimes-test/busybox:1",
        command=("-c", "echo hi"),
        name="web",
        env={"A": "1"},
        labels={"runtimes.test-session": "abc", "runtimes.healthcheck": '{"test": ["true"]}'},
        workdir="/tmp",
        user="1000:1000",
        entrypoint=("sh",),
        hostname="web-host",
        volumes=(Mount(source="/srv", target="/data", read_only=True, type=MountType.BIND),),
    )
    manifest = kube.pod_manifest(
        spec,
        pull_policy="never",
        ports=[PortBinding(container_port=80, protocol="tcp", host_ip="127.0.0.1", host_port=5000)],
    )
    meta, pod_spec = manifest["metadata"], manifest["spec"]
    assert meta["name"] == "web"
    assert meta["labels"] == {"runtimes.test-session": "abc", kube.MANAGED_LABEL: "runtimes"}
    assert json.loads(meta["annotations"][kube.LABELS_ANNOTATION]) == dict(spec.labels)
    assert json.loads(meta["annotations"][kube.PORTS_ANNOTATION]) == [
        [80, "tcp", "127.0.0.1", 5000]
    ]
    assert meta["finalizers"] == [kube.KEEP_FINALIZER]
    assert pod_spec["restartPolicy"] == "Never"
    assert pod_spec["hostname"] == "web-host"
    (container,) = pod_spec["containers"]
    assert container["imagePullPolicy"] == "Never"
    assert container["command"] == ["sh"]
    assert container["args"] == ["-c", "echo hi"]
    assert container["env"] == [{"name": "A", "value": "1"}]
    assert container["workingDir"] == "/tmp"
    assert container["securityContext"] == {"runAsUser": 1000, "runAsGroup": 1000}
    assert container["volumeMounts"] == [{"name": "bind-0", "mountPath": "/data", "readOnly": True}]
    assert pod_spec["volumes"] == [{"name": "bind-0", "hostPath": {"path": "/srv"}}]


@pytest.mark.parametrize(
    ("policy", "k8s"), [("never", "Never"), ("missing", "IfNotPresent"), ("always", "Always")]
)
def test_manifest_pull_policy_and_generated_name(policy: str, k8s: str) -> None:
    manifest = kube.pod_manifest(RunSpec("img:1"), pull_policy=policy)
    assert manifest["spec"]["containers"][0]["imagePullPolicy"] == k8s
    assert manifest["metadata"]["generateName"] == "runtimes-"
    assert "args" not in manifest["spec"]["containers"][0]


def test_manifest_refuses_user_names_and_named_volumes() -> None:
    with pytest.raises(runtimes.InvalidSpec, match="numeric"):
        kube.pod_manifest(RunSpec("img:1", user="u"))
    named = Mount(source="data", target="/data", type=MountType.VOLUME)
    with pytest.raises(runtimes.Unsupported) as info:
        kube.pod_manifest(RunSpec("img:1", volumes=(named,)))
    assert info.value.capability is Capability.VOLUMES


# -- logs, errors, exit codes ----------------------------------------------------------


def test_log_lines_keep_bytes_and_last_unterminated_line() -> None:
    body = [b"a\xff\xfeb\ncr\rin", b"side\nlast"]
    lines = list(kube.log_lines(iter(body), timestamps=False))
    assert [line.data for line in lines] == [b"a\xff\xfeb\n", b"cr\rinside\n", b"last"]
    assert all(line.timestamp is None for line in lines)


def test_log_lines_cut_the_timestamps_of_later_records() -> None:
    stamp = b"2026-11-29T05:00:00.123456789Z "
    record = kube.CRI_RECORD_SIZE
    body = stamp + b"x" * record + stamp + b"x" * record + stamp + b"yz\n" + stamp + b"short\n"
    lines = list(kube.log_lines(iter([body]), timestamps=True))
    assert [line.data for line in lines] == [b"x" * 2 * record + b"yz\n", b"short\n"]
    assert lines[0].timestamp is not None
    assert lines[0].timestamp.microsecond == 123456


def status(code: int, reason: str, message: str, **details: str) -> str:
    """A ``Status`` object as the API server sends it with an error."""
    body = {"kind": "Status", "status": "Failure", "message": message, "reason": reason}
    return json.dumps({**body, "code": code, **({"details": details} if details else {})})


@pytest.mark.parametrize(
    ("code", "body", "expected"),
    [
        (
            403,
            status(403, "Forbidden", 'pods is forbidden: User "limited" cannot create resource'),
            runtimes.Forbidden,
        ),
        (401, status(401, "Unauthorized", "Unauthorized"), runtimes.Forbidden),
        (
            404,
            status(404, "NotFound", 'namespaces "nope" not found', name="nope", kind="namespaces"),
            runtimes.RuntimeUnavailable,
        ),
        (
            404,
            status(404, "NotFound", 'pods "x" not found', name="x", kind="pods"),
            runtimes.ContainerNotFound,
        ),
        (
            409,
            status(409, "AlreadyExists", 'pods "x" already exists', name="x", kind="pods"),
            runtimes.NameConflict,
        ),
        (422, status(422, "Invalid", 'Pod "X" is invalid'), runtimes.InvalidSpec),
        (500, "oops", runtimes.CommandFailed),
    ],
)
def test_api_errors(code: int, body: str, expected: type[Exception]) -> None:
    error = kube.translate_api_error(code, body, operation="run", target="container", ref="x")
    assert type(error) is expected
    if expected is runtimes.Forbidden:
        assert isinstance(error, PermissionError)


def test_exec_exit_codes() -> None:
    assert kube.exec_exit_code(b"") == 0
    failed = {
        "status": "Failure",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": "4"}]},
    }
    assert kube.exec_exit_code(json.dumps(failed).encode()) == 4
    missing = {"status": "Failure", "message": 'exec: "nope": executable file not found in $PATH'}
    assert kube.exec_exit_code(json.dumps(missing).encode()) == 127


def test_label_split() -> None:
    labels = {"ok": "v", "a.b/c": "d", "bad key": "v", "json": '{"x": 1}', "long": "x" * 64}
    assert kube.split_labels(labels) == {"ok": "v", "a.b/c": "d"}


# -- options and connection errors, without a cluster ------------------------------------------


def write_kubeconfig(path: Path, server: str, namespace: str | None = None) -> Path:
    context: dict[str, Any] = {"cluster": "c", "user": "u"}
    if namespace:
        context["namespace"] = namespace
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": server}}],
                "users": [{"name": "u", "user": {"token": "t0ken-not-a-secret"}}],
                "contexts": [
                    {"name": "main", "context": context},
                    {"name": "other", "context": {"cluster": "c", "user": "u", "namespace": "o"}},
                ],
                "current-context": "main",
            }
        )
    )
    return path


@pytest.fixture
def refused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def hold() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    worker = threading.Thread(target=hold, daemon=True)
    worker.start()
    yield server.getsockname()[1]
    stop.set()
    worker.join(timeout=5)
    for conn in held:
        conn.close()
    server.close()


def test_namespace_from_kubeconfig_context(
    tmp_path: Path, refused_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_kubeconfig(tmp_path / "config", f"http://127.0.0.1:{refused_port}", "team")
    monkeypatch.setenv("KUBECONFIG", str(config))
    with runtimes.connect("kubernetes") as rt:
        assert rt.namespace == "team"  # type: ignore[attr-defined]
    with runtimes.connect("kubernetes", context="other") as rt:
        assert rt.namespace == "o"  # type: ignore[attr-defined]
    with runtimes.connect("kubernetes", namespace="given") as rt:
        assert rt.namespace == "given"  # type: ignore[attr-defined]
    plain = write_kubeconfig(tmp_path / "plain", f"http://127.0.0.1:{refused_port}")
    with runtimes.connect("kubernetes", kubeconfig=str(plain)) as rt:
        assert rt.namespace == "default"  # type: ignore[attr-defined]


def test_unreachable_api_server_is_typed_and_quick(tmp_path: Path, refused_port: int) -> None:
    config = write_kubeconfig(tmp_path / "config", f"http://127.0.0.1:{refused_port}")
    with runtimes.connect("kubernetes", kubeconfig=str(config), timeout=3) as rt:
        started = time.monotonic()
        with pytest.raises(runtimes.RuntimeUnavailable) as info:
            rt.info()
        assert time.monotonic() - started < 3
        assert "t0ken" not in str(info.value)
        with pytest.raises(runtimes.RuntimeUnavailable):
            rt.ps(all=True)
    assert kube.KubernetesRuntime.detect(kubeconfig=str(config)) is not None


def test_silent_api_server_times_out(tmp_path: Path, silent_server: int) -> None:
    config = write_kubeconfig(tmp_path / "config", f"http://127.0.0.1:{silent_server}")
    with runtimes.connect("kubernetes", kubeconfig=str(config), timeout=1) as rt:
        started = time.monotonic()
        with pytest.raises(runtimes.Timeout):
            rt.inspect("anything")
        assert time.monotonic() - started < 5


def test_a_websocket_handshake_with_a_silent_server_times_out(
    tmp_path: Path, silent_server: int
) -> None:
    # exec, copy and port forwarding upgrade a websocket; its handshake, too,
    # must end with the runtime's timeout, not wait for ever.
    config = write_kubeconfig(tmp_path / "config", f"http://127.0.0.1:{silent_server}")
    pod = {"metadata": {"name": "p"}}
    with runtimes.connect("kubernetes", kubeconfig=str(config), timeout=1) as rt:
        started = time.monotonic()
        with pytest.raises(runtimes.Timeout):
            rt._open_exec(pod, ["true"], "exec", stdin=False, tty=False)  # type: ignore[attr-defined]
        assert time.monotonic() - started < 5
        started = time.monotonic()
        with pytest.raises(Exception, match="timed out"):
            rt._open_forward("p", 80)  # type: ignore[attr-defined]
        assert time.monotonic() - started < 5


def test_missing_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    assert "kubeconfig" in (kube.KubernetesRuntime.detect() or "")
    with pytest.raises(runtimes.RuntimeUnavailable, match="kubeconfig"):
        runtimes.connect("kubernetes")


def test_cluster_verbs_are_declared_not_faked(tmp_path: Path, refused_port: int) -> None:
    config = write_kubeconfig(tmp_path / "config", f"http://127.0.0.1:{refused_port}")
    with runtimes.connect("kubernetes", kubeconfig=str(config)) as rt:
        for capability in (Capability.BUILD, Capability.IMAGE_STORE, Capability.VOLUMES):
            assert capability not in rt.capabilities
        with pytest.raises(runtimes.Unsupported) as info:
            rt.build(tmp_path)
        assert info.value.capability is Capability.BUILD
        with pytest.raises(runtimes.Unsupported) as info:
            rt.images()
        assert info.value.capability is Capability.IMAGE_STORE
        with pytest.raises(runtimes.Unsupported) as info:
            rt.create_volume("v")
        assert info.value.capability is Capability.VOLUMES


# -- run options: each one maps onto the pod spec or is refused by capability ---------------

#: Every keyword of ``_runopts.run_options`` but ``remove`` (AUTO_REMOVE, above):
#: a value, and the pod spec it becomes (container fields under ``"container"``).
MAPPED_RUN_OPTIONS: dict[str, tuple[Any, Callable[[dict[str, Any], dict[str, Any]], Any]]] = {
    "memory": ("64m", lambda pod, c: c["resources"]["limits"]["memory"] == str(64 * 2**20)),
    "cpus": (0.5, lambda pod, c: c["resources"]["limits"]["cpu"] == "500m"),
    "restart_policy": ("always", lambda pod, c: pod["restartPolicy"] == "Always"),
    "read_only": (True, lambda pod, c: c["securityContext"]["readOnlyRootFilesystem"] is True),
    "cap_add": (
        ["net_admin"],
        lambda pod, c: c["securityContext"]["capabilities"]["add"] == ["NET_ADMIN"],
    ),
    "cap_drop": ("ALL", lambda pod, c: c["securityContext"]["capabilities"]["drop"] == ["ALL"]),
    "privileged": (True, lambda pod, c: c["securityContext"]["privileged"] is True),
    "tmpfs": (
        {"/scratch": "size=1m"},
        lambda pod, c: (
            {"name": "tmpfs-0", "mountPath": "/scratch"} in c["volumeMounts"]
            and {"name": "tmpfs-0", "emptyDir": {"medium": "Memory", "sizeLimit": str(2**20)}}
            in pod["volumes"]
        ),
    ),
    "shm_size": (
        "8m",
        lambda pod, c: (
            {"name": "shm", "mountPath": "/dev/shm"} in c["volumeMounts"]
            and {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": str(8 * 2**20)}}
            in pod["volumes"]
        ),
    ),
    "dns": (
        ["10.0.0.53"],
        lambda pod, c: (
            pod["dnsPolicy"] == "None" and pod["dnsConfig"] == {"nameservers": ["10.0.0.53"]}
        ),
    ),
    "extra_hosts": (
        {"db": "10.1.2.3", "cache": "10.1.2.3", "v6": "fd00::7"},
        lambda pod, c: (
            pod["hostAliases"]
            == [
                {"ip": "10.1.2.3", "hostnames": ["db", "cache"]},
                {"ip": "fd00::7", "hostnames": ["v6"]},
            ]
        ),
    ),
    "stop_timeout": (3, lambda pod, c: pod["terminationGracePeriodSeconds"] == 3),
}
#: The run options a pod spec has no field for, and the capability named
#: by the refusal (main's engines all declare it).
REFUSED_RUN_OPTIONS: dict[str, tuple[Any, Capability]] = {
    "init": (True, Capability.INIT),
    "ulimits": ({"nofile": 1024}, Capability.ULIMITS),
    "stop_signal": ("SIGUSR1", Capability.STOP_SIGNAL),
    "platform": ("linux/amd64", Capability.PLATFORM),
}
#: Values of mapped options that still cannot map.
REFUSED_VALUES: list[tuple[str, Any, Capability]] = [
    ("restart_policy", "on-failure", Capability.RESTART_POLICIES),
    ("restart_policy", "on-failure:3", Capability.RESTART_POLICIES),
    ("restart_policy", "unless-stopped", Capability.RESTART_POLICIES),
    ("tmpfs", {"/scratch": "size=1m,mode=1777"}, Capability.TMPFS_OPTIONS),
    ("tmpfs", {"/scratch": "noexec"}, Capability.TMPFS_OPTIONS),
]


def _run_spec(**options: Any) -> RunSpec:
    from runtimes import _runopts

    names = inspect.signature(_runopts.run_options).parameters
    given = {name: None for name in names if name != "remove"}
    given.update(init=False, read_only=False, privileged=False, remove=False)
    given.update(options)
    return RunSpec("img:1", **_runopts.run_options(**given))


def test_every_run_option_is_mapped_or_refused() -> None:
    from runtimes import _runopts

    names = set(inspect.signature(_runopts.run_options).parameters) - {"remove"}
    assert names == set(MAPPED_RUN_OPTIONS) | set(REFUSED_RUN_OPTIONS)
    assert not set(MAPPED_RUN_OPTIONS) & set(REFUSED_RUN_OPTIONS)
    for capability in {c for _, c in REFUSED_RUN_OPTIONS.values()}:
        assert capability not in kube.KubernetesRuntime.capabilities
        assert capability in kube.KubernetesRuntime.unsupported_reasons
        for engine in ("docker", "podman", "nerdctl"):
            assert capability in runtimes.registry.adapter_class(engine).capabilities


@pytest.mark.parametrize("option", sorted(MAPPED_RUN_OPTIONS))
def test_run_option_maps_onto_the_pod_spec(option: str) -> None:
    value, check = MAPPED_RUN_OPTIONS[option]
    manifest = kube.pod_manifest(_run_spec(**{option: value}))
    pod_spec = manifest["spec"]
    assert check(pod_spec, pod_spec["containers"][0]), pod_spec


def test_run_option_defaults_on_the_pod_spec() -> None:
    pod_spec = kube.pod_manifest(_run_spec())["spec"]
    # The engines' "no" and 10 s, not the pod defaults (Always, 30 s).
    assert pod_spec["restartPolicy"] == "Never"
    assert pod_spec["terminationGracePeriodSeconds"] == 10
    for key in ("dnsPolicy", "hostAliases", "volumes"):
        assert key not in pod_spec
    assert "resources" not in pod_spec["containers"][0]


@pytest.mark.parametrize(
    ("option", "value", "capability"),
    [(name, value, cap) for name, (value, cap) in sorted(REFUSED_RUN_OPTIONS.items())]
    + REFUSED_VALUES,
)
def test_run_option_is_refused_before_anything_is_created(
    tmp_path: Path, refused_port: int, option: str, value: Any, capability: Capability
) -> None:
    # The API server is down: a refusal that came after a call would be
    # RuntimeUnavailable instead.
    config = write_kubeconfig(tmp_path / "config", f"http://127.0.0.1:{refused_port}")
    with runtimes.connect("kubernetes", kubeconfig=str(config), timeout=3) as rt:
        for verb in (rt.run, rt.create):
            with pytest.raises(runtimes.Unsupported) as info:
                verb("img:1", ["true"], **{option: value})
            assert info.value.capability is capability
    with pytest.raises(runtimes.Unsupported) as direct:
        kube.pod_manifest(_run_spec(**{option: value}))
    assert direct.value.capability is capability


def test_restart_policy_and_stop_fields_read_back() -> None:
    manifest = kube.pod_manifest(_run_spec(restart_policy="always", stop_timeout=4))
    manifest["metadata"]["uid"] = "0123"
    found = kube.container_from_pod(manifest)
    assert (found.restart_policy, found.stop_signal, found.stop_timeout) == ("always", "SIGTERM", 4)
    plain = kube.pod_manifest(_run_spec())
    assert kube.container_from_pod(plain).restart_policy == "no"


def test_a_restarting_pod_is_restarting() -> None:
    pod_ = {
        "spec": {"restartPolicy": "Always", "containers": [{"name": "main"}]},
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "main",
                    "restartCount": 2,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"exitCode": 0}},
                }
            ],
        },
    }
    found = kube.container_from_pod(pod_)
    assert found.state is ContainerState.RESTARTING
    assert found.restart_count == 2


# -- verbs main added that a pod cannot do: declared by capability, refused typed -----------

UNMAPPED_VERBS: dict[str, tuple[Capability, Callable[[Any, str, Path], object]]] = {
    "top": (Capability.TOP, lambda rt, ref, tmp: rt.top(ref)),
    "pause": (Capability.CONTROL, lambda rt, ref, tmp: rt.pause(ref)),
    "unpause": (Capability.CONTROL, lambda rt, ref, tmp: rt.unpause(ref)),
    "rename": (Capability.CONTROL, lambda rt, ref, tmp: rt.rename(ref, "other")),
    "restart": (Capability.CONTROL, lambda rt, ref, tmp: rt.restart(ref)),
}


def test_unmapped_verbs_are_declared() -> None:
    for capability, _ in UNMAPPED_VERBS.values():
        assert capability not in kube.KubernetesRuntime.capabilities
        assert capability in kube.KubernetesRuntime.unsupported_reasons


@pytest.mark.parametrize("verb", sorted(UNMAPPED_VERBS))
def test_unmapped_verbs_are_refused_typed(verb: str, tmp_path: Path) -> None:
    capability, call = UNMAPPED_VERBS[verb]
    rt = kube.KubernetesRuntime.__new__(kube.KubernetesRuntime)
    # The pod is found (a missing one is ContainerNotFound, as everywhere).
    rt._resolve = lambda ref, operation: {"metadata": {"name": ref, "uid": "0"}}  # type: ignore[method-assign]
    with pytest.raises(runtimes.Unsupported) as info:
        call(rt, "pod-1", tmp_path)
    assert info.value.capability is capability


@pytest.mark.parametrize(
    "call",
    [
        lambda rt, tmp: rt.copy_to("pod-1", tmp, "/tmp"),
        lambda rt, tmp: rt.copy_from("pod-1", "/etc", tmp),
    ],
)
def test_copy_needs_a_running_pod(call: Callable[[Any, Path], object], tmp_path: Path) -> None:
    rt = kube.KubernetesRuntime.__new__(kube.KubernetesRuntime)
    exited = {"metadata": {"name": "pod-1", "uid": "0"}, "status": {"phase": "Succeeded"}}
    rt._resolve = lambda ref, operation: exited  # type: ignore[method-assign]
    with pytest.raises(runtimes.Unsupported) as info:
        call(rt, tmp_path)
    assert info.value.capability is Capability.COPY_STOPPED


# -- exec over the websocket, with a fake in place of the API server -------------------------


class FakeExecSocket:
    """The frames a v1.34 API server sends for an exec (channel byte first),
    readable only once the input has ended, as a command like ``cat`` answers."""

    def __init__(self, frames: list[bytes], protocol: str = "v5.channel.k8s.io") -> None:
        self._peer, self.sock = socket.socketpair()
        self._frames = list(frames)
        self._protocol = protocol
        self.sent: list[bytes] = []
        self.shut = False

    def getheaders(self) -> dict[str, str]:
        return {"Sec-WebSocket-Protocol": self._protocol}

    def no_input(self) -> FakeExecSocket:
        self._peer.send(b"x")
        return self

    def recv_data_frame(self, control: bool) -> tuple[int, Any]:
        from websocket import ABNF

        if not self._frames:
            return ABNF.OPCODE_CLOSE, type("Frame", (), {"data": b""})()
        return ABNF.OPCODE_BINARY, type("Frame", (), {"data": self._frames.pop(0)})()

    def send_binary(self, data: bytes) -> None:
        self.sent.append(data)
        if data == kube.CLOSE_STDIN:
            self._peer.send(b"x")

    def close(self, timeout: float = 0) -> None:
        pass

    def shutdown(self) -> None:
        self.shut = True
        self.sock.close()
        self._peer.close()


def _exec_runtime(ws: FakeExecSocket) -> Any:
    rt = kube.KubernetesRuntime.__new__(kube.KubernetesRuntime)
    rt.default_timeout = 10.0
    rt._open_exec = lambda *args, **kwargs: ws  # type: ignore[method-assign]
    rt._api = lambda *args, **kwargs: contextlib.nullcontext()  # type: ignore[method-assign]
    return rt


STATUS_EXIT_4 = (
    b"\x03"
    + json.dumps(
        {
            "metadata": {},
            "status": "Failure",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": "4"}]},
        }
    ).encode()
)


def test_exec_input_goes_in_small_frames_then_the_close_signal() -> None:
    ws = FakeExecSocket([b"\x01", b"\x01abc", b"\x02oops\n", b"\x01def", STATUS_EXIT_4])
    rt = _exec_runtime(ws)
    pod_ = {"metadata": {"name": "p"}}
    data = bytes(range(256)) * 100
    result = rt._exec_argv(pod_, ["cat"], "exec", stdin=data)
    assert (result.exit_code, result.stdout, result.stderr) == (4, b"abcdef", b"oops\n")
    assert ws.sent[-1] == kube.CLOSE_STDIN
    assert all(frame[:1] == b"\x00" for frame in ws.sent[:-1])
    assert max(len(frame) for frame in ws.sent) <= kube.STDIN_CHUNK + 1
    assert b"".join(frame[1:] for frame in ws.sent[:-1]) == data
    assert ws.shut


def test_exec_stream_lines_keep_their_stream_and_the_exit_code() -> None:
    ws = FakeExecSocket([b"\x01a\nb", b"\x02e\n", b"\x01\nlast", b"\x03"]).no_input()
    rt = _exec_runtime(ws)
    _, frames = rt._exec_frames({"metadata": {"name": "p"}}, ["sh"], "exec", timeout=None)
    stream = runtimes.ExecStream(kube._joined(frames))
    assert [(x.stream, x.data) for x in stream] == [
        ("stdout", b"a\n"),
        ("stderr", b"e\n"),
        ("stdout", b"b\n"),
        ("stdout", b"last"),
    ]
    assert stream.exit_code == 0


def test_exec_input_needs_the_v5_protocol() -> None:
    ws = FakeExecSocket([], protocol="v4.channel.k8s.io")
    rt = _exec_runtime(ws)
    with pytest.raises(runtimes.Unsupported) as info:
        rt._exec_argv({"metadata": {"name": "p"}}, ["cat"], "exec", stdin=b"x")
    assert info.value.capability is Capability.EXEC_STDIN
    assert ws.shut


# -- stats from the kubelet's summary API, as a v1.34 kubelet (containerd 1.6) sent it ----


def test_recorded_summary_as_stats(recorded: Recorded) -> None:
    first = recorded("kubernetes", "stats_summary_first.json")
    second = recorded("kubernetes", "stats_summary_second.json")
    pod_ = second["pod"]
    container = second["pods"][0]["containers"][0]
    used = (
        container["cpu"]["usageCoreNanoSeconds"]
        - first["pods"][0]["containers"][0]["cpu"]["usageCoreNanoSeconds"]
    )
    found = kube.stats_from_summary(second, pod_, previous=first, seconds=1.0)
    assert found.cpu_percent == pytest.approx(used / 1e7)
    assert found.cpu_percent > 0  # a busy loop
    assert found.memory_usage == container["memory"]["workingSetBytes"] > 0
    assert found.memory_limit == 64 * 2**20  # run(memory="64m")
    # Not in this kubelet's summary (network and processes need cAdvisor
    # to see the pod; block I/O is never there): not reported, never 0.
    assert (found.network_rx, found.network_tx, found.block_read, found.block_write) == (
        None,
        None,
        None,
        None,
    )
    assert found.pids is None
    # One sample: the kubelet's own rate.
    single = kube.stats_from_summary(second, pod_)
    assert single.cpu_percent == pytest.approx(container["cpu"]["usageNanoCores"] / 1e7)
    # The same sample twice (the kubelet's cache): its rate, not a made-up idle 0.
    cached = kube.stats_from_summary(second, pod_, previous=second, seconds=1.0)
    assert cached.cpu_percent == pytest.approx(container["cpu"]["usageNanoCores"] / 1e7)
    assert cached.cpu_percent > 0
    # Samples 10 s apart, read a second apart: the kubelet refreshed its
    # cache between the reads, so the difference covers 10 s, not 1.
    older = json.loads(json.dumps(first))
    older["pods"][0]["containers"][0]["cpu"]["time"] = "2026-11-29T13:32:59Z"
    spread = kube.stats_from_summary(second, pod_, previous=older, seconds=1.0)
    assert spread.cpu_percent == pytest.approx(used / 1e7 / 10)


def test_summary_without_a_limit_gives_the_node_memory(recorded: Recorded) -> None:
    second = recorded("kubernetes", "stats_summary_second.json")
    pod_ = json.loads(json.dumps(second["pod"]))
    pod_["spec"]["containers"][0].pop("resources", None)
    node = second["node"]["memory"]
    found = kube.stats_from_summary(second, pod_)
    assert found.memory_limit == node["availableBytes"] + node["workingSetBytes"]


def test_summary_network_and_processes_when_the_kubelet_has_them(recorded: Recorded) -> None:
    second = json.loads(json.dumps(recorded("kubernetes", "stats_summary_second.json")))
    entry = second["pods"][0]
    entry["network"] = {
        "name": "eth0",
        "rxBytes": 10,
        "txBytes": 20,
        "interfaces": [{"name": "eth0", "rxBytes": 10, "txBytes": 20}, {"name": "x"}],
    }
    entry["process_stats"] = {"process_count": 2}
    found = kube.stats_from_summary(second, second["pod"])
    assert (found.network_rx, found.network_tx, found.pids) == (10, 20, 2)
    other = {**second["pod"], "metadata": {**second["pod"]["metadata"], "uid": "other"}}
    with pytest.raises(runtimes.CommandFailed):
        kube.stats_from_summary(second, other)


@pytest.mark.parametrize(
    ("text", "value"),
    [("64Mi", 64 * 2**20), ("67108864", 67108864), ("1G", 10**9), ("1.5Ki", 1536), ("x", None)],
)
def test_quantity(text: str, value: int | None) -> None:
    assert kube.quantity(text) == value


def test_copy_without_tar_in_the_image_says_so() -> None:
    rt = kube.KubernetesRuntime.__new__(kube.KubernetesRuntime)
    rt.name = "kubernetes"
    # The exec status of a missing executable is exit 127 (measured: no stderr).
    missing = runtimes.ExecResult(exit_code=127, stdout=b"", stderr=b"")
    error = rt._copy_error({"metadata": {"name": "p"}}, "c1", missing, "/tmp/x", "copy_to")
    assert isinstance(error, runtimes.CommandFailed)
    assert "`tar`" in str(error)
    assert "has none (exit 127)" in str(error)


# -- user networks, pinned on the records the API server sent ----------------------------


def _server_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` without what the API server adds (uid, versions, times...)."""
    metadata = {
        k: v
        for k, v in obj["metadata"].items()
        if k not in ("creationTimestamp", "generation", "namespace", "resourceVersion", "uid")
    }
    # "ports": null is the server's spelling of none.
    rest = {k: v for k, v in obj.items() if k not in ("metadata", "spec") and v is not None}
    return {**rest, "metadata": metadata}


def test_network_from_recorded_configmap(recorded: Recorded) -> None:
    record = pod(recorded, "network_configmap.json")
    net = kube.network_from_record(record, subnets=("10.244.0.0/24",))
    assert net.name == record["data"]["name"]
    assert net.id == kube.container_id(record["metadata"]["uid"])
    assert net.labels == {"runtimes.test-session": "fixtures"}  # not the adapter's own
    assert net.subnets == ("10.244.0.0/24",)
    assert not net.internal
    assert record["metadata"]["name"] == kube.network_key(net.name)


def test_network_manifest_is_what_was_recorded(recorded: Recorded) -> None:
    record = pod(recorded, "network_configmap.json")
    spec = runtimes.specs.NetworkSpec(
        name=record["data"]["name"], labels={"runtimes.test-session": "fixtures"}
    )
    assert _server_fields(kube.network_manifest(spec)) == _server_fields(record)


def test_network_service_is_headless_without_selector(recorded: Recorded) -> None:
    record = pod(recorded, "network_configmap.json")
    service = pod(recorded, "network_service.json")
    made = kube.network_service(record)
    assert made["metadata"]["name"] == service["metadata"]["name"] == record["metadata"]["name"]
    assert service["metadata"]["ownerReferences"] == made["metadata"]["ownerReferences"]
    assert made["metadata"]["ownerReferences"][0]["uid"] == record["metadata"]["uid"]
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["publishNotReadyAddresses"] is True
    assert "selector" not in service["spec"]  # the adapter writes the EndpointSlices


def test_endpoint_slice_of_a_recorded_pod(recorded: Recorded) -> None:
    raw = pod(recorded, "pod_on_network.json")
    (slice_,) = pod(recorded, "network_endpointslice.json")["items"]
    made = kube.endpoint_slice(raw)
    assert made is not None
    assert _server_fields(made) == _server_fields(slice_)
    assert made["endpoints"] == slice_["endpoints"]
    # Its name and host name, each a hostname of the network's Service.
    assert [e["hostname"] for e in made["endpoints"]] == ["fixture-db", "db"]
    assert {a for e in made["endpoints"] for a in e["addresses"]} == {raw["status"]["podIP"]}
    # A pod on no user network, or without an address, has none.
    assert kube.endpoint_slice(pod(recorded, "pod_running.json")) is None
    without_ip = json.loads(json.dumps(raw))
    del without_ip["status"]["podIP"]
    assert kube.endpoint_slice(without_ip) is None


def test_container_networks_from_recorded_pods(recorded: Recorded) -> None:
    raw = pod(recorded, "pod_on_network.json")
    (attachment,) = kube.container_from_pod(raw).networks
    assert attachment.network == raw["metadata"]["annotations"][kube.NETWORK_ANNOTATION]
    assert attachment.ip_address == raw["status"]["podIP"]
    assert attachment.aliases == ()
    (default,) = kube.container_from_pod(pod(recorded, "pod_running.json")).networks
    assert default.network == "bridge"
    assert default.ip_address is not None
    # A stopped container has no address, as on an engine.
    (stopped,) = kube.container_from_pod(pod(recorded, "pod_stopped.json")).networks
    assert stopped.ip_address is None


def test_pod_on_a_user_network_searches_its_names(recorded: Recorded) -> None:
    raw = pod(recorded, "pod_on_network.json")
    network = raw["metadata"]["annotations"][kube.NETWORK_ANNOTATION]
    manifest = kube.pod_manifest(
        RunSpec("img:1", name="fixture-db", network=network, hostname="db"),
        namespace="default",
    )
    assert manifest["spec"]["dnsConfig"] == raw["spec"]["dnsConfig"]
    assert "dnsPolicy" not in manifest["spec"]  # ClusterFirst: the cluster's DNS
    assert manifest["metadata"]["labels"][kube.NETWORK_LABEL] == kube.network_key(network)
    # With dns= too: the servers given, and still the network's names.
    both = kube.pod_manifest(RunSpec("img:1", network=network, dns=("10.0.0.9",)))
    assert both["spec"]["dnsConfig"]["nameservers"] == ["10.0.0.9"]
    assert both["spec"]["dnsConfig"]["searches"] == raw["spec"]["dnsConfig"]["searches"]
    for builtin in (None, "bridge", "host"):
        plain = kube.pod_manifest(RunSpec("img:1", network=builtin))
        assert kube.NETWORK_LABEL not in plain["metadata"]["labels"]
        assert "dnsConfig" not in plain["spec"]


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("db", True),
        ("0db", True),
        ("a" * 63, True),
        ("a" * 64, False),
        ("primary.db", False),
        ("Db", False),
        ("db-", False),
        ("db_1", False),
        ("", False),
    ],
)
def test_dns_labels(name: str, ok: bool) -> None:
    assert kube.is_dns_label(name) is ok


def test_network_key_is_a_service_name() -> None:
    for name in ("n", "x" * 200, "My_Net.1"):
        key = kube.network_key(name)
        assert len(key) <= 63
        assert key[0].isalpha()
        assert kube.is_dns_label(key)
    assert kube.network_key("a") != kube.network_key("b")


def test_a_closed_forwarder_frees_its_port_at_once() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    forwarder = kube._Forwarder(listener, lambda: None, 80)
    forwarder.start()
    time.sleep(0.1)  # the thread now waits in accept()
    started = time.monotonic()
    forwarder.close()
    assert time.monotonic() - started < 2
    assert not forwarder._thread.is_alive()
    again = socket.socket()
    try:
        again.bind(("127.0.0.1", port))  # a run() publishing the same port
        again.listen(1)
    finally:
        again.close()


class _Slices:
    """The EndpointSlice calls a runtime makes, answered or refused."""

    def __init__(self, refuse: bool = False) -> None:
        self.created: list[dict[str, Any]] = []
        self.deleted: list[str] = []
        self.refuse = refuse

    def create_namespaced_endpoint_slice(self, namespace: str, body: Any, **_: Any) -> None:
        self.created.append(body)

    def delete_collection_namespaced_endpoint_slice(
        self, namespace: str, label_selector: str, **_: Any
    ) -> None:
        if self.refuse:
            raise runtimes.Forbidden("endpointslices is forbidden")
        self.deleted.append(label_selector)


def test_names_are_published_for_a_running_pod_only(
    recorded: Recorded, tmp_path: Path, refused_port: int
) -> None:
    config = write_kubeconfig(tmp_path / "config", f"http://127.0.0.1:{refused_port}")
    running = pod(recorded, "pod_on_network.json")
    exited = json.loads(json.dumps(running))
    exited["status"] = pod(recorded, "pod_succeeded.json")["status"]
    exited["status"]["podIP"] = running["status"]["podIP"]
    with runtimes.connect("kubernetes", kubeconfig=str(config)) as rt:
        slices = _Slices()
        rt._discovery = slices  # type: ignore[attr-defined]
        rt._publish(exited)  # type: ignore[attr-defined]
        assert slices.created == []  # `true` ended before the start returned
        rt._publish(running)  # type: ignore[attr-defined]
        assert len(slices.created) == 1


def test_a_pod_is_removed_even_when_its_names_cannot_be(
    recorded: Recorded, tmp_path: Path, refused_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_kubeconfig(tmp_path / "config", f"http://127.0.0.1:{refused_port}")
    raw = pod(recorded, "pod_on_network.json")
    with runtimes.connect("kubernetes", kubeconfig=str(config)) as rt:
        rt._discovery = _Slices(refuse=True)  # type: ignore[attr-defined]
        deleted: list[str] = []
        monkeypatch.setattr(rt, "_delete", lambda p, grace: deleted.append(p["metadata"]["name"]))
        monkeypatch.setattr(rt, "_discard", lambda response: None)
        monkeypatch.setattr(
            rt, "_core", types.SimpleNamespace(patch_namespaced_pod=lambda *a, **k: None)
        )
        rt._purge(raw, "fixture-db")  # type: ignore[attr-defined]
        assert deleted == [raw["metadata"]["name"]]  # the garbage collector takes the slices


def test_remembered_ids_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    rt = kube.KubernetesRuntime.__new__(kube.KubernetesRuntime)
    rt._ids = {}
    rt._lock = threading.Lock()
    monkeypatch.setattr(kube, "IDS_KEPT", 3)
    for n in range(5):
        rt._remember(f"id{n}", f"pod{n}")
    rt._remember("id2", "pod2")  # seen again: kept as the newest
    rt._remember("id5", "pod5")
    assert list(rt._ids) == ["id4", "id2", "id5"]


class SlowExecSocket(FakeExecSocket):
    """Each frame readable ``pause`` seconds after the one before, as a large
    ``tar`` that keeps moving data, slower in total than the timeout."""

    def __init__(self, frames: list[bytes], pause: float) -> None:
        super().__init__(frames)

        def feed() -> None:
            for _ in range(len(frames) + 1):
                time.sleep(pause)
                with contextlib.suppress(OSError):
                    self._peer.send(b"x")

        threading.Thread(target=feed, daemon=True).start()

    def recv_data_frame(self, control: bool) -> tuple[int, Any]:
        self.sock.recv(1)
        return super().recv_data_frame(control)


@pytest.mark.parametrize("idle", [True, False])
def test_a_copy_times_out_only_when_no_data_moves(idle: bool) -> None:
    frames = [b"\x01" + b"x" * 10 for _ in range(6)] + [b"\x03" + b'{"status":"Success"}']
    ws = SlowExecSocket(frames, pause=0.1)
    rt = _exec_runtime(ws)
    session = rt._exec_session(ws, "pod-1", ["tar"], "copy_from", None, 0.35, idle=idle)
    if idle:
        result = kube._collect(session)
        assert result.exit_code == 0
        assert result.stdout == b"x" * 60
    else:
        with pytest.raises(runtimes.Timeout, match=r"still running after 0\.35 s"):
            kube._collect(session)


def test_a_detached_exec_keeps_its_stream_until_the_command_ends() -> None:
    # Closing the stream at once lost commands that had not started yet.
    frames = [b"\x01out\n", b"\x03" + b'{"status":"Success"}']
    ws = SlowExecSocket(frames, pause=0.1)
    rt = _exec_runtime(ws)
    rt._lock = threading.Lock()
    rt._detached = set()
    pod_ = {"metadata": {"name": "pod-1"}, "status": {"phase": "Running"}}
    rt._exec_target = lambda spec: pod_  # type: ignore[method-assign]
    spec = types.SimpleNamespace(command=("sleep", "1"))
    assert rt._exec_detached(spec) is None
    assert rt._detached == {ws}  # open while the command runs
    deadline = time.monotonic() + 5
    while rt._detached and time.monotonic() < deadline:
        time.sleep(0.05)
    assert rt._detached == set()  # released once it ended
    assert ws.shut
