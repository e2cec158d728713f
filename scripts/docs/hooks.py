"""MkDocs hooks: a page whose content is generated when the site is built.

The marker comment ``<!-- generated: support-matrix -->`` is replaced at
build time by the contract suite's results, read from the JSON that
``pytest --support-matrix=PATH`` writes (:mod:`runtimes.testing.matrix`),
rendered as tables.  Where the file is missing, the page says how to
produce it, and the build stays clean under ``--strict``.  Path:
``RUNTIMES_SUPPORT_MATRIX``, else ``build/support-matrix.json`` next to
``mkdocs.yml``.  (The benchmark's figures are written into
``docs/performance.md`` by ``benchmarks/bench.py --docs``.)
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
FORMAT = 1

#: Marks in the tables: passed, skipped (an en dash), failed.
MARKS = {"passed": "\u2714", "skipped": "\u2013", "failed": "\u2718"}

_paths: dict[str, Path] = {}


def on_config(config: Any) -> Any:
    root = Path(config.config_file_path).resolve().parent
    _paths["matrix"] = Path(
        os.environ.get("RUNTIMES_SUPPORT_MATRIX") or root / "build" / "support-matrix.json"
    )
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if MATRIX_MARKER in markdown:
        markdown = markdown.replace(MATRIX_MARKER, render_matrix(_paths["matrix"]))
    return markdown


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
