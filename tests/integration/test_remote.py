"""Remote endpoints against the second engine of scripts/second-engine.sh:
every way of naming one, and every way of failing to reach one.

The engine runs in network namespace ``runtimes-remote`` (10.231.0.2) with
its own containerd, dockerd (mutual TLS on :2376), Podman service and sshd
(:2222); ``eval "$(scripts/second-engine.sh env)"`` exports where.  Without
it these tests are skipped, unless ``RUNTIMES_REQUIRE`` names a
``runtime@variant``: then they fail.  The whole contract suite runs against
it through ``RUNTIMES_REQUIRE=docker@tls,docker@ssh,podman@ssh``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import runtimes
from runtimes.testing.images import build_test_image
from runtimes.testing.plugin import required_runtimes, variant_options
from runtimes.testing.suite import http_get

pytestmark = pytest.mark.runtimes_contract


@pytest.fixture(scope="module")
def remote() -> dict[str, str]:
    """The second engine's exports, or skip (fail when a variant is required)."""
    env = {k: v for k, v in os.environ.items() if k.startswith("RUNTIMES_REMOTE_")}
    if "RUNTIMES_REMOTE_TLS_DIR" not in env:
        reason = "no second engine: scripts/second-engine.sh start, then eval its env"
        if any("@" in name for name in required_runtimes()):
            pytest.fail(f"RUNTIMES_REQUIRE names a remote variant but there is {reason}")
        pytest.skip(reason)
    return env


@pytest.fixture
def tls(remote: dict[str, str]) -> Path:
    return Path(remote["RUNTIMES_REMOTE_TLS_DIR"])


@pytest.fixture
def ssh_dir(remote: dict[str, str]) -> Path:
    return Path(remote["RUNTIMES_REMOTE_SSH_DIR"])


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No endpoint from the caller's environment or files; the machine-wide
    CA bundle variables set, as on this machine and in CI."""
    for name in (
        "DOCKER_HOST",
        "DOCKER_CONTEXT",
        "DOCKER_TLS_VERIFY",
        "DOCKER_CERT_PATH",
        "CONTAINER_HOST",
        "CONTAINER_SSHKEY",
        "CONTAINER_CONNECTION",
        "RUNTIMES_DEFAULT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    monkeypatch.setenv("PODMAN_CONNECTIONS_CONF", str(tmp_path / "podman-connections.json"))
    # What requests would take as the CA of every HTTPS call (docker-py #2433).
    bundle = next(
        (p for p in ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")
         if os.path.exists(p)),
        None,
    )  # fmt: skip
    if bundle:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundle)
        monkeypatch.setenv("CURL_CA_BUNDLE", bundle)
    return monkeypatch


def docker_tls(remote: dict[str, str]) -> dict[str, str]:
    return variant_options("docker@tls")[1]


def unavailable(runtime: str, **options: Any) -> runtimes.RuntimeUnavailable:
    with pytest.raises(runtimes.RuntimeUnavailable) as info:
        runtimes.connect(runtime, **options).close()
    return info.value


# -- Docker over TLS ---------------------------------------------------------


def test_docker_tls_from_docker_variables(
    remote: dict[str, str], tls: Path, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("DOCKER_HOST", remote["RUNTIMES_REMOTE_DOCKER_TLS_HOST"])
    clean_env.setenv("DOCKER_TLS_VERIFY", "1")
    clean_env.setenv("DOCKER_CERT_PATH", str(tls / "client"))
    with runtimes.connect("docker") as rt:
        info = rt.info()
        assert info.endpoint == remote["RUNTIMES_REMOTE_DOCKER_TLS_HOST"]
        assert info.endpoint_source == "DOCKER_HOST"
        assert rt.engine_host == "10.231.0.2"
        # The second engine, not this machine's: its own data root.
        assert info.raw["info"]["DockerRootDir"] == "/var/lib/runtimes-remote/docker"


def test_docker_context_made_by_the_docker_cli(
    remote: dict[str, str], tls: Path, clean_env: pytest.MonkeyPatch
) -> None:
    cli = shutil.which("docker")
    if cli is None:
        pytest.skip("no docker CLI to make a context with")
    host = remote["RUNTIMES_REMOTE_DOCKER_TLS_HOST"]
    material = f"ca={tls}/ca.pem,cert={tls}/client-cert.pem,key={tls}/client-key.pem"
    for argv in (
        ["context", "create", "rt-remote", "--docker", f"host={host},{material}"],
        ["context", "use", "rt-remote"],
    ):
        subprocess.run([cli, *argv], check=True, capture_output=True, timeout=60)
    with runtimes.connect("docker") as rt:
        info = rt.info()
    assert info.endpoint == host
    assert info.endpoint_source.startswith("Docker context 'rt-remote' (currentContext in ")
    clean_env.setenv("DOCKER_CONTEXT", "default")  # DOCKER_CONTEXT wins over currentContext
    with runtimes.connect("docker") as rt:
        assert rt.info().endpoint == "unix:///var/run/docker.sock"
    # `runtimes info` says which endpoint and why.
    clean_env.setenv("DOCKER_CONTEXT", "rt-remote")
    done = subprocess.run(
        [sys.executable, "-m", "runtimes.cli", "--format", "json", "info"],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    docker = next(r for r in json.loads(done.stdout)["runtimes"] if r["name"] == "docker")
    assert docker["endpoint"] == host
    assert docker["endpoint_source"] == "Docker context 'rt-remote' (DOCKER_CONTEXT)"


@pytest.mark.parametrize(
    ("case", "reason", "words"),
    [
        ("wrong_ca", "unknown-ca", "unknown CA"),
        ("no_client_certificate", "client-certificate-required", "requires a client certificate"),
        ("expired_client_certificate", "client-certificate-expired", "expired on"),
        ("untrusted_client_certificate", "client-certificate-refused", "refused the client"),
        ("plain_http", "tls-required", "speaks TLS"),
        ("refused_port", "connection-refused", "connection refused"),
    ],
)
def test_docker_tls_failures_name_the_cause(
    remote: dict[str, str], tls: Path, clean_env: pytest.MonkeyPatch, case: str, reason: str,
    words: str,
) -> None:  # fmt: skip
    host = remote["RUNTIMES_REMOTE_DOCKER_TLS_HOST"]
    ca, cert, key = tls / "ca.pem", tls / "client-cert.pem", tls / "client-key.pem"
    options: dict[str, Any] = {
        "wrong_ca": {"tls_ca": tls / "other-ca.pem", "tls_cert": cert, "tls_key": key},
        "no_client_certificate": {"tls_ca": ca},
        "expired_client_certificate": {
            "tls_ca": ca,
            "tls_cert": tls / "expired-client-cert.pem",
            "tls_key": tls / "expired-client-key.pem",
        },
        "untrusted_client_certificate": {
            "tls_ca": ca,
            "tls_cert": tls / "other-client-cert.pem",
            "tls_key": tls / "other-client-key.pem",
        },
        "plain_http": {},
        "refused_port": {"tls_ca": ca, "tls_cert": cert, "tls_key": key},
    }[case]
    if case == "refused_port":
        host = host.rsplit(":", 1)[0] + ":2377"  # nothing listens there
    error = unavailable("docker", host=host, **{k: str(v) for k, v in options.items()})
    assert error.reason == reason
    assert words in str(error)
    assert host in str(error)
    assert isinstance(error, OSError)


def test_docker_tls_reachable_is_found_by_detect(
    remote: dict[str, str], clean_env: pytest.MonkeyPatch
) -> None:
    options = docker_tls(remote)
    assert runtimes.registry.detect("docker", **options) is None
    assert "unknown CA" in str(
        runtimes.registry.detect("docker", **{**options, "tls_ca": options["tls_cert"]})
    )


# -- Docker over SSH ---------------------------------------------------------


def ssh_processes(marker: str) -> list[str]:
    done = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, timeout=30)
    return [line for line in done.stdout.splitlines() if line.startswith("ssh") and marker in line]


def test_docker_over_ssh_leaves_no_ssh_behind(remote: dict[str, str]) -> None:
    adapter, options = variant_options("docker@ssh")
    with runtimes.connect(adapter, **options) as rt:
        info = rt.info()
        assert info.endpoint == remote["RUNTIMES_REMOTE_DOCKER_SSH_HOST"]
        assert rt.engine_host == "10.231.0.2"
        bridge = rt._bridge  # type: ignore[attr-defined]
        assert ssh_processes(bridge.path) or ssh_processes(os.path.dirname(bridge.path))
    assert ssh_processes(os.path.dirname(bridge.path)) == []
    assert not os.path.exists(os.path.dirname(bridge.path))


@pytest.mark.parametrize(
    ("case", "reason", "words"),
    [
        ("wrong_key", "ssh-auth-refused", "Permission denied"),
        ("unknown_host_key", "ssh-host-key", "Host key verification failed"),
        ("refused_port", "connection-refused", "Connection refused"),
        ("key_may_not_dial", "ssh-remote-command", "dial-stdio"),
    ],
)
def test_docker_ssh_failures_name_the_cause(
    remote: dict[str, str], ssh_dir: Path, case: str, reason: str, words: str
) -> None:
    host = remote["RUNTIMES_REMOTE_DOCKER_SSH_HOST"]
    known = str(ssh_dir / "known_hosts")
    options = {
        "wrong_key": {"ssh_identity": ssh_dir / "wrong_ed25519", "ssh_known_hosts": known},
        "unknown_host_key": {"ssh_identity": ssh_dir / "docker_ed25519"},
        "refused_port": {"ssh_identity": ssh_dir / "docker_ed25519", "ssh_known_hosts": known},
        "key_may_not_dial": {"ssh_identity": ssh_dir / "podman_ed25519", "ssh_known_hosts": known},
    }[case]
    if case == "refused_port":
        host = host.rsplit(":", 1)[0] + ":2223"
    if case == "unknown_host_key" and any(
        Path(p).expanduser().exists() for p in ("~/.ssh/known_hosts", "~/.ssh/known_hosts2")
    ):
        pytest.skip("the user's known_hosts may know the second engine's key")
    error = unavailable("docker", host=host, **{k: str(v) for k, v in options.items()})
    assert error.reason == reason
    assert words in str(error)


def test_docker_ssh_without_an_ssh_client(
    remote: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no ssh there
    _, options = variant_options("docker@ssh")
    error = unavailable("docker", **options)
    assert error.reason == "ssh-client-missing"
    assert "openssh-client" in str(error)


def test_docker_ssh_through_paramiko_says_when_it_is_missing(remote: dict[str, str]) -> None:
    pytest.importorskip("docker")
    try:
        import paramiko  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("paramiko is installed: nothing missing to report")
    _, options = variant_options("docker@ssh")
    error = unavailable("docker", ssh_client="paramiko", **options)
    assert error.reason == "ssh-client-missing"
    assert "paramiko" in str(error)
    with pytest.raises(runtimes.InvalidSpec, match="ssh_client"):
        runtimes.connect("docker", ssh_client="putty", **options)


# -- Podman over SSH ---------------------------------------------------------


def test_podman_from_container_host_and_sshkey(
    remote: dict[str, str], clean_env: pytest.MonkeyPatch, ssh_dir: Path
) -> None:
    clean_env.setenv("CONTAINER_HOST", remote["RUNTIMES_REMOTE_PODMAN_SSH_HOST"])
    clean_env.setenv("CONTAINER_SSHKEY", str(ssh_dir / "podman_ed25519"))
    with runtimes.connect("podman", ssh_known_hosts=str(ssh_dir / "known_hosts")) as rt:
        info = rt.info()
        assert info.endpoint_source == "CONTAINER_HOST"
        assert info.raw["store"]["graphRoot"] == "/var/lib/runtimes-remote/podman/storage"
        assert rt.engine_host == "10.231.0.2"
        # The CLI verbs reach the same service (through the same tunnel).
        assert rt._shell.global_args[:2] == ("--remote", "--url")  # type: ignore[attr-defined]


def test_podman_default_connection(
    remote: dict[str, str], clean_env: pytest.MonkeyPatch, ssh_dir: Path, tmp_path: Path
) -> None:
    connections = tmp_path / "podman-connections.json"
    connections.write_text(
        json.dumps(
            {
                "Connection": {
                    "Default": "second-engine",
                    "Connections": {
                        "second-engine": {
                            "URI": remote["RUNTIMES_REMOTE_PODMAN_SSH_HOST"],
                            "Identity": str(ssh_dir / "podman_ed25519"),
                        }
                    },
                }
            }
        )
    )
    clean_env.setenv("PODMAN_CONNECTIONS_CONF", str(connections))
    with runtimes.connect("podman", ssh_known_hosts=str(ssh_dir / "known_hosts")) as rt:
        source = rt.info().endpoint_source
    assert source == f"default connection 'second-engine' (Default in {connections})"


@pytest.mark.parametrize(
    ("case", "reason", "words"),
    [
        ("wrong_key", "ssh-auth-refused", "Permission denied"),
        ("no_socket_there", "ssh-forwarding-refused", "nothing listens"),
        ("refused_port", "connection-refused", "Connection refused"),
    ],
)
def test_podman_ssh_failures_name_the_cause(
    remote: dict[str, str], ssh_dir: Path, case: str, reason: str, words: str
) -> None:
    host = remote["RUNTIMES_REMOTE_PODMAN_SSH_HOST"]
    key = ssh_dir / ("wrong_ed25519" if case == "wrong_key" else "podman_ed25519")
    if case == "no_socket_there":
        host = host.replace("podman.sock", "no-such.sock")
    if case == "refused_port":
        host = host.replace(":2222", ":2223")
    error = unavailable(
        "podman", host=host, ssh_identity=str(key), ssh_known_hosts=str(ssh_dir / "known_hosts")
    )
    assert error.reason == reason
    assert words in str(error)


# -- nerdctl through a command prefix ------------------------------------------


@pytest.fixture
def remote_nerdctl(remote: dict[str, str], runtimes_session_id: str) -> Iterator[runtimes.Runtime]:
    if shutil.which("nerdctl") is None:
        pytest.skip("no nerdctl")
    _, options = variant_options("nerdctl@netns")
    rt = runtimes.connect("nerdctl", namespace=f"rt-{runtimes_session_id}", **options)
    try:
        yield rt
    finally:
        from runtimes.testing.plugin import cleanup

        with contextlib.suppress(runtimes.RuntimesError):
            cleanup(rt, {"runtimes.test-session": runtimes_session_id})
        rt.close()


def test_nerdctl_through_a_command_prefix(
    remote_nerdctl: runtimes.Runtime, session_labels: dict[str, str], runtimes_session_id: str
) -> None:
    rt = remote_nerdctl
    info = rt.info()
    assert "via ip netns exec runtimes-remote" in info.endpoint
    assert rt.engine_host == "10.231.0.2"
    tag = f"runtimes-test/remote-nerdctl:{runtimes_session_id}"
    build_test_image(rt, tag, session_labels)
    with rt.running(
        tag, ["httpd", "-f", "-p", "8080", "-h", "/www"], ports=["8080"], labels=session_labels
    ) as web:
        binding = web.port(8080)
        assert binding.host == "10.231.0.2"
        assert http_get(binding).strip() == "hello from runtimes"
        assert rt.exec(web, ["echo", "remote"]).stdout == b"remote\n"
    rt.remove_image(tag, force=True)
