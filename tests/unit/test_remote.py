"""Remote endpoints without an engine: which endpoint and why, how a failure
is named (from recorded real failures), where a published port is reached."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import attrs
import pytest

import runtimes
from runtimes._transport import connect_failure, engine_host, ssh_failure
from runtimes.adapters import _docker_endpoint, _podman_endpoint
from runtimes.adapters._ssh import SshDestination, SshOptions
from runtimes.adapters.docker import _failure_of
from runtimes.models import PortBinding, connect_host
from runtimes.testing.plugin import variant_options

FIXTURES = Path(__file__).parent.parent / "fixtures"


class Link(Exception):
    """One recorded link of an exception chain, its text as recorded."""


def recorded_chain(links: list[str]) -> BaseException:
    """Rebuild a recorded chain ("Type: text" per link) as real exceptions."""
    exc: BaseException | None = None
    for text in reversed(links):
        outer = Link(text)
        outer.__cause__ = exc
        exc = outer
    assert exc is not None
    return exc


# -- failures, from recordings of the second engine --------------------------

REMOTE_ERRORS = json.loads((FIXTURES / "docker" / "remote_errors.json").read_text())
TLS_CASES = sorted(k for k, v in REMOTE_ERRORS.items() if "chain" in v)
SSH_CASES = sorted(k for k, v in REMOTE_ERRORS.items() if "stderr" in v)


def _offered(case: str) -> _docker_endpoint.TlsFiles:
    """What the client offered in the recorded case."""
    certs = FIXTURES / "docker"
    if case == "no_client_certificate":
        return _docker_endpoint.TlsFiles(verify=True, ca="ca.pem")
    if case == "expired_client_certificate":
        cert = str(certs / "expired-client-cert.pem")
    else:
        cert = str(certs / "other-client-cert.pem")
    return _docker_endpoint.TlsFiles(verify=True, ca="ca.pem", cert=cert, key="key.pem")


@pytest.mark.parametrize("case", TLS_CASES)
def test_tls_and_socket_failures_are_named(case: str) -> None:
    recorded = REMOTE_ERRORS[case]
    failure = _failure_of(recorded_chain(recorded["chain"]), _offered(case))
    assert failure is not None
    assert failure.reason == recorded["reason"]


def test_a_status_error_is_no_connect_failure() -> None:
    assert connect_failure(ValueError("no such container: x")) is None


def test_the_expiry_of_a_client_certificate_is_read_locally() -> None:
    expired = _docker_endpoint.certificate_expired(
        str(FIXTURES / "docker" / "expired-client-cert.pem")
    )
    assert expired is not None
    assert "2020" in expired
    assert _docker_endpoint.certificate_expired(
        str(FIXTURES / "docker" / "other-client-cert.pem")
    ) is None  # fmt: skip
    assert _docker_endpoint.certificate_expired("/no/such/cert.pem") is None


@pytest.mark.parametrize("case", SSH_CASES)
def test_ssh_failures_are_named(case: str) -> None:
    recorded = REMOTE_ERRORS[case]
    failure = ssh_failure(recorded["stderr"], recorded["returncode"])
    assert failure.reason == recorded["reason"]
    said = recorded["stderr"].strip()
    if said:
        assert said in failure.text  # ssh's own words are kept


def test_ssh_warnings_are_not_the_cause() -> None:
    stderr = (
        "Warning: Permanently added '[10.231.0.2]:2222' (ED25519) to the list of known hosts.\r\n"
        "root@10.231.0.2: Permission denied (publickey).\r\n"
    )
    failure = ssh_failure(stderr, 255)
    assert failure.reason == "ssh-auth-refused"
    assert "Warning" not in failure.text


def test_runtime_unavailable_carries_the_reason() -> None:
    exc = runtimes.RuntimeUnavailable("docker", "cannot reach", reason="unknown-ca")
    assert exc.reason == "unknown-ca"
    assert isinstance(exc, OSError)
    assert runtimes.RuntimeUnavailable("docker", "x").reason is None


# -- Docker: which endpoint, and why -----------------------------------------


def make_context(
    config: Path, name: str, host: str, *, tls: bool, skip_verify: bool = False
) -> None:
    """A context store entry in the layout `docker context create` writes
    (tests/fixtures/docker/context_meta.json is one it wrote)."""
    recorded = json.loads((FIXTURES / "docker" / "context_meta.json").read_text())
    meta = recorded["meta.json"]
    meta = {**meta, "Name": name}
    meta["Endpoints"] = {"docker": {"Host": host, "SkipTLSVerify": skip_verify}}
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta_dir = config / "contexts" / "meta" / digest
    meta_dir.mkdir(parents=True)
    (meta_dir / "meta.json").write_text(json.dumps(meta))
    if tls:
        tls_dir = config / "contexts" / "tls" / digest / "docker"
        tls_dir.mkdir(parents=True)
        for file in ("ca.pem", "cert.pem", "key.pem"):
            assert file in recorded["tls files"]
            (tls_dir / file).write_text("-")


@pytest.fixture
def docker_config(tmp_path: Path) -> Path:
    config = tmp_path / "docker-config"
    config.mkdir()
    make_context(config, "remote-tls", "tcp://10.0.0.9:2376", tls=True)
    make_context(config, "remote-ssh", "ssh://u@build-box", tls=False)
    (config / "config.json").write_text(json.dumps({"auths": {}, "currentContext": "remote-ssh"}))
    return config


def resolve(env: dict[str, str], **options: Any) -> _docker_endpoint.DockerEndpoint:
    return _docker_endpoint.resolve(environ=env, **options)


def test_docker_endpoint_precedence(docker_config: Path) -> None:
    env = {
        "DOCKER_CONFIG": str(docker_config),
        "DOCKER_HOST": "tcp://env-host:2375",
        "DOCKER_CONTEXT": "remote-tls",
    }
    assert resolve(env, host="unix:///x.sock").source == "option host"
    by_option = resolve(env, context="remote-ssh")
    assert (by_option.url, by_option.context) == ("ssh://u@build-box", "remote-ssh")
    assert by_option.source == "Docker context 'remote-ssh' (option context)"
    assert resolve(env).describe() == "tcp://env-host:2375 (from DOCKER_HOST)"
    del env["DOCKER_HOST"]
    assert resolve(env).source == "Docker context 'remote-tls' (DOCKER_CONTEXT)"
    del env["DOCKER_CONTEXT"]
    current = resolve(env)
    assert current.url == "ssh://u@build-box"
    assert current.source.startswith("Docker context 'remote-ssh' (currentContext in ")
    (docker_config / "config.json").write_text("{}")
    assert resolve(env).describe() == "unix:///var/run/docker.sock (from default socket)"
    env["DOCKER_CONTEXT"] = "default"
    assert resolve(env).url == "unix:///var/run/docker.sock"


def test_a_context_brings_its_tls_material(docker_config: Path) -> None:
    endpoint = resolve({"DOCKER_CONFIG": str(docker_config)}, context="remote-tls")
    assert endpoint.tls is not None
    assert endpoint.tls.verify
    digest = hashlib.sha256(b"remote-tls").hexdigest()
    assert endpoint.tls.ca == str(docker_config / "contexts" / "tls" / digest / "docker" / "ca.pem")
    assert endpoint.tls.cert is not None
    assert endpoint.tls.cert.endswith("cert.pem")
    # A context's TLS ignores DOCKER_CERT_PATH, as the CLI does.
    env = {"DOCKER_CONFIG": str(docker_config), "DOCKER_CERT_PATH": "/elsewhere"}
    assert resolve(env, context="remote-tls").tls == endpoint.tls


def test_a_missing_context_is_named(docker_config: Path) -> None:
    with pytest.raises(runtimes.RuntimeUnavailable) as info:
        resolve({"DOCKER_CONFIG": str(docker_config), "DOCKER_CONTEXT": "nope"})
    assert info.value.reason == "unknown-context"
    assert "'nope'" in str(info.value)
    assert "DOCKER_CONTEXT" in str(info.value)


def test_docker_tls_from_the_environment(tmp_path: Path) -> None:
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / name).write_text("-")
    env = {
        "DOCKER_HOST": "tcp://h:2376",
        "DOCKER_TLS_VERIFY": "1",
        "DOCKER_CERT_PATH": str(tmp_path),
    }
    tls = resolve(env).tls
    assert tls == _docker_endpoint.TlsFiles(
        verify=True,
        ca=str(tmp_path / "ca.pem"),
        cert=str(tmp_path / "cert.pem"),
        key=str(tmp_path / "key.pem"),
    )
    # The CLI's rules: any non-empty DOCKER_TLS_VERIFY verifies; a cert path
    # alone means TLS without verifying; neither means plain HTTP.
    assert resolve({**env, "DOCKER_TLS_VERIFY": "0"}).tls.verify  # type: ignore[union-attr]
    no_verify = resolve({**env, "DOCKER_TLS_VERIFY": ""}).tls
    assert no_verify is not None
    assert not no_verify.verify
    assert resolve({"DOCKER_HOST": "tcp://h:2375"}).tls is None
    # A unix socket never takes TLS.
    assert resolve({**env, "DOCKER_HOST": "unix:///x.sock"}).tls is None


def test_docker_tls_options_win_and_are_checked(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-")
    env = {"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "/elsewhere"}
    tls = resolve(env, host="tcp://h:2376", tls_ca=str(ca)).tls
    assert tls == _docker_endpoint.TlsFiles(verify=True, ca=str(ca))
    assert resolve(env, host="tcp://h:2376", tls_verify="false").tls == _docker_endpoint.TlsFiles(
        verify=False
    )
    with pytest.raises(runtimes.InvalidSpec, match="tls_cert"):
        resolve({}, host="tcp://h:2376", tls_cert=str(tmp_path / "missing.pem"))
    with pytest.raises(runtimes.InvalidSpec, match="go together"):
        resolve({}, host="tcp://h:2376", tls_cert=str(ca))
    with pytest.raises(runtimes.InvalidSpec, match="tls_verify"):
        resolve({}, host="tcp://h:2376", tls_verify="maybe")


def test_docker_configured_endpoint_names_the_rule(
    docker_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runtimes.adapters.docker import DockerRuntime

    for name in ("DOCKER_HOST", "DOCKER_CONTEXT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(docker_config))
    found = DockerRuntime.configured_endpoint()
    assert found is not None
    assert found.startswith("ssh://u@build-box (from Docker context 'remote-ssh'")
    (docker_config / "config.json").write_text("{}")
    assert DockerRuntime.configured_endpoint() is None


# -- Podman: which service, and why ------------------------------------------


@pytest.fixture
def podman_env(tmp_path: Path) -> dict[str, str]:
    # containers.conf as `podman system connection add` (Podman 4.3) wrote it.
    conf = tmp_path / "containers.conf"
    shutil.copy(FIXTURES / "podman" / "connections.conf", conf)
    return {
        "CONTAINERS_CONF": str(conf),
        "PODMAN_CONNECTIONS_CONF": str(tmp_path / "podman-connections.json"),
    }


def test_podman_default_connection_from_containers_conf(podman_env: dict[str, str]) -> None:
    endpoint = _podman_endpoint.resolve(environ=podman_env)
    assert endpoint.url == "ssh://root@10.231.0.2:2222"
    assert endpoint.identity == "/var/lib/runtimes-remote/ssh/podman_ed25519"
    assert endpoint.source.startswith("default connection 'remote-test' (active_service in ")


def test_podman_connections_json_wins(podman_env: dict[str, str], tmp_path: Path) -> None:
    # Podman 5's format (podman-system-connection(1)); not recorded: Podman 4 here.
    Path(podman_env["PODMAN_CONNECTIONS_CONF"]).write_text(
        json.dumps(
            {
                "Connection": {
                    "Default": "box",
                    "Connections": {
                        "box": {"URI": "ssh://core@box:22/run/podman/podman.sock"},
                        "remote-test": {"URI": "ssh://other@x/run/podman/podman.sock"},
                    },
                },
                "Farm": {},
            }
        )
    )
    endpoint = _podman_endpoint.resolve(environ=podman_env)
    assert endpoint.url == "ssh://core@box:22/run/podman/podman.sock"
    assert endpoint.source.startswith("default connection 'box' (Default in ")
    named = _podman_endpoint.resolve(connection="remote-test", environ=podman_env)
    assert named.url == "ssh://other@x/run/podman/podman.sock"
    assert named.identity is None


def test_podman_endpoint_precedence(podman_env: dict[str, str]) -> None:
    env = {
        **podman_env,
        "CONTAINER_HOST": "ssh://a@env-host/run/podman/podman.sock",
        "CONTAINER_SSHKEY": "/keys/env",
        "CONTAINER_CONNECTION": "remote-test",
    }
    assert _podman_endpoint.resolve(host="unix:///x.sock", environ=env).source == "option host"
    by_name = _podman_endpoint.resolve(connection="remote-test", environ=env)
    assert by_name.source == "connection 'remote-test' (option connection)"
    assert by_name.identity == "/keys/env"  # CONTAINER_SSHKEY before the connection's
    from_env = _podman_endpoint.resolve(environ=env)
    assert (from_env.url, from_env.source, from_env.identity) == (
        "ssh://a@env-host/run/podman/podman.sock",
        "CONTAINER_HOST",
        "/keys/env",
    )
    del env["CONTAINER_HOST"]
    assert _podman_endpoint.resolve(environ=env).source.endswith("(CONTAINER_CONNECTION)")
    key = _podman_endpoint.resolve(ssh_identity="/keys/option", environ=env).identity
    assert key == "/keys/option"
    env["CONTAINER_CONNECTION"] = "nope"
    with pytest.raises(runtimes.RuntimeUnavailable) as info:
        _podman_endpoint.resolve(environ=env)
    assert info.value.reason == "unknown-connection"


def test_podman_without_any_connection_is_this_machine(tmp_path: Path) -> None:
    env = {
        "CONTAINERS_CONF": str(tmp_path / "none.conf"),
        "PODMAN_CONNECTIONS_CONF": str(tmp_path / "none.json"),
    }
    assert _podman_endpoint.resolve(environ=env).url is None


# -- ssh command lines -------------------------------------------------------


def test_ssh_destination_and_argv() -> None:
    dest = SshDestination.parse("ssh://root@10.231.0.2:2222/run/podman/podman.sock")
    assert (dest.user, dest.host, dest.port, dest.path) == (
        "root",
        "10.231.0.2",
        2222,
        "/run/podman/podman.sock",
    )
    assert str(dest) == "ssh://root@10.231.0.2:2222"
    argv = SshOptions(dest, identity="/k/id", known_hosts="/k/known hosts").argv("-N")
    assert argv[0] == "ssh"
    assert argv[-3:] == ["-N", "--", "10.231.0.2"]
    assert "BatchMode=yes" in argv
    assert argv[argv.index("-i") + 1] == "/k/id"
    assert argv[argv.index("-p") + 1] == "2222"
    assert argv[argv.index("-l") + 1] == "root"
    known = next(a for a in argv if a.startswith("UserKnownHostsFile="))
    assert known.startswith('UserKnownHostsFile="/k/known hosts" ~/.ssh/known_hosts')
    with pytest.raises(runtimes.InvalidSpec):
        SshDestination.parse("tcp://x:1")


# -- where a published port is reached -----------------------------------------


@pytest.mark.parametrize(
    ("host_ip", "engine", "expected"),
    [
        ("127.0.0.1", None, "127.0.0.1"),
        ("0.0.0.0", None, "127.0.0.1"),
        ("", None, "127.0.0.1"),
        ("::", None, "::1"),
        ("192.0.2.7", None, "192.0.2.7"),
        ("0.0.0.0", "build-box", "build-box"),
        ("::", "build-box", "build-box"),
        ("127.0.0.1", "build-box", "build-box"),
        ("10.231.0.2", "build-box", "10.231.0.2"),
    ],
)
def test_connect_host(host_ip: str, engine: str | None, expected: str) -> None:
    assert connect_host(host_ip, engine) == expected


def test_engine_host_of_endpoints() -> None:
    assert engine_host("unix:///var/run/docker.sock") is None
    assert engine_host("tcp://10.231.0.2:2376") == "10.231.0.2"
    assert engine_host("ssh://root@build-box:2222/run/podman/podman.sock") == "build-box"
    assert engine_host("npipe:////./pipe/docker_engine") is None


class _Remote(runtimes.Runtime):
    """Just enough of an adapter for ``_own``."""

    name = "fake"

    @classmethod
    def detect(cls, **options: Any) -> str | None:
        return None


for _verb in _Remote.__abstractmethods__:
    setattr(_Remote, _verb, lambda *a, **k: None)
_Remote.__abstractmethods__ = frozenset()


def test_own_points_ports_at_the_engine_host() -> None:
    binding = PortBinding(container_port=80, protocol="tcp", host_ip="0.0.0.0", host_port=32768)
    assert binding.host == "127.0.0.1"
    container = runtimes.Container(
        id="a" * 64, name="web", image="i", ports=(binding,), runtime="x"
    )
    rt = _Remote()
    local = rt._own(container)
    assert local.port(80).host == "127.0.0.1"
    assert local.runtime == "fake"
    rt.configure(engine_host="10.231.0.2")
    remote = rt._own(container)
    assert remote.port(80).host == "10.231.0.2"
    assert attrs.evolve(remote.port(80), host="x").host_port == 32768
    with pytest.raises(runtimes.InvalidSpec):
        rt.configure(engine_host="tcp://x/y")


# -- the test plugin's runtime@variant names ------------------------------------


def test_variant_options_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNTIMES_REMOTE_DOCKER_TLS_HOST", "tcp://10.231.0.2:2376")
    monkeypatch.setenv("RUNTIMES_REMOTE_DOCKER_TLS_TLS_CA", "/ca.pem")
    monkeypatch.setenv("RUNTIMES_REMOTE_DOCKER_TLS_ENGINE_HOST", "box")
    monkeypatch.setenv("RUNTIMES_REMOTE_DOCKER_TLS_NOT_AN_OPTION", "x")
    assert variant_options("docker@tls") == (
        "docker",
        {"host": "tcp://10.231.0.2:2376", "tls_ca": "/ca.pem", "engine_host": "box"},
    )
    assert variant_options("podman") == ("podman", {})
    with pytest.raises(LookupError, match="RUNTIMES_REMOTE_PODMAN_NOPE_"):
        variant_options("podman@nope")


# -- Podman reached remotely: push digest, followed logs, stored credentials ---


def test_compat_push_stream_gives_the_digest_and_the_error() -> None:
    from runtimes._translate import translate
    from runtimes.adapters.podman import compat_push_digest, compat_push_event

    lines = (FIXTURES / "podman" / "compat_push_stream.jsonl").read_text().splitlines()
    chunks = [json.loads(line) for line in lines]
    digests = [d for d in map(compat_push_digest, chunks) if d]
    assert len(digests) == 1
    assert digests[0].startswith("sha256:")
    assert len(digests[0]) == 71
    events = [e for e in map(compat_push_event, chunks) if e is not None]
    assert events[0].message.startswith("The push refers to repository")
    assert all(e.action == "push" and e.layer is None for e in events)
    error = next(c["error"] for c in chunks if c.get("error"))
    refused = translate("podman", "push", error, target="image", registry="10.231.0.1:5000")
    assert isinstance(refused, runtimes.AuthenticationFailed)


def _frame(second: int, text: str) -> tuple[str, bytes]:
    from datetime import UTC, datetime

    stamp = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return "stdout", f"{stamp} {text}\n".encode()


def test_polled_follow_gives_each_record_once() -> None:
    from runtimes.adapters.podman import poll_frames
    from runtimes.specs import LogsSpec

    # What the container writes before each read: a second "b" in the same
    # second as the first is a record of its own.
    writes = [[(100, "a"), (100, "b")], [(100, "b"), (101, "c")], [], [(102, "d")]]
    log: list[tuple[int, str]] = []
    reads: list[tuple[int | None, int | None]] = []

    def read(since: int | None, tail: int | None) -> list[Any]:
        reads.append((since, tail))
        log.extend(writes[len(reads) - 1])
        # As the API does: the records after `since` (whole seconds here).
        return [_frame(sec, text) for sec, text in log if since is None or sec > since]

    states = iter([True, True, True, False])
    spec = LogsSpec(container="c", follow=True)
    got = list(poll_frames(read, running=lambda: next(states), spec=spec, sleep=lambda _: None))
    texts = [payload.split(b" ", 1)[1] for _, payload in got]
    assert texts == [b"a\n", b"b\n", b"b\n", b"c\n", b"d\n"]
    assert reads[0] == (None, None)
    assert reads[1] == (99, None)  # a second before the newest record given
    assert reads[2] == (100, None)


def test_polled_follow_with_tail_zero_gives_only_what_comes_next() -> None:
    from runtimes.adapters.podman import poll_frames
    from runtimes.specs import LogsSpec

    old = [_frame(100, "old"), _frame(100, "older")]
    new = [_frame(100, "new"), _frame(103, "newer")]
    reads = iter([old, old + new])
    spec = LogsSpec(container="c", follow=True, tail=0)
    got = list(poll_frames(lambda s, t: next(reads), running=lambda: False, spec=spec))
    assert [payload.split(b" ", 1)[1] for _, payload in got] == [b"new\n", b"newer\n"]


def test_stored_credentials_are_found_for_an_api_call(tmp_path: Path) -> None:
    from runtimes import _credentials

    auth_file = tmp_path / "auth.json"
    auth_file.write_text(
        json.dumps({"auths": {"10.231.0.1:5000": {"auth": "dXNlcjpzM2NyZXQ6eA=="}}})
    )  # user:s3cret:x
    found = _credentials.lookup("10.231.0.1:5000", [tmp_path / "missing.json", auth_file])
    assert found == runtimes.RegistryAuth("user", "s3cret:x")
    assert _credentials.lookup("other:5000", [auth_file]) is None
