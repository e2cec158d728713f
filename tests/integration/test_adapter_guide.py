"""The adapter guide's example is real: the code in docs/adapters.md is
written out as a package and its one-line contract binding is run, against
the real Docker engine, by pytest in a fresh process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import runtimes
from runtimes.testing import required_runtimes

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "adapters.md"
# A block preceded by <!-- file: NAME --> is written out as NAME.
BLOCK = re.compile(r"<!-- file: (?P<name>[\w.]+) -->\n```python\n(?P<code>.*?)```", re.S)


def test_guide_example_passes_the_contract_suite(tmp_path: Path) -> None:
    if "docker" not in runtimes.available():
        if "docker" in required_runtimes():
            pytest.fail("docker is required by RUNTIMES_REQUIRE but unreachable")
        pytest.skip("the guide's example forwards to docker, which is not reachable")
    files = {m["name"]: m["code"] for m in BLOCK.finditer(GUIDE.read_text())}
    assert set(files) == {"audited.py", "test_audited.py"}
    for name, code in files.items():
        (tmp_path / name).write_text(code)
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "RUNTIMES_REQUIRE": "audited"}
    # The example adapter is no runtime of the project's support matrix.
    env.pop("RUNTIMES_SUPPORT_MATRIX", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_audited.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    passed = int(re.search(r"(\d+) passed", summary).group(1))  # type: ignore[union-attr]
    assert passed >= 40, summary
    assert "skipped" not in summary, summary
    assert "failed" not in summary, summary
