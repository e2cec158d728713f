"""The kubernetes adapter's typed errors on a real cluster, each within the
timeout: forbidden by RBAC, a namespace that does not exist, an image that
is not on the node; and RUNTIMES_REQUIRE=kubernetes failing when no API
server answers.

The cluster is the one ``scripts/kube-cluster.sh`` starts: ``KUBECONFIG``
(an admin) and ``RUNTIMES_KUBE_LIMITED_KUBECONFIG`` (a user without any
RBAC rights).  Without them these tests skip, unless ``kubernetes`` is in
``RUNTIMES_REQUIRE``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import runtimes
import runtimes.registry
from runtimes.models import Capability
from runtimes.testing import required_runtimes

DOCS = Path(__file__).resolve().parents[2] / "docs"
DOCS_BLOCK = re.compile(r"<!-- run: kubernetes.py -->\n```python\n(?P<code>.*?)```", re.S)
LABELS = {"runtimes.test-session": f"kube-errors-{uuid.uuid4().hex[:8]}"}


@pytest.fixture
def cluster() -> Iterator[runtimes.Runtime]:
    problem = runtimes.registry.detect("kubernetes")
    if problem is not None:
        if "kubernetes" in required_runtimes():
            pytest.fail(f"kubernetes is required by RUNTIMES_REQUIRE but unusable: {problem}")
        pytest.skip(problem)
    rt = runtimes.connect("kubernetes", timeout=30)
    try:
        yield rt
    finally:
        for c in rt.ps(all=True, labels=LABELS):
            rt.remove(c, force=True)
        left = rt.ps(all=True, labels=LABELS)
        rt.close()
        assert left == [], f"pods survived: {[c.name for c in left]}"


def test_forbidden_by_rbac(cluster: runtimes.Runtime) -> None:
    limited = os.environ.get("RUNTIMES_KUBE_LIMITED_KUBECONFIG")
    if not limited:
        pytest.skip("no RUNTIMES_KUBE_LIMITED_KUBECONFIG (a user without RBAC rights)")
    with runtimes.connect("kubernetes", kubeconfig=limited, timeout=30) as rt:
        started = time.monotonic()
        with pytest.raises(runtimes.Forbidden) as info:
            rt.run("runtimes-test/anything:1", ["true"], labels=LABELS)
        assert isinstance(info.value, PermissionError)
        with pytest.raises(runtimes.Forbidden):
            rt.ps(all=True)
        assert time.monotonic() - started < 30


def test_missing_namespace(cluster: runtimes.Runtime) -> None:
    namespace = f"runtimes-absent-{uuid.uuid4().hex[:8]}"
    with runtimes.connect("kubernetes", namespace=namespace, timeout=30) as rt:
        started = time.monotonic()
        with pytest.raises(runtimes.RuntimeUnavailable, match=namespace):
            rt.run("runtimes-test/anything:1", ["true"], labels=LABELS)
        assert time.monotonic() - started < 30


def test_image_missing_on_the_node_is_typed_and_quick(cluster: runtimes.Runtime) -> None:
    ref = f"runtimes-test/not-on-the-node:{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    with pytest.raises(runtimes.ImageNotFound, match="not on the node"):
        cluster.run(ref, ["true"], labels=LABELS)
    assert time.monotonic() - started < 30
    assert cluster.ps(all=True, labels=LABELS) == [], "the refused pod was left behind"


def test_unreachable_api_server_fails_when_required(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp_path / "kubeconfig"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: c, cluster: {{server: 'https://127.0.0.1:{port}'}}}}]\n"
        "users: [{name: u, user: {token: x}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\n"
    )
    (tmp_path / "test_bound.py").write_text(
        "from runtimes.testing import RuntimeContract\n\n"
        "class TestKube(RuntimeContract):\n    runtime_name = 'kubernetes'\n"
    )
    for required, code in (("kubernetes", 1), ("", 0)):
        env = {**os.environ, "KUBECONFIG": str(config), "RUNTIMES_REQUIRE": required}
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-x", "-rs"],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
            env=env,
            check=False,
        )
        assert done.returncode == code, done.stdout[-3000:]
        assert time.monotonic() - started < 120
        if required:
            assert "required by RUNTIMES_REQUIRE" in done.stdout


def test_docs_page_example(
    container_runtime: runtimes.Runtime, test_image: str, tmp_path: Path
) -> None:
    """docs/kubernetes.md's example, as a reader runs it, on the test
    cluster with the suite's image (loaded onto the node) for ``demo:1``."""
    if Capability.IMAGE_STORE in container_runtime.capabilities:
        pytest.skip("the page's example runs on a cluster (--runtime kubernetes)")
    code = DOCS_BLOCK.search((DOCS / "kubernetes.md").read_text())
    assert code is not None, "docs/kubernetes.md lost its example"
    script = tmp_path / "kubernetes_example.py"
    script.write_text(code["code"].replace("demo:1", test_image))
    before = {c.id for c in container_runtime.ps(all=True)}
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert done.stdout.splitlines() == ["running always", "200"]
    left = [c.name for c in container_runtime.ps(all=True) if c.id not in before]
    assert left == [], f"the example left pods behind: {left}"


def _network_objects(key: str) -> list[str]:
    """The ConfigMap, Service and EndpointSlices of one network, by kubectl."""
    kubectl = os.environ.get("RUNTIMES_KUBECTL") or "kubectl"
    kinds = "configmaps,services,endpointslices"
    done = subprocess.run(
        [kubectl, "get", kinds, "-l", f"runtimes/network={key}", "-o", "name"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.split()


def test_a_stack_on_the_cluster_leaves_no_network_object(
    container_runtime: runtimes.Runtime, test_image: str, session_labels: dict[str, str]
) -> None:
    """Services reach each other by name; ``up``'s exit and ``down`` after a
    crash leave no ConfigMap, Service or EndpointSlice; the name of a removed
    network works again at once."""
    if Capability.IMAGE_STORE in container_runtime.capabilities:
        pytest.skip("the cluster's own objects (--runtime kubernetes)")
    from runtimes.adapters.kubernetes import network_key

    rt = container_runtime
    name = f"kst-{uuid.uuid4().hex[:8]}"
    stack = runtimes.Stack(
        name,
        services={
            "db": runtimes.Service(image=test_image, command=["sleep", "1000"]),
            "app": runtimes.Service(
                image=test_image,
                command=["sleep", "1000"],
                depends_on={"db": "started"},
            ),
        },
    )
    key = network_key(f"{name}-net")
    with rt.up(stack, labels=session_labels) as s:
        # The cluster DNS has the name within a few seconds of run's return.
        deadline = time.monotonic() + 15
        while s.exec("app", ["ping", "-c", "1", "-W", "1", "db"]).exit_code != 0:
            assert time.monotonic() < deadline, "app never resolved db"
            time.sleep(0.2)
        kinds = {ref.split("/")[0] for ref in _network_objects(key)}
        assert kinds == {"configmap", "service", "endpointslice.discovery.k8s.io"}
    assert _network_objects(key) == []
    # A crash: down sweeps by label, the Services and slices go with it.
    manager = rt.up(stack, labels=session_labels)
    manager.__enter__()
    assert sorted(k for k, _ in (r.split(" ", 1) for r in rt.down(name))) == [
        "container",
        "container",
        "network",
    ]
    assert _network_objects(key) == []
