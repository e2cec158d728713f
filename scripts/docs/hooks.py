"""MkDocs hooks: pages whose content is generated when the site is built.

A page holds a marker comment, replaced at build time:

* ``<!-- generated: support-matrix -->``: the contract suite's results, read
  from the JSON that ``pytest --support-matrix=PATH`` writes
  (:mod:`runtimes.testing.matrix`), rendered as tables;
* ``<!-- generated: benchmark -->``: the benchmark's figures and chart, when
  a run of ``benchmarks/bench.py`` left them in ``build/``.

Where a file is missing, the page says how to produce it, and the build
stays clean under ``--strict``.  Paths: ``RUNTIMES_SUPPORT_MATRIX`` and
``RUNTIMES_BENCHMARK_DIR``, else ``build/support-matrix.json`` and
``build/benchmark/`` next to ``mkdocs.yml``.
"""

from __future__ import annotations

import html
import json
import logging
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

log = logging.getLogger("mkdocs.hooks.runtimes")

MATRIX_MARKER = "<!-- generated: support-matrix -->"
BENCHMARK_MARKER = "<!-- generated: benchmark -->"
FORMAT = 1
#: Chart files the benchmark may leave, shown in this order.
CHART_SUFFIXES = (".svg", ".png")

#: Marks in the tables: passed, skipped (an en dash), failed.
MARKS = {"passed": "\u2714", "skipped": "\u2013", "failed": "\u2718"}

_paths: dict[str, Path] = {}


def on_config(config: Any) -> Any:
    root = Path(config.config_file_path).resolve().parent
    _paths["matrix"] = Path(
        os.environ.get("RUNTIMES_SUPPORT_MATRIX") or root / "build" / "support-matrix.json"
    )
    _paths["benchmark"] = Path(
        os.environ.get("RUNTIMES_BENCHMARK_DIR") or root / "build" / "benchmark"
    )
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if MATRIX_MARKER in markdown:
        markdown = markdown.replace(MATRIX_MARKER, render_matrix(_paths["matrix"]))
    if BENCHMARK_MARKER in markdown:
        markdown = markdown.replace(BENCHMARK_MARKER, render_benchmark(_paths["benchmark"]))
    return markdown


def on_files(files: Any, config: Any) -> Any:
    # Charts live outside docs/ (they are build output): add them to the site
    # as files of its own, so that links to them are checked like any other.
    from mkdocs.structure.files import File

    directory = _paths["benchmark"]
    if directory.is_dir():
        for chart in _charts(directory):
            files.append(File.generated(config, f"benchmark/{chart.name}", abs_src_path=str(chart)))
    return files


# -- support matrix ---------------------------------------------------------

HOW_TO = """\
!!! note "No results were found when this site was built"

    The matrix is generated from the contract suite's results, never written by
    hand. Expected at `{path}`. To produce it, run the suite with
    `--support-matrix` (or `RUNTIMES_SUPPORT_MATRIX=PATH`), then build the docs:

    ```sh
    pytest --support-matrix=build/support-matrix.json tests/contract
    mkdocs build --strict
    ```

    `tox` does both: its `tests` env writes `build/support-matrix.json` and its
    `docs` env reads it.
"""


def _cell(text: str) -> str:
    return html.escape(text).replace("|", "&#124;").replace("\n", " ")


def _column(run: dict[str, Any]) -> str:
    engine = run.get("engine") or {}
    if "version" not in engine:
        return f"{run['runtime']} (unusable)"
    head = f"{run['runtime']} {engine['version']}"
    if engine.get("client_version"):
        head += f" (client {engine['client_version']})"
    return head


def load_matrix(path: Path) -> list[dict[str, Any]] | None:
    """The runs in the file, or ``None`` when there is no usable file."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.info("support matrix %s unreadable: %s", path, exc)
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not data.get("runs"):
        log.info("support matrix %s: not format %s or no runs", path, FORMAT)
        return None
    return sorted(data["runs"], key=lambda r: (r["runtime"], r.get("recorded_at", "")))


def render_matrix(path: Path) -> str:
    runs = load_matrix(path)
    if runs is None:
        return HOW_TO.format(path=path)
    out: list[str] = []
    out.append("## Runtimes\n")
    out.append("| runtime | engine | API | recorded | passed | skipped | failed |")
    out.append("|---|---|---|---|---|---|---|")
    for run in runs:
        engine = run.get("engine") or {}
        counts = defaultdict(int)
        for test in run["tests"]:
            counts[test["outcome"]] += 1
        version = engine.get("version") or f"unusable: {engine.get('unusable', '?')}"
        if engine.get("client_version"):
            version += f", client {engine['client_version']}"
        # Recorded in UTC: "2026-11-29T05:50:16+00:00" -> "2026-11-29 05:50 UTC".
        recorded = run.get("recorded_at", "")[:16].replace("T", " ") + " UTC"
        cells = [run["runtime"], version, engine.get("api_version") or "", recorded]
        counted = [str(counts[key]) for key in MARKS]
        out.append("| " + " | ".join([*map(_cell, cells), *counted]) + " |")
    out.append("")

    columns = [_column(run) for run in runs]
    declared = [set((run.get("engine") or {}).get("capabilities", [])) for run in runs]
    capabilities = sorted(set().union(*declared))
    if capabilities:
        out.append("## Declared capabilities\n")
        out.append("What each adapter declared on that engine (`runtimes.Capability`).\n")
        out.append("| capability | " + " | ".join(map(_cell, columns)) + " |")
        out.append("|---|" + "---|" * len(columns))
        for cap in capabilities:
            marks = [MARKS["passed"] if cap in d else MARKS["skipped"] for d in declared]
            out.append(f"| `{cap}` | " + " | ".join(marks) + " |")
        out.append("")

    # test -> column -> outcome counts; notes for everything not passed.
    table: dict[str, dict[int, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int))
    )
    notes: list[tuple[str, str, str, str, str]] = []
    for index, run in enumerate(runs):
        for test in run["tests"]:
            table[test["test"]][index][test["outcome"]] += 1
            if test["outcome"] != "passed":
                case, reason = test.get("case", ""), test.get("reason", "")
                notes.append((test["test"], case, columns[index], test["outcome"], reason))
    groups: dict[str, list[str]] = defaultdict(list)
    for name in sorted(table):
        group, _, _test = name.rpartition(".")
        groups[group or "tests"].append(name)

    out.append("## Contract tests\n")
    out.append(
        "One row per test; a number counts the cases of a parametrized test. "
        f"{MARKS['passed']} passed, {MARKS['skipped']} skipped, {MARKS['failed']} failed, "
        "blank: not run on that engine.\n"
    )
    for group, names in groups.items():
        out.append(f"### {group.removesuffix('Contract') or group}\n")
        out.append("| test | " + " | ".join(map(_cell, columns)) + " |")
        out.append("|---|" + "---|" * len(columns))
        for name in names:
            cells = []
            for index in range(len(runs)):
                counts = table[name].get(index)
                if not counts:
                    cells.append("")
                    continue
                total = sum(counts.values())
                parts = [
                    f"{mark}{'' if total == 1 else ' ' + str(counts[key])}"
                    for key, mark in MARKS.items()
                    if counts.get(key)
                ]
                cells.append(" ".join(parts))
            out.append(f"| `{name.rpartition('.')[2]}` | " + " | ".join(cells) + " |")
        out.append("")

    if notes:
        out.append("## Skipped and failed, with the reason\n")
        out.append("| test | engine | outcome | reason |")
        out.append("|---|---|---|---|")
        for name, case, column, outcome, reason in notes:
            shown = name.rpartition(".")[2] + (f"[{case}]" if case else "")
            out.append(f"| `{_cell(shown)}` | {_cell(column)} | {outcome} | {_cell(reason)} |")
        out.append("")
    return "\n".join(out)


# -- benchmark --------------------------------------------------------------

BENCH_HOW_TO = """\
!!! note "No benchmark figures were found when this site was built"

    Expected in `{path}`: `benchmark.md` (figures, in Markdown), or
    `benchmark.txt` (the script's output, shown as is), and optionally a chart
    (`*.svg`, `*.png`). To produce the text, with the engines running:

    ```sh
    mkdir -p build/benchmark
    python benchmarks/bench.py | tee build/benchmark/benchmark.txt
    ```
"""


def _charts(directory: Path) -> list[Path]:
    return sorted(
        (p for p in directory.iterdir() if p.suffix in CHART_SUFFIXES),
        key=lambda p: (CHART_SUFFIXES.index(p.suffix), p.name),
    )


def render_benchmark(directory: Path) -> str:
    if not directory.is_dir():
        return BENCH_HOW_TO.format(path=directory)
    parts: list[str] = []
    for chart in _charts(directory):
        parts.append(f"![{chart.stem}](benchmark/{chart.name})\n")
    markdown = directory / "benchmark.md"
    text = directory / "benchmark.txt"
    if markdown.is_file():
        parts.append(markdown.read_text())
    elif text.is_file():
        parts.append("```text\n" + text.read_text().rstrip("\n") + "\n```\n")
    return "\n".join(parts) if parts else BENCH_HOW_TO.format(path=directory)
