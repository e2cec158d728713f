"""The throwaway registries of ``runtimes.testing.registry`` and their fixtures.

First the registry itself (plain, basic auth, TLS; what it counts; what it
leaves behind), then one push and pull through each runtime's own CLI per
registry kind: the flags each CLI needs are the recorded facts of
docs/testing-registry.md.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest
import requests

from runtimes.base import Runtime
from runtimes.testing import registry as registry_module
from runtimes.testing.plugin import registry_required
from runtimes.testing.registry import (
    LocalRegistry,
    RegistryRequest,
    RegistryStartFailed,
    RegistryToolMissing,
    UnreachableRegistry,
)


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A session that ignores the machine's REQUESTS_CA_BUNDLE and proxies."""
    with requests.Session() as session:
        session.trust_env = False
        yield session


def our_temp_dirs(prefix: str) -> list[Path]:
    return sorted(Path(tempfile.gettempdir()).glob(f"{prefix}*"))


def unique_prefix() -> str:
    return f"runtimes-registry-test-{os.getpid()}-{os.urandom(3).hex()}-"


# -- the registry ------------------------------------------------------------


def test_plain_registry_answers_and_counts(registry_factory: Any, http: requests.Session) -> None:
    registry = registry_factory()
    assert registry.url == f"http://127.0.0.1:{registry.port}"
    assert registry.ca_path is None
    assert registry.credentials is None
    assert registry.request_count() == 0  # the readiness probes are not counted

    answer = http.get(f"{registry.url}/v2/", headers={"User-Agent": "counting-test"}, timeout=10)
    assert answer.status_code == 200
    assert answer.json() == {}
    http.head(f"{registry.url}/v2/nothing/manifests/1", timeout=10)

    assert registry.requests() == [
        RegistryRequest("GET", "/v2/", 200, "counting-test"),
        RegistryRequest("HEAD", "/v2/nothing/manifests/1", 404, str(http.headers["User-Agent"])),
    ]
    assert registry.request_count() == 2


def test_auth_registry_wants_its_credentials(
    registry_factory: Any, http: requests.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    argvs: list[Sequence[str]] = []
    real_run = subprocess.run

    def recording_run(argv: Sequence[str], *args: Any, **kwargs: Any) -> Any:
        argvs.append(argv)
        return real_run(argv, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", recording_run)
    registry = registry_factory(auth=True, username="tester", password="s3cret-Pass word")
    creds = registry.credentials
    assert creds.username == "tester"

    anonymous = http.get(f"{registry.url}/v2/", timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic ")
    wrong = http.get(f"{registry.url}/v2/", auth=("tester", "wrong"), timeout=10)
    assert wrong.status_code == 401
    right = http.get(f"{registry.url}/v2/", auth=(creds.username, creds.password), timeout=10)
    assert right.status_code == 200
    assert [r.status for r in registry.requests()] == [401, 401, 200]

    # The password is on no command line, in no repr and in no file as is.
    assert argvs
    assert all(creds.password not in " ".join(argv) for argv in argvs)
    assert creds.password not in repr(registry) + repr(creds)
    assert registry.running
    cmdline = Path(f"/proc/{registry._proc.pid}/cmdline").read_bytes()
    assert creds.password.encode() not in cmdline
    for path in registry.directory.rglob("*"):
        if path.is_file():
            assert creds.password.encode() not in path.read_bytes(), path
    assert (registry.directory / "htpasswd").read_text().startswith("tester:$2y$")


def test_generated_credentials_differ_per_registry(registry_factory: Any) -> None:
    first, second = registry_factory(auth=True), registry_factory(auth=True)
    assert first.credentials.password != second.credentials.password
    assert len(first.credentials.password) >= 20


def test_tls_registry_is_trusted_through_its_ca_only(
    registry_factory: Any, http: requests.Session
) -> None:
    registry = registry_factory(tls=True)
    assert registry.url == f"https://127.0.0.1:{registry.port}"
    assert registry.ca_path is not None
    assert registry.ca_path.read_text().startswith("-----BEGIN CERTIFICATE-----")

    verified = http.get(f"{registry.url}/v2/", verify=str(registry.ca_path), timeout=10)
    assert verified.status_code == 200
    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        http.get(f"{registry.url}/v2/", verify=True, timeout=10)  # the system CAs
    plain = http.get(f"http://{registry.host}/v2/", timeout=10)
    assert plain.status_code == 400  # Go's answer to plain HTTP on a TLS port
    # Only requests that got through the handshake to HTTP are counted.
    assert [(r.method, r.path, r.status) for r in registry.requests()] == [("GET", "/v2/", 200)]


def test_tls_and_auth_combine(registry_factory: Any, http: requests.Session) -> None:
    registry = registry_factory(tls=True, auth=True)
    creds = registry.credentials
    url, ca = f"{registry.url}/v2/", str(registry.ca_path)
    assert http.get(url, verify=ca, timeout=10).status_code == 401
    assert (
        http.get(url, verify=ca, auth=(creds.username, creds.password), timeout=10).status_code
        == 200
    )


def test_ref_is_fully_qualified(registry_factory: Any) -> None:
    registry = registry_factory()
    assert registry.ref("demo/web", "1") == f"127.0.0.1:{registry.port}/demo/web:1"
    assert registry.ref("web") == f"127.0.0.1:{registry.port}/web:latest"
    for name, tag in (("Demo", "1"), ("a//b", "1"), ("web", "bad tag"), ("web", "")):
        with pytest.raises(ValueError, match="invalid"):
            registry.ref(name, tag)


def test_stop_removes_process_and_directory_even_when_the_body_raises(
    http: requests.Session,
) -> None:
    prefix = unique_prefix()
    with pytest.raises(ZeroDivisionError), LocalRegistry(prefix=prefix) as registry:  # noqa: PT012
        proc, directory, url = registry._proc, registry.directory, registry.url
        assert directory.is_dir()
        assert proc is not None
        assert http.get(f"{url}/v2/", timeout=10).status_code == 200
        1 / 0  # noqa: B018
    assert proc is not None
    assert proc.poll() is not None
    assert not directory.exists()
    assert our_temp_dirs(prefix) == []
    assert not registry.running
    with pytest.raises(requests.exceptions.ConnectionError):
        http.get(f"{url}/v2/", timeout=10)
    registry.stop()  # idempotent


def test_missing_binary_is_a_clear_error_and_leaves_nothing() -> None:
    prefix = unique_prefix()
    registry = LocalRegistry(binary="/nonexistent/docker-registry", prefix=prefix)
    with pytest.raises(RegistryToolMissing, match="docker-registry") as caught:
        registry.start()
    assert isinstance(caught.value, OSError)
    assert our_temp_dirs(prefix) == []


def test_a_registry_that_dies_reports_its_log_and_leaves_nothing(tmp_path: Path) -> None:
    fake = tmp_path / "docker-registry"
    fake.write_text("#!/bin/sh\necho 'configuration error: something is wrong' >&2\nexit 1\n")
    fake.chmod(0o755)
    prefix = unique_prefix()
    with pytest.raises(RegistryStartFailed, match="exited with code 1") as caught:
        LocalRegistry(binary=str(fake), prefix=prefix).start()
    assert "configuration error: something is wrong" in str(caught.value)
    assert our_temp_dirs(prefix) == []


def test_a_registry_that_never_answers_is_stopped(tmp_path: Path) -> None:
    fake = tmp_path / "docker-registry"
    fake.write_text("#!/bin/sh\necho 'starting' >&2\nexec sleep 600\n")
    fake.chmod(0o755)
    prefix = unique_prefix()
    registry = LocalRegistry(binary=str(fake), prefix=prefix, startup_timeout=0.5)
    with pytest.raises(RegistryStartFailed, match="did not answer GET /v2/") as caught:
        registry.start()
    assert "starting" in str(caught.value)
    assert our_temp_dirs(prefix) == []
    assert not registry.running


def test_a_taken_port_is_retried_on_another(
    monkeypatch: pytest.MonkeyPatch, http: requests.Session
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        ports = [taken.getsockname()[1]]
        real_free_port = registry_module._free_port

        def first_taken(host_ip: str = "127.0.0.1") -> int:
            return ports.pop() if ports else real_free_port(host_ip)

        monkeypatch.setattr(registry_module, "_free_port", first_taken)
        with LocalRegistry(prefix=unique_prefix()) as registry:
            assert registry.port != taken.getsockname()[1]
            assert http.get(f"{registry.url}/v2/", timeout=10).status_code == 200


def test_unreachable_registry_refuses_connections(
    unreachable_registry: UnreachableRegistry, http: requests.Session
) -> None:
    address = unreachable_registry
    assert address.ref("x/y", "1") == f"127.0.0.1:{address.port}/x/y:1"
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", address.port), timeout=5),
    ):
        pass
    with pytest.raises(requests.exceptions.ConnectionError):
        http.get(f"{address.url}/v2/", timeout=5)
    # The port is held: nothing else can start listening there meanwhile.
    with socket.socket() as other, pytest.raises(OSError, match="in use") as caught:
        other.bind(("127.0.0.1", address.port))
    assert caught.value.errno == errno.EADDRINUSE


def test_session_fixtures(
    local_registry: LocalRegistry,
    local_registry_auth: LocalRegistry,
    local_registry_tls: LocalRegistry,
    http: requests.Session,
) -> None:
    assert http.get(f"{local_registry.url}/v2/", timeout=10).status_code == 200
    assert http.get(f"{local_registry_auth.url}/v2/", timeout=10).status_code == 401
    tls = local_registry_tls
    assert http.get(f"{tls.url}/v2/", verify=str(tls.ca_path), timeout=10).status_code == 200
    assert len({local_registry.port, local_registry_auth.port, tls.port}) == 3


@pytest.mark.parametrize("required", [False, True], ids=["optional", "required"])
def test_missing_registry_skips_unless_required(tmp_path: Path, required: bool) -> None:
    (tmp_path / "test_uses_registry.py").write_text(
        "def test_push(local_registry):\n    assert local_registry.url\n"
    )
    env = {**os.environ, "RUNTIMES_REGISTRY_BINARY": "/nonexistent/registry"}
    env["RUNTIMES_REQUIRE"] = "docker,registry" if required else "docker"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    if required:
        assert done.returncode == 1, done.stdout
        assert "required by RUNTIMES_REQUIRE" in done.stdout
    else:
        assert done.returncode == 0, done.stdout
        assert "1 skipped" in done.stdout
        assert "no local registry" in done.stdout


def test_registry_required_reads_runtimes_require(monkeypatch: pytest.MonkeyPatch) -> None:
    from runtimes.testing import required_runtimes

    monkeypatch.setenv("RUNTIMES_REQUIRE", "docker, registry,podman")
    assert registry_required()
    assert required_runtimes() == ["docker", "podman"]  # registry is no runtime
    monkeypatch.setenv("RUNTIMES_REQUIRE", "docker")
    assert not registry_required()


# -- each runtime's CLI against it -------------------------------------------


@attrs.frozen
class Cli:
    """How one runtime's CLI reaches a loopback registry (see the docs page)."""

    #: The CLI binary.
    binary: str
    #: Arguments before the verb.
    global_args: tuple[str, ...] = ()
    #: Arguments of ``push``, ``pull`` and ``login``.
    transfer_args: tuple[str, ...] = ()
    #: Arguments of ``logout``.
    logout_args: tuple[str, ...] = ()
    #: Environment added to every call.
    env: dict[str, str] = attrs.field(factory=dict)
    #: The file ``login`` writes the credentials to.
    auth_file: Path | None = None


def cli_for(runtime: str, registry: LocalRegistry, work: Path) -> Cli:
    """The recorded recipe: what each CLI needs for plain, auth and TLS."""
    docker_config = work / "docker-config"
    if runtime == "docker":
        # dockerd treats 127.0.0.0/8 as an insecure registry: plain HTTP, and
        # HTTPS without verification, so neither kind needs anything.
        return Cli(
            "docker",
            env={"DOCKER_CONFIG": str(docker_config)},
            auth_file=docker_config / "config.json",
        )
    if runtime == "podman":
        # --authfile must name an existing file on push and pull: only with auth.
        auth_file = work / "auth.json"
        args: tuple[str, ...] = ("--authfile", str(auth_file)) if registry.credentials else ()
        if registry.ca_path is not None:
            certs = work / "certs"
            certs.mkdir()
            (certs / "ca.crt").write_bytes(registry.ca_path.read_bytes())
            transfer = (*args, "--cert-dir", str(certs))
        else:
            transfer = (*args, "--tls-verify=false")
        return Cli("podman", transfer_args=transfer, logout_args=args, auth_file=auth_file)
    if runtime == "nerdctl":
        # containerd falls back to plain HTTP for localhost by itself; a CA
        # comes from a hosts directory (containerd's hosts.toml layout).
        # The same nerdctl and containerd as the adapter's (the CI leg).
        global_args: tuple[str, ...] = ()
        address = os.environ.get("RUNTIMES_NERDCTL_ADDRESS")
        if address:
            global_args = ("--address", address)
        if registry.ca_path is not None:
            hosts = work / "hosts" / registry.host
            hosts.mkdir(parents=True)
            (hosts / "hosts.toml").write_text(
                f'server = "{registry.url}"\n\n'
                f'[host."{registry.url}"]\n  ca = "{registry.ca_path}"\n'
            )
            global_args = (*global_args, "--hosts-dir", str(work / "hosts"))
        return Cli(
            os.environ.get("RUNTIMES_NERDCTL_BINARY", "nerdctl"),
            global_args=global_args,
            env={"DOCKER_CONFIG": str(docker_config)},
            auth_file=docker_config / "config.json",
        )
    pytest.fail(f"no recorded CLI recipe for runtime {runtime!r}")


def run_cli(
    cli: Cli, verb: str, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    extra = {"push": cli.transfer_args, "pull": cli.transfer_args, "login": cli.transfer_args}
    argv = [cli.binary, *cli.global_args, verb, *extra.get(verb, ()), *args]
    if verb == "logout":
        argv[-len(args) : -len(args)] = cli.logout_args
    done = subprocess.run(
        argv,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **cli.env},
        check=False,
    )
    assert done.returncode == 0, f"{argv}: {done.stderr}"
    return done


def user_docker_config() -> bytes | None:
    path = Path.home() / ".docker" / "config.json"
    return path.read_bytes() if path.exists() else None


@pytest.mark.parametrize("kind", ["plain", "auth", "tls"])
def test_push_and_pull_through_the_cli(
    container_runtime: Runtime,
    test_image: str,
    registry_factory: Any,
    runtimes_session_id: str,
    tmp_path: Path,
    kind: str,
) -> None:
    registry = registry_factory(auth=kind == "auth", tls=kind == "tls")
    cli = cli_for(container_runtime.name, registry, tmp_path)
    tag = f"{container_runtime.name}-{kind}"
    ref = registry.ref(f"rt-{runtimes_session_id}/busybox", tag)
    home_config = user_docker_config()
    run_cli(cli, "tag", test_image, ref)
    try:
        creds = registry.credentials
        if creds is not None:
            login = run_cli(
                cli, "login", "--username", creds.username, "--password-stdin", registry.host,
                stdin=creds.password + "\n",
            )  # fmt: skip
            assert "Login Succeeded" in login.stdout
            assert cli.auth_file is not None
            assert registry.host in json.loads(cli.auth_file.read_text())["auths"]

        run_cli(cli, "push", ref)
        manifests = [
            r.status
            for r in registry.requests()
            if r.method == "PUT" and r.path.endswith(f"/manifests/{tag}")
        ]
        assert manifests == [201]

        run_cli(cli, "rmi", ref)
        before_pull = registry.request_count()
        run_cli(cli, "pull", ref)
        assert registry.request_count() > before_pull
        assert container_runtime.image(ref).id == container_runtime.image(test_image).id

        if creds is not None:
            run_cli(cli, "logout", registry.host)
            assert cli.auth_file is not None
            assert registry.host not in json.loads(cli.auth_file.read_text())["auths"]
    finally:
        subprocess.run(
            [cli.binary, *cli.global_args, "rmi", ref], capture_output=True, timeout=60, check=False
        )
    # The credentials went to the temporary config only.
    assert user_docker_config() == home_config
