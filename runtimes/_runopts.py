"""Validate the resource and security options of ``run`` and ``create``.

One function per option, each raising :class:`~runtimes.InvalidSpec` with
the bad value named, so that a typo in a restart policy or a capability
fails the same way, before anything is created, on every runtime (for an
unknown capability Docker's create answers "invalid CapAdd", Podman's
"unknown capability", and nerdctl 2.2 creates the container).
:func:`run_options` returns the checked values as
:class:`~runtimes.specs.RunSpec` fields, in the one form each adapter
translates.
"""

from __future__ import annotations

import ipaddress
import math
import re
import signal
from collections.abc import Mapping, Sequence
from typing import Any

from runtimes import _specs
from runtimes.errors import InvalidSpec
from runtimes.specs import Ulimit

__all__ = [
    "CAPABILITIES",
    "CAPABILITY_BITS",
    "RESTART_POLICIES",
    "ULIMITS",
    "parse_size",
    "run_options",
]

#: Linux capabilities (``capability.h``, Linux 5.9 and later) without ``CAP_``,
#: in bit order: the bit of each in ``/proc/PID/status`` (``CapEff``...).
_CAPABILITY_ORDER = (
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
)
CAPABILITY_BITS: Mapping[str, int] = {name: bit for bit, name in enumerate(_CAPABILITY_ORDER)}
CAPABILITIES = frozenset(_CAPABILITY_ORDER)
RESTART_POLICIES = ("no", "always", "unless-stopped", "on-failure")
#: ``setrlimit`` resources by the names all three CLIs and the Engine API use.
ULIMITS = frozenset(
    {
        "as",
        "core",
        "cpu",
        "data",
        "fsize",
        "locks",
        "memlock",
        "msgqueue",
        "nice",
        "nofile",
        "nproc",
        "rss",
        "rtprio",
        "rttime",
        "sigpending",
        "stack",
    }
)
# Docker refuses less than 6 MiB of memory ("Minimum memory limit allowed
# is 6MB"); with 1 MiB, Podman and nerdctl fail in runc ("unable to set
# memory limit ... current usage"), after creating the container.
MIN_MEMORY = 6 * 1024 * 1024
# What runc and the CLIs parse: 64-bit sizes, CPU counts a cgroup quota can
# express (0.01 CPU is a 1 ms quota per 100 ms period).
_MAX_BYTES = 2**63 - 1
_MIN_CPUS = 0.01
_MAX_CPUS = 1024.0
_MAX_ULIMIT = 2**63 - 1
_SIZE_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([kmgtp]?)(?:i?b)?", re.I)
_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40, "p": 2**50}
# mount(8) tmpfs options every runtime passes through.
_TMPFS_FLAGS = frozenset(
    {"ro", "rw", "exec", "noexec", "suid", "nosuid", "dev", "nodev", "atime", "noatime"}
    | {"diratime", "nodiratime", "relatime", "norelatime", "strictatime", "nostrictatime"}
    | {"sync", "async", "dirsync", "mand", "nomand"}
)
_TMPFS_VALUE_RE = re.compile(
    r"size=[0-9]+[kmg%]?|nr_inodes=[0-9]+[kmg]?|nr_blocks=[0-9]+[kmg]?|mode=[0-7]{3,4}"
    r"|uid=[0-9]+|gid=[0-9]+",
    re.I,
)
_PATH_RE = re.compile(r"/[^\x00-\x1f\x7f,:]*")
_OS_ARCH = {
    "linux": {"amd64", "arm64", "arm", "386", "ppc64le", "s390x", "riscv64", "mips64le"},
    "windows": {"amd64", "arm64"},
}
_VARIANT_RE = re.compile(r"v[5-8]")


def parse_size(value: object, what: str, *, minimum: int = 1) -> int:
    """Bytes from an int or a text like ``"64m"``, ``"1.5g"``, ``"512MiB"``
    (units are powers of 1024, as in Docker's ``RAMInBytes``)."""
    if isinstance(value, bool):
        raise InvalidSpec(f"{what} must be a number of bytes or a size like '64m', got {value!r}")
    if isinstance(value, int):
        size = value
    elif isinstance(value, str) and (match := _SIZE_RE.fullmatch(value.strip())):
        number, unit = match.groups()
        size = math.floor(float(number) * _UNITS[unit.lower()])
    else:
        raise InvalidSpec(f"{what} must be a number of bytes or a size like '64m', got {value!r}")
    if not minimum <= size <= _MAX_BYTES:
        raise InvalidSpec(f"{what} {value!r} is out of range: at least {minimum} bytes")
    return size


def check_cpus(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidSpec(f"cpus must be a number of CPUs like 0.5, got {value!r}")
    if not _MIN_CPUS <= value <= _MAX_CPUS:  # NaN fails this too
        raise InvalidSpec(f"cpus {value!r} must be between {_MIN_CPUS} and {_MAX_CPUS:g}")
    return float(value)


def check_restart_policy(value: object) -> str:
    """``no``, ``always``, ``unless-stopped``, ``on-failure`` or
    ``on-failure:N`` (at most N restarts)."""
    if not isinstance(value, str):
        raise InvalidSpec(f"restart_policy must be a string like 'on-failure:3', got {value!r}")
    name, sep, count = value.partition(":")
    if name not in RESTART_POLICIES:
        raise InvalidSpec(
            f"unknown restart_policy {value!r}: use one of no, always, unless-stopped, "
            "on-failure[:N]"
        )
    if sep:
        if name != "on-failure":
            raise InvalidSpec(f"restart_policy {value!r}: only on-failure takes a count")
        if not (count.isascii() and count.isdigit()) or int(count) > 2**31 - 1:
            raise InvalidSpec(f"restart_policy {value!r}: the count must be a whole number")
        return f"on-failure:{int(count)}"
    return name


def check_capabilities(value: object, what: str) -> tuple[str, ...]:
    """Capability names (``NET_ADMIN``, ``cap_net_admin``, or ``ALL``),
    upper-case and without ``CAP_``, in order, without repeats."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple, set, frozenset)):
        raise InvalidSpec(f"{what} must be a list of capability names, got {value!r}")
    out: dict[str, None] = {}
    for item in value:
        if not isinstance(item, str):
            raise InvalidSpec(f"{what}: a capability name must be a string, got {item!r}")
        name = item.upper()
        name = name.removeprefix("CAP_")
        if name != "ALL" and name not in CAPABILITIES:
            raise InvalidSpec(f"{what}: unknown capability {item!r}")
        out[name] = None
    return tuple(out)


def check_tmpfs(value: object) -> dict[str, str]:
    """Mount points (absolute, not ``/``) to ``mount -t tmpfs`` options (``""``: none)."""
    if value is None:
        return {}
    if isinstance(value, str):
        value = [value]
    if isinstance(value, (list, tuple)):
        value = dict.fromkeys(value, "")
    if not isinstance(value, Mapping):
        raise InvalidSpec(f"tmpfs must be a list of paths or a mapping path -> options: {value!r}")
    out: dict[str, str] = {}
    for path, options in value.items():
        if not isinstance(path, str) or not _PATH_RE.fullmatch(path) or path.rstrip("/") == "":
            raise InvalidSpec(f"tmpfs: invalid mount point {path!r}: an absolute path below /")
        if "/../" in f"{path}/" or "/./" in f"{path}/":
            raise InvalidSpec(f"tmpfs: mount point {path!r} may not contain '.' or '..'")
        if options is None:
            options = ""
        if not isinstance(options, str):
            raise InvalidSpec(f"tmpfs {path}: options must be a string like 'size=64m'")
        for option in filter(None, options.split(",")):
            if option.lower() not in _TMPFS_FLAGS and not _TMPFS_VALUE_RE.fullmatch(option):
                raise InvalidSpec(f"tmpfs {path}: unknown or malformed option {option!r}")
        out[path.rstrip("/")] = options
    return out


def check_ulimits(value: object) -> tuple[Ulimit, ...]:
    """``{"nofile": 1024}`` (soft = hard), ``{"nofile": "512:1024"}`` or
    ``{"nofile": (512, 1024)}``."""
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise InvalidSpec(f"ulimits must be a mapping name -> soft[:hard], got {value!r}")
    out = []
    for name, limit in value.items():
        if not isinstance(name, str) or name not in ULIMITS:
            raise InvalidSpec(f"unknown ulimit {name!r}: use one of {', '.join(sorted(ULIMITS))}")
        soft: object
        hard: object
        if isinstance(limit, str):
            soft_text, _, hard_text = limit.partition(":")
            soft, hard = soft_text, hard_text or soft_text
            if not all(isinstance(t, str) and t.isascii() and t.isdigit() for t in (soft, hard)):
                raise InvalidSpec(f"ulimit {name}: {limit!r} is not soft[:hard] whole numbers")
            soft, hard = int(soft_text), int(hard_text or soft_text)
        elif isinstance(limit, tuple) and len(limit) == 2:
            soft, hard = limit
        else:
            soft = hard = limit
        for number in (soft, hard):
            if isinstance(number, bool) or not isinstance(number, int):
                raise InvalidSpec(f"ulimit {name}: {limit!r} is not soft[:hard] whole numbers")
            if not 0 <= number <= _MAX_ULIMIT:
                raise InvalidSpec(f"ulimit {name}: {limit!r} is out of range")
        assert isinstance(soft, int)
        assert isinstance(hard, int)
        if soft > hard:
            raise InvalidSpec(f"ulimit {name}: the soft limit {soft} is above the hard {hard}")
        out.append(Ulimit(name=name, soft=soft, hard=hard))
    return tuple(out)


def _ip(text: object, what: str) -> str:
    if not isinstance(text, str):
        raise InvalidSpec(f"{what}: {text!r} is not an IP address")
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise InvalidSpec(f"{what}: {text!r} is not an IP address") from None


def check_dns(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise InvalidSpec(f"dns must be a list of IP addresses, got {value!r}")
    return tuple(_ip(item, "dns") for item in value)


def check_extra_hosts(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidSpec(f"extra_hosts must be a mapping host -> IP address, got {value!r}")
    return {
        _specs.check_hostname(host, "extra_hosts name") or "": _ip(ip, f"extra_hosts {host}")
        for host, ip in value.items()
    }


def check_platform(value: object) -> str:
    """``os/arch[/variant]`` of a known OS and architecture."""
    if not isinstance(value, str):
        raise InvalidSpec(f"platform must be a string like 'linux/amd64', got {value!r}")
    parts = value.split("/")
    if (
        len(parts) not in (2, 3)
        or parts[1] not in _OS_ARCH.get(parts[0], ())
        or (len(parts) == 3 and not _VARIANT_RE.fullmatch(parts[2]))
    ):
        raise InvalidSpec(f"invalid platform {value!r}: use os/arch[/variant], e.g. linux/amd64")
    return value


def check_stop_signal(value: object) -> str:
    """A signal name (``SIGUSR1``): Podman reports a number, Docker a name."""
    name = _specs.check_signal(value)  # type: ignore[arg-type]
    if name.isdigit():
        try:
            return signal.Signals(int(name)).name
        except ValueError:
            raise InvalidSpec(f"stop_signal {value!r} is not a signal of this system") from None
    return name


def check_stop_timeout(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2**31 - 1:
        raise InvalidSpec(f"stop_timeout must be a whole number of seconds >= 0, got {value!r}")
    return value


def run_options(
    *,
    memory: int | str | None,
    cpus: float | None,
    restart_policy: str | None,
    init: bool,
    read_only: bool,
    cap_add: Sequence[str] | str | None,
    cap_drop: Sequence[str] | str | None,
    privileged: bool,
    tmpfs: Mapping[str, str] | Sequence[str] | str | None,
    shm_size: int | str | None,
    ulimits: Mapping[str, int | str | tuple[int, int]] | None,
    dns: Sequence[str] | str | None,
    extra_hosts: Mapping[str, str] | None,
    platform: str | None,
    stop_signal: str | int | None,
    stop_timeout: int | None,
    remove: bool,
) -> dict[str, Any]:
    """The checked options, as :class:`~runtimes.specs.RunSpec` keyword arguments."""
    policy = check_restart_policy(restart_policy) if restart_policy is not None else None
    if policy not in (None, "no") and remove:
        # Docker refuses the pair; Podman and nerdctl would restart a container
        # they are about to delete.
        raise InvalidSpec(f"restart_policy {policy!r} and remove=True contradict each other")
    added = check_capabilities(cap_add, "cap_add")
    dropped = check_capabilities(cap_drop, "cap_drop")
    if both := sorted(set(added) & set(dropped) - {"ALL"}):
        raise InvalidSpec(f"capabilities both added and dropped: {', '.join(both)}")
    return {
        "memory": parse_size(memory, "memory", minimum=MIN_MEMORY) if memory is not None else None,
        "cpus": check_cpus(cpus) if cpus is not None else None,
        "restart_policy": policy,
        "init": _specs.check_flag(init, "init"),
        "read_only": _specs.check_flag(read_only, "read_only"),
        "cap_add": added,
        "cap_drop": dropped,
        "privileged": _specs.check_flag(privileged, "privileged"),
        "tmpfs": check_tmpfs(tmpfs),
        "shm_size": parse_size(shm_size, "shm_size") if shm_size is not None else None,
        "ulimits": check_ulimits(ulimits),
        "dns": check_dns(dns),
        "extra_hosts": check_extra_hosts(extra_hosts),
        "platform": check_platform(platform) if platform is not None else None,
        "stop_signal": check_stop_signal(stop_signal) if stop_signal is not None else None,
        "stop_timeout": check_stop_timeout(stop_timeout) if stop_timeout is not None else None,
    }
