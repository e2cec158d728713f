"""nerdctl's batched inspect behind ``ps``, when a listed container is
removed before it is inspected (another process cleaning up)."""

from __future__ import annotations

import json
from typing import Any

from runtimes._shell import Completed
from runtimes.adapters.nerdctl import NerdctlRuntime
from runtimes.errors import ContainerNotFound


class _Shell:
    """nerdctl 2.x: one missing id and the batch prints nothing, exit 1."""

    def __init__(self, existing: set[str]) -> None:
        self.existing = existing
        self.calls: list[list[str]] = []

    def run(self, args: list[str], **_: Any) -> Completed:
        self.calls.append(args)
        ids = args[args.index("--") + 1 :]
        missing = [i for i in ids if i not in self.existing]
        if missing:
            errors = "\\n".join(f"no such container: {i}" for i in missing)
            stderr = f'level=fatal msg="{len(missing)} errors:\\n{errors}"\n'.encode()
            return Completed(tuple(args), 1, b"", stderr)
        body = json.dumps([{"Id": i} for i in ids]).encode()
        return Completed(tuple(args), 0, body, b"")


def _runtime(shell: _Shell) -> NerdctlRuntime:
    rt = object.__new__(NerdctlRuntime)
    rt._shell = shell  # type: ignore[assignment]
    rt._container = lambda raw: raw["Id"]  # type: ignore[method-assign,assignment,return-value]

    def inspect(ref: str) -> Any:
        if ref not in shell.existing:
            raise ContainerNotFound(ref)
        return ref

    rt._inspect = inspect  # type: ignore[method-assign]
    return rt


def test_a_container_gone_since_listing_leaves_the_others_listed() -> None:
    shell = _Shell({"a", "c"})
    assert _runtime(shell)._inspect_many(["a", "b", "c"]) == ["a", "c"]  # type: ignore[comparison-overlap]
    assert [call[-3:] for call in shell.calls] == [["a", "b", "c"], ["--", "a", "c"]]


def test_everything_gone_lists_nothing() -> None:
    assert _runtime(_Shell(set()))._inspect_many(["a", "b"]) == []
