"""nerdctl's batched inspect behind ``ps`` and ``images``: by prefix for
many containers, and when a listed object is removed before it is
inspected (another process cleaning up)."""

from __future__ import annotations

import json
from typing import Any

from runtimes._shell import Completed
from runtimes.adapters import _cli
from runtimes.adapters.nerdctl import (
    PREFIX_INSPECT_FROM,
    NerdctlRuntime,
    inspect_refs,
    pick_inspected,
)
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


# Many ids: inspected by first hex digit, since nerdctl walks every container
# of the namespace once per reference (recorded: 3 containers under "0e").
_PREFIXED = [
    "0e2538ce10e7d9e2b45b9eff19627a616b693d2eb524e7ce87dc1d50a3deb572",
    "0e4d6d0d82f506d56d44b762d45a3ec0c1419d98deb1db0dae87f9821053008a",
    "0ef8a85bc734832a1bec292f8315ab5a0722b0ee9413959b04b40350c522fdf0",
]


def test_few_ids_keep_their_own_walks_many_go_by_first_digit() -> None:
    few = [f"{i:x}" * 64 for i in range(3)]
    assert inspect_refs(few) == few
    many = [f"{i % 16:x}{i:063x}" for i in range(PREFIX_INSPECT_FROM)]
    assert inspect_refs(many) == [f"{i:x}" for i in range(16)]
    # Not full ids (a caller's names): never turned into prefixes.
    assert inspect_refs([f"name-{i}" for i in range(40)]) == [f"name-{i}" for i in range(40)]


def test_a_prefix_record_is_kept_only_for_the_ids_asked_in_their_order(recorded: Any) -> None:
    raws = list(_cli.parse_json_stream(recorded("nerdctl", "inspect_by_prefix.txt")))
    assert len(raws) == 3
    # The third id was not listed; "0eee..." was listed, then removed.
    wanted = [_PREFIXED[1], "0e" + "e" * 62, _PREFIXED[0]]
    assert [r["Id"] for r in pick_inspected(raws, wanted)] == [_PREFIXED[1], _PREFIXED[0]]


class _PrefixShell:
    """Answers an inspect by prefix with the recorded records."""

    def __init__(self, stdout: bytes) -> None:
        self.stdout = stdout
        self.calls: list[list[str]] = []

    def run(self, args: list[str], **_: Any) -> Completed:
        self.calls.append(args)
        return Completed(tuple(args), 0, self.stdout, b"")


def test_many_ids_are_one_inspect_by_prefix(recorded: Any, monkeypatch: Any) -> None:
    import runtimes.adapters.nerdctl as nerdctl

    monkeypatch.setattr(nerdctl, "PREFIX_INSPECT_FROM", 2)
    shell = _PrefixShell(recorded("nerdctl", "inspect_by_prefix.txt"))
    rt = object.__new__(NerdctlRuntime)
    rt._shell = shell  # type: ignore[assignment]
    rt._container = lambda raw: raw["Id"]  # type: ignore[method-assign,assignment,return-value]
    assert rt._inspect_many(_PREFIXED[:2]) == _PREFIXED[:2]  # type: ignore[comparison-overlap]
    assert [call[-2:] for call in shell.calls] == [["--", "0"]]


class _ImageShell:
    """nerdctl 2.2.2's image inspect with one digest gone: exit 1, nothing
    printed (recorded stderr), whatever the other digests."""

    def __init__(self, recorded_error: dict[str, Any], gone: str) -> None:
        self.error, self.gone = recorded_error, gone
        self.calls: list[list[str]] = []

    def run(self, args: list[str], **_: Any) -> Completed:
        self.calls.append(args)
        if args[:2] == ["images", "--format"]:
            rows = [{"Digest": "sha256:" + "1" * 64}, {"Digest": self.gone}]
            return Completed(tuple(args), 0, "\n".join(map(json.dumps, rows)).encode(), b"")
        refs = args[args.index("--") + 1 :]
        if self.gone in refs:
            rc, out, err = self.error["rc"], self.error["stdout"], self.error["stderr"]
            return Completed(tuple(args), rc, out.encode(), err.encode())
        body = [{"Id": r, "RepoDigests": [f"x@{r}"], "RepoTags": []} for r in refs]
        return Completed(tuple(args), 0, json.dumps(body).encode(), b"")


def test_an_image_gone_since_listing_leaves_the_others_listed(recorded: Any) -> None:
    error = recorded("nerdctl", "errors.json")["image_inspect_one_gone"]
    gone = "sha256:" + "0" * 64
    assert gone in error["stderr"]
    shell = _ImageShell(error, gone)
    rt = object.__new__(NerdctlRuntime)
    rt._shell = shell  # type: ignore[assignment]
    assert [i.id for i in rt._images({})] == ["sha256:" + "1" * 64]
    assert [c[-2:] for c in shell.calls[1:]] == [
        [gone, f"sha256:{'1' * 64}"],
        ["--", "sha256:" + "1" * 64],
    ]
