"""benchmarks/bench.py --quick against docker: it runs, writes every figure,
and leaves nothing behind.  Timings are never checked here (the benchmark's
own PASS / MISS column is for reading, on a quiet machine)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

import runtimes
from runtimes.testing import required_runtimes

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench.py"
FIGURES = {
    "ps_n10",
    "inspect",
    "run_to_exit",
    "logs",
    "build",
    "copy_to_running",
    "copy_from_running",
    "copy_to_stopped",
    "copy_from_stopped",
    "push",
    "pull",
    "threads",
}


@pytest.fixture(scope="module")
def docker_up() -> None:
    try:
        runtimes.connect("docker").close()
    except runtimes.RuntimesError as exc:
        if "docker" in required_runtimes():
            pytest.fail(f"docker is required but not up: {exc}")
        pytest.skip(f"docker is not up: {exc}")


@pytest.mark.usefixtures("docker_up")
def test_quick_run_writes_every_figure_and_leaves_nothing(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable, str(BENCH), "--quick", "--runtimes", "docker",
            "--logs-mb", "0.5", "--threads", "2", "--jobs-per-thread", "1",
            "--registry-mb", "1", "--copy-mb", "1", "--out", str(tmp_path),
        ],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads((tmp_path / "bench.json").read_text())

    assert {"date", "run_id", "machine", "settings", "import", "runtimes"} <= set(result)
    assert {"cores", "kernel", "python", "loadavg"} <= set(result["machine"])
    assert result["import"]["ratio"] is not None
    docker = result["runtimes"]["docker"]
    assert docker["info"]["version"]
    assert docker["notes"] == []
    figures = {f["key"]: f for f in docker["figures"]}
    assert set(figures) == FIGURES
    for key, figure in figures.items():
        assert figure["ours"]["value"] is not None, (key, figure["ours"]["error"])
        assert figure["baseline"] is not None, (key, figure["raw"])
        assert figure["ratio"] is not None, key
        assert figure["status"] in {"PASS", "MISS", "n/a", "-"}, key
    assert figures["logs"]["ours"]["extra"]["rss_growth_mb"] is not None
    assert figures["logs"]["extra"]["store_wait_s"] >= 0
    assert any("whole log to be stored" in n for n in figures["logs"]["notes"])
    assert "us_per_container" in figures["ps_n10"]["extra"]
    threads = figures["threads"]["ours"]["extra"]
    assert {"errors", "wrong_logs", "leaked", "jobs"} <= set(threads)
    assert docker["survivors"] == []
    assert docker["leaked_at_end"] == []

    assert "| docker | run + wait + remove |" in (tmp_path / "bench.md").read_text()
    if importlib.util.find_spec("matplotlib") is not None:
        assert (tmp_path / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "leak check:" in done.stdout


def _bench_module() -> object:
    spec = importlib.util.spec_from_file_location("bench", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules.
    sys.modules.setdefault("bench", module)
    spec.loader.exec_module(sys.modules["bench"])
    return sys.modules["bench"]


def test_nerdctl_is_labelled_with_its_own_release_and_containerd() -> None:
    bench: object = _bench_module()
    label = bench.engine_label  # type: ignore[attr-defined]
    assert label("docker", {"version": "20.10.24"}) == "docker 20.10.24"
    info = {"version": "2.4.2", "client_version": "2.2.2"}
    assert label("nerdctl", info) == "nerdctl 2.2.2 on containerd 2.4.2"


def test_only_picks_phases_and_refuses_unknown_ones() -> None:
    bench: object = _bench_module()
    parse = bench.parse  # type: ignore[attr-defined]
    assert parse(["--only", "logs,ps"]).only == ("logs", "ps")
    assert "threads" in parse([]).only
    with pytest.raises(SystemExit):
        parse(["--only", "logz"])
