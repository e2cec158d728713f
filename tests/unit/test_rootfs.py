"""Build contexts of ``runtimes.testing.rootfs``, written from this machine's files.

No runtime is needed: what lands in the context is checked on disk.  The
images themselves are run in tests/integration/test_service_images.py.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from runtimes.testing.images import find_static_busybox
from runtimes.testing.rootfs import (
    HostFilesMissing,
    postgres_context,
    redis_context,
    shared_libraries,
    write_binary_context,
)


def inside(context: Path, image_path: str) -> Path:
    return context / "rootfs" / image_path.lstrip("/")


def test_shared_libraries_lists_the_loader_and_libc_and_nothing_for_static() -> None:
    libraries = shared_libraries(["/bin/ls"])
    assert all(os.path.isabs(p) for p in libraries)
    assert any(p.endswith("/libc.so.6") for p in libraries)
    assert any("/ld-linux" in p for p in libraries)  # the dynamic loader
    assert not any("vdso" in p for p in libraries)
    assert shared_libraries([find_static_busybox()]) == []
    assert shared_libraries([]) == []
    both = shared_libraries([find_static_busybox(), "/bin/ls"])
    assert both == libraries


def test_shared_libraries_refuses_a_file_it_cannot_read(tmp_path: Path) -> None:
    with pytest.raises(HostFilesMissing, match="ldd failed"):
        shared_libraries([tmp_path / "nothing-here"])


def test_binary_context_copies_binaries_libraries_and_busybox(tmp_path: Path) -> None:
    tool = tmp_path / "host" / "tool"
    tool.parent.mkdir()
    tool.symlink_to("/bin/ls")
    context = write_binary_context(tmp_path / "ctx", ["/bin/ls", tool])

    copied = inside(context, str(tool))
    assert not copied.is_symlink()  # the content, under the name it was given
    assert copied.read_bytes() == Path("/bin/ls").read_bytes()
    assert os.access(copied, os.X_OK)
    for library in shared_libraries(["/bin/ls"]):
        assert inside(context, library).is_file(), library
    # busybox provides the applets no copied file does.
    assert os.readlink(inside(context, "/bin/sh")) == "busybox"
    assert not inside(context, "/bin/ls").is_symlink()
    assert inside(context, "/bin/busybox").read_bytes() == find_static_busybox().read_bytes()
    assert stat.S_IMODE(inside(context, "/tmp").stat().st_mode) == 0o1777
    assert (context / "Dockerfile").read_text() == (
        "FROM scratch\nCOPY rootfs/ /\nENV PATH=/usr/local/bin:/usr/bin:/bin\n"
    )


def test_binary_context_files_excludes_extra_files_and_path(tmp_path: Path) -> None:
    share = tmp_path / "share"
    (share / "man").mkdir(parents=True)
    (share / "man" / "page.1").write_text("manual")
    (share / "data.txt").write_text("data")
    (share / "dangling").symlink_to(tmp_path / "gone")
    context = write_binary_context(
        tmp_path / "ctx",
        [],
        files=[share],
        exclude=["*/man"],
        extra_files={"/etc/motd": "hi\n", "/usr/local/bin/start": b"#!/bin/sh\nexec true\n"},
        directories=["/var/lib/thing"],
        path=["/opt/bin"],
        dockerfile_tail='CMD ["start"]\n',
    )
    assert inside(context, f"{share}/data.txt").read_text() == "data"
    assert not inside(context, f"{share}/man").exists()
    assert not inside(context, f"{share}/dangling").exists()
    assert inside(context, "/etc/motd").read_text() == "hi\n"
    assert not os.access(inside(context, "/etc/motd"), os.X_OK)
    assert os.access(inside(context, "/usr/local/bin/start"), os.X_OK)
    assert inside(context, "/var/lib/thing").is_dir()
    dockerfile = (context / "Dockerfile").read_text()
    assert "ENV PATH=/opt/bin:/usr/local/bin:/usr/bin:/bin\n" in dockerfile
    assert dockerfile.endswith('CMD ["start"]\n')


def test_binary_context_refuses_missing_files_and_paths_outside(tmp_path: Path) -> None:
    with pytest.raises(HostFilesMissing, match="nothing-here is missing"):
        write_binary_context(tmp_path / "a", [tmp_path / "nothing-here"])
    with pytest.raises(HostFilesMissing, match="nothing-here is missing"):
        write_binary_context(tmp_path / "b", [], files=[tmp_path / "nothing-here"])
    for bad in ("etc/passwd", "/etc/../../escape"):
        with pytest.raises(ValueError, match="absolute, without"):
            write_binary_context(tmp_path / "c", [], extra_files={bad: "x"})


@pytest.mark.parametrize("write", [postgres_context, redis_context])
def test_service_contexts_never_pull(write: Callable[[Path], Path], tmp_path: Path) -> None:
    context = write(tmp_path / "ctx")
    dockerfile = (context / "Dockerfile").read_text()
    # One stage, from nothing: a build cannot reach a registry.
    assert [line for line in dockerfile.splitlines() if line.startswith("FROM")] == ["FROM scratch"]
    assert "RUN" not in dockerfile
    assert os.access(inside(context, "/usr/local/bin/docker-entrypoint.sh"), os.X_OK)
    passwd = inside(context, "/etc/passwd").read_text()
    assert ":x:999:999:" in passwd  # the server's own user, not root


def test_postgres_context_holds_what_initdb_and_the_server_read(tmp_path: Path) -> None:
    context = postgres_context(tmp_path / "ctx")
    for name in ("postgres", "initdb", "pg_isready", "psql"):
        assert inside(context, f"/usr/lib/postgresql/15/bin/{name}").is_file(), name
    assert inside(context, "/usr/share/postgresql/15/postgres.bki").is_file()
    assert inside(context, "/usr/share/postgresql/15/timezonesets/Default").is_file()
    assert inside(context, "/usr/share/zoneinfo/UTC").is_file()
    assert inside(context, "/usr/lib/postgresql/15/lib/plpgsql.so").is_file()
    assert not inside(context, "/usr/lib/postgresql/15/lib/llvmjit.so").exists()
    assert not inside(context, "/usr/share/postgresql/15/man").exists()
    dockerfile = (context / "Dockerfile").read_text()
    assert "STOPSIGNAL SIGINT\n" in dockerfile
    assert "ENV PATH=/usr/lib/postgresql/15/bin:" in dockerfile
