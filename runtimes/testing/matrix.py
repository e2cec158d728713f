"""The support matrix: which contract tests pass on which runtime, as JSON.

Registered by :mod:`runtimes.testing.plugin` when pytest runs with
``--support-matrix=PATH`` (or ``RUNTIMES_SUPPORT_MATRIX=PATH``).  Every test
of a class bound to the contract suite (a subclass of
:class:`~runtimes.testing.RuntimeContract`, or of any one of its parts) is
recorded with its outcome on its runtime: ``passed``, ``skipped`` with the
reason, or ``failed`` with the last line of the error.  A third-party
adapter's own binding is recorded the same way.

The file holds one *run* per runtime and engine version::

    {"format": 1,
     "runs": [{"runtime": "docker",
               "engine": {"version": "20.10.24", "api_version": "1.41", ...},
               "recorded_at": "2026-11-29T06:00:00+00:00",
               "runtimes_version": "0.1.0",
               "tests": [{"test": "RunContract.test_ports_serve_http",
                          "case": "", "outcome": "passed"}, ...]}]}

Runs already in the file for other runtimes or versions are kept, so that
sessions against different engines (CI's two nerdctl legs) add up to one
matrix; a run for the same runtime and versions is replaced.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import platform
import re
import tempfile
from collections.abc import Generator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from runtimes.testing._base import _Base

__all__ = ["FORMAT", "MatrixRecorder", "run_key"]

#: Version of the file's layout; the docs renderer refuses other versions.
FORMAT = 1
_REASON_CHARS = 300
_SKIPPED = re.compile(r"^Skipped: ")


def run_key(run: dict[str, Any]) -> tuple[str, str, str]:
    """What makes two runs the same: the runtime and its engine's versions."""
    engine = run.get("engine") or {}
    return (
        str(run.get("runtime", "")),
        str(engine.get("version", "")),
        str(engine.get("client_version", "")),
    )


def _engine(info: Any) -> dict[str, Any]:
    raw = getattr(info, "raw", None) or {}
    # Where a CLI adapter reports its own release next to the engine's (nerdctl
    # on containerd, whose capabilities depend on nerdctl's release).
    client = raw.get("version", {}) if isinstance(raw, dict) else {}
    client = client.get("Client", {}) if isinstance(client, dict) else {}
    return {
        "version": info.version,
        "api_version": info.api_version,
        "client_version": client.get("Version") if isinstance(client, dict) else None,
        "os": info.os,
        "arch": info.arch,
        "rootless": info.rootless,
        "capabilities": sorted(str(c) for c in info.capabilities),
    }


def _reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    crash = getattr(longrepr, "reprcrash", None)
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        text = str(longrepr[2])
    elif crash is not None:
        # The exception's own message, e.g. "AssertionError: ...", first line.
        text = str(crash.message).strip().split("\n", 1)[0]
    else:
        lines = [line for line in report.longreprtext.splitlines() if line.strip()]
        text = lines[-1] if lines else ""
    text = _SKIPPED.sub("", text.strip())
    return text if len(text) <= _REASON_CHARS else text[: _REASON_CHARS - 1] + "…"


class MatrixRecorder:
    """pytest plugin object: collects contract outcomes, writes them at the end."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.engines: dict[str, dict[str, Any]] = {}
        # (runtime, test, case) -> {"outcome": ..., "reason": ...}
        self.outcomes: dict[tuple[str, str, str], dict[str, str]] = {}

    def engine(self, name: str, info: Any = None, problem: str = "") -> None:
        """Record the engine behind ``name`` (or why it was unusable)."""
        if info is not None:
            self.engines[name] = _engine(info)
        else:
            self.engines.setdefault(name, {"unusable": problem})

    @staticmethod
    def _identify(item: pytest.Item) -> tuple[str, str, str] | None:
        cls = getattr(item, "cls", None)
        callspec = getattr(item, "callspec", None)
        if cls is None or not issubclass(cls, _Base) or callspec is None:
            return None
        name = callspec.params.get("container_runtime")
        if not isinstance(name, str):
            return None
        function = getattr(item, "function", None)
        test = getattr(function, "__qualname__", item.name.split("[")[0])
        # The case is the parametrization without the runtime's own id.
        case = re.sub(rf"(?:^|-){re.escape(name)}(?=-|$)", "", callspec.id, count=1)
        return name, test, case.strip("-")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        key = self._identify(item)
        if key is None:
            return report
        current = self.outcomes.get(key)
        if report.when == "setup" or current is None:
            current = self.outcomes[key] = {"outcome": "passed"}
        if current["outcome"] == "failed":
            return report
        if report.failed:
            current.update(outcome="failed", reason=_reason(report))
        elif report.skipped:
            reason = _reason(report)
            if hasattr(report, "wasxfail"):
                reason = f"expected failure: {report.wasxfail or reason}"
            current.update(outcome="skipped", reason=reason)
        return report

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.outcomes:
            return
        now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        try:
            version = metadata.version("runtimes")
        except metadata.PackageNotFoundError:
            version = "unknown"
        runs: list[dict[str, Any]] = []
        for name in sorted({key[0] for key in self.outcomes}):
            tests = [
                {"test": test, "case": case, **outcome}
                for (rt, test, case), outcome in sorted(self.outcomes.items())
                if rt == name
            ]
            runs.append(
                {
                    "runtime": name,
                    "engine": self.engines.get(name, {}),
                    "recorded_at": now,
                    "runtimes_version": version,
                    "python": platform.python_version(),
                    "tests": tests,
                }
            )
        fresh = {run_key(run) for run in runs}
        kept = [run for run in self._existing() if run_key(run) not in fresh]
        self._write({"format": FORMAT, "runs": kept + runs})

    def _existing(self) -> list[dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return []
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return []
        return [run for run in data.get("runs", []) if isinstance(run, dict)]

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside then renamed: a reader (the docs build) never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".support-matrix-")
        try:
            with os.fdopen(fd, "w") as out:
                json.dump(data, out, indent=1, sort_keys=True)
                out.write("\n")
            os.replace(tmp, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
