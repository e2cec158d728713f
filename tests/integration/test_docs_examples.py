"""Docs examples marked ``<!-- run: NAME -->`` run as written, on every
selected runtime, against a registry started on loopback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from runtimes.base import Runtime
from runtimes.testing.suite import empty_auth_file

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"<!-- run: (?P<name>[\w.]+) -->\n```python\n(?P<code>.*?)```", re.S)


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
