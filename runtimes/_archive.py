"""Tar archives for the engines whose API copies files as tar streams.

The Docker Engine API and Podman's API put a tar into a container directory
(``PUT /containers/{id}/archive?path=DIR``) and get a path as a tar
(``GET``); the CLIs (nerdctl) take paths.  :func:`pack` builds the tar of a
local file or tree under the name the copy must have, and :func:`unpack`
writes a received tar to a local path, refusing what would land outside it.
"""

from __future__ import annotations

import base64
import json
import os
import posixpath
import stat
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from typing import IO

from runtimes.errors import CommandFailed

__all__ = [
    "MODE_DIR",
    "MODE_SYMLINK",
    "STAT_HEADER",
    "PathStat",
    "chunks",
    "pack",
    "path_stat",
    "put_destination",
    "unpack",
]

#: Go's ``os.FileMode`` bits in the engines' path stat (``X-Docker-Container-Path-Stat``).
MODE_DIR = 1 << 31
MODE_SYMLINK = 1 << 27

#: The header in which both engines describe the path of an archive request.
STAT_HEADER = "X-Docker-Container-Path-Stat"


class PathStat:
    """What an engine says about a path in a container (``HEAD .../archive``)."""

    def __init__(self, raw: dict[str, object]) -> None:
        #: The engine's own record: ``name``, ``size``, ``mode``, ``mtime``, ``linkTarget``.
        self.raw = raw
        mode = raw.get("mode")
        self.mode = mode if isinstance(mode, int) else 0
        target = raw.get("linkTarget")
        #: Where a symbolic link leads, resolved inside the container.
        self.link_target = target if isinstance(target, str) and target else None

    @property
    def is_dir(self) -> bool:
        return bool(self.mode & MODE_DIR)

    @property
    def is_symlink(self) -> bool:
        return bool(self.mode & MODE_SYMLINK)


def path_stat(header: str | None) -> PathStat | None:
    """Decode ``X-Docker-Container-Path-Stat`` (base64 of a JSON object)."""
    if not header:
        return None
    try:
        raw = json.loads(base64.b64decode(header))
    except ValueError:
        return None
    return PathStat(raw) if isinstance(raw, dict) else None


# Up to this size the tar stays in memory; beyond, it spills to a temporary file.
_SPOOL = 16 << 20


def pack(source: str, name: str) -> IO[bytes]:
    """A tar holding the local file or directory ``source`` as ``name``,
    rewound and ready to send; the caller closes it.

    Modes are kept; owners are root, as the CLIs' ``cp`` makes them
    in a container.  A symbolic link given as ``source`` is followed; links
    inside a tree stay links.
    """
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL)  # noqa: SIM115 - returned open
    try:
        with tarfile.open(fileobj=spool, mode="w", format=tarfile.PAX_FORMAT) as tar:
            tar.add(os.path.realpath(source), arcname=name, filter=_as_root)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool


def chunks(tar: IO[bytes], size: int = 1 << 20) -> Iterator[bytes]:
    """The tar in 1 MiB pieces: an HTTP client sends a file object in 8 KiB
    writes, which is half as fast."""
    while True:
        piece = tar.read(size)
        if not piece:
            return
        yield piece


def _as_root(member: tarfile.TarInfo) -> tarfile.TarInfo:
    return member.replace(uid=0, gid=0, uname="root", gname="root", deep=False)


def unpack(read: IO[bytes], target: str, *, runtime: str, top: str | None = None) -> None:
    """Write the tar streamed by ``read`` to the local path ``target``,
    which must not exist yet.

    The archive holds one file or one tree whose top entry is ``top``
    (default: the first entry's name); it becomes ``target``.  Entries that
    would land outside it, absolute names, ``..``, and hard links to
    anything outside the archive are refused (``tarfile.FilterError``);
    modes are kept (without set-id and sticky bits); the files belong to
    the calling user.  A refused or broken archive raises
    :class:`~runtimes.CommandFailed`.
    """
    # extractall reads the stream once and sets directory modes last, so a
    # read-only directory still receives its files.
    try:
        with tarfile.open(fileobj=read, mode="r|") as tar:
            tar.extractall(os.path.dirname(target), filter=_renaming(top, os.path.basename(target)))
    except tarfile.TarError as exc:
        raise CommandFailed(
            f"the container's archive was refused: {exc}", runtime=runtime, operation="copy_from"
        ) from exc


def _renaming(top: str | None, new_top: str) -> Callable[[tarfile.TarInfo, str], tarfile.TarInfo]:
    first: list[str] = [] if top is None else [posixpath.normpath(top)]

    def rename(name: str) -> str:
        name = posixpath.normpath(name)
        if not first:
            first.append(name)
        top = first[0]
        if name == top:
            return new_top
        if name.startswith(top + "/"):
            return new_top + name[len(top) :]
        raise tarfile.OutsideDestinationError(tarfile.TarInfo(name), name)

    def check(member: tarfile.TarInfo, directory: str) -> tarfile.TarInfo:
        renamed = member.replace(name=rename(member.name), deep=False)
        if member.islnk():
            # A hard link names another entry of the archive: renamed alike.
            if os.path.isabs(member.linkname) or ".." in member.linkname.split("/"):
                raise tarfile.LinkOutsideDestinationError(member, member.linkname)
            renamed = renamed.replace(linkname=rename(member.linkname), deep=False)
        # tar_filter refuses what would land outside; its mode changes
        # (no group/other write) are undone: the copy keeps its modes.
        checked = tarfile.tar_filter(renamed, directory)
        mode = None if member.mode is None else stat.S_IMODE(member.mode) & 0o777
        return checked.replace(
            mode=mode, uid=os.getuid(), gid=os.getgid(), uname="", gname="", deep=False
        )

    return check


def put_destination(
    dest: str, source: str, found: PathStat | None, resolve: Callable[[str], PathStat | None]
) -> tuple[str, str]:
    """``(directory, name)`` to put the tar of ``source`` in, so that it
    becomes ``dest`` by the rules of ``copy_to``.

    ``found`` is the engine's stat of ``dest`` (``None``: missing);
    ``resolve`` stats a link's target.  A file copied onto an existing
    directory (or a link to one) goes inside it under its own name.
    """
    if found is not None and not os.path.isdir(source):
        if found.is_symlink and found.link_target:
            target = resolve(found.link_target)
            if target is not None and target.is_dir:
                return found.link_target, os.path.basename(source)
        elif found.is_dir:
            return dest, os.path.basename(source)
    return posixpath.split(dest)
