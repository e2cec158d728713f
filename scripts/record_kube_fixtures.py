"""Record a real cluster's pods under tests/fixtures/kubernetes/ for the unit tests.

    KUBECONFIG=... python scripts/record_kube_fixtures.py IMAGE

IMAGE is the busybox test image, already on the node (see
docs/kubernetes.md).  Creates a few labelled pods (pending, running with a
published port, exited 0, exited 3, stopped, an image missing on the node),
dumps what the API server returns for each, the raw log body of a long line
with timestamps, the exec status channel of ``exit 4`` and two samples of
the kubelet's stats summary of a busy pod, then removes everything it
created.
"""

# ruff: noqa: SLF001 - a recorder reads the adapter's raw API calls

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import runtimes
from runtimes.adapters import kubernetes as kube
from runtimes.specs import RunSpec

ROOT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "kubernetes"
LABELS = {"runtimes.test-session": "fixtures", "runtimes.fixture": "1"}
UNSET = {"runtimes.fixture": "1"}


def dump(name: str, data: Any) -> None:
    ROOT.mkdir(parents=True, exist_ok=True)
    path = ROOT / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def main(image: str) -> None:
    rt: Any = runtimes.connect("kubernetes")
    try:
        record(rt, image)
    finally:
        for c in rt.ps(all=True, labels=UNSET):
            rt.remove(c, force=True)
        rt.close()


def raw_pod(rt: Any, spec: RunSpec, **extra_spec: Any) -> dict[str, Any]:
    manifest = kube.pod_manifest(spec)
    manifest["spec"].update(extra_spec)
    with rt._api("record"):
        created: dict[str, Any] = rt._json(
            rt._core.create_namespaced_pod(
                rt.namespace, rt._k8s.client.V1Pod.from_dict(manifest), _preload_content=False
            )
        )
    return created


def record(rt: Any, image: str) -> None:
    pending = raw_pod(
        rt,
        RunSpec(image, command=("sleep", "1"), labels=LABELS),
        nodeSelector={"runtimes.fixture/no-such-node": "1"},
    )
    dump("pod_pending.json", pending)
    rt._purge(pending, pending["metadata"]["name"])

    check = '{"interval": 1.0, "retries": 3, "start_period": 0.0, "test": ["true"], "timeout": 5}'
    running = rt.run(
        image,
        ["httpd", "-f", "-p", "8080", "-h", "/www"],
        labels={**LABELS, "runtimes.healthcheck": check},
        ports=["127.0.0.1::8080"],
    )
    dump("pod_running.json", rt.inspect(running).raw)

    ok = rt.run(image, ["true"], labels=LABELS)
    rt.wait(ok, timeout=60)
    dump("pod_succeeded.json", rt.inspect(ok).raw)

    failed = rt.run(image, ["sh", "-c", "echo out; echo err >&2; exit 3"], labels=LABELS)
    rt.wait(failed, timeout=60)
    dump("pod_failed.json", rt.inspect(failed).raw)

    stopped = rt.run(image, ["sleep", "1000"], labels=LABELS)
    rt.stop(stopped, timeout=1)
    dump("pod_stopped.json", rt.inspect(stopped).raw)

    missing = raw_pod(rt, RunSpec("runtimes-test/never-there:1", labels=LABELS))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        current = rt._get(missing["metadata"]["name"], "record")
        if kube.waiting_reason(current)[0] == "ErrImageNeverPull":
            dump("pod_image_never_pull.json", current)
            break
        time.sleep(0.5)
    rt._purge(missing, missing["metadata"]["name"])

    long_line = rt.run(
        image,
        ["sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x; echo; echo short"],
        labels=LABELS,
    )
    rt.wait(long_line, timeout=60)
    with rt._api("record"):
        body = rt._core.read_namespaced_pod_log(
            long_line.name, rt.namespace, timestamps=True, _preload_content=False
        ).data
    dump("logs_long_line_timestamps.txt", body)

    with rt._api("record"):
        listed = rt._json(
            rt._core.list_namespaced_pod(
                rt.namespace, label_selector="runtimes.fixture=1", _preload_content=False
            )
        )
    dump("pod_list.json", listed)

    pod = rt._resolve(running.id, "record")
    client = rt._k8s.client.ApiClient(rt._configuration)
    ws = rt._k8s.stream.stream(
        rt._k8s.client.CoreV1Api(client).connect_get_namespaced_pod_exec,
        pod["metadata"]["name"],
        rt.namespace,
        command=["sh", "-c", "exit 4"],
        container=kube.CONTAINER,
        stderr=True,
        stdin=False,
        stdout=True,
        tty=False,
        _preload_content=False,
        binary=True,
    )
    ws.run_forever(timeout=30)
    dump("exec_status_exit4.json.txt", ws.read_channel(3))
    ws.close()
    record_stats(rt, image)


def record_stats(rt: Any, image: str) -> None:
    """Two summaries of a busy pod with a memory limit, a second apart
    (only that pod's entry kept, and the node's own figures)."""
    busy = rt.run(image, ["sh", "-c", "while :; do :; done"], labels=LABELS, memory="64m")
    pod = rt._resolve(busy.id, "record")
    time.sleep(2)
    for name in ("stats_summary_first.json", "stats_summary_second.json"):
        summary = rt._summary(pod)
        uid = pod["metadata"]["uid"]
        summary["pods"] = [p for p in summary["pods"] if p["podRef"]["uid"] == uid]
        dump(name, {"node": summary["node"], "pods": summary["pods"], "pod": pod})
        time.sleep(1)


if __name__ == "__main__":
    main(sys.argv[1])
