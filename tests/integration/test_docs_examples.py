"""Every ```python block in docs/*.md runs, against a real engine.

A block is one of:

* plain: run by :func:`test_page_examples`, in page order, each in a fresh
  interpreter as a reader would run it, on one runtime (docker unless
  ``RUNTIMES_DOCS_RUNTIME`` names another), in a directory holding the
  page's ``<!-- file: NAME -->`` blocks;
* ``<!-- run: NAME -->`` or ``<!-- file: NAME -->``: run by a test of its
  own (listed in ``DEDICATED``), which checks its output, most of them on
  every selected runtime;
* ``<!-- not-run: REASON -->``: not run, and the reason says why.

:func:`test_every_block_is_run_or_says_why` keeps it so: a new block is run
unless its author says why not.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

import runtimes
from runtimes.base import Runtime
from runtimes.errors import RuntimesError
from runtimes.testing import SESSION_LABEL, cleanup, required_runtimes
from runtimes.testing.images import build_test_image
from runtimes.testing.suite import empty_auth_file

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"<!-- run: (?P<name>[\w.]+) -->\n```python\n(?P<code>.*?)```", re.S)
ANY_BLOCK = re.compile(
    r"(?:<!--\s*(?P<kind>[\w-]+):\s*(?P<arg>.*?)\s*-->\n)?^```python\n(?P<code>.*?)^```",
    re.S | re.M,
)

#: Blocks run by a test of their own, which checks what they print.
DEDICATED = {
    ("registries.md", "registries.py"): "test_docs_examples.py::test_registries_page",
    ("testing-apps.md", "readiness.py"): "test_docs_examples.py::test_testing_apps_page",
    ("networks.md", "networks.py"): "test_guide.py::test_networks_example",
    ("adapters.md", "audited.py"): "test_adapter_guide.py",
    ("adapters.md", "test_audited.py"): "test_adapter_guide.py",
    ("kubernetes.md", "kubernetes.py"): "test_kubernetes.py::test_docs_page_example",
}
#: The image the guides use; each run gets its own tag instead, so that
#: concurrent sessions on one engine never share it.
DOCS_IMAGE = "demo:1"


class Block(NamedTuple):
    page: str
    line: int
    kind: str | None  # None, "run", "file", "not-run"
    arg: str
    code: str


def blocks(page: Path) -> list[Block]:
    text = page.read_text()
    return [
        Block(page.name, text[: m.start("code")].count("\n"), m["kind"], m["arg"] or "", m["code"])
        for m in ANY_BLOCK.finditer(text)
    ]


def all_blocks() -> list[Block]:
    return [b for page in sorted(DOCS.glob("*.md")) for b in blocks(page)]


def pages_with_plain_blocks() -> list[str]:
    return sorted({b.page for b in all_blocks() if b.kind is None})


def example(page: str, name: str) -> str:
    found = {m["name"]: m["code"] for m in BLOCK.finditer((DOCS / page).read_text())}
    return found[name]


def test_registries_page(
    container_runtime: Runtime, test_image: str, local_registry_auth: Any, tmp_path: Path
) -> None:
    script = tmp_path / "registries.py"
    script.write_text(example("registries.md", "registries.py"))
    creds = local_registry_auth.credentials
    env = {
        **os.environ,
        "RUNTIMES_DEFAULT": container_runtime.name,
        "REGISTRY": local_registry_auth.host,
        "REGISTRY_USER": creds.username,
        "REGISTRY_PASSWORD": creds.password,
        "IMAGE": test_image,
        # login writes to this test's own stores, not the user's
        "DOCKER_CONFIG": str(tmp_path / "docker-config"),
        "REGISTRY_AUTH_FILE": str(empty_auth_file(tmp_path)),
    }
    done = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("pushed sha256:")
    assert lines[-1].startswith(f"pulled {container_runtime.image(test_image).id}")
    assert len(lines) > 2, "no progress line was printed"


def test_testing_apps_page(container_runtime: Runtime, test_image: str, tmp_path: Path) -> None:
    script = tmp_path / "readiness.py"
    script.write_text(example("testing-apps.md", "readiness.py"))
    env = {**os.environ, "RUNTIMES_DEFAULT": container_runtime.name, "IMAGE": test_image}
    done = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("web ready on port ")
    assert lines[1] == "exited with 3 saying no database configured"
    assert lines[2] == "healthy"


def test_every_block_is_run_or_says_why() -> None:
    found = all_blocks()
    assert found, "no python block found under docs/"
    for b in found:
        where = f"{b.page}:{b.line}"
        assert b.kind in (None, "run", "file", "not-run"), f"{where}: unknown marker {b.kind!r}"
        if b.kind == "not-run":
            assert len(b.arg) >= 10, f"{where}: <!-- not-run: REASON --> needs a reason"
        if b.kind == "run" or (b.kind == "file" and b.page not in pages_with_plain_blocks()):
            # A file block is either run by its own test or written out for
            # the page's plain blocks to import.
            assert (b.page, b.arg) in DEDICATED, f"{where}: no test runs {b.kind}: {b.arg}"
    named = {(b.page, b.arg) for b in found if b.kind in ("run", "file")}
    assert set(DEDICATED) <= named, (
        f"DEDICATED names blocks that are gone: {set(DEDICATED) - named}"
    )


# What each interpreter runs first: runtimes.connect() returns the runtime
# wrapped so that everything the example creates carries this session's
# label, and is removed at the end even when the example fails half-way.
HARNESS = """\
import json, os, runpy, sys

import runtimes
import runtimes.registry
from runtimes.testing.plugin import LabelledRuntime

LABELS = json.loads(os.environ["RUNTIMES_DOCS_LABELS"])


class Labelled(LabelledRuntime):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.runtime.close()


_connect = runtimes.registry.connect


def connect(name=None, **options):
    return Labelled(_connect(name, **options), LABELS)


runtimes.connect = runtimes.registry.connect = connect
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.fixture(scope="module")
def docs_runtime(runtimes_session_id: str) -> Iterator[tuple[Runtime, dict[str, str], str]]:
    """The one runtime the plain blocks run on, with their image built."""
    name = os.environ.get("RUNTIMES_DOCS_RUNTIME", "docker")
    # A label of their own as well: the cleanup below removes what the
    # examples made, never the session's other objects (its test image).
    labels = {SESSION_LABEL: runtimes_session_id, "runtimes.docs-examples": "1"}
    if name not in runtimes.available():
        if name in required_runtimes():
            pytest.fail(f"{name} is required by RUNTIMES_REQUIRE but unreachable")
        pytest.skip(f"the docs examples run on {name}, which is not reachable")
    rt = runtimes.connect(name)
    image = f"runtimes-docs-{runtimes_session_id}/demo:1"
    try:
        build_test_image(rt, image, labels)
        yield rt, labels, image
    finally:
        try:
            leftovers = cleanup(rt, labels)
        finally:
            rt.close()
        assert not leftovers, f"the docs examples left behind: {leftovers}"


@pytest.mark.parametrize("page", pages_with_plain_blocks())
def test_page_examples(
    page: str, docs_runtime: tuple[Runtime, dict[str, str], str], tmp_path: Path
) -> None:
    rt, labels, image = docs_runtime
    page_blocks = blocks(DOCS / page)
    for b in page_blocks:
        if b.kind == "file":
            (tmp_path / b.arg).write_text(b.code)
    (tmp_path / "_harness.py").write_text(HARNESS)
    env = {
        **os.environ,
        "RUNTIMES_DEFAULT": rt.name,
        "RUNTIMES_DOCS_LABELS": json.dumps(labels),
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
        # Examples that log in write to this test's own stores, not the user's.
        "DOCKER_CONFIG": str(tmp_path / "docker-config"),
        "REGISTRY_AUTH_FILE": str(empty_auth_file(tmp_path)),
    }
    ran = 0
    for b in page_blocks:
        if b.kind is not None:
            continue
        script = tmp_path / f"{page.removesuffix('.md')}_line{b.line}.py"
        script.write_text(b.code.replace(DOCS_IMAGE, image))
        done = subprocess.run(
            [sys.executable, "_harness.py", script.name],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        output = done.stdout[-2000:] + done.stderr[-3000:]
        assert done.returncode == 0, f"{page}, the block at line {b.line}, failed:\n{output}"
        ran += 1
    assert ran, f"{page}: no plain block ran"
    # Containers an example forgot would survive until the session's end:
    # each example must clean up after itself, as a reader's would.
    left = [c.name for c in rt.ps(all=True, labels=labels)]
    for name in left:
        with contextlib.suppress(RuntimesError):
            rt.remove(name, force=True)
    assert not left, f"{page}: the examples left containers behind: {left}"


SHELL_BLOCK = re.compile(r"<!-- run: (?P<name>[\w.]+) -->\n```bash\n(?P<code>.*?)```", re.S)


def test_cli_page(
    container_runtime: Runtime,
    test_image: str,
    session_labels: dict[str, str],
    unique_name: Any,
    tmp_path: Path,
) -> None:
    found = {m["name"]: m["code"] for m in SHELL_BLOCK.finditer((DOCS / "cli.md").read_text())}
    script = tmp_path / "cli.sh"
    script.write_text("set -euo pipefail\n" + found["cli.sh"])
    name = unique_name("clidoc")
    env = {
        **os.environ,
        "RUNTIMES_DEFAULT": container_runtime.name,
        "IMAGE": test_image,
        "NAME": name,
        "LABEL": "=".join(next(iter(session_labels.items()))),
        # `runtimes` as installed next to this interpreter
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    try:
        done = subprocess.run(
            ["bash", str(script)], env=env, capture_output=True, text=True, timeout=300,
            check=False,
        )  # fmt: skip
    finally:
        subprocess.run(
            [sys.executable, "-m", "runtimes.cli", "--runtime", container_runtime.name,
             "rm", "-f", name],
            capture_output=True, timeout=120, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert f"{name} is running" in out
    assert "hello from /tmp" in out
    assert "piped in" in out
    assert re.search(r"NAMES\s+STATUS\s+LABEL", out), out
    assert re.search(r"Exited \(\d+\) .* ago", out), out
