"""copy_to / copy_from: each engine's answers, pinned on recorded output, and
the local half (tar packing, safe unpacking, placing the copy)."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest

import runtimes
from runtimes import _archive
from runtimes._shell import Completed, Shell
from runtimes._translate import translate
from runtimes._transport import message_from_body
from runtimes.base import _place

# -- what the engines answer -------------------------------------------------------


@pytest.mark.parametrize("runtime", ["docker", "podman"])
def test_api_missing_path_and_container(recorded: Any, runtime: str) -> None:
    answers = recorded(runtime, "copy.json")
    status, _, body = answers["get_missing"]
    error = translate(
        runtime, "copy_from", message_from_body(body.encode()), target="container",
        ref="c", status=status, path="/nope",
    )  # fmt: skip
    assert type(error) is runtimes.PathNotFound
    assert isinstance(error, FileNotFoundError)
    assert error.filename == "/nope"
    status, _, body = answers["get_missing_container"]
    error = translate(
        runtime, "copy_from", message_from_body(body.encode()), target="container",
        ref="c", status=status, path="/nope",
    )  # fmt: skip
    assert type(error) is runtimes.ContainerNotFound
    assert error.ref == "c"


def test_docker_put_into_a_missing_directory(recorded: Any) -> None:
    status, body = recorded("docker", "copy.json")["put_missing_dir"]
    error = translate(
        "docker", "copy_to", message_from_body(body.encode()), target="container",
        ref="c", status=status, path="/nope/dir",
    )  # fmt: skip
    assert type(error) is runtimes.PathNotFound


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("cp_to_missing_parent", runtimes.PathNotFound),
        ("cp_from_missing", runtimes.PathNotFound),
        ("cp_missing_container", runtimes.ContainerNotFound),
    ],
)
def test_nerdctl_cp_failures(recorded: Any, case: str, expected: type[Exception]) -> None:
    record = recorded("nerdctl", "copy.json")[case]
    done = Completed(tuple(record["argv"]), record["rc"], b"", record["stderr"].encode())
    error = Shell("nerdctl", "nerdctl").error(
        done, operation="copy", target="container", ref="c", path="/nope"
    )
    assert type(error) is expected


@pytest.mark.parametrize("runtime", ["docker", "podman"])
def test_path_stat_header(recorded: Any, runtime: str) -> None:
    answers = recorded(runtime, "copy.json")
    directory = _archive.path_stat(answers["head_dir"][1])
    file = _archive.path_stat(answers["head_file"][1])
    link = _archive.path_stat(answers["head_link"][1])
    assert directory is not None
    assert (directory.is_dir, directory.is_symlink) == (True, False)
    assert file is not None
    assert (file.is_dir, file.is_symlink) == (False, False)
    assert link is not None
    assert (link.is_dir, link.is_symlink) == (False, True)
    assert link.link_target == "/www/index.html"
    assert answers["head_missing"] == [404, None]
    assert _archive.path_stat(None) is None
    assert _archive.path_stat("not base64 json") is None


def test_put_destination_follows_cp() -> None:
    directory = _archive.PathStat({"mode": _archive.MODE_DIR | 0o755})
    file = _archive.PathStat({"mode": 0o644})
    link = _archive.PathStat({"mode": _archive.MODE_SYMLINK | 0o777, "linkTarget": "/real"})

    def resolve(path: str) -> _archive.PathStat | None:
        return directory if path == "/real" else None

    here = os.path.dirname(__file__)
    source_file = os.path.join(here, "test_copy.py")
    # A file becomes dest, or goes inside an existing directory (or a link to one).
    assert _archive.put_destination("/a/b", source_file, None, resolve) == ("/a", "b")
    assert _archive.put_destination("/a/b", source_file, file, resolve) == ("/a", "b")
    assert _archive.put_destination("/a/b", source_file, directory, resolve) == (
        "/a/b",
        "test_copy.py",
    )
    assert _archive.put_destination("/a/b", source_file, link, resolve) == (
        "/real",
        "test_copy.py",
    )
    # A directory always becomes dest (merged into it when it exists).
    assert _archive.put_destination("/a/b", here, directory, resolve) == ("/a", "b")


# -- the local half ----------------------------------------------------------------------


def _tar(*members: tuple[str, bytes | None, dict[str, Any]]) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data, attributes in members:
            info = tarfile.TarInfo(name)
            for key, value in attributes.items():
                setattr(info, key, value)
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    buffer.seek(0)
    return buffer


def test_pack_names_the_copy_and_unpack_renames_it(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "x").write_text("x")
    (tree / "sub" / "x").chmod(0o751)
    (tree / "l").symlink_to("sub/x")
    with _archive.pack(str(tree), "named") as tar:
        with tarfile.open(fileobj=tar) as members:
            listed = members.getmembers()
        assert sorted(m.name for m in listed) == ["named", "named/l", "named/sub", "named/sub/x"]
        assert {m.uid for m in listed} == {0}
        tar.seek(0)
        _archive.unpack(tar, str(tmp_path / "out"), runtime="test")
    assert (tmp_path / "out" / "sub" / "x").read_text() == "x"
    assert (tmp_path / "out" / "sub" / "x").stat().st_mode & 0o7777 == 0o751
    assert os.readlink(tmp_path / "out" / "l") == "sub/x"
    assert b"".join(_archive.chunks(io.BytesIO(b"a" * 5), size=2)) == b"aaaaa"


@pytest.mark.parametrize(
    "members",
    [
        [("top", None, {"type": tarfile.DIRTYPE}), ("/etc/escaped", b"x", {})],
        [("top", None, {"type": tarfile.DIRTYPE}), ("top/../../escaped", b"x", {})],
        [("top", None, {"type": tarfile.DIRTYPE}), ("other/escaped", b"x", {})],
        [
            ("top", None, {"type": tarfile.DIRTYPE}),
            ("top/l", None, {"type": tarfile.SYMTYPE, "linkname": "/"}),
            ("top/l/escaped", b"x", {}),
        ],
        [
            ("top", None, {"type": tarfile.DIRTYPE}),
            ("top/h", None, {"type": tarfile.LNKTYPE, "linkname": "/etc/hostname"}),
        ],
        [
            ("top", None, {"type": tarfile.DIRTYPE}),
            ("top/h", None, {"type": tarfile.LNKTYPE, "linkname": "top/../../x"}),
        ],
    ],
    ids=["absolute", "dotdot", "other-top", "through-a-link", "hardlink-absolute", "hardlink-up"],
)
def test_unpack_refuses_what_lands_outside(
    tmp_path: Path, members: list[tuple[str, bytes | None, dict[str, Any]]]
) -> None:
    target = tmp_path / "box" / "out"
    target.parent.mkdir()
    with pytest.raises(runtimes.CommandFailed, match="refused"):
        _archive.unpack(_tar(*members), str(target), runtime="test")
    # What was written before the refusal is inside the target (which the
    # caller discards); nothing beside it, nothing at the escaping names.
    assert [p.name for p in target.parent.iterdir()] in ([], ["out"])
    assert not any(p.name == "escaped" for p in tmp_path.rglob("*"))
    assert not os.path.lexists("/escaped")
    assert not os.path.lexists("/etc/escaped")


def test_unpack_drops_set_id_bits_and_keeps_the_rest(tmp_path: Path) -> None:
    tar = _tar(("f", b"x", {"mode": 0o4775}))
    _archive.unpack(tar, str(tmp_path / "g"), runtime="test")
    assert (tmp_path / "g").stat().st_mode & 0o7777 == 0o775


def test_place_follows_cp(tmp_path: Path) -> None:
    def fresh(kind: str) -> str:
        copy = tmp_path / "copy"
        if copy.exists():
            shutil.rmtree(copy)  # what a merge leaves: the temporary directory's job
        if kind == "file":
            copy.write_text("new")
        else:
            (copy / "d").mkdir(parents=True)
            (copy / "d" / "f").write_text("new")
            copy.chmod(0o701)
        return str(copy)

    # A file replaces a file, or goes into a directory under its source name.
    (tmp_path / "dest.txt").write_text("old")
    _place(fresh("file"), str(tmp_path / "dest.txt"), "name.txt")
    assert (tmp_path / "dest.txt").read_text() == "new"
    (tmp_path / "dir").mkdir()
    _place(fresh("file"), str(tmp_path / "dir"), "name.txt")
    assert (tmp_path / "dir" / "name.txt").read_text() == "new"
    # A directory becomes dest, or merges into it and gives it its mode.
    _place(fresh("dir"), str(tmp_path / "tree"), "ignored")
    assert (tmp_path / "tree" / "d" / "f").read_text() == "new"
    (tmp_path / "tree" / "kept").write_text("kept")
    (tmp_path / "tree" / "d" / "f").write_text("old")
    _place(fresh("dir"), str(tmp_path / "tree"), "ignored")
    assert (tmp_path / "tree" / "d" / "f").read_text() == "new"
    assert (tmp_path / "tree" / "kept").read_text() == "kept"
    assert (tmp_path / "tree").stat().st_mode & 0o777 == 0o701
    with pytest.raises(runtimes.InvalidSpec, match="onto the file"):
        _place(fresh("dir"), str(tmp_path / "dest.txt"), "ignored")
