"""The resource and security options of ``run``/``create``: validated once
(``runtimes._runopts``), translated per adapter, read back per runtime."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import runtimes
from runtimes import _normalize, _specs
from runtimes.adapters import _cli, docker, podman
from runtimes.specs import RunSpec, Ulimit
from runtimes.testing.bad_input import BAD_RUN_OPTIONS

IMAGE = "runtimes-test/busybox:1"


def spec(**options: Any) -> RunSpec:
    return _specs.run_spec(
        IMAGE,
        ["true"],
        name=None,
        env=None,
        ports=None,
        volumes=None,
        labels=None,
        workdir=None,
        user=None,
        entrypoint=None,
        network=None,
        remove=options.pop("remove", False),
        **options,
    )


@pytest.mark.parametrize(("case", "options"), BAD_RUN_OPTIONS, ids=[c for c, _ in BAD_RUN_OPTIONS])
def test_bad_options_are_invalid_spec(case: str, options: dict[str, Any]) -> None:
    with pytest.raises(runtimes.InvalidSpec) as info:
        spec(**options)
    assert isinstance(info.value, ValueError)


def test_defaults_leave_everything_to_the_runtime() -> None:
    s = spec()
    assert (s.memory, s.cpus, s.restart_policy, s.shm_size, s.platform) == (None,) * 5
    assert (s.init, s.read_only, s.privileged) == (False, False, False)
    assert (s.cap_add, s.cap_drop, s.ulimits, s.dns) == ((), (), (), ())
    assert (dict(s.tmpfs), dict(s.extra_hosts)) == ({}, {})
    assert (s.stop_signal, s.stop_timeout) == (None, None)
    assert _cli.resource_args(s) == []


@pytest.mark.parametrize(
    ("given", "size"),
    [
        (64 * 2**20, 64 * 2**20),
        ("64m", 64 * 2**20),
        ("64M", 64 * 2**20),
        ("64mb", 64 * 2**20),
        ("64MiB", 64 * 2**20),
        ("1.5g", 3 * 2**29),
        ("6291456", 6 * 2**20),
    ],
)
def test_memory_sizes(given: Any, size: int) -> None:
    assert spec(memory=given).memory == size


def test_normalised_forms() -> None:
    s = spec(
        cpus=1,
        restart_policy="on-failure:03",
        cap_add="cap_net_admin",
        cap_drop=["chown", "CAP_KILL", "chown"],
        tmpfs=["/run", "/tmp/"],
        shm_size="8m",
        ulimits={"nofile": 1024, "nproc": "512:1024", "core": (0, 0)},
        dns="10.0.0.53",
        extra_hosts={"db": "fd00:0::7"},
        platform="linux/arm/v7",
        stop_signal=10,
        stop_timeout=0,
    )
    assert s.cpus == 1.0
    assert s.restart_policy == "on-failure:3"
    assert s.cap_add == ("NET_ADMIN",)
    assert s.cap_drop == ("CHOWN", "KILL")
    assert dict(s.tmpfs) == {"/run": "", "/tmp": ""}
    assert s.shm_size == 8 * 2**20
    assert s.ulimits == (
        Ulimit(name="nofile", soft=1024, hard=1024),
        Ulimit(name="nproc", soft=512, hard=1024),
        Ulimit(name="core", soft=0, hard=0),
    )
    assert s.dns == ("10.0.0.53",)
    assert dict(s.extra_hosts) == {"db": "fd00::7"}
    assert s.stop_signal == "SIGUSR1"
    assert s.stop_timeout == 0
    assert spec(stop_signal="TERM").stop_signal == "SIGTERM"
    assert spec(restart_policy="no", remove=True).restart_policy == "no"
    assert spec(cap_drop=["ALL"], cap_add=["ALL"]).cap_add == ("ALL",)


def test_cli_flags() -> None:
    s = spec(
        memory="64m",
        cpus=0.5,
        restart_policy="on-failure:2",
        init=True,
        read_only=True,
        cap_add=["NET_ADMIN"],
        cap_drop=["CHOWN"],
        privileged=True,
        tmpfs={"/scratch": "size=1m", "/run": ""},
        shm_size="8m",
        ulimits={"nofile": "512:1024"},
        dns=["10.0.0.53"],
        extra_hosts={"db": "10.1.2.3"},
        platform="linux/amd64",
        stop_signal="USR1",
        stop_timeout=3,
    )
    # On both CLIs' command lines, before the image.
    args = _cli.run_args(s, init_binary="tini-static")
    assert args[args.index("--") + 1] == IMAGE
    assert _cli.resource_args(s, init_binary="tini-static") == [
        *("--memory", "67108864", "--cpus", "0.5", "--restart", "on-failure:2"),
        *("--init", "--init-binary", "tini-static", "--read-only"),
        *("--cap-add", "NET_ADMIN", "--cap-drop", "CHOWN", "--privileged"),
        *("--tmpfs", "/scratch:size=1m", "--tmpfs", "/run", "--shm-size", "8388608"),
        *("--ulimit", "nofile=512:1024", "--dns", "10.0.0.53", "--add-host", "db:10.1.2.3"),
        *("--platform", "linux/amd64", "--stop-signal", "SIGUSR1", "--stop-timeout", "3"),
    ]
    assert "--init-binary" not in _cli.resource_args(s)


def test_docker_restart_policy() -> None:
    assert docker._restart_policy(None) is None
    assert docker._restart_policy("always") == {"Name": "always", "MaximumRetryCount": 0}
    assert docker._restart_policy("on-failure:2") == {
        "Name": "on-failure",
        "MaximumRetryCount": 2,
    }


def test_podman_configured_ulimits(tmp_path: Path) -> None:
    conf = tmp_path / "containers.conf"
    conf.write_text('[containers]\ndefault_ulimits = ["nofile=1024:2048", "nproc=512"]\n')
    assert podman.configured_ulimits({"CONTAINERS_CONF": str(conf)}) == [
        Ulimit(name="nofile", soft=1024, hard=2048),
        Ulimit(name="nproc", soft=512, hard=512),
    ]
    assert podman.configured_ulimits({"CONTAINERS_CONF": str(tmp_path / "none")}) == []


@pytest.mark.parametrize(
    ("raw", "policy"),
    [
        ({"Name": "", "MaximumRetryCount": 0}, "no"),
        ({"Name": "no", "MaximumRetryCount": 0}, "no"),
        ({"Name": "always", "MaximumRetryCount": 0}, "always"),
        ({"Name": "on-failure", "MaximumRetryCount": 2}, "on-failure:2"),
        ({"Name": "on-failure", "MaximumRetryCount": 0}, "on-failure"),
        ("on-failure:2", "on-failure:2"),  # nerdctl's containerd.io/restart.policy label
        ("unless-stopped", "unless-stopped"),
        (None, "no"),
    ],
)
def test_restart_policy_read_back(raw: Any, policy: str) -> None:
    assert _normalize.restart_policy(raw) == policy


def test_stop_settings_read_back() -> None:
    assert _normalize.signal_name("SIGUSR1") == "SIGUSR1"  # docker
    assert _normalize.signal_name(10) == "SIGUSR1"  # podman
    assert _normalize.signal_name("10") == "SIGUSR1"
    assert _normalize.signal_name(None) == "SIGTERM"
    assert _normalize.stop_timeout(3) == 3
    assert _normalize.stop_timeout("3") == 3  # nerdctl's nerdctl/stop-timeout label
    assert _normalize.stop_timeout(None) == 10


def test_prune_networks_skips_builtin_attached_and_refused() -> None:
    from types import SimpleNamespace

    from runtimes.base import Runtime
    from runtimes.models import Container, Network, NetworkAttachment

    removed: list[str] = []

    def remove(name: str) -> None:
        if name == "raced":
            raise runtimes.NetworkInUse(name, ["someone"])
        removed.append(name)

    fake = SimpleNamespace(
        builtin_networks=frozenset({"bridge", "podman"}),
        _networks=lambda labels: [
            Network(name=n, id=n) for n in ("bridge", "podman", "used", "free", "raced")
        ],
        _ps=lambda spec: [
            Container(
                id="c" * 64,
                name="stopped",
                image=IMAGE,
                networks=(NetworkAttachment(network="used"),),
            )
        ],
        _remove_network=remove,
    )
    assert Runtime._prune_networks(fake, {"k": "v"}) == ["free"]  # type: ignore[arg-type]
    assert removed == ["free"]


def test_nerdctl_restart_policies_follow_containerd() -> None:
    from runtimes.adapters import nerdctl

    policies = runtimes.Capability.RESTART_POLICIES
    assert policies not in nerdctl.capabilities_for((2, 0, 3), (1, 6, 20))
    assert policies not in nerdctl.capabilities_for((2, 2, 2), None)
    assert policies in nerdctl.capabilities_for((2, 0, 3), (1, 7, 0))
    assert policies in nerdctl.capabilities_for((2, 2, 2), (2, 4, 2))
    assert policies in docker.DockerRuntime.capabilities
    assert policies in podman.PodmanRuntime.capabilities
