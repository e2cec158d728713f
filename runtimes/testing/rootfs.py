"""Service images built ``FROM scratch`` out of the machine's own Debian binaries.

Nothing can be pulled on the machines the tests run on, so the images a
multi-service test needs (Postgres, Redis) are assembled from what Debian
installed on the host: each binary, every shared library ``ldd`` lists for
it (and the dynamic loader), the data files it reads, and the static
busybox (:func:`runtimes.testing.images.find_static_busybox`) for a shell,
``su`` and the other applets an entrypoint script needs.

* :func:`write_binary_context` fills a build context with any such set of
  files and a ``Dockerfile`` (``FROM scratch``, one ``COPY``, no ``RUN``:
  nothing runs during the build, on any builder);
* :func:`postgres_context` and :func:`redis_context` give ready-made
  contexts whose images behave like the official ``postgres`` and
  ``redis`` images for the common cases (below).

::

    from runtimes.testing.rootfs import postgres_context

    context = postgres_context(tmp_path / "pg")
    rt.build(context, tag="svc/postgres:15", labels=labels)
    db = rt.run("svc/postgres:15", env={"POSTGRES_PASSWORD": pw, "POSTGRES_DB": "app"},
                ports=["127.0.0.1::5432"], labels=labels)
    # ready once rt.exec(db, ["pg_isready", "-q", "-U", "postgres"]).exit_code == 0

The Postgres image (Debian's ``postgresql-15``; ``psql`` from
``postgresql-client-15``) understands ``POSTGRES_USER`` (default
``postgres``), ``POSTGRES_PASSWORD``, ``POSTGRES_DB`` (default: the user's
name) and ``POSTGRES_HOST_AUTH_METHOD`` like the official image: at the
first start it runs ``initdb`` into ``PGDATA``
(``/var/lib/postgresql/data``), creates the database, and allows TCP
connections from anywhere, with ``scram-sha-256`` when a password is set
and ``trust`` otherwise.  The server listens on ``0.0.0.0:5432`` and on the
socket in ``/var/run/postgresql`` (what ``pg_isready`` and ``psql`` in the
image use by default; give ``pg_isready`` a ``-U``, or the server logs
that role ``root`` does not exist).  It runs as ``postgres`` (uid 999),
since Postgres refuses to run as root; the entrypoint starts as root only
to give that user the data directory (a fresh volume mounted there is
root's).  ``initdb`` runs with ``--no-sync`` and without locales (the
database's are ``C``): a throwaway test database.  The image's stop
signal is ``SIGINT``, a fast shutdown: exit code 0.

The Redis image (Debian's ``redis-server`` and ``redis-tools``) runs
``redis-server`` on port 6379 of every address, protected mode off, no
snapshots or append-only file, as ``redis`` (uid 999); ``SIGTERM`` stops it
cleanly.  ``redis-cli`` is in the image.

In both, the server is PID 1 (the entrypoint ``exec``\\ s it), a command
that is not the server's (``run(image, ["sh"])``) runs as is, and ``TZ`` is
``UTC``.  Missing host packages raise :class:`HostFilesMissing` saying
what to install (``scripts/prepare-machine.sh install`` installs them all).

An application image that needs the clients only is one call away:
``write_binary_context(dir, [f"{POSTGRES_BIN}/psql", "/usr/bin/redis-cli"],
path=[POSTGRES_BIN], extra_files={"/app/run.sh": script},
dockerfile_tail='CMD ["/app/run.sh"]\\n')`` (28 MB).
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath

from runtimes.testing.images import find_static_busybox

__all__ = [
    "POSTGRES_BIN",
    "POSTGRES_PORT",
    "REDIS_PORT",
    "HostFilesMissing",
    "postgres_context",
    "redis_context",
    "shared_libraries",
    "write_binary_context",
]

#: Where Debian's ``postgresql-15`` keeps its programs.
POSTGRES_BIN = "/usr/lib/postgresql/15/bin"
#: The port the Postgres image listens on.
POSTGRES_PORT = 5432
#: The port the Redis image listens on.
REDIS_PORT = 6379

_LDD_TIMEOUT = 30.0
_ROOTFS = "rootfs"
_PATH = "/usr/local/bin:/usr/bin:/bin"
# `ldd` lines: "libc.so.6 => /lib/.../libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)".
_LDD_LINE = re.compile(r"^\s*(?:(?P<name>\S+) => )?(?P<path>\S+)(?: \(0x[0-9a-f]+\))?\s*$")


class HostFilesMissing(LookupError):
    """A file an image is assembled from is not on this machine, or
    ``ldd`` cannot resolve one of a binary's libraries.  The message names
    the file and the Debian package to install."""


def shared_libraries(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Every shared library the dynamic executables or libraries ``paths``
    load, and the dynamic loader, as absolute paths as ``ldd`` lists them
    (the names the loader looks for; they may be symbolic links).

    A statically linked file adds nothing.  Raises :class:`HostFilesMissing`
    when ``ldd`` reports a library ``not found``.
    """
    names = [os.fspath(path) for path in paths]
    if not names:
        return []
    try:
        # One ldd for all: it runs the loader once per file anyway, and a
        # shell per file is most of the time a context takes to write.
        done = subprocess.run(
            ["ldd", "--", *names],
            capture_output=True,
            text=True,
            timeout=_LDD_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError as exc:
        raise HostFilesMissing(f"ldd is not installed (Debian: libc-bin): {exc}") from None
    # A static file makes ldd exit 1 and say so; anything else on stderr
    # (a missing or unreadable file) is a failure.
    problems = [
        line
        for line in done.stderr.splitlines()
        if line.strip() and "not a dynamic executable" not in line
    ]
    if problems:
        raise HostFilesMissing(f"ldd failed: {'; '.join(problems)}")
    found: set[str] = set()
    for line in done.stdout.splitlines():
        if "not found" in line:
            raise HostFilesMissing(f"a library is missing: {line.strip()}")
        match = _LDD_LINE.match(line)
        # linux-vdso.so.1 has no path: the kernel maps it in; "/x/y:" heads
        # the list of one file when ldd is given several.
        if match and match["path"].startswith("/") and not match["path"].endswith(":"):
            found.add(match["path"])
    return sorted(found)


def write_binary_context(
    directory: str | os.PathLike[str],
    binaries: Sequence[str | os.PathLike[str]],
    *,
    files: Sequence[str | os.PathLike[str]] = (),
    exclude: Sequence[str] = (),
    extra_files: Mapping[str, str | bytes] | None = None,
    directories: Sequence[str] = (),
    path: Sequence[str] = (),
    dockerfile_tail: str = "",
) -> Path:
    """Fill ``directory`` with a build context for a ``FROM scratch`` image
    holding ``binaries`` and what they need; return the directory.

    * ``binaries``: host executables or shared libraries, each copied to
      the same absolute path in the image, with every library ``ldd`` lists
      for it and the dynamic loader.  Symbolic links are followed: the
      content is copied under the name given, so a program that looks at
      its ``argv[0]`` (``redis-server`` links to ``redis-check-rdb``) sees
      the name it is run by.
    * ``files``: host files or whole directories copied to the same path,
      without looking for libraries; a path matching one of the ``exclude``
      glob patterns (matched against host paths, e.g. ``"*/man"``) is left
      out, with everything under it.
    * ``extra_files``: image path to content; a file whose content starts
      with ``#!`` is made executable.
    * ``directories``: empty directories to create (mode 0755); ``/tmp``
      (mode 1777) is always there.
    * The static busybox is ``/bin/busybox``, with a link in ``/bin`` for
      each of its applets that no copied file already provides.

    The ``Dockerfile`` is ``FROM scratch``, one ``COPY`` of the tree, ``ENV
    PATH`` (the ``path`` directories, then ``/usr/local/bin:/usr/bin:/bin``),
    then ``dockerfile_tail`` (an ``ENTRYPOINT``, ``CMD``, ``EXPOSE``...).  Raises
    :class:`HostFilesMissing` when a host file is missing and
    ``LookupError`` when no static busybox is found.
    """
    context = Path(directory)
    root = context / _ROOTFS
    root.mkdir(parents=True, exist_ok=True)
    for binary in binaries:
        _require(binary)
    for item in files:
        _require(item)
    for binary in [*binaries, *shared_libraries(binaries)]:
        _copy_file(Path(binary), root)
    for item in files:
        source = Path(item)
        if source.is_dir():
            _copy_tree(source, root, exclude)
        elif not _excluded(source, exclude):
            _copy_file(source, root)
    for name in directories:
        _inside(root, name).mkdir(parents=True, exist_ok=True)
    tmp = root / "tmp"
    tmp.mkdir(exist_ok=True)
    tmp.chmod(0o1777)
    for name, content in (extra_files or {}).items():
        target = _inside(root, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        target.write_bytes(data)
        target.chmod(0o755 if data.startswith(b"#!") else 0o644)
    _install_busybox(root)
    search = ":".join([*path, _PATH])
    dockerfile = f"FROM scratch\nCOPY {_ROOTFS}/ /\nENV PATH={search}\n{dockerfile_tail}"
    (context / "Dockerfile").write_text(dockerfile)
    return context


def postgres_context(directory: str | os.PathLike[str]) -> Path:
    """A build context for the Postgres 15 image described in the module
    docstring, written into ``directory``; return it.

    Needs Debian's ``postgresql-15`` and ``postgresql-client-15``.
    """
    lib = Path("/usr/lib/postgresql/15/lib")
    _require(lib, package="postgresql-15")
    # The server loads these on demand (PL/pgSQL, snowball dictionaries,
    # encoding conversions, contrib extensions); only the LLVM JIT is left
    # out, which keeps libLLVM (100 MB) out of the image: JIT is off.
    modules = sorted(p for p in lib.glob("*.so") if p.name != "llvmjit.so")
    programs = [f"{POSTGRES_BIN}/{name}" for name in ("postgres", "initdb", "pg_isready")]
    _require(f"{POSTGRES_BIN}/psql", package="postgresql-client-15")
    for program in programs:
        _require(program, package="postgresql-15")
    return write_binary_context(
        directory,
        [*programs, f"{POSTGRES_BIN}/psql", *modules],
        # initdb reads postgres.bki and the SQL scripts there; the server its
        # timezone abbreviations and text-search data.  Debian's build uses
        # the system's tzdata: only UTC is needed, since TZ=UTC.
        files=[
            "/usr/share/postgresql/15",
            "/usr/share/zoneinfo/UTC",
            "/usr/share/zoneinfo/Etc/UTC",
        ],
        exclude=["/usr/share/postgresql/15/man"],
        extra_files={
            "/etc/passwd": _PASSWD.format(user="postgres", home="/var/lib/postgresql"),
            "/etc/group": _GROUP.format(user="postgres"),
            "/usr/local/bin/docker-entrypoint.sh": _POSTGRES_ENTRYPOINT,
            # initdb asks `locale -a` which locales to import collations for:
            # the image has none but the built-in ones.
            "/usr/bin/locale": "#!/bin/sh\necho C\necho POSIX\n",
        },
        directories=["/var/lib/postgresql/data", "/var/run/postgresql"],
        path=[POSTGRES_BIN],
        dockerfile_tail=(
            "ENV TZ=UTC PGDATA=/var/lib/postgresql/data\n"
            f"EXPOSE {POSTGRES_PORT}\n"
            # A fast shutdown: SIGTERM would wait for every client to leave.
            "STOPSIGNAL SIGINT\n"
            'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]\n'
            'CMD ["postgres"]\n'
        ),
    )


def redis_context(directory: str | os.PathLike[str]) -> Path:
    """A build context for the Redis image described in the module
    docstring, written into ``directory``; return it.

    Needs Debian's ``redis-server`` and ``redis-tools``.
    """
    _require("/usr/bin/redis-server", package="redis-server")
    _require("/usr/bin/redis-cli", package="redis-tools")
    return write_binary_context(
        directory,
        ["/usr/bin/redis-server", "/usr/bin/redis-cli"],
        extra_files={
            "/etc/passwd": _PASSWD.format(user="redis", home="/data"),
            "/etc/group": _GROUP.format(user="redis"),
            "/usr/local/bin/docker-entrypoint.sh": _REDIS_ENTRYPOINT,
        },
        directories=["/data"],
        dockerfile_tail=(
            "ENV TZ=UTC\n"
            "WORKDIR /data\n"
            f"EXPOSE {REDIS_PORT}\n"
            'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]\n'
            # Every address, reachable from other containers without a
            # password, nothing written to disk: a throwaway test service.
            'CMD ["redis-server", "--protected-mode", "no", "--save", "", "--appendonly", "no"]\n'
        ),
    )


# uid/gid 999, as in the official images, so volumes move between them.
_PASSWD = "root:x:0:0:root:/root:/bin/sh\n{user}:x:999:999:{user}:{home}:/bin/sh\n"
_GROUP = "root:x:0:\n{user}:x:999:\n"

_POSTGRES_ENTRYPOINT = r"""#!/bin/sh
# Postgres as PID 1: first start runs initdb into $PGDATA, then exec postgres.
set -eu
case "${1:-}" in
    -*) set -- postgres "$@" ;;
    postgres) ;;
    *) exec "$@" ;;
esac
shift
PGDATA=${PGDATA:-/var/lib/postgresql/data}
export PGDATA
if [ "$(id -u)" = 0 ]; then
    # Postgres refuses root: hand the data and socket directories to
    # postgres (a fresh volume is root's), then run this script as postgres.
    mkdir -p "$PGDATA" /var/run/postgresql
    chown postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    # "--": su would read the server's options (-c, --port...) as its own.
    exec su -p -s /bin/sh -c 'exec "$0" postgres "$@"' -- postgres "$0" "$@"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    user=${POSTGRES_USER:-postgres}
    pwfile=
    if [ -n "${POSTGRES_PASSWORD:-}" ]; then
        method=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
        # The password goes through a file, never a command line.
        pwfile=$(mktemp)
        printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    else
        method=${POSTGRES_HOST_AUTH_METHOD:-trust}
    fi
    # --no-sync: a throwaway test database; it saves a second per start.
    initdb --username="$user" --encoding=UTF8 --no-locale --no-sync --auth-local=trust \
        --auth-host="$method" ${pwfile:+"--pwfile=$pwfile"}
    [ -z "$pwfile" ] || rm -f "$pwfile"
    printf 'host all all all %s\n' "$method" >>"$PGDATA/pg_hba.conf"
    printf "listen_addresses = '*'\njit = off\n" >>"$PGDATA/postgresql.conf"
    db=${POSTGRES_DB:-$user}
    if [ "$db" != postgres ]; then
        quoted=$(printf '%s' "$db" | sed 's/"/""/g')
        # Single-user mode: the database exists before any client can connect.
        printf 'CREATE DATABASE "%s";\n' "$quoted" |
            postgres --single -j -D "$PGDATA" postgres >/dev/null
    fi
    echo "docker-entrypoint.sh: database $db initialised in $PGDATA"
fi
exec postgres "$@"
"""

_REDIS_ENTRYPOINT = r"""#!/bin/sh
# Redis as PID 1, as user redis.
set -eu
case "${1:-}" in
    -*) set -- redis-server "$@" ;;
    redis-server) ;;
    *) exec "$@" ;;
esac
if [ "$(id -u)" = 0 ]; then
    mkdir -p /data
    chown redis:redis /data
    # "--": su would read the server's options (--port...) as its own.
    exec su -p -s /bin/sh -c 'exec "$0" "$@"' -- redis "$0" "$@"
fi
exec "$@"
"""


def _require(path: str | os.PathLike[str], *, package: str | None = None) -> None:
    if not os.path.exists(path):
        what = f"Debian's {package}" if package else "the package that provides it"
        raise HostFilesMissing(
            f"{os.fspath(path)} is missing: install {what} "
            "(scripts/prepare-machine.sh install does)"
        )


def _inside(root: Path, image_path: str | os.PathLike[str]) -> Path:
    pure = PurePosixPath(os.fspath(image_path))
    if not pure.is_absolute() or ".." in pure.parts:
        raise ValueError(f"image paths must be absolute, without '..': {image_path!r}")
    return root.joinpath(*pure.parts[1:])


def _copy_file(source: Path, root: Path) -> None:
    target = _inside(root, source)
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)  # follows links: the content, under this name


def _excluded(path: Path, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(os.fspath(path), pattern) for pattern in patterns)


def _copy_tree(source: Path, root: Path, exclude: Sequence[str]) -> None:
    if _excluded(source, exclude):
        return
    for entry in sorted(source.iterdir()):
        if _excluded(entry, exclude):
            continue
        if entry.is_dir():
            _copy_tree(entry, root, exclude)
        elif entry.exists():  # a dangling link is left out
            _copy_file(entry, root)


def _install_busybox(root: Path) -> None:
    busybox = find_static_busybox()
    target = root / "bin" / "busybox"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(busybox, target)
    target.chmod(0o755)
    listed = subprocess.run(
        [os.fspath(busybox), "--list"],
        capture_output=True,
        text=True,
        timeout=_LDD_TIMEOUT,
        check=True,
        stdin=subprocess.DEVNULL,
    )
    for applet in listed.stdout.split():
        if "/" in applet or applet in (".", ".."):
            continue
        # Links in the context instead of `busybox --install` in a RUN step:
        # a build that runs nothing is faster, and the same on every builder.
        if not any((root / d / applet).exists() for d in ("bin", "usr/bin", "usr/local/bin")):
            (root / "bin" / applet).symlink_to("busybox")
