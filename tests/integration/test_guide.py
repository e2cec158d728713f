"""The user guide's network example is real: the block marked
``<!-- file: networks.py -->`` in docs/networks.md runs, in a fresh process,
against every selected runtime."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from runtimes.base import Runtime
from runtimes.models import Capability

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "networks.md"
BLOCK = re.compile(r"<!-- file: (?P<name>[\w.]+) -->\n```python\n(?P<code>.*?)```", re.S)


def test_networks_example(
    container_runtime: Runtime,
    test_image: str,
    session_labels: dict[str, str],
    unique_name: Callable[[str], str],
    tmp_path: Path,
) -> None:
    code = {m["name"]: m["code"] for m in BLOCK.finditer(GUIDE.read_text())}["networks.py"]
    net, db = unique_name("shop-net"), unique_name("shop-db")
    # Only what would collide with other sessions changes: names, image, labels.
    for old, new in {
        '"demo:1"': repr(test_image),
        '"shop-net"': repr(net),
        '"shop-db"': repr(db),
        '{"team": "docs"}': repr(session_labels),
    }.items():
        assert old in code
        code = code.replace(old, new)
    (tmp_path / "networks.py").write_text(code)
    done = subprocess.run(
        [sys.executable, "networks.py"],
        cwd=tmp_path,
        env={**os.environ, "RUNTIMES_DEFAULT": container_runtime.name},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    hosts = [db, "db"]
    if Capability.NETWORK_ALIASES in container_runtime.capabilities:
        hosts.append("database")
    for host, line in zip(hosts, lines, strict=False):
        assert line == f"{host} 0 b'hello from runtimes\\n'", done.stdout
    assert lines[len(hosts)].startswith(f"NetworkAttachment(network='{net}', ip_address='")
    assert lines[len(hosts) + 1] == repr([net])
    assert net not in {n.name for n in container_runtime.networks()}
