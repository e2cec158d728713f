"""Registry verbs, pinned on recorded real output of each runtime."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

import runtimes
from runtimes import _credentials, _specs
from runtimes._translate import translate
from runtimes.adapters import docker as docker_adapter
from runtimes.adapters import nerdctl as nerdctl_adapter
from runtimes.adapters import podman as podman_adapter


def test_docker_stream_events(recorded: Any) -> None:
    pushed = [
        json.loads(line) for line in recorded("docker", "push_events.jsonl").decode().splitlines()
    ]
    events = [e for c in pushed if (e := docker_adapter.progress_event("push", c)) is not None]
    assert events[0].layer is None
    assert events[0].message.startswith("The push refers to repository")
    assert any(e.status == "exists" and e.layer for e in events)  # "Mounted from ..."
    pulled = [
        json.loads(line) for line in recorded("docker", "pull_events.jsonl").decode().splitlines()
    ]
    events = [e for c in pulled if (e := docker_adapter.progress_event("pull", c)) is not None]
    # "Pulling from lead/rec" carries the tag as its id: an image-level event.
    assert events[0].layer is None
    assert events[1].status == "exists"
    assert events[1].layer == "a3f8c41ec1ac"


def test_docker_byte_counts() -> None:
    chunk = {
        "status": "Downloading",
        "progressDetail": {"current": 1024, "total": 4096},
        "id": "0123456789ab",
    }
    event = docker_adapter.progress_event("pull", chunk)
    assert event == runtimes.Progress(
        action="pull",
        layer="0123456789ab",
        status="downloading",
        current=1024,
        total=4096,
        message="Downloading",
    )


def test_podman_lines(recorded: Any) -> None:
    lines = recorded("podman", "push_output.txt").decode().splitlines()
    events = [e for line in lines if (e := podman_adapter.progress_event("push", line))]
    blobs = [e for e in events if e.layer]
    assert len(blobs) == 3
    assert all(e.status == "uploading" and len(e.layer or "") == 12 for e in blobs)
    pulled = recorded("podman", "pull_output.txt").decode().splitlines()
    events = [e for line in pulled if (e := podman_adapter.progress_event("pull", line))]
    assert {e.status for e in events if e.layer} == {"downloading"}
    # The image id podman prints last is the result, not an event.
    assert not any(len(e.message) == 64 and e.layer is None for e in events)
    skipped = podman_adapter.progress_event(
        "pull", "Copying blob 6b8f3a1c2d4e skipped: already exists"
    )
    assert skipped is not None
    assert skipped.status == "exists"
    retry = 'time="2026-11-29T02:36:22Z" level=warning msg="Failed, retrying in 1s ... (1/3)."'
    assert podman_adapter.progress_event("pull", retry) is None


def test_nerdctl_rows(recorded: Any) -> None:
    rows = nerdctl_adapter.ProgressRows("push")
    lines = recorded("nerdctl", "push_table.txt").decode().splitlines()
    events = [e for line in lines if (e := rows.event(_strip_ansi(line)))]
    layers = [e for e in events if e.layer]
    # The table is reprinted three times; each row change is one event.
    assert len({e.layer for e in layers}) == 3
    assert len(layers) == 4  # 1 layer went waiting -> done, 2 were done at once
    assert rows.pushed_digest() == (
        "sha256:4ec97c2ca8ded594ce895103f68327d068062f724fa5f0dc7f6457c223cab53c"
    )
    counted = nerdctl_adapter.ProgressRows("pull").event(
        "layer-sha256:" + "a" * 64 + ":    downloading    |+++-----|  1.0 MiB/2.0 MiB"
    )
    assert counted is not None
    assert (counted.status, counted.current, counted.total) == ("downloading", 1 << 20, 2 << 20)
    assert nerdctl_adapter.ProgressRows("pull").event("elapsed: 0.1 s   total: 0.0 B") is None


def _strip_ansi(line: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", line)


@pytest.mark.parametrize(
    ("runtime", "text", "expected"),
    [
        (
            "docker",
            "manifest for 127.0.0.1:5901/lead/rec:nope not found: manifest unknown: "
            "manifest unknown",
            runtimes.ImageNotFound,
        ),
        (
            "docker",
            'Get "http://127.0.0.1:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection refused',
            runtimes.RegistryUnavailable,
        ),
        (
            "podman",
            "initializing source docker://127.0.0.1:5901/lead/nope:1: reading manifest 1 in "
            "127.0.0.1:5901/lead/nope: manifest unknown: manifest unknown",
            runtimes.ImageNotFound,
        ),
        (
            "podman",
            'pinging container registry 127.0.0.1:5901: Get "https://127.0.0.1:5901/v2/": '
            "http: server gave HTTP response to HTTPS client",
            runtimes.RegistryUnavailable,
        ),
        (
            "nerdctl",
            'failed to resolve reference "127.0.0.1:5999/lead/x:1": failed to do request: Head '
            '"http://127.0.0.1:5999/v2/lead/x/manifests/1": dial tcp 127.0.0.1:5999: connect: '
            "connection refused",
            runtimes.RegistryUnavailable,
        ),
        (
            "podman",
            "unable to connect to Podman socket: connection refused",
            runtimes.RuntimeUnavailable,
        ),
    ],
)
def test_registry_errors(runtime: str, text: str, expected: type[Exception]) -> None:
    error = translate(runtime, "pull", text, target="image", ref="x", registry="127.0.0.1:5901")
    assert type(error) is expected


def test_qualify_and_split() -> None:
    assert _specs.qualify("postgres:16") == ("docker.io", "docker.io/library/postgres:16")
    assert _specs.qualify("team/app") == ("docker.io", "docker.io/team/app:latest")
    assert _specs.qualify("127.0.0.1:5000/a/b")[1] == "127.0.0.1:5000/a/b:latest"
    assert _specs.split_reference("127.0.0.1:5000/a/b:1") == ("127.0.0.1:5000/a/b", "1")
    digest = "sha256:" + "c" * 64
    assert _specs.split_reference(f"h.io/a:1@{digest}") == ("h.io/a", digest)
    with pytest.raises(runtimes.InvalidSpec):
        _specs.qualify("sha256:" + "a" * 64)


def test_docker_insecure_registry_rules() -> None:
    config = {
        "InsecureRegistryCIDRs": ["127.0.0.0/8"],
        "IndexConfigs": {"docker.io": {"Secure": True}, "box.lan:5000": {"Secure": False}},
    }
    assert docker_adapter.registry_is_insecure(config, "127.0.0.1:5000")
    assert docker_adapter.registry_is_insecure(config, "box.lan:5000")
    assert not docker_adapter.registry_is_insecure(config, "10.0.0.1:5000")
    assert not docker_adapter.registry_is_insecure(config, "docker.io")


def test_credentials_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"auths": {"other:1": {"auth": "eDp5"}}, "keep": 1}))
    auth = runtimes.RegistryAuth("user", "s3cret-pass")
    _credentials.store("127.0.0.1:5000", auth, path=path)
    data = json.loads(path.read_text())
    assert data["keep"] == 1
    assert data["auths"]["other:1"] == {"auth": "eDp5"}
    assert data["auths"]["127.0.0.1:5000"] == {"auth": "dXNlcjpzM2NyZXQtcGFzcw=="}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    _credentials.erase("127.0.0.1:5000", path=path)
    assert "127.0.0.1:5000" not in json.loads(path.read_text())["auths"]
    _credentials.erase("127.0.0.1:5000", path=path)  # nothing stored: fine


def test_credentials_helper_gets_the_secret_on_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A credential helper named in credsStore receives the secret on stdin,
    # never on its command line.
    log = tmp_path / "helper.log"
    helper = tmp_path / "docker-credential-fake"
    helper.write_text(f'#!/bin/sh\necho "$@" >> {log}\ncat >> {log}\necho >> {log}\n')
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"credsStore": "fake"}))
    _credentials.store("docker.io", runtimes.RegistryAuth("u", "hidden-pw"), path=path)
    _credentials.erase("docker.io", path=path)
    text = log.read_text().splitlines()
    assert text[0] == "store"
    assert json.loads(text[1]) == {
        "ServerURL": "https://index.docker.io/v1/",
        "Username": "u",
        "Secret": "hidden-pw",
    }
    assert text[2:4] == ["erase", "https://index.docker.io/v1/"]
    assert "hidden-pw" not in path.read_text()


def test_registry_auth_repr_hides_the_password() -> None:
    auth = runtimes.RegistryAuth("u", "hidden-pw")
    assert "hidden-pw" not in repr(auth)


def test_common_options_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from runtimes import registry

    (tmp_path / "pyproject.toml").write_text(
        '[tool.runtimes]\npull = "missing"\ninsecure_registries = ["a:1"]\n'
        '[tool.runtimes.docker]\npull = "always"\n'
    )
    config = registry.load_config(tmp_path)
    cls = registry.adapter_class("docker")
    assert registry.resolve_options("docker", cls, {}, config)["pull"] == "always"
    assert registry.resolve_options("docker", cls, {}, config)["insecure_registries"] == ["a:1"]
    monkeypatch.setenv("RUNTIMES_PULL", "never")
    assert registry.resolve_options("docker", cls, {}, config)["pull"] == "never"
    assert registry.resolve_options("docker", cls, {"pull": "missing"}, config)["pull"] == "missing"


# What each recorded failure (tests/fixtures/<runtime>/registry.json, keys
# named after what happened) must become.
_EXPECTED = [
    ("down", runtimes.RegistryUnavailable),
    ("wrong_password", runtimes.AuthenticationFailed),
    ("no_credentials", runtimes.AuthenticationFailed),
    ("unknown_tag", runtimes.ImageNotFound),
    ("unknown_repo", runtimes.ImageNotFound),
    ("unknown_digest", runtimes.ImageNotFound),
    ("no_such_image", runtimes.ImageNotFound),
    ("unknown_ca", runtimes.RegistryUnavailable),
    ("tls_insecure_registry", runtimes.RegistryUnavailable),
    ("plain_tls_verify", runtimes.RegistryUnavailable),
]


def _recorded_failures() -> list[tuple[str, str, str]]:
    """``(runtime, key, message as the adapter extracts it)`` for every
    recorded failure of a transport the adapters use."""
    from runtimes._shell import clean_error_text
    from runtimes.adapters._cli import _NOT_ERROR

    fixtures = Path(__file__).parents[1] / "fixtures"
    found = []
    docker = json.loads((fixtures / "docker" / "registry.json").read_text())
    for key, entry in docker.items():
        if "_error_" not in key or key.endswith("no_header"):
            continue
        messages = []
        for line in entry["body"].splitlines():
            record = json.loads(line)
            messages.append(record.get("message") or record.get("error") or "")
        found.append(("docker", key, [m for m in messages if m][-1]))
    cli = {
        "podman": json.loads((fixtures / "podman" / "registry.json").read_text())["cli"],
        "nerdctl": json.loads((fixtures / "nerdctl" / "registry.json").read_text()),
    }
    for runtime, entries in cli.items():
        for key, entry in entries.items():
            if "_error_" not in key or key.startswith("logout"):
                continue
            kept = [ln for ln in entry["stderr"].splitlines() if not _NOT_ERROR.search(ln)]
            found.append((runtime, key, clean_error_text("\n".join(kept))))
    return found


@pytest.mark.parametrize(
    ("runtime", "key", "message"), _recorded_failures(), ids=lambda v: str(v)[:40]
)
def test_every_recorded_registry_failure_is_typed(runtime: str, key: str, message: str) -> None:
    expected = next((cls for part, cls in _EXPECTED if part in key), None)
    assert expected is not None, f"no expectation for {key}"
    verb = key.split("_")[0]
    error = translate(runtime, verb, message, target="image", ref="x", registry="127.0.0.1:1")
    assert type(error) is expected, f"{runtime} {key}: {message!r} -> {error!r}"
