"""Kubernetes adapter: a container is a Pod with one container.

Talks to the API server through the official ``kubernetes`` client, which
is imported on first use (not with this module), so that ``runtimes info``
and auto-detection cost nothing on a machine without a kubeconfig.  Every
call reads and writes the API's own JSON (``_preload_content=False``):
the pod records that :func:`container_from_pod` maps are exactly what the
API server sends, and what ``tests/fixtures/kubernetes`` records.

The mapping, and what a cluster cannot do, is in ``docs/kubernetes.md``.
All client exceptions are translated in :meth:`KubernetesRuntime._api`,
the adapter's only translation point (websocket handshakes, which the
client reports as text, go through :func:`translate_api_error` too).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import math
import os
import posixpath
import re
import select
import socket
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from typing import IO, Any, ClassVar

from runtimes import _archive, _logs, _normalize
from runtimes._redact import redact_exception
from runtimes.base import Runtime
from runtimes.errors import (
    CommandFailed,
    ContainerNotFound,
    Forbidden,
    ImageNotFound,
    InvalidSpec,
    NameConflict,
    NetworkNotFound,
    PathNotFound,
    RuntimesError,
    RuntimeUnavailable,
    Timeout,
    Unsupported,
)
from runtimes.models import (
    Capability,
    Container,
    ContainerState,
    ExecResult,
    Image,
    LogLine,
    MountType,
    Network,
    NetworkAttachment,
    PortBinding,
    Process,
    RuntimeInfo,
    Stats,
    Volume,
)
from runtimes.specs import (
    BuildSpec,
    ExecSpec,
    LogsSpec,
    NetworkSpec,
    PsSpec,
    PullSpec,
    PushSpec,
    RunSpec,
)
from runtimes.streams import ExecStream

__all__ = [
    "KubernetesRuntime",
    "container_from_pod",
    "endpoint_slice",
    "network_from_record",
    "network_manifest",
    "pod_manifest",
]

log = logging.getLogger("runtimes")

#: Every pod the adapter creates carries it; ``ps`` lists only those.
MANAGED_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "runtimes"
#: The caller's labels, all of them (a pod label's value is at most 63
#: characters of ``[A-Za-z0-9_.-]``; ``runtimes.healthcheck`` is JSON).
LABELS_ANNOTATION = "runtimes/labels"
#: The published ports, ``[[container_port, protocol, host_ip, host_port]...]``.
PORTS_ANNOTATION = "runtimes/ports"
#: Keeps a deleted (stopped) pod's record, so that ``inspect``, ``wait``
#: and the exit code outlive ``stop``; ``remove`` takes it off.
KEEP_FINALIZER = "runtimes/keep-status"
#: The name of the pod's one container.
CONTAINER = "main"
#: Holds a created pod unscheduled until ``start`` removes it.
START_GATE = "runtimes/start"
#: A user network is a ConfigMap (its record: name, labels, creation time)
#: and a headless Service without selector, both named :func:`network_key`
#: and labelled with it; a pod on it carries the label too.  Each pod on it
#: gets one EndpointSlice of that Service whose endpoints are the pod's
#: names (``hostname`` fields), and a DNS search domain
#: ``<key>.<namespace>.svc.<cluster domain>``: a name resolves from the
#: pods on the network only, as on an engine (see docs/kubernetes.md).
NETWORK_LABEL = "runtimes/network"
#: On a pod: the name of its user network.
NETWORK_ANNOTATION = "runtimes/network"
#: On a pod's EndpointSlice: the pod's UID, to delete it with the pod.
POD_UID_LABEL = "runtimes/pod-uid"
SLICE_SERVICE_LABEL = "kubernetes.io/service-name"
SLICE_MANAGER_LABEL = "endpointslice.kubernetes.io/managed-by"
#: Seconds to wait for the API server's first answer, whatever the per-call timeout.
CONNECT_TIMEOUT = 5.0
#: containerd's CRI splits a line into records of this size; the API sends
#: each record with its own timestamp when asked for them.
CRI_RECORD_SIZE = 16384
#: The exec subresource's channel protocols; v5 (Kubernetes 1.30+) adds the
#: close signal that ends a command's input.
V4_PROTOCOL = "v4.channel.k8s.io"
V5_PROTOCOL = "v5.channel.k8s.io"
#: v5's close signal (channel 255) for channel 0, stdin.
CLOSE_STDIN = bytes([255, 0])
#: Input bytes per websocket frame: small against the free send buffer that
#: makes select() report a TCP socket writable, so that a send does not block
#: while the command's output, which holds its input back, waits to be read.
STDIN_CHUNK = 8192
#: Symbolic links followed from a ``copy_from`` path before giving up.
MAX_LINKS = 16
#: Container ids remembered with their pod names (a lookup cache).
IDS_KEPT = 4096
#: Up to this size a ``copy_from`` tar stays in memory; beyond, it spills to a file.
COPY_SPOOL = 16 << 20
#: An exec's output as it arrives, ``(stream, bytes)``; returns the exit code.
_Frames = Generator[tuple[_logs.Stream, bytes], None, int]

_IMAGE_ERRORS = frozenset(
    {"ErrImageNeverPull", "ErrImagePull", "ImagePullBackOff", "InvalidImageName"}
)
_START_ERRORS = frozenset(
    {"CreateContainerError", "CreateContainerConfigError", "RunContainerError", "StartError"}
)
_K8S_LABEL_KEY = re.compile(
    r"(?:[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
)
_K8S_LABEL_VALUE = re.compile(r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?")
_DNS_NAME = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*")
_TIMESTAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d) ")
_HEX = re.compile(r"[0-9a-f]+")
_NO_STORE = (
    "a cluster keeps images in each node's own store, which the API does not expose: "
    "build and tag with a local engine, then import the image into the node "
    "(see docs/kubernetes.md)"
)


def _client() -> Any:
    """The ``kubernetes`` package, imported now (it costs about 0.2 s)."""
    try:
        import kubernetes.client
        import kubernetes.config
        import kubernetes.stream
    except ImportError as exc:
        raise RuntimeUnavailable(
            "kubernetes",
            f"missing Python dependency {exc.name!r}",
            hint="pip install 'runtimes[kubernetes]'",
        ) from exc
    return kubernetes


def container_id(uid: str) -> str:
    """A pod's 64-hex container id: the SHA-256 of its UID (a UUID is 32 hex)."""
    return hashlib.sha256(uid.encode()).hexdigest()


def kubeconfig_path(option: str | None) -> str | None:
    """The kubeconfig to read: the option, else ``KUBECONFIG`` (which may
    list several files, ``:``-separated), else ``~/.kube/config`` if it exists."""
    if option:
        return os.path.expanduser(option)
    env = os.environ.get("KUBECONFIG", "").strip()
    if env:
        return env
    default = os.path.expanduser("~/.kube/config")
    return default if os.path.exists(default) else None


def _in_cluster() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and os.path.exists(
        "/var/run/secrets/kubernetes.io/serviceaccount/token"
    )


# -- the mapping, pure functions of the API's JSON ------------------------------------


def network_key(name: str) -> str:
    """The Kubernetes name of a user network's ConfigMap and Service: a
    DNS-1035 label whatever the network's name (which may be longer or hold
    characters a label may not)."""
    return "rtnet-" + hashlib.sha256(name.encode()).hexdigest()[:24]


def is_dns_label(name: str) -> bool:
    """A DNS-1123 label: what an EndpointSlice endpoint's hostname must be."""
    return len(name) <= 63 and re.fullmatch(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?", name) is not None


def network_manifest(spec: NetworkSpec) -> dict[str, Any]:
    """The ConfigMap that records a user network."""
    key = network_key(spec.name)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": key,
            "labels": {**split_labels(spec.labels), MANAGED_LABEL: MANAGED_BY, NETWORK_LABEL: key},
            "annotations": {LABELS_ANNOTATION: json.dumps(dict(spec.labels), sort_keys=True)},
        },
        "data": {"name": spec.name},
    }


def _owner(record: Mapping[str, Any]) -> dict[str, Any]:
    metadata = record["metadata"]
    return {
        "apiVersion": record.get("apiVersion") or "v1",
        "kind": record["kind"],
        "name": metadata["name"],
        "uid": metadata["uid"],
    }


def network_service(record: Mapping[str, Any]) -> dict[str, Any]:
    """The headless Service whose EndpointSlices name a network's pods;
    owned by the network's ConfigMap (the garbage collector's safety net)."""
    key = record["metadata"]["name"]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": key,
            "labels": {MANAGED_LABEL: MANAGED_BY, NETWORK_LABEL: key},
            "ownerReferences": [_owner({"kind": "ConfigMap", **record})],
        },
        # No selector: the adapter writes the EndpointSlices itself, one name
        # per endpoint; not-ready addresses too, since there is no probe.
        "spec": {"clusterIP": "None", "publishNotReadyAddresses": True},
    }


def network_from_record(record: Mapping[str, Any], *, subnets: tuple[str, ...] = ()) -> Network:
    """A network's ConfigMap, as the API server sends it, as a :class:`Network`."""
    metadata = record.get("metadata") or {}
    data = record.get("data") or {}
    labels = {
        k: v for k, v in pod_labels(record).items() if k not in (NETWORK_LABEL, MANAGED_LABEL)
    }
    return Network(
        name=str(data.get("name") or metadata.get("name") or ""),
        id=container_id(str(metadata.get("uid") or metadata.get("name") or "")),
        subnets=subnets,
        internal=False,
        labels=labels,
        raw=record,
    )


def pod_names(pod: Mapping[str, Any]) -> list[str]:
    """The names a pod on a user network is reached by: its name, then its
    host name (the engines resolve both)."""
    metadata = pod.get("metadata") or {}
    names = [str(metadata.get("name") or "")]
    hostname = (pod.get("spec") or {}).get("hostname")
    if hostname and hostname not in names:
        names.append(str(hostname))
    return [n for n in names if is_dns_label(n)]


def endpoint_slice(pod: Mapping[str, Any]) -> dict[str, Any] | None:
    """The EndpointSlice that makes a running pod's names resolve on its
    network; ``None`` for a pod on no user network, or without an address."""
    metadata = pod.get("metadata") or {}
    network = (metadata.get("annotations") or {}).get(NETWORK_ANNOTATION)
    ip = (pod.get("status") or {}).get("podIP")
    if not network or not ip:
        return None
    key = network_key(network)
    uid = str(metadata["uid"])
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": f"{key}-{container_id(uid)[:12]}",
            "labels": {
                SLICE_SERVICE_LABEL: key,
                SLICE_MANAGER_LABEL: MANAGED_BY,
                MANAGED_LABEL: MANAGED_BY,
                NETWORK_LABEL: key,
                POD_UID_LABEL: uid,
            },
            "ownerReferences": [_owner({"apiVersion": "v1", "kind": "Pod", **pod})],
        },
        "addressType": "IPv6" if ":" in ip else "IPv4",
        "endpoints": [
            {"addresses": [ip], "hostname": name, "conditions": {"ready": True}}
            for name in pod_names(pod)
        ],
    }


def split_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """The labels that are valid pod labels (the others live only in the annotation)."""
    return {
        k: v
        for k, v in labels.items()
        if _K8S_LABEL_KEY.fullmatch(k) and len(k) <= 253 and _K8S_LABEL_VALUE.fullmatch(v)
    }


#: Seconds between SIGTERM and SIGKILL when ``run`` gives no ``stop_timeout``:
#: the engines' 10, not the pod default of 30, so ``stop()`` waits alike.
DEFAULT_STOP_TIMEOUT = 10
#: ``run(restart_policy=)`` as a pod's restartPolicy.  The others
#: (``on-failure[:N]``, ``unless-stopped``) need Capability.RESTART_POLICIES:
#: OnFailure has no count, and a stopped pod is deleted, never kept to restart.
RESTART_POLICIES = {"no": "Never", "always": "Always"}
_POD_RESTART = {"Never": "no", "Always": "always", "OnFailure": "on-failure"}
_TMPFS_SIZE = re.compile(r"size=([0-9]+)([kmg]?)", re.I)


def _security_context(spec: RunSpec) -> dict[str, Any] | None:
    """runAsUser/runAsGroup, and the run options a container's securityContext holds."""
    context: dict[str, Any] = {}
    if spec.user is not None:
        uid, _, gid = spec.user.partition(":")
        if not uid.isdigit() or (gid and not gid.isdigit()):
            raise InvalidSpec(
                f"kubernetes: user {spec.user!r}: a pod runs as a numeric uid[:gid] "
                "(runAsUser), not a user name"
            )
        context["runAsUser"] = int(uid)
        if gid:
            context["runAsGroup"] = int(gid)
    if spec.read_only:
        context["readOnlyRootFilesystem"] = True
    if spec.privileged:
        context["privileged"] = True
    capabilities = {
        key: list(names) for key, names in (("add", spec.cap_add), ("drop", spec.cap_drop)) if names
    }
    if capabilities:
        context["capabilities"] = capabilities
    return context or None


def _resources(spec: RunSpec) -> dict[str, Any] | None:
    """memory and cpus as limits (the requests default to them)."""
    limits: dict[str, str] = {}
    if spec.memory is not None:
        limits["memory"] = str(spec.memory)
    if spec.cpus is not None:
        limits["cpu"] = f"{round(spec.cpus * 1000)}m"
    return {"limits": limits} if limits else None


def _tmpfs_size(path: str, options: str) -> str | None:
    """The emptyDir sizeLimit of a tmpfs mount (the kubelet mounts the tmpfs
    with it as ``size=``); only ``size=`` maps, checked in base.run."""
    size = None
    for option in filter(None, options.split(",")):
        match = _TMPFS_SIZE.fullmatch(option)
        if match is None:
            raise Unsupported(
                f"kubernetes: tmpfs {path}: option {option!r} has no emptyDir field",
                capability=Capability.TMPFS_OPTIONS,
            )
        number, unit = match.groups()
        size = str(int(number) * {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}[unit.lower()])
    return size


def _memory_volume(name: str, size: str | None) -> dict[str, Any]:
    empty_dir: dict[str, Any] = {"medium": "Memory"}
    if size is not None:
        empty_dir["sizeLimit"] = size
    return {"name": name, "emptyDir": empty_dir}


def pod_manifest(
    spec: RunSpec,
    *,
    pull_policy: str = "never",
    ports: list[PortBinding] | None = None,
    namespace: str = "default",
    cluster_domain: str = "cluster.local",
) -> dict[str, Any]:
    """The Pod a :class:`RunSpec` becomes (see docs/kubernetes.md)."""
    container: dict[str, Any] = {
        "name": CONTAINER,
        "image": spec.image,
        "imagePullPolicy": {"never": "Never", "missing": "IfNotPresent", "always": "Always"}[
            pull_policy
        ],
    }
    if spec.entrypoint is not None:
        container["command"] = list(spec.entrypoint)
    if spec.command is not None:
        container["args"] = list(spec.command)
    if spec.env:
        container["env"] = [{"name": k, "value": v} for k, v in spec.env.items()]
    if spec.workdir is not None:
        container["workingDir"] = spec.workdir
    security = _security_context(spec)
    if security is not None:
        container["securityContext"] = security
    resources = _resources(spec)
    if resources is not None:
        container["resources"] = resources
    if spec.ports:
        container["ports"] = [
            {"containerPort": p.container_port, "protocol": p.protocol.upper()}
            for p in {(p.container_port, p.protocol): p for p in spec.ports}.values()
        ]
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    for index, mount in enumerate(spec.volumes):
        if mount.type is not MountType.BIND:
            raise Unsupported(
                "kubernetes: named volumes are not supported", capability=Capability.VOLUMES
            )
        name = f"bind-{index}"
        volumes.append({"name": name, "hostPath": {"path": mount.source}})
        mounts.append({"name": name, "mountPath": mount.target, "readOnly": mount.read_only})
    # tmpfs and /dev/shm: memory-backed emptyDirs.
    for index, (path, options) in enumerate(sorted(spec.tmpfs.items())):
        volumes.append(_memory_volume(f"tmpfs-{index}", _tmpfs_size(path, options)))
        mounts.append({"name": f"tmpfs-{index}", "mountPath": path})
    if spec.shm_size is not None:
        volumes.append(_memory_volume("shm", str(spec.shm_size)))
        mounts.append({"name": "shm", "mountPath": "/dev/shm"})
    if mounts:
        container["volumeMounts"] = mounts
    annotations = {LABELS_ANNOTATION: json.dumps(dict(spec.labels), sort_keys=True)}
    if ports:
        annotations[PORTS_ANNOTATION] = json.dumps(
            [[p.container_port, p.protocol, p.host_ip, p.host_port] for p in ports]
        )
    labels = {**split_labels(spec.labels), MANAGED_LABEL: MANAGED_BY}
    user_network = spec.network is not None and spec.network not in ("bridge", "host", "none")
    if user_network:
        assert spec.network is not None
        labels[NETWORK_LABEL] = network_key(spec.network)
        annotations[NETWORK_ANNOTATION] = spec.network
    metadata: dict[str, Any] = {
        "labels": labels,
        "annotations": annotations,
        "finalizers": [KEEP_FINALIZER],
    }
    if spec.name is not None:
        metadata["name"] = spec.name
    else:
        metadata["generateName"] = "runtimes-"
    if spec.init or spec.ulimits or spec.stop_signal is not None or spec.platform is not None:
        # base.run refuses these by capability first; a direct caller gets the same.
        raise Unsupported(
            "kubernetes: a pod spec has no init, ulimits, stop signal or platform",
            capability=(
                Capability.INIT
                if spec.init
                else Capability.ULIMITS
                if spec.ulimits
                else Capability.STOP_SIGNAL
                if spec.stop_signal is not None
                else Capability.PLATFORM
            ),
        )
    policy = spec.restart_policy or "no"
    if policy not in RESTART_POLICIES:
        raise Unsupported(
            f"kubernetes: restart_policy={policy!r}: a pod has Never, Always and "
            "OnFailure (without a count)",
            capability=Capability.RESTART_POLICIES,
        )
    pod_spec: dict[str, Any] = {
        "restartPolicy": RESTART_POLICIES[policy],
        "terminationGracePeriodSeconds": (
            spec.stop_timeout if spec.stop_timeout is not None else DEFAULT_STOP_TIMEOUT
        ),
        "containers": [container],
        # No token in the container unless asked: a test container needs no API access.
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
    }
    if volumes:
        pod_spec["volumes"] = volumes
    if spec.hostname is not None:
        pod_spec["hostname"] = spec.hostname
    if spec.network == "host":
        pod_spec["hostNetwork"] = True
    if spec.dns:
        # Only the servers given, as an engine's --dns writes them.
        pod_spec["dnsPolicy"] = "None"
        pod_spec["dnsConfig"] = {"nameservers": list(spec.dns)}
    if user_network:
        assert spec.network is not None
        # The network's names, short: "db" is tried as db.<key>.<ns>.svc...
        search = f"{network_key(spec.network)}.{namespace}.svc.{cluster_domain}"
        pod_spec.setdefault("dnsConfig", {})["searches"] = [search]
    if spec.extra_hosts:
        by_ip: dict[str, list[str]] = {}
        for host, ip in spec.extra_hosts.items():
            by_ip.setdefault(ip, []).append(host)
        pod_spec["hostAliases"] = [{"ip": ip, "hostnames": names} for ip, names in by_ip.items()]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": pod_spec}


def _main_status(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    for status in statuses:
        if status.get("name") == CONTAINER:
            return dict(status)
    return dict(statuses[0]) if statuses else {}


def _main_container(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    containers = (pod.get("spec") or {}).get("containers") or [{}]
    for container in containers:
        if container.get("name") == CONTAINER:
            return dict(container)
    return dict(containers[0])


def pod_state(pod: Mapping[str, Any]) -> tuple[ContainerState, int | None]:
    """The container's state and exit code, from the pod's status.

    The container's own status decides (terminated: EXITED with its exit
    code; running: RUNNING, also while a stop's grace period runs); before
    it has one, the phase (Pending: CREATED; Succeeded or Failed: EXITED).
    """
    state = _main_status(pod).get("state") or {}
    if "terminated" in state:
        code = state["terminated"].get("exitCode")
        return ContainerState.EXITED, int(code) if code is not None else None
    if "running" in state:
        return ContainerState.RUNNING, None
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Running" and _main_status(pod).get("lastState", {}).get("terminated"):
        # restartPolicy Always: exited, waiting out the kubelet's back-off.
        return ContainerState.RESTARTING, None
    if phase in ("Succeeded", "Failed"):
        return ContainerState.EXITED, None
    if phase == "Pending" or "waiting" in state:
        return ContainerState.CREATED, None
    return ContainerState.UNKNOWN, None


def waiting_reason(pod: Mapping[str, Any]) -> tuple[str, str]:
    """``(reason, message)`` of a container that has not started, else ``("", "")``."""
    state = _main_status(pod).get("state") or {}
    waiting = state.get("waiting")
    if waiting:
        return str(waiting.get("reason") or ""), str(waiting.get("message") or "")
    terminated = state.get("terminated")
    if terminated and terminated.get("reason") in _START_ERRORS:
        return str(terminated["reason"]), str(terminated.get("message") or "")
    return "", ""


def _ports(annotations: Mapping[str, str]) -> tuple[PortBinding, ...]:
    try:
        bindings = [
            PortBinding(
                container_port=int(p[0]), protocol=str(p[1]), host_ip=str(p[2]), host_port=int(p[3])
            )
            for p in json.loads(annotations.get(PORTS_ANNOTATION) or "[]")
        ]
    except (ValueError, TypeError, IndexError):
        return ()
    return tuple(sorted(bindings, key=lambda b: (b.container_port, b.protocol, b.host_port)))


def pod_labels(pod: Mapping[str, Any]) -> dict[str, str]:
    """The caller's labels: the annotation, else the pod's labels."""
    metadata = pod.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    try:
        stored = json.loads(annotations[LABELS_ANNOTATION])
        if isinstance(stored, dict):
            return {str(k): str(v) for k, v in stored.items()}
    except (KeyError, ValueError):
        pass
    return {k: v for k, v in (metadata.get("labels") or {}).items() if k != MANAGED_LABEL}


def container_from_pod(pod: Mapping[str, Any], *, runtime: str = "kubernetes") -> Container:
    """One pod, as the API server sends it, as a :class:`Container`."""
    metadata = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    main = _main_container(pod)
    status = _main_status(pod)
    state, exit_code = pod_state(pod)
    current = status.get("state") or {}
    started = (current.get("running") or current.get("terminated") or {}).get("startedAt")
    finished = (current.get("terminated") or {}).get("finishedAt")
    annotations = metadata.get("annotations") or {}
    ip = (pod.get("status") or {}).get("podIP") if state is ContainerState.RUNNING else None
    # hostNetwork is a mode, which never appears; the pod network is "bridge".
    networks = (
        ()
        if spec.get("hostNetwork")
        else (
            NetworkAttachment(
                network=str(annotations.get(NETWORK_ANNOTATION) or "bridge"),
                ip_address=str(ip) if ip else None,
            ),
        )
    )
    return Container(
        id=container_id(str(metadata.get("uid") or metadata.get("name") or "")),
        name=str(metadata.get("name") or ""),
        image=str(main.get("image") or ""),
        command=(*(main.get("command") or ()), *(main.get("args") or ())),
        state=state,
        exit_code=exit_code,
        created_at=_normalize.timestamp(metadata.get("creationTimestamp")),
        started_at=_normalize.timestamp(started),
        finished_at=_normalize.timestamp(finished),
        ports=_ports(annotations),
        networks=networks,
        labels=pod_labels(pod),
        restart_policy=_POD_RESTART.get(str(spec.get("restartPolicy") or "Always")),
        restart_count=int(status.get("restartCount") or 0),
        # The kubelet sends SIGTERM (a stop signal per container is alpha in v1.34).
        stop_signal="SIGTERM",
        stop_timeout=_grace(spec),
        runtime=runtime,
        raw=pod,
    )


def _grace(spec: Mapping[str, Any]) -> int | None:
    grace = spec.get("terminationGracePeriodSeconds")
    return int(grace) if isinstance(grace, int) else None


def log_lines(chunks: Iterator[bytes], *, timestamps: bool) -> Iterator[LogLine]:
    """Lines of the API's log body (stdout and stderr interleaved, untagged).

    Without timestamps the body is the bytes written.  With them each
    record starts with an RFC 3339 stamp, and a long line's later records
    (containerd's 16 KiB pieces) carry their own in the middle of the
    line: those are cut out, and the line keeps its first.
    """
    pending = b""
    for chunk in chunks:
        pending += chunk
        start = 0
        while True:
            end = pending.find(b"\n", start)
            if end < 0:
                break
            yield _log_line(pending[start : end + 1], timestamps)
            start = end + 1
        pending = pending[start:]
    if pending:
        yield _log_line(pending, timestamps)


def _log_line(record: bytes, timestamps: bool) -> LogLine:
    if not timestamps:
        return LogLine(stream="stdout", data=record)
    ts, data = _logs.split_timestamp(record)
    if len(data) > CRI_RECORD_SIZE:
        pieces = [data[:CRI_RECORD_SIZE]]
        rest = data[CRI_RECORD_SIZE:]
        while True:
            stamp = _TIMESTAMP.match(rest)
            if stamp is None:
                pieces.append(rest)
                break
            rest = rest[stamp.end() :]
            pieces.append(rest[:CRI_RECORD_SIZE])
            rest = rest[CRI_RECORD_SIZE:]
            if not rest:
                break
        data = b"".join(pieces)
    return LogLine(stream="stdout", data=data, timestamp=ts)


def translate_api_error(
    status: int, body: str, *, operation: str, target: str = "none", ref: str | None = None
) -> RuntimesError:
    """The library's error for one API error (a ``Status`` object as ``body``)."""
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        parsed = {}
    if not isinstance(parsed, dict):
        parsed = {}
    message = str(parsed.get("message") or body or f"HTTP {status}").strip()
    details = parsed.get("details") or {}
    kind = details.get("kind") if isinstance(details, dict) else None
    if status == 401:
        return Forbidden(f"kubernetes {operation}: the API server refused the credentials")
    if status == 403:
        return Forbidden(f"kubernetes {operation}: {message}")
    if status == 404 and kind == "namespaces":
        return RuntimeUnavailable(
            "kubernetes",
            f"namespace {details.get('name')} does not exist",
            hint="create it (kubectl create namespace) or set the namespace option",
        )
    if status == 404 and target == "network":
        return NetworkNotFound(ref or "?", f"kubernetes: network not found: {ref}")
    if status == 404 and target == "container":
        return ContainerNotFound(ref or "?", f"kubernetes: container not found: {ref}")
    if status == 409 and parsed.get("reason") == "AlreadyExists":
        return NameConflict(ref or str(details.get("name") or "?"), f"kubernetes: {message}")
    if status == 422:
        return InvalidSpec(f"kubernetes refused the pod: {message}")
    return CommandFailed(message, runtime="kubernetes", operation=operation, status=status)


# -- port forwarding -------------------------------------------------------------------


class _Forwarder:
    """A local listener whose connections the API server forwards to one
    port of one pod (the ``portforward`` subresource, one websocket per
    connection), for as long as this runtime object keeps it."""

    def __init__(self, sock: socket.socket, open_stream: Callable[[], Any], port: int) -> None:
        self._sock = sock
        self._open_stream = open_stream
        self._port = port
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True, name="kube-forward")

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._closed.set()
        # close() alone does not wake a thread blocked in accept() on Linux:
        # the port would stay bound until its next connection.
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._sock.close()
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(
                target=self._serve, args=(conn,), daemon=True, name="kube-forward-conn"
            ).start()

    def _serve(self, conn: socket.socket) -> None:
        ws = None
        try:
            ws = self._open_stream()
            pump(conn, ws, self._closed)
        except Exception:  # a failed forward is a closed connection, as with kubectl
            return
        finally:
            with contextlib.suppress(Exception):
                conn.close()
            if ws is not None:
                with contextlib.suppress(Exception):
                    ws.shutdown()


def pump(conn: socket.socket, ws: Any, closed: threading.Event) -> None:
    """Copy bytes between a local connection and a ``portforward`` websocket
    (``v4.channel.k8s.io``: channel 0 data, 1 errors, each opened by a frame
    with the port number) until either side ends or reports an error."""
    from websocket import ABNF, WebSocketConnectionClosedException

    opened: set[int] = set()
    remote = ws.sock
    while not closed.is_set():
        readable, _, _ = select.select([conn, remote], [], [], 1.0)
        if conn in readable:
            data = conn.recv(65536)
            if not data:
                return
            ws.send_binary(b"\x00" + data)
        if remote not in readable:
            continue
        while True:
            try:
                opcode, frame = ws.recv_data_frame(True)
            except WebSocketConnectionClosedException:
                return
            if opcode == ABNF.OPCODE_CLOSE:
                return
            if opcode == ABNF.OPCODE_BINARY and frame.data:
                channel, payload = frame.data[0], frame.data[1:]
                if channel not in opened:
                    opened.add(channel)  # the port number, sent once per channel
                elif channel == 0:
                    conn.sendall(payload)
                elif payload:
                    return  # the kubelet could not connect: close, as a refused port
            pending = getattr(remote, "pending", None)
            if pending is None or not pending():
                break


# -- the adapter -----------------------------------------------------------------------


class KubernetesRuntime(Runtime):
    """A Kubernetes cluster through its API server.

    Options: ``kubeconfig`` (default ``KUBECONFIG``, else ``~/.kube/config``,
    else the in-cluster service account), ``context`` (default: the
    kubeconfig's current one), ``namespace`` (default: the context's, else
    ``default``) and ``timeout`` (seconds per API call, default 120).
    """

    name = "kubernetes"
    options = ("kubeconfig", "context", "namespace", "timeout", "cluster_domain")
    # Measured on containerd's CRI logs through the kubelet (v1.34): bytes
    # kept as written, a last line without newline kept (15 reads of 15 just
    # after the exit), nanosecond stamps; runc creates a missing workdir.
    capabilities = frozenset(
        {
            Capability.CREATE,
            Capability.PRECISE_LOG_TIMESTAMPS,
            Capability.LOSSLESS_LOGS,
            Capability.KEEPS_UNTERMINATED_LAST_LINE,
            Capability.CREATES_MISSING_WORKDIR,
            Capability.EXEC_IO,
            Capability.EXEC_STDIN,
            Capability.COPY,
            Capability.STATS,
            Capability.STATS_CPU,
            Capability.NETWORKS,
        }
    )
    unsupported_reasons: ClassVar[Mapping[Capability, str]] = {
        Capability.BUILD: "a cluster has no image builder: " + _NO_STORE,
        Capability.IMAGE_STORE: _NO_STORE,
        Capability.VOLUMES: (
            "named volumes would be PersistentVolumeClaims, which need a storage "
            "provisioner; bind mounts (hostPath) work"
        ),
        Capability.LOG_STREAMS: (
            "the pod log API interleaves stdout and stderr without saying which wrote a line "
            "(every line is tagged stdout)"
        ),
        Capability.EXEC_OPTIONS: (
            "the exec subresource runs argv as the container's user, in its working "
            "directory, with its environment: it takes no env, workdir or user"
        ),
        Capability.AUTO_REMOVE: (
            "nothing in a cluster deletes a finished bare pod; remove it, or use running()"
        ),
        Capability.COPY_STOPPED: (
            "a copy runs tar in the container by exec (as kubectl cp), which needs it "
            "running; a stopped pod's container, files and all, is gone"
        ),
        Capability.CONTROL: "a pod cannot be paused, renamed or restarted in place",
        Capability.STATS_IO: (
            "the kubelet's summary API has no block I/O, and network and the process "
            "count only when its cAdvisor sees the pod (not on the test cluster): None"
        ),
        Capability.TOP: (
            "no API lists a container's processes with host pids (the kubelet's "
            "summary has counts only)"
        ),
        Capability.NETWORK_ALIASES: (
            "a name is one endpoint hostname of the network's headless Service: a "
            "single DNS label, while the engines take dotted aliases (primary.db)"
        ),
        Capability.NETWORK_CONNECT: (
            "a pod's DNS search domains, which scope its network's names, are fixed "
            "when it is created"
        ),
        Capability.INTERNAL_NETWORKS: (
            "a user network is a DNS scope on the one pod network; nothing (no "
            "NetworkPolicy enforcer on the test cluster) blocks routes beyond it"
        ),
        Capability.NETWORK_SUBNETS: (
            "a user network's pods get their addresses from the node's pod CIDR, which "
            "is its subnet; another cannot be chosen"
        ),
        Capability.ISOLATED_NETWORKS: (
            "every pod routes to every other pod's address; only names are per network"
        ),
        Capability.SCHEDULES_HEALTHCHECKS: (
            "the healthcheck is not made a probe; the library runs it by exec"
        ),
        Capability.RESTART_POLICIES: (
            "a pod restarts Never, Always or OnFailure without a count, and stop() deletes "
            "it, so on-failure:N and unless-stopped have no equivalent; 'no' and 'always' map"
        ),
        Capability.INIT: (
            "a pod spec has no init; shareProcessNamespace makes the pause container PID 1, "
            "which reaps but forwards no signal"
        ),
        Capability.ULIMITS: "a pod spec has no rlimits; the node's container runtime sets them",
        Capability.STOP_SIGNAL: (
            "the kubelet sends SIGTERM (lifecycle.stopSignal is alpha in v1.34, off by default)"
        ),
        Capability.TMPFS_OPTIONS: (
            "a tmpfs is a memory-backed emptyDir: only size= maps (sizeLimit)"
        ),
        Capability.PLATFORM: (
            "the platform is checked on the image's record in a local store, which a "
            "cluster does not expose; the node runs the image for its own platform"
        ),
    }
    # "bridge", every engine's default network, is the cluster's pod network here.
    builtin_networks = frozenset({"bridge", "host", "none"})

    def __init__(
        self,
        kubeconfig: str | None = None,
        context: str | None = None,
        namespace: str | None = None,
        timeout: float | str | None = None,
        cluster_domain: str | None = None,
    ) -> None:
        k8s = _client()
        #: The kubelet's clusterDomain, in the search domain of a pod on a user network.
        self.cluster_domain = cluster_domain or "cluster.local"
        self.default_timeout = float(timeout) if timeout is not None else 120.0
        self.kubeconfig = kubeconfig_path(kubeconfig)
        self.context = context
        configuration = k8s.client.Configuration()
        try:
            if self.kubeconfig is None and _in_cluster():
                k8s.config.load_incluster_config(client_configuration=configuration)
                default_namespace = _read("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
            elif self.kubeconfig is None:
                raise RuntimeUnavailable(
                    "kubernetes",
                    "no kubeconfig",
                    hint="set KUBECONFIG or RUNTIMES_KUBERNETES_KUBECONFIG",
                )
            else:
                k8s.config.load_kube_config(
                    config_file=self.kubeconfig,
                    context=context,
                    client_configuration=configuration,
                    persist_config=False,
                )
                default_namespace = _context_namespace(k8s, self.kubeconfig, context)
        except RuntimesError:
            raise
        except Exception as exc:
            raise RuntimeUnavailable(
                "kubernetes",
                f"cannot use the kubeconfig {self.kubeconfig}: {exc}",
                hint="check KUBECONFIG / RUNTIMES_KUBERNETES_KUBECONFIG and the context",
            ) from redact_exception(exc)
        # One attempt per call: a dead API server answers within the timeout.
        configuration.retries = 0
        self.namespace = namespace or default_namespace or "default"
        self.host = str(configuration.host)
        self._configuration = configuration
        self._k8s = k8s
        self._api_client = k8s.client.ApiClient(configuration)
        self._core = k8s.client.CoreV1Api(self._api_client)
        self._discovery = k8s.client.DiscoveryV1Api(self._api_client)
        self._forwards: dict[str, list[_Forwarder]] = {}
        self._ids: dict[str, str] = {}  # container id -> pod name, for our own pods
        self._detached: set[Any] = set()  # websockets of detached execs still running
        self._lock = threading.Lock()

    @classmethod
    def configured_endpoint(cls, **options: Any) -> str | None:
        return options.get("kubeconfig") or os.environ.get("KUBECONFIG") or None

    @classmethod
    def detect(cls, **options: Any) -> str | None:
        if kubeconfig_path(options.get("kubeconfig")) is None and not _in_cluster():
            return "no kubeconfig: set KUBECONFIG (or RUNTIMES_KUBERNETES_KUBECONFIG)"
        try:
            rt = cls(**{**options, "timeout": CONNECT_TIMEOUT})
        except RuntimesError as exc:
            return str(exc)
        try:
            rt._info()
        except RuntimesError as exc:
            return f"the API server does not answer: {exc}"
        finally:
            rt.close()
        return None

    def close(self) -> None:
        with self._lock:
            forwards = [f for fs in self._forwards.values() for f in fs]
            self._forwards.clear()
            detached, self._detached = self._detached, set()
        for forward in forwards:
            forward.close()
        for ws in detached:
            # Only wake its reader: the draining thread closes the websocket
            # itself (closing it here would race that thread's reads).
            with contextlib.suppress(Exception):
                ws.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            self._api_client.close()

    def __repr__(self) -> str:
        # getattr: a traceback may show one whose __init__ failed half-way.
        host, namespace = getattr(self, "host", "?"), getattr(self, "namespace", "?")
        return f"<KubernetesRuntime {host} namespace={namespace!r}>"

    # -- the one translation point ----------------------------------------------

    @contextlib.contextmanager
    def _api(self, operation: str, target: str = "none", ref: str | None = None) -> Iterator[None]:
        import urllib3.exceptions
        from websocket import WebSocketException, WebSocketTimeoutException

        try:
            yield
        except RuntimesError:
            raise
        except WebSocketTimeoutException as exc:
            raise Timeout(f"kubernetes {operation}: the API server did not answer in time") from (
                redact_exception(exc)
            )
        except WebSocketException as exc:
            # A websocket (exec, copy) that broke after its upgrade.
            raise CommandFailed(
                f"kubernetes {operation}: the connection to the API server failed: {exc}",
                runtime=self.name,
                operation=operation,
            ) from redact_exception(exc)
        except self._k8s.client.exceptions.ApiException as exc:
            status = int(exc.status or 0)
            body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else exc.body
            if status == 0:
                raise self._transport_error(operation, str(exc.reason), target, ref) from (
                    redact_exception(exc)
                )
            raise translate_api_error(
                status, body or str(exc.reason or ""), operation=operation, target=target, ref=ref
            ) from redact_exception(exc)
        except (urllib3.exceptions.TimeoutError, TimeoutError) as exc:
            raise Timeout(f"kubernetes {operation}: the API server did not answer in time") from (
                redact_exception(exc)
            )
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            text = str(exc)
            if "timed out" in text.lower():
                raise Timeout(
                    f"kubernetes {operation}: the API server did not answer in time"
                ) from redact_exception(exc)
            raise RuntimeUnavailable(
                "kubernetes",
                f"cannot reach the API server at {self.host}",
                hint="is the cluster up? check the kubeconfig's server",
            ) from redact_exception(exc)

    def _transport_error(
        self, operation: str, reason: str, target: str, ref: str | None
    ) -> RuntimesError:
        # Websocket handshakes (exec, portforward) fail as text: "Handshake status 403 ...".
        handshake = re.search(r"Handshake status (\d{3})", reason)
        if handshake:
            body = reason.split(" -+-+- ", 1)[-1] if " -+-+- " in reason else ""
            body = body.rsplit(" -+-+- ", 1)[-1]
            return translate_api_error(
                int(handshake.group(1)), body, operation=operation, target=target, ref=ref
            )
        if "timed out" in reason.lower():
            return Timeout(f"kubernetes {operation}: the API server did not answer in time")
        if re.search(r"ssl|certificate", reason, re.I):
            return RuntimeUnavailable(
                "kubernetes",
                f"TLS with the API server at {self.host} failed: {reason}",
                hint="the kubeconfig's certificate-authority must be the cluster's CA",
            )
        return RuntimeUnavailable(
            "kubernetes", f"cannot reach the API server at {self.host}: {reason}"
        )

    def _timeout(self, seconds: float | None = None) -> tuple[float, float]:
        return (min(CONNECT_TIMEOUT, self.default_timeout), seconds or self.default_timeout)

    def _json(self, response: Any) -> Any:
        """The body as JSON; the connection goes back to the pool only once
        the body is read to its end (else its rest would answer the next call)."""
        try:
            return json.loads(response.data)
        finally:
            response.release_conn()

    def _discard(self, response: Any) -> None:
        with contextlib.suppress(Exception):
            response.drain_conn()
        response.release_conn()

    # -- info -----------------------------------------------------------------------

    def _info(self) -> RuntimeInfo:
        with self._api("info"):
            version = self._json(
                self._k8s.client.VersionApi(self._api_client).get_code(
                    _preload_content=False, _request_timeout=self._timeout()
                )
            )
        platform = str(version.get("platform") or "/")
        os_name, _, arch = platform.partition("/")
        return RuntimeInfo(
            cpus=self._node_cpus(),
            name=self.name,
            version=str(version.get("gitVersion") or ""),
            api_version="v1",
            os=os_name,
            arch=arch,
            rootless=False,
            endpoint=self.host,
            capabilities=self.capabilities,
            raw={"version": version, "namespace": self.namespace},
        )

    def _node_cpus(self) -> int | None:
        """The most CPUs a node can give one pod (its allocatable), so that
        ``run(cpus=)`` above it is InvalidSpec, as on an engine, instead of a
        pod the scheduler never places; ``None`` for a user who may not list
        nodes."""
        try:
            with self._api("info"):
                nodes = self._json(
                    self._core.list_node(_preload_content=False, _request_timeout=self._timeout())
                )
        except RuntimesError:
            return None
        counts = []
        for node in nodes.get("items") or ():
            cpu = str(((node.get("status") or {}).get("allocatable") or {}).get("cpu") or "")
            if cpu.isdigit():
                counts.append(int(cpu))
            elif cpu.endswith("m") and cpu[:-1].isdigit():
                counts.append(int(cpu[:-1]) // 1000)
        return max(counts) if counts else None

    # -- what a cluster has no verb for -------------------------------------------------

    def _build(self, spec: BuildSpec) -> str:
        self._require(Capability.BUILD, "build")
        raise AssertionError("unreachable")

    def _images(self, labels: Mapping[str, str]) -> list[Image]:
        self._require(Capability.IMAGE_STORE, "listing images")
        raise AssertionError("unreachable")

    def _image(self, ref: str) -> Image:
        self._require(Capability.IMAGE_STORE, "inspecting images")
        raise AssertionError("unreachable")

    def _remove_image(self, ref: str, *, force: bool) -> None:
        self._require(Capability.IMAGE_STORE, "removing images")

    def _pull(self, spec: PullSpec) -> str:
        self._require(Capability.IMAGE_STORE, "pull (the kubelet pulls: run(pull='missing'))")
        raise AssertionError("unreachable")

    def _push(self, spec: PushSpec) -> str:
        self._require(Capability.IMAGE_STORE, "push")
        raise AssertionError("unreachable")

    def _tag(self, source: str, target: str) -> None:
        self._require(Capability.IMAGE_STORE, "tag")

    def _login(self, spec: PullSpec) -> None:
        self._require(Capability.IMAGE_STORE, "login (use an imagePullSecret)")

    def _logout(self, registry: str) -> None:
        self._require(Capability.IMAGE_STORE, "logout")

    def _create_volume(self, name: str, *, labels: Mapping[str, str]) -> Volume:
        self._require(Capability.VOLUMES, "named volumes")
        raise AssertionError("unreachable")

    def _volume(self, name: str) -> Volume:
        self._require(Capability.VOLUMES, "named volumes")
        raise AssertionError("unreachable")

    def _volumes(self, labels: Mapping[str, str]) -> list[Volume]:
        self._require(Capability.VOLUMES, "named volumes")
        raise AssertionError("unreachable")

    def _remove_volume(self, name: str, *, force: bool) -> None:
        self._require(Capability.VOLUMES, "named volumes")

    # -- user networks ----------------------------------------------------------------

    def _subnets(self) -> tuple[str, ...]:
        """The nodes' pod CIDRs: every pod address is in one of them."""
        try:
            with self._api("network"):
                nodes = self._json(
                    self._core.list_node(_preload_content=False, _request_timeout=self._timeout())
                )
        except Forbidden:
            return ()
        cidrs: list[str] = []
        for node in nodes.get("items") or ():
            spec = node.get("spec") or {}
            for cidr in spec.get("podCIDRs") or [spec.get("podCIDR")]:
                if cidr and ":" not in cidr and cidr not in cidrs:
                    cidrs.append(str(cidr))
        return tuple(cidrs)

    def _bridge(self, subnets: tuple[str, ...] | None = None) -> Network:
        """The pod network, which every pod not on a user network is on."""
        return Network(name="bridge", subnets=self._subnets() if subnets is None else subnets)

    def _create_network(self, spec: NetworkSpec) -> Network:
        if spec.subnet is not None:  # base.create_network refuses it first
            self._require(Capability.NETWORK_SUBNETS, "choosing a network's subnet")
        with self._api("create_network", "network", spec.name):
            record = self._json(
                self._core.create_namespaced_config_map(
                    self.namespace,
                    network_manifest(spec),
                    _preload_content=False,
                    _request_timeout=self._timeout(),
                )
            )
        try:
            self._create_service(record, spec.name)
        except BaseException:
            with contextlib.suppress(RuntimesError):
                self._delete_record(record["metadata"]["name"], spec.name)
            raise
        return network_from_record(record, subnets=self._subnets())

    def _create_service(self, record: Mapping[str, Any], name: str) -> None:
        service = network_service(record)
        for attempt in range(2):
            try:
                with self._api("create_network", "network", name):
                    self._discard(
                        self._core.create_namespaced_service(
                            self.namespace,
                            service,
                            _preload_content=False,
                            _request_timeout=self._timeout(),
                        )
                    )
                return
            except NameConflict:
                # The Service of a removed namesake, not yet collected: ours to replace.
                if attempt:
                    raise
                self._delete_service(service["metadata"]["name"], name)

    def _delete_service(self, key: str, name: str) -> None:
        with contextlib.suppress(NetworkNotFound), self._api("remove_network", "network", name):
            self._discard(
                self._core.delete_namespaced_service(
                    key, self.namespace, _preload_content=False, _request_timeout=self._timeout()
                )
            )

    def _delete_record(self, key: str, name: str) -> None:
        with self._api("remove_network", "network", name):
            self._discard(
                self._core.delete_namespaced_config_map(
                    key, self.namespace, _preload_content=False, _request_timeout=self._timeout()
                )
            )

    def _records(self, labels: Mapping[str, str]) -> list[dict[str, Any]]:
        selector = [f"{MANAGED_LABEL}={MANAGED_BY}", NETWORK_LABEL]
        selector += [f"{k}={v}" for k, v in split_labels(labels).items()]
        with self._api("networks"):
            listed = self._json(
                self._core.list_namespaced_config_map(
                    self.namespace,
                    label_selector=",".join(selector),
                    _preload_content=False,
                    _request_timeout=self._timeout(),
                )
            )
        return list(listed.get("items") or [])

    def _network(self, name: str) -> Network:
        if name == "bridge":
            return self._bridge()
        try:
            with self._api("network", "network", name):
                record = self._json(
                    self._core.read_namespaced_config_map(
                        network_key(name),
                        self.namespace,
                        _preload_content=False,
                        _request_timeout=self._timeout(),
                    )
                )
            return network_from_record(record, subnets=self._subnets())
        except NetworkNotFound:
            if not _HEX.fullmatch(name):
                raise
        # An id, or a prefix of one.
        matches = [n for n in self._networks({}) if n.id and n.id.startswith(name)]
        if len(matches) != 1:
            raise NetworkNotFound(name, f"kubernetes: network not found: {name}")
        return matches[0]

    def _networks(self, labels: Mapping[str, str]) -> list[Network]:
        subnets = self._subnets()
        found = [network_from_record(r, subnets=subnets) for r in self._records(labels)]
        return [self._bridge(subnets), *found]

    def _remove_network(self, name: str) -> None:
        key = network_key(name)
        self._delete_record(key, name)
        # The garbage collector would follow; a namesake created at once must not meet it.
        self._delete_service(key, name)

    def _publish(self, pod: Mapping[str, Any]) -> None:
        """Make a started pod's names resolve on its user network (not once
        it has exited: its address is freed, as an engine drops the name of
        a stopped container)."""
        if pod_state(pod)[0] is not ContainerState.RUNNING:
            return
        body = endpoint_slice(pod)
        if body is None:
            return
        name = pod["metadata"]["name"]
        try:
            # Read in full within the call (the answer is not needed): an
            # interrupt, which tends to land right as the pod runs, then
            # never strands an unread connection in the client.
            with self._api("run", "container", name):
                self._discovery.create_namespaced_endpoint_slice(
                    self.namespace, body, _request_timeout=self._timeout()
                )
        except NameConflict:
            pass  # published already (a second start)

    def _unpublish(self, pod: Mapping[str, Any]) -> None:
        """Take a pod's names off its network (before its pod goes: a name
        reused at once must not resolve to the old address)."""
        metadata = pod["metadata"]
        if NETWORK_ANNOTATION not in (metadata.get("annotations") or {}):
            return
        with self._api("remove", "container", metadata["name"]):
            self._discovery.delete_collection_namespaced_endpoint_slice(
                self.namespace,
                label_selector=f"{POD_UID_LABEL}={metadata['uid']}",
                _request_timeout=self._timeout(),
            )

    # -- pods -------------------------------------------------------------------------

    def _get(self, name: str, operation: str, ref: str | None = None) -> dict[str, Any]:
        with self._api(operation, "container", ref or name):
            pod: dict[str, Any] = self._json(
                self._core.read_namespaced_pod(
                    name, self.namespace, _preload_content=False, _request_timeout=self._timeout()
                )
            )
        return pod

    def _list(self, operation: str, selector: str, field: str | None = None) -> list[Any]:
        with self._api(operation):
            listed = self._json(
                self._core.list_namespaced_pod(
                    self.namespace,
                    label_selector=selector,
                    field_selector=field,
                    _preload_content=False,
                    _request_timeout=self._timeout(),
                )
            )
        return list(listed.get("items") or [])

    def _resolve(self, ref: str, operation: str) -> dict[str, Any]:
        """The pod ``ref`` names: a full id, a pod name, or an id prefix."""
        name = self._ids.get(ref)
        if name is not None:
            with contextlib.suppress(ContainerNotFound):
                pod = self._get(name, operation, ref)
                if container_id(pod["metadata"]["uid"]) == ref:
                    return pod
        elif _DNS_NAME.fullmatch(ref) and len(ref) <= 253:
            try:
                return self._get(ref, operation)
            except ContainerNotFound:
                if not _HEX.fullmatch(ref):
                    raise
        if not _HEX.fullmatch(ref):
            raise ContainerNotFound(ref, f"kubernetes: container not found: {ref}")
        matches = [
            pod
            for pod in self._list(operation, f"{MANAGED_LABEL}={MANAGED_BY}")
            if container_id(pod["metadata"]["uid"]).startswith(ref)
        ]
        if not matches:
            raise ContainerNotFound(ref, f"kubernetes: container not found: {ref}")
        if len(matches) > 1:
            raise CommandFailed(
                f"ambiguous reference {ref}: {len(matches)} containers match",
                runtime=self.name,
                operation=operation,
            )
        found: dict[str, Any] = matches[0]
        self._remember(container_id(found["metadata"]["uid"]), found["metadata"]["name"])
        return found

    def _remember(self, cid: str, name: str) -> None:
        # A cache (a miss costs one lookup), bounded: a long-lived runtime
        # listing pods that others create and delete must not grow forever.
        with self._lock:
            self._ids.pop(cid, None)
            self._ids[cid] = name
            if len(self._ids) > IDS_KEPT:
                del self._ids[next(iter(self._ids))]

    def _watch(
        self,
        pod: dict[str, Any],
        done: Callable[[dict[str, Any]], bool],
        timeout: float | None,
        operation: str,
    ) -> dict[str, Any] | None:
        """Watch one pod until ``done(pod)``; the pod, or ``None`` after
        ``timeout`` seconds.  A pod deleted meanwhile raises ContainerNotFound."""
        name = pod["metadata"]["name"]
        uid = pod["metadata"]["uid"]
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if done(pod):
                return pod
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            window = 60 if left is None else max(1, min(60, math.ceil(left)))
            version = pod["metadata"].get("resourceVersion")
            with self._api(operation, "container", name):
                response = self._core.list_namespaced_pod(
                    self.namespace,
                    field_selector=f"metadata.name={name}",
                    watch=True,
                    resource_version=version,
                    timeout_seconds=window,
                    allow_watch_bookmarks=False,
                    _preload_content=False,
                    _request_timeout=self._timeout(window + 10),
                )
                try:
                    for line in response:
                        event = json.loads(line)
                        kind, obj = event.get("type"), event.get("object") or {}
                        if kind == "ERROR":
                            break  # "too old resource version": read it afresh
                        if (obj.get("metadata") or {}).get("uid") != uid:
                            continue
                        if kind == "DELETED":
                            raise ContainerNotFound(name, f"kubernetes: {name} was removed")
                        pod = obj
                        if done(pod):
                            return pod
                        if deadline is not None and time.monotonic() >= deadline:
                            return None
                finally:
                    # A watch left early still streams: never back to the pool.
                    response.close()
            current = self._get(name, operation)
            if current["metadata"]["uid"] != uid:
                raise ContainerNotFound(name, f"kubernetes: {name} was removed")
            pod = current

    def _run(self, spec: RunSpec) -> str:
        return self._launch(spec, start=True)

    def _create(self, spec: RunSpec) -> str:
        return self._launch(spec, start=False)

    def _start(self, ref: str) -> None:
        pod = self._resolve(ref, "start")
        if START_GATE not in [g.get("name") for g in pod["spec"].get("schedulingGates") or ()]:
            return  # started already: nothing happens, as on an engine
        # Gates may only be taken away; with them all gone the pod is scheduled.
        remove = [{"op": "remove", "path": "/spec/schedulingGates"}]
        with self._api("start", "container", ref):
            pod = self._json(
                self._core.patch_namespaced_pod(
                    pod["metadata"]["name"],
                    self.namespace,
                    remove,
                    _content_type="application/json-patch+json",
                    _preload_content=False,
                    _request_timeout=self._timeout(),
                )
            )
        # A start that fails keeps the container, to inspect, as on an engine.
        started = self._await_start(pod, _main_container(pod).get("image") or "", operation="start")
        self._publish(started)

    def _launch(self, spec: RunSpec, *, start: bool) -> str:
        verb = "run" if start else "create"
        if spec.network == "none":
            raise Unsupported("kubernetes: a pod always has a network; network='none' is not")
        named = spec.name is not None and spec.network not in (None, *self.builtin_networks)
        if named and not is_dns_label(spec.name or ""):
            # Checked before anything is created: the name is a DNS hostname here.
            raise InvalidSpec(
                f"kubernetes: container name {spec.name!r} on network {spec.network}: "
                "a name other containers resolve must be a DNS label (at most 63 of "
                "a-z, 0-9 and '-', starting and ending alphanumeric)"
            )
        for mapping in spec.ports:
            if mapping.protocol != "tcp":
                raise Unsupported(
                    f"kubernetes: port {mapping.container_port}/{mapping.protocol}: "
                    "the API server forwards TCP only"
                )
        pull = spec.pull
        listeners: list[tuple[socket.socket, PortBinding]] = []
        try:
            for mapping in spec.ports:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                host_ip = (
                    mapping.host_ip
                    if mapping.host_ip not in (None, "", "0.0.0.0")
                    else ("127.0.0.1")
                )
                try:
                    sock.bind((host_ip, mapping.host_port or 0))
                except OSError as exc:
                    sock.close()
                    raise CommandFailed(
                        f"cannot listen on {host_ip}:{mapping.host_port}: {exc}",
                        runtime=self.name,
                        operation="run",
                    ) from exc
                sock.listen(64)
                listeners.append(
                    (
                        sock,
                        PortBinding(
                            container_port=mapping.container_port,
                            protocol="tcp",
                            host_ip=host_ip,
                            host_port=sock.getsockname()[1],
                        ),
                    )
                )
            manifest = pod_manifest(
                spec,
                pull_policy=pull,
                ports=[b for _, b in listeners],
                namespace=self.namespace,
                cluster_domain=self.cluster_domain,
            )
            if not start:
                manifest["spec"]["schedulingGates"] = [{"name": START_GATE}]
            with self._api(verb, "container", spec.name):
                created = self._json(
                    self._core.create_namespaced_pod(
                        self.namespace,
                        self._k8s.client.V1Pod.from_dict(manifest),
                        _preload_content=False,
                        _request_timeout=self._timeout(),
                    )
                )
        except BaseException:
            for sock, _ in listeners:
                sock.close()
            raise
        name = created["metadata"]["name"]
        cid = container_id(created["metadata"]["uid"])
        self._remember(cid, name)
        try:
            if start:
                self._publish(self._await_start(created, spec.image))
        except BaseException:
            for sock, _ in listeners:
                sock.close()
            with contextlib.suppress(RuntimesError):
                self._purge(created, name)
            raise
        forwards = [
            _Forwarder(
                sock,
                functools.partial(self._open_forward, name, b.container_port),
                b.container_port,
            )
            for sock, b in listeners
        ]
        with self._lock:
            self._forwards[cid] = forwards
        for forward in forwards:
            forward.start()
        return cid

    def _await_start(
        self, pod: dict[str, Any], image: str, operation: str = "run"
    ) -> dict[str, Any]:
        """Until the container runs or has run (the pod then); a typed error when it cannot."""
        failure: list[tuple[str, str]] = []

        def started(current: dict[str, Any]) -> bool:
            state, _ = pod_state(current)
            reason, message = waiting_reason(current)
            if reason in _IMAGE_ERRORS or reason in _START_ERRORS:
                failure.append((reason, message))
                return True
            return state in (
                ContainerState.RUNNING,
                ContainerState.EXITED,
                ContainerState.RESTARTING,
            )

        found = self._watch(pod, started, self.default_timeout, operation)
        if found is None:
            raise Timeout(
                f"kubernetes: pod {pod['metadata']['name']} did not start within "
                f"{self.default_timeout:g} s (unschedulable? see kubectl describe pod)"
            )
        if failure:
            reason, message = failure[0]
            if reason in _IMAGE_ERRORS:
                raise ImageNotFound(
                    image,
                    f"kubernetes: image {image} is not on the node ({reason}: {message}); "
                    "import it into the node's containerd (namespace k8s.io), "
                    "or run(..., pull='missing') to let the kubelet pull it",
                )
            raise CommandFailed(
                f"the container could not start: {reason}: {message}",
                runtime=self.name,
                operation=operation,
            )
        return found

    def _websocket_url(self, name: str, subresource: str, query: list[tuple[str, str]]) -> str:
        from urllib.parse import quote, urlencode

        path = f"/api/v1/namespaces/{quote(self.namespace)}/pods/{quote(name)}/{subresource}"
        url: str = self._k8s.stream.ws_client.get_websocket_url(self.host + path)
        return f"{url}?{urlencode(query)}"

    def _websocket_headers(self) -> dict[str, str]:
        # The headers the client's own requests carry (a bearer token, for
        # whichever key the client version names it by); certificates are
        # in the configuration the websocket reads.
        headers: dict[str, str] = {}
        for setting in self._configuration.auth_settings().values():
            if setting.get("in") == "header" and setting.get("value"):
                headers[str(setting["key"]).lower()] = str(setting["value"])
        return headers

    def _connect_websocket(self, url: str, headers: Mapping[str, str]) -> Any:
        """A websocket to the API server, upgraded, with ``default_timeout``
        on its handshake and on each later read and write.

        The client's ``create_websocket`` sets no timeout, and
        websocket-client's default is to wait for ever: a stalled API server
        hung an exec or a forwarded connection.  Its TLS settings come from
        the same configuration, the same way.
        """
        import ssl

        from websocket import WebSocket

        conf = self._configuration
        sslopt: dict[str, Any] = {"cert_reqs": ssl.CERT_NONE}
        if url.startswith("wss://") and conf.verify_ssl:
            import certifi

            sslopt = {
                "cert_reqs": ssl.CERT_REQUIRED,
                "ca_certs": conf.ssl_ca_cert or certifi.where(),
            }
            if conf.assert_hostname is not None:
                sslopt["check_hostname"] = conf.assert_hostname
        if conf.cert_file:
            sslopt["certfile"] = conf.cert_file
        if conf.key_file:
            sslopt["keyfile"] = conf.key_file
        if getattr(conf, "tls_server_name", None):
            sslopt["server_hostname"] = conf.tls_server_name
        protocol = headers.get("sec-websocket-protocol") or f"{V5_PROTOCOL},{V4_PROTOCOL}"
        header = [f"sec-websocket-protocol: {protocol}"]
        if headers.get("authorization"):
            header.append(f"authorization: {headers['authorization']}")
        options: dict[str, Any] = {"header": header, "timeout": self.default_timeout}
        if conf.proxy or getattr(conf, "proxy_headers", None):
            options = self._k8s.stream.ws_client.websocket_proxycare(options, conf, url, headers)
            options["timeout"] = self.default_timeout
        ws: Any = WebSocket(sslopt=sslopt, skip_utf8_validation=False)
        try:
            ws.connect(url, **options)
        except BaseException:
            _close_websocket(ws)
            raise
        return ws

    def _open_forward(self, name: str, port: int) -> Any:
        # Our own websocket, not the client's PortForward, whose thread
        # leaves its socket open when the server closes first.
        url = self._websocket_url(name, "portforward", [("ports", str(port))])
        return self._connect_websocket(url, self._websocket_headers())

    def _ps(self, spec: PsSpec) -> list[Container]:
        selector = [f"{MANAGED_LABEL}={MANAGED_BY}"]
        selector += [f"{k}={v}" for k, v in split_labels(spec.labels).items()]
        field = None
        if spec.name is not None and _DNS_NAME.fullmatch(spec.name):
            field = f"metadata.name={spec.name}"
        elif spec.name is not None:
            return []  # not a pod name: no pod has it
        found = []
        for pod in self._list("ps", ",".join(selector), field):
            container = container_from_pod(pod, runtime=self.name)
            if not spec.all and container.state is not ContainerState.RUNNING:
                continue
            if any(container.labels.get(k) != v for k, v in spec.labels.items()):
                continue
            self._remember(container.id, container.name)
            found.append(container)
        return found

    def _inspect(self, ref: str) -> Container:
        return container_from_pod(self._resolve(ref, "inspect"), runtime=self.name)

    def _logs(self, spec: LogsSpec) -> Iterator[LogLine]:
        pod = self._resolve(spec.container, "logs")
        name = pod["metadata"]["name"]
        params: dict[str, Any] = {"container": CONTAINER, "timestamps": spec.timestamps}
        if spec.follow:
            params["follow"] = True
        if spec.tail is not None:
            params["tail_lines"] = spec.tail
        if spec.since is not None:
            params["since_seconds"] = max(1, math.ceil(time.time() - spec.since))
        try:
            with self._api("logs", "container", spec.container):
                response = self._core.read_namespaced_pod_log(
                    name,
                    self.namespace,
                    _preload_content=False,
                    # A follow waits for as long as the container runs.
                    _request_timeout=None if spec.follow else self._timeout(),
                    **params,
                )
        except CommandFailed as exc:
            if exc.status == 400 and "waiting to start" in exc.stderr + str(exc):
                return _logs.Closing(iter(()), lambda: None)
            raise

        def chunks() -> Iterator[bytes]:
            with self._api("logs", "container", spec.container):
                yield from response.stream(65536, decode_content=True)

        def release() -> None:
            with contextlib.suppress(Exception):
                response.close()
            with contextlib.suppress(Exception):
                response.release_conn()

        return _logs.Closing(
            log_lines(chunks(), timestamps=spec.timestamps),
            release,
            lambda: _shutdown(response),
        )

    def _delete(self, pod: Mapping[str, Any], *, grace: int) -> None:
        metadata = pod["metadata"]
        body = self._k8s.client.V1DeleteOptions.from_dict(
            {
                "gracePeriodSeconds": grace,
                "preconditions": {"uid": metadata["uid"]},
                "propagationPolicy": "Background",
            }
        )
        with self._api("remove", "container", metadata["name"]):
            self._discard(
                self._core.delete_namespaced_pod(
                    metadata["name"],
                    self.namespace,
                    body=body,
                    _preload_content=False,
                    _request_timeout=self._timeout(),
                )
            )

    def _stop(self, ref: str, *, timeout: float) -> None:
        pod = self._resolve(ref, "stop")
        if pod_state(pod)[0] is ContainerState.EXITED and pod["spec"].get("restartPolicy") != (
            "Always"
        ):
            return  # an Always pod between two runs is deleted like a running one
        # The kubelet sends SIGTERM, then SIGKILL after the grace period (at
        # least 2 s, its floor); the finalizer keeps the record to inspect.
        grace = max(1, math.ceil(timeout))
        self._unpublish(pod)
        self._delete(pod, grace=grace)
        if self._watch(pod, _exited, grace + self.default_timeout, "stop") is None:
            raise Timeout(f"kubernetes: {ref} did not stop within {grace + self.default_timeout} s")

    def _kill(self, ref: str, *, signal: str) -> None:
        pod = self._resolve(ref, "kill")
        if pod_state(pod)[0] is not ContainerState.RUNNING:
            raise CommandFailed(
                f"container {ref} is not running", runtime=self.name, operation="kill"
            )
        name = signal.upper().removeprefix("SIG")
        if name in ("KILL", "9"):
            # No API sends a signal: deletion with the shortest grace the
            # kubelet allows (SIGTERM, SIGKILL 2 s later).  Its names go
            # first, as in a stop: the address is freed with the pod.
            self._unpublish(pod)
            self._delete(pod, grace=1)
            return
        # Other signals from inside: PID 1 gets those it has a handler for,
        # as from the engine (needs a `kill` in the image).
        result = self._exec_argv(pod, ["kill", f"-{name}", "1"], "kill")
        if result.exit_code != 0:
            raise CommandFailed(
                f"sending SIG{name} through `kill` in the container failed "
                f"(exit {result.exit_code}): {result.stderr.decode(errors='replace').strip()}",
                runtime=self.name,
                operation="kill",
            )

    def _wait(self, ref: str, *, timeout: float | None) -> int:
        pod = self._resolve(ref, "wait")
        found = self._watch(pod, _exited, timeout, "wait")
        if found is None:
            raise Timeout(f"kubernetes: container {ref} still running after {timeout} s")
        code = pod_state(found)[1]
        return code if code is not None else -1

    def _remove(self, ref: str, *, force: bool) -> None:
        pod = self._resolve(ref, "remove")
        state = pod_state(pod)[0]
        if state is not ContainerState.EXITED and not force:
            raise CommandFailed(
                f"container {ref} is {state}: stop it first, or remove(force=True)",
                runtime=self.name,
                operation="remove",
            )
        cid = container_id(pod["metadata"]["uid"])
        with self._lock:
            forwards = self._forwards.pop(cid, [])
        for forward in forwards:
            forward.close()
        self._purge(pod, ref)
        with self._lock:
            self._ids.pop(cid, None)

    def _purge(self, pod: Mapping[str, Any], ref: str) -> None:
        """Take the finalizer off and delete the pod at once."""
        metadata = pod["metadata"]
        # Best effort: the slices are owned by the pod, so the garbage
        # collector takes any left here; a failure must not keep the pod.
        with contextlib.suppress(RuntimesError):
            self._unpublish(pod)
        if KEEP_FINALIZER in (metadata.get("finalizers") or ()):
            finalizers = [f for f in metadata["finalizers"] if f != KEEP_FINALIZER]
            # No resourceVersion: the kubelet updates the status meanwhile,
            # and the finalizers are the library's alone.
            patch = {"metadata": {"finalizers": finalizers or None}}
            with contextlib.suppress(ContainerNotFound), self._api("remove", "container", ref):
                self._discard(
                    self._core.patch_namespaced_pod(
                        metadata["name"],
                        self.namespace,
                        patch,
                        _content_type="application/merge-patch+json",
                        _preload_content=False,
                        _request_timeout=self._timeout(),
                    )
                )
        with contextlib.suppress(ContainerNotFound):
            self._delete(pod, grace=0)

    def _exec(self, spec: ExecSpec) -> ExecResult:
        pod = self._exec_target(spec)
        return self._exec_argv(pod, list(spec.command), "exec", stdin=spec.stdin, tty=spec.tty)

    def _exec_target(self, spec: ExecSpec) -> dict[str, Any]:
        pod = self._resolve(spec.container, "exec")
        if pod_state(pod)[0] is not ContainerState.RUNNING:
            raise CommandFailed(
                f"container {spec.container} is not running", runtime=self.name, operation="exec"
            )
        return pod

    def _exec_argv(
        self,
        pod: Mapping[str, Any],
        argv: list[str],
        operation: str,
        *,
        stdin: bytes | IO[bytes] | None = None,
        tty: bool = False,
        idle: bool = False,
    ) -> ExecResult:
        """Run ``argv`` to its end (within the runtime's timeout, or with
        ``idle`` as long as data moves, for a copy) and collect its output."""
        _, frames = self._exec_frames(
            pod, argv, operation, stdin=stdin, tty=tty, timeout=self.default_timeout, idle=idle
        )
        return _collect(frames)

    def _exec_stream(self, spec: ExecSpec) -> ExecStream:
        pod = self._exec_target(spec)
        # Opened here: a refused exec raises now, not at the first line.
        ws, frames = self._exec_frames(
            pod, list(spec.command), "exec", stdin=spec.stdin, tty=spec.tty, timeout=None
        )

        def release() -> None:
            frames.close()
            _close_websocket(ws)  # also when no line was ever read

        return ExecStream(_joined(frames), release)

    def _exec_detached(self, spec: ExecSpec) -> None:
        pod = self._exec_target(spec)
        # Closing the websocket at once lost the command now and then: in 25
        # detached execs closed as soon as opened, 5 never ran (v1.34,
        # containerd 1.6: the stream ended before the process started).  So
        # the websocket stays open in a thread that reads and discards the
        # output until the command ends, or until close().  The command has
        # no input, as a detached engine exec.
        ws, frames = self._exec_frames(pod, list(spec.command), "exec", timeout=None)
        with self._lock:
            self._detached.add(ws)
        threading.Thread(
            target=self._drain, args=(ws, frames), name="runtimes-kube-exec-detached", daemon=True
        ).start()

    def _drain(self, ws: Any, frames: _Frames) -> None:
        try:
            for _ in frames:
                pass
        except Exception as exc:  # lost its connection, or close()d; never a thread traceback
            log.debug("detached exec ended: %s", exc)
        finally:
            with self._lock:
                self._detached.discard(ws)

    def _open_exec(
        self, pod: Mapping[str, Any], argv: list[str], operation: str, *, stdin: bool, tty: bool
    ) -> Any:
        """The exec subresource's websocket, once the API server has upgraded it."""
        name = pod["metadata"]["name"]
        query = [("command", arg) for arg in argv] + [("container", CONTAINER)]
        if stdin:
            query.append(("stdin", "true"))
        # On a terminal the process has one output; the API refuses stderr with tty.
        query += [("stdout", "true"), ("stderr", "false" if tty else "true")]
        if tty:
            query.append(("tty", "true"))
        url = self._websocket_url(name, "exec", query)
        headers = self._websocket_headers()
        # v5 adds the close signal that ends the command's input (v1.30+).
        headers["sec-websocket-protocol"] = f"{V5_PROTOCOL},{V4_PROTOCOL}"
        with self._api(operation, "container", name):
            try:
                return self._connect_websocket(url, headers)
            except Exception as exc:
                raise self._transport_error(operation, str(exc), "container", name) from (
                    redact_exception(exc)
                )

    def _exec_frames(
        self,
        pod: Mapping[str, Any],
        argv: list[str],
        operation: str,
        *,
        stdin: bytes | IO[bytes] | None = None,
        tty: bool = False,
        timeout: float | None,
        idle: bool = False,
    ) -> tuple[Any, _Frames]:
        """Start ``argv``: its websocket, open, and a generator that yields
        the output as it arrives, returns the exit code and closes the
        websocket (closing it early, or the websocket, ends the read).
        ``timeout`` bounds the whole command, or with ``idle`` the time
        without a frame in or out (as an engine's read timeout bounds a copy
        of any size)."""
        name = pod["metadata"]["name"]
        ws = self._open_exec(pod, argv, operation, stdin=stdin is not None, tty=tty)
        if stdin is not None and _subprotocol(ws) != V5_PROTOCOL:
            _close_websocket(ws)
            raise Unsupported(
                "kubernetes: the API server does not speak v5.channel.k8s.io (Kubernetes "
                "1.30+), without which the end of a command's input cannot be sent",
                capability=Capability.EXEC_STDIN,
            )
        return ws, self._exec_session(
            ws, name, argv, operation, _input_chunks(stdin), timeout, idle=idle
        )

    def _exec_session(
        self,
        ws: Any,
        name: str,
        argv: list[str],
        operation: str,
        chunks: Iterator[bytes] | None,
        timeout: float | None,
        *,
        idle: bool = False,
    ) -> _Frames:
        from websocket import ABNF, WebSocketConnectionClosedException, WebSocketException

        status = bytearray()
        sock = ws.sock
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            with self._api(operation, "container", name):
                while True:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        what = "moved no data for" if idle else "still running after"
                        raise Timeout(f"kubernetes exec: {argv[0]} {what} {timeout:g} s")
                    wait = 1.0 if left is None else min(left, 1.0)
                    # Decrypted frames wait in the TLS layer, unseen by select.
                    if getattr(sock, "pending", lambda: 0)():
                        readable, writable = True, False
                    else:
                        ready = select.select(
                            [sock], [sock] if chunks is not None else [], [], wait
                        )
                        readable, writable = bool(ready[0]), bool(ready[1])
                    if idle and timeout is not None and (readable or writable):
                        deadline = time.monotonic() + timeout
                    if readable:
                        try:
                            opcode, frame = ws.recv_data_frame(True)
                        except WebSocketConnectionClosedException as exc:
                            raise CommandFailed(
                                f"the exec of {argv[0]} lost its connection to the API server",
                                runtime=self.name,
                                operation=operation,
                            ) from exc
                        if opcode == ABNF.OPCODE_CLOSE:
                            break
                        data = frame.data
                        if opcode != ABNF.OPCODE_BINARY or not data:
                            continue
                        if data[0] in (1, 2) and len(data) > 1:
                            yield ("stdout" if data[0] == 1 else "stderr"), data[1:]
                        elif data[0] == 3:
                            status += data[1:]
                    elif writable and chunks is not None:
                        # One small frame at a time, only when the socket takes
                        # it, so that a send never blocks while the command's
                        # output waits to be read (which would hold its input).
                        chunk = next(chunks, None)
                        try:
                            if chunk is None:
                                chunks = None
                                ws.send_binary(CLOSE_STDIN)
                            else:
                                ws.send_binary(b"\x00" + chunk)
                        except (WebSocketException, OSError):
                            chunks = None  # the command ended first: its output still counts
        finally:
            _close_websocket(ws)
        return exec_exit_code(bytes(status))

    # -- files in and out: tar through exec, as kubectl cp ----------------------------

    def _copy_target(self, ref: str, operation: str) -> dict[str, Any]:
        # Runtime.copy_* refused a stopped pod by COPY_STOPPED already.
        return self._resolve(ref, operation)

    def _copy_to(self, ref: str, source: str, dest: str) -> None:
        pod = self._copy_target(ref, "copy_to")
        directory, name = posixpath.split(dest)
        # A file copied onto an existing directory (or a link to one) goes inside it.
        if (
            not os.path.isdir(source)
            and self._exec_argv(pod, ["test", "-d", dest], "copy_to").exit_code == 0
        ):
            directory, name = dest, os.path.basename(source)
        with _archive.pack(source, name) as tar:
            done = self._exec_argv(
                pod, ["tar", "-x", "-f", "-", "-C", directory], "copy_to", stdin=tar, idle=True
            )
        if done.exit_code != 0:
            raise self._copy_error(pod, ref, done, directory, "copy_to")

    def _copy_from(self, ref: str, path: str, target: str) -> None:
        pod = self._copy_target(ref, "copy_from")
        for _ in range(MAX_LINKS):
            with tempfile.SpooledTemporaryFile(max_size=COPY_SPOOL) as tar:
                code, stderr = self._tar_out(pod, path, tar)
                if code != 0:
                    raise self._copy_error(
                        pod,
                        ref,
                        ExecResult(exit_code=code, stdout=b"", stderr=stderr),
                        path,
                        "copy_from",
                    )
                tar.seek(0)
                link = top_link(tar)
                if link is None:
                    tar.seek(0)
                    _archive.unpack(tar, target, runtime=self.name)
                    return
            # A path that is a symbolic link is followed, inside the container.
            path = posixpath.normpath(posixpath.join(posixpath.dirname(path), link))
        raise CommandFailed(
            f"{path}: more than {MAX_LINKS} symbolic links",
            runtime=self.name,
            operation="copy_from",
        )

    def _tar_out(self, pod: Mapping[str, Any], path: str, tar: IO[bytes]) -> tuple[int, bytes]:
        """``tar -c`` of ``path``, written to ``tar`` as it arrives."""
        directory, name = posixpath.split(path)
        _, frames = self._exec_frames(
            pod,
            ["tar", "-c", "-f", "-", "-C", directory or "/", name],
            "copy_from",
            timeout=self.default_timeout,
            idle=True,
        )
        stderr = bytearray()
        while True:
            try:
                stream, data = next(frames)
            except StopIteration as end:
                return int(end.value), bytes(stderr)
            if stream == "stdout":
                tar.write(data)
            else:
                stderr += data

    def _copy_error(
        self, pod: Mapping[str, Any], ref: str, done: ExecResult, path: str, operation: str
    ) -> RuntimesError:
        """Why ``tar`` failed: no tar in the image, a missing path, or its own words."""
        text = done.stderr.decode("utf-8", "replace").strip()
        if done.exit_code in (126, 127):
            return CommandFailed(
                f"{operation} runs `tar` in the container, as kubectl cp does, and the "
                f"container {ref} has none (exit {done.exit_code}{': ' + text if text else ''})",
                runtime=self.name,
                operation=operation,
            )
        if self._exec_argv(pod, ["test", "-e", path], operation).exit_code == 1:
            return PathNotFound(path, f"kubernetes: path not found in container {ref}: {path}")
        return CommandFailed(
            f"tar in the container failed (exit {done.exit_code}): {text}",
            runtime=self.name,
            operation=operation,
        )

    # -- verbs a pod has no mapping for: Runtime refuses them by capability
    # (CONTROL, TOP) after looking the container up; these never run.

    def _restart(self, ref: str, *, timeout: float) -> None:
        self._require(Capability.CONTROL, "restart")

    def _pause(self, ref: str) -> None:
        self._require(Capability.CONTROL, "pause")

    def _unpause(self, ref: str) -> None:
        self._require(Capability.CONTROL, "unpause")

    def _rename(self, ref: str, name: str) -> None:
        self._require(Capability.CONTROL, "rename")

    def _stats(self, ref: str) -> Stats:
        pod = self._resolve(ref, "stats")
        if pod_state(pod)[0] is not ContainerState.RUNNING:
            return IDLE_STATS
        # CPU as docker stats: two samples a second apart (the kubelet's own
        # usageNanoCores is a rate over its last housekeeping, 0 at first).
        first = self._summary(pod)
        started = time.monotonic()
        time.sleep(1.0)
        second = self._summary(pod)
        return stats_from_summary(
            second,
            pod,
            previous=first,
            seconds=time.monotonic() - started,
        )

    def _summary(self, pod: Mapping[str, Any]) -> dict[str, Any]:
        """The kubelet's summary API of the pod's node, through the API server."""
        node = (pod.get("spec") or {}).get("nodeName")
        if not node:
            raise CommandFailed("the pod is on no node yet", runtime=self.name, operation="stats")
        with self._api("stats"):
            summary: dict[str, Any] = self._json(
                self._core.connect_get_node_proxy_with_path(
                    node,
                    "stats/summary",
                    _preload_content=False,
                    _request_timeout=self._timeout(),
                )
            )
        return summary

    def _top(self, ref: str) -> list[Process]:
        self._require(Capability.TOP, "top")
        raise AssertionError("unreachable")


def exec_exit_code(status: bytes | str) -> int:
    """The command's exit code from the exec error channel's ``Status``.

    ``Success``: 0; ``NonZeroExitCode``: the cause ``ExitCode``; a command
    that could not start (a missing executable): 127, as a shell says.
    """
    text = status.decode("utf-8", "replace") if isinstance(status, bytes) else status
    if not text.strip():
        return 0
    try:
        parsed = json.loads(text)
    except ValueError:
        return 127
    if parsed.get("status") == "Success":
        return 0
    for cause in (parsed.get("details") or {}).get("causes") or ():
        if cause.get("reason") == "ExitCode":
            with contextlib.suppress(ValueError, TypeError):
                return int(cause.get("message"))
    message = str(parsed.get("message") or "")
    if re.search(r"not found|no such file|permission denied", message, re.I):
        return 127 if "permission denied" not in message.lower() else 126
    raise CommandFailed(message, runtime="kubernetes", operation="exec")


def _subprotocol(ws: Any) -> str:
    """The channel protocol the API server chose in the websocket handshake."""
    for key, value in (ws.getheaders() or {}).items():
        if key.lower() == "sec-websocket-protocol":
            return str(value)
    return ""


def _close_websocket(ws: Any) -> None:
    with contextlib.suppress(Exception):
        ws.close(timeout=1)
    # websocket-client's close() leaves the socket open when the server
    # closed first (the usual end of an exec).
    with contextlib.suppress(Exception):
        ws.shutdown()


def _input_chunks(stdin: bytes | IO[bytes] | None) -> Iterator[bytes] | None:
    """A command's input in pieces of STDIN_CHUNK bytes; ``None``: no input."""
    if stdin is None:
        return None
    if isinstance(stdin, bytes):
        return (stdin[i : i + STDIN_CHUNK] for i in range(0, len(stdin), STDIN_CHUNK))
    return iter(functools.partial(stdin.read, STDIN_CHUNK), b"")


def _collect(frames: _Frames) -> ExecResult:
    out, err = bytearray(), bytearray()
    while True:
        try:
            stream, data = next(frames)
        except StopIteration as end:
            return ExecResult(exit_code=end.value, stdout=bytes(out), stderr=bytes(err))
        (out if stream == "stdout" else err).extend(data)


def _joined(
    frames: _Frames,
) -> Generator[LogLine, None, int]:
    """The output as lines, per stream; returns the exit code."""
    joiner = _logs.LineJoiner(keep_timestamps=False)
    try:
        while True:
            try:
                stream, data = next(frames)
            except StopIteration as end:
                code: int = end.value
                break
            yield from joiner.feed(stream, data)
        yield from joiner.flush()
        return code
    finally:
        frames.close()


#: What a container that is not running uses.
IDLE_STATS = Stats(
    cpu_percent=0.0,
    memory_usage=0,
    memory_limit=0,
    network_rx=0,
    network_tx=0,
    block_read=0,
    block_write=0,
    pids=0,
)
_QUANTITY = re.compile(r"([0-9.]+)([KMGTPE]i?|[kmu]?)")
_UNITS = {"": 1, "k": 10**3, "m": 10**-3, "u": 10**-6}
_UNITS.update({u: 1000 ** (i + 1) for i, u in enumerate("KMGTPE")})
_UNITS.update({u + "i": 1024 ** (i + 1) for i, u in enumerate("KMGTPE")})


def quantity(text: object) -> int | None:
    """A resource quantity (``64Mi``, ``67108864``, ``1G``) in units."""
    match = _QUANTITY.fullmatch(str(text or "").strip())
    if match is None:
        return None
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def _summary_entry(summary: Mapping[str, Any], pod: Mapping[str, Any]) -> Mapping[str, Any]:
    uid = (pod.get("metadata") or {}).get("uid")
    for entry in summary.get("pods") or ():
        if (entry.get("podRef") or {}).get("uid") == uid:
            return dict(entry)
    return {}


def _summary_container(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    for container in entry.get("containers") or ():
        if container.get("name") == CONTAINER:
            return dict(container)
    return {}


def stats_from_summary(
    summary: Mapping[str, Any],
    pod: Mapping[str, Any],
    *,
    previous: Mapping[str, Any] | None = None,
    seconds: float = 0.0,
) -> Stats:
    """The pod's figures in the kubelet's summary API as :class:`Stats`.

    CPU from the container's ``usageCoreNanoSeconds`` over ``seconds``
    since ``previous`` (else, or when ``previous`` is the same sample, the
    kubelet's ``usageNanoCores``); memory is
    the working set (what ``docker stats`` shows: without the inactive
    page cache); the limit is the container's, else the node's memory.
    Network and the process count are the pod's, when the kubelet has
    them (cAdvisor's); the summary API has no block I/O: ``None``.
    """
    entry = _summary_entry(summary, pod)
    container = _summary_container(entry)
    if not container:
        raise CommandFailed(
            "the kubelet's summary has no figures for the container yet",
            runtime="kubernetes",
            operation="stats",
        )
    cpu = container.get("cpu") or {}
    before = _summary_container(_summary_entry(previous or {}, pod)).get("cpu") or {}
    cpu_percent: float | None = None
    used, earlier = cpu.get("usageCoreNanoSeconds"), before.get("usageCoreNanoSeconds")
    # The kubelet may answer from its cache: the same sample twice (same
    # time) says nothing of idleness, and two samples further apart than
    # our reads cover their own interval (whole seconds, hence the max).
    now, then = _normalize.timestamp(cpu.get("time")), _normalize.timestamp(before.get("time"))
    if now is not None and then is not None:
        seconds = max(seconds, (now - then).total_seconds()) if now != then else 0.0
    if isinstance(used, int) and isinstance(earlier, int) and seconds > 0:
        cpu_percent = max(0, used - earlier) / (seconds * 1e9) * 100.0
    elif isinstance(cpu.get("usageNanoCores"), int):
        cpu_percent = cpu["usageNanoCores"] / 1e7
    memory = container.get("memory") or {}
    usage = memory.get("workingSetBytes", memory.get("usageBytes"))
    limit = quantity(
        ((_main_container(pod).get("resources") or {}).get("limits") or {}).get("memory")
    )
    if limit is None:
        node_memory = (summary.get("node") or {}).get("memory") or {}
        if "availableBytes" in node_memory and "workingSetBytes" in node_memory:
            limit = int(node_memory["availableBytes"]) + int(node_memory["workingSetBytes"])
    network = entry.get("network")
    rx = tx = None
    if isinstance(network, dict):
        interfaces = network.get("interfaces") or [network]
        rx = sum(int(i.get("rxBytes") or 0) for i in interfaces)
        tx = sum(int(i.get("txBytes") or 0) for i in interfaces)
    processes = (entry.get("process_stats") or {}).get("process_count")
    return Stats(
        cpu_percent=cpu_percent,
        memory_usage=int(usage) if usage is not None else None,
        memory_limit=limit,
        network_rx=rx,
        network_tx=tx,
        block_read=None,
        block_write=None,
        pids=int(processes) if processes is not None else None,
        raw=entry,
    )


def top_link(tar: IO[bytes]) -> str | None:
    """Where the first entry of a ``tar -c`` stream leads, if it is a
    symbolic link (``tar`` archives a link given to it as the link)."""
    try:
        with tarfile.open(fileobj=tar, mode="r|") as archive:
            first = archive.next()
    except tarfile.TarError:
        return None
    return first.linkname if first is not None and first.issym() else None


def _exited(pod: dict[str, Any]) -> bool:
    return pod_state(pod)[0] is ContainerState.EXITED


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip() or None
    except OSError:
        return None


def _context_namespace(k8s: Any, kubeconfig: str, context: str | None) -> str | None:
    contexts, active = k8s.config.list_kube_config_contexts(config_file=kubeconfig)
    chosen = next((c for c in contexts if c.get("name") == context), None) if context else active
    return ((chosen or {}).get("context") or {}).get("namespace")


def _shutdown(response: Any) -> None:
    """End a blocked read of a streamed log response from another thread."""
    fp = getattr(response, "_fp", None)
    sock = getattr(getattr(getattr(fp, "fp", None), "raw", None), "_sock", None)
    if sock is not None:
        sock.shutdown(socket.SHUT_RDWR)
