"""The support matrix, from a pytest session's contract outcomes to the docs'
table: the plugin's recorder on a stand-in suite (no engine needed), and the
MkDocs hook that renders what it wrote."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

HOOKS = Path(__file__).resolve().parents[2] / "scripts" / "docs" / "hooks.py"

CONFTEST = """\
import pytest

from runtimes.models import Capability, RuntimeInfo
from runtimes.testing.plugin import engine_seen


@pytest.fixture(scope="session")
def container_runtime(request):
    # Stands in for the plugin's fixture: an engine per name, none reached.
    if request.param == "gone":
        engine_seen(request.config, "gone", problem="socket missing")
        pytest.skip("runtime gone unavailable: socket missing")
    info = RuntimeInfo(
        name=request.param,
        version="9.9." + request.param[-1],
        capabilities=frozenset({Capability.LOSSLESS_LOGS}),
    )
    engine_seen(request.config, request.param, info)
    return request.param
"""

SUITE = """\
import pytest

from runtimes.testing._base import _Base


class LogsContract(_Base):
    def test_ok(self, rt):
        pass

    def test_not_here(self, rt):
        if rt == "one":
            pytest.skip("no such thing on one")

    @pytest.mark.parametrize("n", [1, 2])
    def test_cases(self, rt, n):
        assert n == 1, "two is not one"


class TestContract(LogsContract):
    pass


def test_not_a_contract_test():
    pass
"""


def run_session(tmp_path: Path, matrix: Path, runtimes: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_suite.py").write_text(SUITE)
    env = {k: v for k, v in os.environ.items() if k != "RUNTIMES_SUPPORT_MATRIX"}
    return subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"),
            *(f"--runtime={runtimes}", f"--support-matrix={matrix}", "test_suite.py"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def load_hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("runtimes_docs_hooks", HOOKS)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def by_test(run: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {f"{t['test']}[{t['case']}]": t for t in run["tests"]}


def test_recorder_writes_each_outcome_per_runtime(tmp_path: Path) -> None:
    matrix = tmp_path / "out" / "matrix.json"
    done = run_session(tmp_path, matrix, "one,two,gone")
    assert done.returncode == 1, done.stdout  # the failing case fails the session
    data = json.loads(matrix.read_text())
    assert data["format"] == 1
    runs = {run["runtime"]: run for run in data["runs"]}
    assert set(runs) == {"one", "two", "gone"}
    assert runs["one"]["engine"]["version"] == "9.9.e"
    assert runs["one"]["engine"]["capabilities"] == ["lossless-logs"]
    assert runs["gone"]["engine"] == {"unusable": "socket missing"}

    one = by_test(runs["one"])
    assert set(one) == {
        "LogsContract.test_ok[]",
        "LogsContract.test_not_here[]",
        "LogsContract.test_cases[1]",
        "LogsContract.test_cases[2]",
    }, "the runtime's id is not part of the case, and non-contract tests are left out"
    assert one["LogsContract.test_ok[]"] == {
        "test": "LogsContract.test_ok",
        "case": "",
        "outcome": "passed",
    }
    assert one["LogsContract.test_not_here[]"]["outcome"] == "skipped"
    assert one["LogsContract.test_not_here[]"]["reason"] == "no such thing on one"
    assert one["LogsContract.test_cases[2]"]["outcome"] == "failed"
    assert "two is not one" in one["LogsContract.test_cases[2]"]["reason"]
    assert by_test(runs["two"])["LogsContract.test_not_here[]"]["outcome"] == "passed"
    gone = by_test(runs["gone"])["LogsContract.test_ok[]"]
    assert gone["outcome"] == "skipped"
    assert "socket missing" in gone["reason"]


def test_a_later_session_replaces_its_runtimes_and_keeps_the_others(tmp_path: Path) -> None:
    matrix = tmp_path / "matrix.json"
    run_session(tmp_path, matrix, "one,two")
    first = {run["runtime"]: run for run in json.loads(matrix.read_text())["runs"]}
    run_session(tmp_path, matrix, "two")
    second = {run["runtime"]: run for run in json.loads(matrix.read_text())["runs"]}
    assert set(second) == {"one", "two"}
    assert second["one"] == first["one"]
    assert len(second["two"]["tests"]) == len(first["two"]["tests"])


def test_no_option_no_file(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_suite.py").write_text(SUITE)
    env = {k: v for k, v in os.environ.items() if k != "RUNTIMES_SUPPORT_MATRIX"}
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--runtime=one"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert not list(tmp_path.glob("*.json"))


def test_docs_hook_renders_the_matrix(tmp_path: Path) -> None:
    matrix = tmp_path / "matrix.json"
    run_session(tmp_path, matrix, "one,two")
    page = load_hooks().render_matrix(matrix)
    assert "| one | 9.9.e |" in page
    assert "### Logs" in page
    assert "| `test_cases` | \u2714 1 \u2718 1 | \u2714 1 \u2718 1 |" in page
    assert "| `test_not_here` | \u2013 | \u2714 |" in page
    assert "no such thing on one" in page
    assert "| `lossless-logs` | \u2714 | \u2714 |" in page


def test_docs_hook_without_results_says_how_to_get_them(tmp_path: Path) -> None:
    hooks = load_hooks()
    page = hooks.render_matrix(tmp_path / "absent.json")
    assert "--support-matrix" in page
    (tmp_path / "other.json").write_text('{"format": 99, "runs": []}')
    assert "--support-matrix" in hooks.render_matrix(tmp_path / "other.json")
