"""Each runtime's own output, recorded on a real engine, mapped onto the models."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime
from typing import Any

import pytest

from runtimes import ContainerState, PortBinding, _normalize
from runtimes._normalize import (
    command_text,
    exit_code_from_status,
    image_id,
    image_tag,
    labels,
    state,
    timestamp,
)
from runtimes.adapters import _cli
from runtimes.adapters.docker import DockerRuntime
from runtimes.adapters.nerdctl import NerdctlRuntime
from runtimes.adapters.podman import PodmanRuntime


def bare(cls: type) -> Any:
    """An adapter instance without a connection: only its mapping methods are used."""
    return object.__new__(cls)


# -- docker ----------------------------------------------------------------------------


def test_docker_list_needs_no_inspect(recorded: Any) -> None:
    items = {
        c.name: c
        for c in map(bare(DockerRuntime)._from_list, recorded("docker", "containers_list.json"))
    }
    running, exited = items["fixture-running"], items["fixture-exited"]
    assert len(running.id) == 64
    assert running.state is ContainerState.RUNNING
    assert running.exit_code is None
    assert running.command == ("sleep", "1000")
    assert running.ports[0].host_ip == "127.0.0.1"
    assert running.ports[0].container_port == 8080
    assert running.labels["with.comma"] == "a,b"
    assert exited.state is ContainerState.EXITED
    assert exited.exit_code == 3
    assert exited.command == ("sh", "-c", "exit 3")
    assert exited.created_at is not None
    assert exited.created_at.tzinfo is UTC


def test_docker_inspect(recorded: Any) -> None:
    c = bare(DockerRuntime)._from_inspect(recorded("docker", "inspect_exited.json"))
    assert c.name == "fixture-exited"  # Docker's leading "/" removed
    assert c.exit_code == 3
    assert c.state is ContainerState.EXITED
    assert c.image == "runtimes-fixture:1"
    assert c.started_at is not None
    assert c.finished_at is not None
    assert c.finished_at >= c.started_at
    running = bare(DockerRuntime)._from_inspect(recorded("docker", "inspect_running.json"))
    assert running.finished_at is None  # Go's zero time means "never"
    assert running.ports[0].host_port > 0


def test_docker_image(recorded: Any) -> None:
    image = bare(DockerRuntime)._image_from_inspect(recorded("docker", "image_inspect.json"))
    assert image.id.startswith("sha256:")
    assert len(image.id) == 71
    assert image.tags == ("runtimes-fixture:1",)
    assert image.labels["app"] == "demo"


# -- podman ----------------------------------------------------------------------------


def test_podman_list(recorded: Any) -> None:
    items = {
        c.name: c
        for c in map(bare(PodmanRuntime)._from_list, recorded("podman", "containers_list.json"))
    }
    running, exited = items["fixture-running"], items["fixture-exited"]
    assert running.image == "runtimes-fixture:1"  # localhost/ removed
    assert running.ports == (
        PortBinding(
            container_port=8080,
            protocol="tcp",
            host_ip="127.0.0.1",
            host_port=running.ports[0].host_port,
        ),
    )
    assert exited.exit_code == 3
    assert exited.state is ContainerState.EXITED
    assert exited.ports == ()  # Podman gives null
    assert running.started_at is not None
    assert running.finished_at is None


def test_podman_inspect_entrypoint_string_and_states(recorded: Any) -> None:
    raw = recorded("podman", "inspect_running.json")
    assert raw["Config"]["Entrypoint"] == ""  # what Podman really sends
    c = bare(PodmanRuntime)._from_inspect(raw)
    assert c.command == ("sleep", "1000")
    assert c.image == "runtimes-fixture:1"
    initialized = bare(PodmanRuntime)._from_inspect(recorded("podman", "inspect_initialized.json"))
    assert initialized.state is ContainerState.CREATED


def test_podman_image_bare_id(recorded: Any) -> None:
    raw = recorded("podman", "images_list.json")[0]
    assert len(raw["Id"]) == 64
    assert not raw["Id"].startswith("sha256:")
    image = bare(PodmanRuntime)._image_model(raw)
    assert image.id == "sha256:" + raw["Id"]
    assert image.tags == ("runtimes-fixture:1",)


def test_podman_cli_json_is_one_array_with_humanised_created(recorded: Any) -> None:
    items = list(_cli.parse_json_stream(recorded("podman", "cli_ps.txt")))
    assert items
    assert all(isinstance(i, dict) for i in items)
    assert timestamp(items[0]["CreatedAt"]) is None  # "2 seconds ago" is not a time
    assert timestamp(items[0]["Created"]) is not None  # the epoch int is


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("stopping", ContainerState.RUNNING),
        ("stopped", ContainerState.EXITED),
        ("initialized", ContainerState.CREATED),
        ("configured", ContainerState.CREATED),
        ("", ContainerState.CREATED),
        ("pausing", ContainerState.PAUSED),
        ("Exited", ContainerState.EXITED),
        ("weird", ContainerState.UNKNOWN),
    ],
)
def test_state_words(word: str, expected: ContainerState) -> None:
    assert state(word) is expected


# -- nerdctl ---------------------------------------------------------------------------


def test_nerdctl_ps_has_no_state_and_string_labels(recorded: Any) -> None:
    items = list(_cli.parse_json_stream(recorded("nerdctl", "ps.ndjson")))
    assert items
    assert all("State" not in i for i in items)
    assert all(isinstance(i["Labels"], str) for i in items)
    assert all(len(i["ID"]) == 64 for i in items)


def test_nerdctl_batched_inspect(recorded: Any) -> None:
    raws = list(_cli.parse_json_stream(recorded("nerdctl", "inspect_batched.txt")))
    items = {c.name: c for c in map(bare(NerdctlRuntime)._container, raws)}
    assert set(items) == {"fixture-running", "fixture-exited", "fixture-created"}
    created = items["fixture-created"]
    assert created.raw["State"]["Status"] == ""  # never started: no task
    assert created.state is ContainerState.CREATED
    assert created.exit_code is None
    exited = items["fixture-exited"]
    assert exited.exit_code == 3
    assert exited.state is ContainerState.EXITED
    running = items["fixture-running"]
    assert running.image == "runtimes-fixture:1"  # docker.io/library/ removed
    assert running.labels == {"app": "demo", "runtimes.fixture": "1"}  # nerdctl/* hidden
    assert running.command == ("sleep", "1000")
    assert running.ports[0].host_port >= 49153


def test_nerdctl_image_id_is_the_manifest_digest(recorded: Any) -> None:
    raw = next(iter(_cli.parse_json_stream(recorded("nerdctl", "image_inspect.txt"))))
    image = bare(NerdctlRuntime)._image_model(raw)
    digest = raw["RepoDigests"][0].partition("@")[2]
    assert image.id == digest != raw["Id"]
    listed = list(_cli.parse_json_stream(recorded("nerdctl", "images.ndjson")))
    assert digest in {i["Digest"] for i in listed}


# -- shared helpers ----------------------------------------------------------------------


def test_labels_from_string_keep_commas_in_values() -> None:
    assert labels("a=1,b=x,y,c=") == {"a": "1", "b": "x,y", "c": ""}
    assert labels(None) == {}
    assert labels({"k": "v"}) == {"k": "v"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "2026-11-28T20:07:06.749662991Z",
            datetime(2026, 11, 28, 20, 7, 6, 749662, tzinfo=UTC),
        ),
        ("2026-11-28 20:07:06 +0000 UTC", datetime(2026, 11, 28, 20, 7, 6, tzinfo=UTC)),
        (
            "2026-11-28 20:08:06.548412161 +0000 UTC",
            datetime(2026, 11, 28, 20, 8, 6, 548412, tzinfo=UTC),
        ),
        (1795896430, datetime.fromtimestamp(1795896430, tz=UTC)),
        ("0001-01-01T00:00:00Z", None),
        (-62135596800, None),
        ("", None),
    ],
)
def test_timestamps(text: Any, expected: datetime | None) -> None:
    assert timestamp(text) == expected


def test_ids_tags_commands_ports_status() -> None:
    assert image_id("a" * 64) == "sha256:" + "a" * 64
    assert image_id("sha256:" + "b" * 64) == "sha256:" + "b" * 64
    assert image_tag("localhost/demo:1") == "demo:1"
    assert image_tag("docker.io/library/demo:1") == "demo:1"
    assert image_tag("quay.io/x/y:1") == "quay.io/x/y:1"
    assert command_text("sh -c 'exit 3'") == ("sh", "-c", "exit 3")
    assert command_text('"sleep 10') == ('"sleep', "10")  # truncated listing
    # The unquoted fast path splits as shlex does, tabs and runs of spaces too.
    for text in ("sleep  10", "a\tb c", "", "  x  ", "echo #not-a-comment", "a\xa0b\x0bc"):
        assert command_text(text) == tuple(shlex.split(text))
    assert command_text(r"echo a\ b") == ("echo", "a b")
    assert exit_code_from_status("Exited (137) 3 seconds ago") == 137
    assert exit_code_from_status("Up 3 seconds") is None


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-28T20:08:56.127213296Z",
        "2026-11-28T20:08:56Z",
        "2026-11-28T20:08:56.1Z",
        "2026-11-28T23:59:59.999999999Z",
        "0001-01-01T00:00:00Z",
        "2026-11-28T20:08:56.Z",
        "2026-13-28T20:08:56.5Z",
        "2026-11-28T20:08:56.12a4Z",
    ],
)
def test_the_log_timestamp_fast_path_agrees_with_the_general_one(text: str) -> None:
    fast = _normalize.utc_rfc3339(text)
    assert fast is None or fast == _normalize.timestamp(text)
    # The general path without the fast one: the same answer.
    general = _normalize.timestamp(text.replace("Z", "+00:00"))
    assert _normalize.timestamp(text) == general
