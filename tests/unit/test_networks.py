"""Networks: each runtime's records, recorded on a real engine
(``scripts/record_fixtures.py networks``), mapped onto the models; their
error texts mapped onto the library's errors; and input validation."""

from __future__ import annotations

import json
from typing import Any

import attrs
import docker.errors
import pytest
import requests

import runtimes
from runtimes import NetworkAttachment, _specs
from runtimes._shell import Completed, Shell
from runtimes._translate import translate
from runtimes._transport import message_from_body
from runtimes.adapters import _cli
from runtimes.adapters.docker import DockerRuntime
from runtimes.adapters.nerdctl import NerdctlRuntime
from runtimes.adapters.podman import PodmanRuntime
from runtimes.specs import RunSpec

SUBNET = "10.213.77.0/24"


def bare(cls: type) -> Any:
    """An adapter instance without a connection: only its mapping methods are used."""
    return object.__new__(cls)


def only(items: Any, name: str) -> Any:
    (found,) = [i for i in items if i.name == name]
    return found


# -- network records -------------------------------------------------------------------


def test_docker_network_records(recorded: Any) -> None:
    records = recorded("docker", "network_inspect.json")
    net = runtimes._normalize.network_from_engine(records["user"])
    assert net.name == "fixture-net"
    assert len(net.id) == 64
    assert net.subnets == (SUBNET,)
    assert net.labels == {"runtimes.fixture": "1", "app": "demo"}
    assert not net.internal
    assert runtimes._normalize.network_from_engine(records["bridge"]).subnets == ("172.17.0.0/16",)
    listed = [
        runtimes._normalize.network_from_engine(n) for n in recorded("docker", "network_list.json")
    ]
    assert {n.name for n in listed} == {"fixture-net", "fixture-other"}
    assert only(listed, "fixture-net") == net


def test_podman_network_records_are_netavark_shaped(recorded: Any) -> None:
    records = recorded("podman", "network_inspect.json")
    assert "subnets" in records["user"]  # snake_case, not the Engine API's IPAM
    net = runtimes._normalize.network_from_netavark(records["user"])
    assert net.name == "fixture-net"
    assert len(net.id) == 64
    assert net.subnets == (SUBNET,)
    assert net.labels == {"runtimes.fixture": "1", "app": "demo"}
    # The adapter asks for what the CLI gives and the API does not.
    assert records["user"]["dns_enabled"] is True
    assert records["user"]["options"] == {"isolate": "true"}
    default = runtimes._normalize.network_from_netavark(records["default"])
    assert (default.name, default.subnets) == ("podman", ("10.88.0.0/16",))
    listed = [
        runtimes._normalize.network_from_netavark(n)
        for n in recorded("podman", "network_list.json")
    ]
    assert {n.name for n in listed} == {"fixture-net", "fixture-other"}


def test_nerdctl_network_records(recorded: Any) -> None:
    records = list(_cli.parse_json_stream(recorded("nerdctl", "network_inspect.txt")))
    net = runtimes._normalize.network_from_engine(records[0])
    assert net.name == "fixture-net"
    assert len(net.id) == 64
    assert net.subnets == (SUBNET,)
    assert net.labels == {"runtimes.fixture": "1", "app": "demo"}
    assert not net.internal  # nerdctl has no internal networks
    bridge = runtimes._normalize.network_from_engine(records[1])
    assert bridge.labels == {"nerdctl/default-network": "true"}


class FakeShell:
    """Answers ``network ls`` and ``network inspect`` with recorded output."""

    def __init__(self, recorded: Any) -> None:
        self.recorded = recorded
        self.calls: list[list[str]] = []

    def run(self, args: list[str], **kwargs: Any) -> Completed:
        self.calls.append(args)
        if args[:2] == ["network", "ls"]:
            return Completed(tuple(args), 0, self.recorded("nerdctl", "network_ls.ndjson"), b"")
        return Completed(tuple(args), 0, self.recorded("nerdctl", "network_inspect.txt"), b"")


def test_nerdctl_listing_leaves_out_modes(recorded: Any) -> None:
    listed = list(_cli.parse_json_stream(recorded("nerdctl", "network_ls.ndjson")))
    assert {"host", "none"} <= {n["Name"] for n in listed}  # listed, with no id
    rt = bare(NerdctlRuntime)
    rt._shell = FakeShell(recorded)
    rt._networks({})
    inspected = rt._shell.calls[-1]
    assert inspected[:3] == ["network", "inspect", "--"]
    assert not {"host", "none"} & set(inspected[3:])


# -- containers on networks ----------------------------------------------------------------


def test_docker_container_networks(recorded: Any) -> None:
    records = recorded("docker", "inspect_networks.json")
    raw = records["running"]["NetworkSettings"]["Networks"]
    # What dockerd adds by itself: the short id and the hostname.
    assert {"fixture-host", records["running"]["Id"][:12]} <= set(raw["fixture-net"]["Aliases"])
    running = bare(DockerRuntime)._from_inspect(records["running"])
    assert running.networks == (
        NetworkAttachment(
            network="fixture-net", ip_address="10.213.77.2", aliases=("fixture-alias",)
        ),
        NetworkAttachment(
            network="fixture-other",
            ip_address=running.network("fixture-other").ip_address,
            aliases=("fixture-late",),
        ),
    )
    stopped = bare(DockerRuntime)._from_inspect(records["stopped"])
    assert stopped.networks == (NetworkAttachment(network="fixture-net"),)
    # A generated name, joined again as an alias so that dockerd resolves it.
    unnamed = bare(DockerRuntime)._from_inspect(records["unnamed"])
    assert (
        unnamed.name in records["unnamed"]["NetworkSettings"]["Networks"]["fixture-net"]["Aliases"]
    )
    assert unnamed.network("fixture-net").aliases == ()


def test_docker_listing_has_addresses_not_aliases(recorded: Any) -> None:
    items = [
        bare(DockerRuntime)._from_list(i)
        for i in recorded("docker", "containers_list_networks.json")
    ]
    running = only(items, "fixture-on-net")
    assert [a.network for a in running.networks] == ["fixture-net", "fixture-other"]
    assert running.network("fixture-net").ip_address == "10.213.77.2"
    assert all(a.aliases == () for a in running.networks)
    assert only(items, "fixture-stopped").network("fixture-net").ip_address is None


def test_podman_container_networks(recorded: Any) -> None:
    records = recorded("podman", "inspect_networks.json")
    raw = records["running"]["NetworkSettings"]["Networks"]["fixture-net"]
    assert "fixture-host" in raw["Aliases"]  # added by the adapter, for aardvark-dns
    assert raw["NetworkID"] == "fixture-net"  # Podman puts the name there
    running = bare(PodmanRuntime)._from_inspect(records["running"])
    assert running.network("fixture-net") == NetworkAttachment(
        network="fixture-net", ip_address="10.213.77.2", aliases=("fixture-alias",)
    )
    assert running.network("fixture-other").aliases == ("fixture-late",)
    stopped = bare(PodmanRuntime)._from_inspect(records["stopped"])
    assert stopped.networks == (NetworkAttachment(network="fixture-net"),)
    listed = [
        bare(PodmanRuntime)._from_list(i)
        for i in recorded("podman", "containers_list_networks.json")
    ]
    # Podman's listing has the names only.
    assert only(listed, "fixture-on-net").networks == (
        NetworkAttachment(network="fixture-net"),
        NetworkAttachment(network="fixture-other"),
    )


def test_nerdctl_container_networks_come_back_by_name(recorded: Any) -> None:
    running_raw, stopped_raw = _cli.parse_json_stream(recorded("nerdctl", "inspect_networks.txt"))
    # nerdctl 2.0 keys addresses by interface, not by network.
    assert list(running_raw["NetworkSettings"]["Networks"]) == ["unknown-eth0"]
    running = bare(NerdctlRuntime)._container(running_raw)
    assert running.networks == (NetworkAttachment(network="fixture-net", ip_address="10.213.77.2"),)
    assert "nerdctl/networks" not in running.labels
    stopped = bare(NerdctlRuntime)._container(stopped_raw)
    assert stopped.networks == (NetworkAttachment(network="fixture-net"),)


def test_nerdctl_attachments_follow_the_interface_order() -> None:
    labels = {"nerdctl/networks": json.dumps(["b-net", "a-net", "host"])}
    settings = {
        "Networks": {
            "unknown-eth0": {"IPAddress": "10.0.1.2"},
            "unknown-eth1": {"IPAddress": "10.0.2.2"},
        }
    }
    assert runtimes._normalize.nerdctl_attachments(labels, settings) == (
        NetworkAttachment(network="a-net", ip_address="10.0.2.2"),
        NetworkAttachment(network="b-net", ip_address="10.0.1.2"),
    )
    assert runtimes._normalize.nerdctl_attachments({"nerdctl/networks": "not json"}, None) == ()


def test_podman_run_adds_the_hostname_as_an_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[RunSpec] = []
    monkeypatch.setattr(_cli, "run_detached", lambda shell, spec: seen.append(spec) or "id")
    rt = bare(PodmanRuntime)
    rt._shell = None
    rt._run(RunSpec("demo:1", network="app-net", hostname="db", aliases=("primary",)))
    rt._run(RunSpec("demo:1", network="podman", hostname="db"))  # the default: no DNS there
    rt._run(RunSpec("demo:1", hostname="db"))
    assert [s.aliases for s in seen] == [("primary", "db"), (), ()]
    args = _cli.run_args(seen[0])
    assert args[args.index("--network") : args.index("--network") + 8] == [
        "--network", "app-net", "--network-alias", "primary", "--network-alias", "db",
        "--hostname", "db",
    ]  # fmt: skip


# -- errors -------------------------------------------------------------------------------------


def docker_error(status: int, message: str) -> docker.errors.APIError:
    response = requests.Response()
    response.status_code = status
    return docker.errors.APIError("request failed", response=response, explanation=message)


# (case, the verb's target, expected class): the same on the three runtimes.
CASES: list[tuple[str, Any, type[runtimes.RuntimesError]]] = [
    ("missing", "network", runtimes.NetworkNotFound),
    ("remove_missing", "network", runtimes.NetworkNotFound),
    ("in_use", "network", runtimes.NetworkInUse),
    ("name_conflict", "network", runtimes.NameConflict),
    ("overlap", "network", runtimes.CommandFailed),
    ("already_connected", "container", runtimes.CommandFailed),
    ("not_connected", "container", runtimes.CommandFailed),
    ("connect_missing_network", "container", runtimes.NetworkNotFound),
]


@pytest.mark.parametrize(("case", "target", "expected"), CASES)
def test_docker_network_errors(recorded: Any, case: str, target: Any, expected: type) -> None:
    error = recorded("docker", "network_errors.json")[case]
    rt = bare(DockerRuntime)
    rt.host = "unix:///var/run/docker.sock"
    with pytest.raises(runtimes.RuntimesError) as info, rt._api("op", target, "fixture-x"):
        raise docker_error(error["status"], error["message"])
    assert type(info.value) is expected, info.value
    if expected is runtimes.NetworkNotFound and target == "container":
        assert info.value.ref == "fixture-nope"  # type: ignore[attr-defined]


@pytest.mark.parametrize(("case", "target", "expected"), CASES)
def test_podman_network_errors(recorded: Any, case: str, target: Any, expected: type) -> None:
    error = recorded("podman", "network_errors.json")[case]
    message = message_from_body(error["body"].encode())
    mapped = translate("podman", "op", message, target=target, ref="x", status=error["status"])
    assert type(mapped) is expected, mapped


@pytest.mark.parametrize(
    ("case", "target", "expected"),
    [
        *(
            row
            for row in CASES
            if row[0] in ("missing", "remove_missing", "in_use", "name_conflict", "overlap")
        ),
        # nerdctl creates the container, then its hook finds no network:
        # the text is a start failure, so Runtime.run checks the network first.
        ("run_missing_network", "image", runtimes.CommandFailed),
    ],
)
def test_nerdctl_network_errors(recorded: Any, case: str, target: Any, expected: type) -> None:
    error = recorded("nerdctl", "network_errors.json")[case]
    done = Completed(("nerdctl", "network"), error["rc"], b"", error["stderr"].encode())
    mapped = Shell("nerdctl", "nerdctl").error(done, operation="op", target=target, ref="x")
    assert type(mapped) is expected, mapped
    if case != "run_missing_network":  # that one nests the hook's own log line
        assert "level=" not in str(mapped)


def test_network_in_use_names_its_users() -> None:
    error = runtimes.NetworkInUse("shop", ["web", "db"])
    assert error.containers == ("web", "db")
    assert "web, db" in str(error)
    assert not isinstance(error, LookupError)
    assert issubclass(runtimes.NetworkNotFound, runtimes.NotFound)


# -- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "subnet",
    ["10.1.2.0/33", "10.1.2.3/24", "10.1.2.0", "fd00::/64", "10.0.0.0/31", "0.0.0.0/4",
     "10.1.2.0/24\n", "10.1.2.0/024", "²", 24, "--help"],
)  # fmt: skip
def test_bad_subnets(subnet: Any) -> None:
    with pytest.raises(runtimes.InvalidSpec):
        _specs.check_subnet(subnet)


def test_good_subnets() -> None:
    assert _specs.check_subnet("10.89.3.0/24") == "10.89.3.0/24"
    assert _specs.check_subnet("172.30.0.0/16") == "172.30.0.0/16"
    assert _specs.check_subnet(None) is None


def test_aliases_need_a_user_network() -> None:
    builtin = frozenset({"bridge", "host", "none"})
    assert _specs.check_aliases(["db", "db", "cache.local"], "app", builtin) == (
        "db",
        "cache.local",
    )
    assert _specs.check_aliases("db", "app", builtin) == ("db",)
    assert _specs.check_aliases((), None, builtin) == ()
    for network in (None, "bridge", "host"):
        with pytest.raises(runtimes.InvalidSpec, match="user network"):
            _specs.check_aliases(["db"], network, builtin)
    for bad in (["-x"], ["a b"], [1], {"a": "b"}, ["a" * 64], ["x."]):
        with pytest.raises(runtimes.InvalidSpec):
            _specs.check_aliases(bad, "app", builtin)  # type: ignore[arg-type]


def test_hostnames() -> None:
    assert _specs.check_hostname("db-1.internal") == "db-1.internal"
    for bad in ("-db", "db-", "a b", "a" * 64, "", "a..b", 1):
        with pytest.raises(runtimes.InvalidSpec):
            _specs.check_hostname(bad)  # type: ignore[arg-type]


def test_network_names_exclude_the_runtimes_own() -> None:
    builtin = DockerRuntime.builtin_networks
    for name in ("bridge", "host", "none", "default"):
        with pytest.raises(runtimes.InvalidSpec):
            _specs.network_spec(name, labels=None, internal=False, subnet=None, builtin=builtin)
    spec = _specs.network_spec(
        "app", labels={"a": "b"}, internal=False, subnet=None, builtin=builtin
    )
    assert spec.name == "app"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        spec.name = "x"  # type: ignore[misc]
    assert "podman" in PodmanRuntime.builtin_networks
    assert "podman" not in NerdctlRuntime.builtin_networks


def test_unsupported_names_its_capability_and_reason() -> None:
    rt = bare(NerdctlRuntime)
    with pytest.raises(runtimes.Unsupported) as info:
        rt._require(runtimes.Capability.NETWORK_ALIASES, "network aliases")
    assert info.value.capability is runtimes.Capability.NETWORK_ALIASES
    assert "hostname" in str(info.value)
    assert isinstance(info.value, NotImplementedError)
    for capability in runtimes.Capability:
        if capability not in NerdctlRuntime.capabilities and capability.name.startswith(
            ("NETWORK", "INTERNAL", "ISOLATED")
        ):
            assert capability in NerdctlRuntime.unsupported_reasons, capability
