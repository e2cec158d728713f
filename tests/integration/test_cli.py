"""The `runtimes` command against every selected runtime (same selection and
RUNTIMES_REQUIRE rules as the contract suite)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runtimes.base import Runtime
from runtimes.models import Capability
from runtimes.testing.images import write_busybox_context
from runtimes.testing.suite import empty_auth_file, http_get

Cli = Callable[..., subprocess.CompletedProcess[str]]
CONTAINER_KEYS = {
    "id", "name", "image", "command", "state", "exit_code", "created_at", "started_at",
    "finished_at", "ports", "labels", "networks", "health", "runtime",
}  # fmt: skip


@pytest.fixture
def cli(container_runtime: Runtime) -> Cli:
    def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "runtimes.cli", "--runtime", container_runtime.name, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


def session_label(labels: dict[str, str]) -> list[str]:
    return [arg for k, v in labels.items() for arg in ("-l", f"{k}={v}")]


def test_walkthrough(
    cli: Cli,
    tmp_path: Path,
    session_labels: dict[str, str],
    unique_name: Callable[[str], str],
    container_runtime: Runtime,
) -> None:
    context = write_busybox_context(
        tmp_path / "ctx",
        "FROM scratch\nCOPY busybox /bin/busybox\n"
        'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
        "RUN mkdir -p /www && echo walkthrough > /www/index.html\n",
    )
    label = next(iter(session_labels.items()))
    tag = f"runtimes-test/cli:{label[1]}"
    built = cli("build", "-t", tag, "--label", f"{label[0]}={label[1]}", str(context))
    assert built.returncode == 0, built.stderr
    assert built.stdout.strip().startswith("sha256:")
    assert "busybox" in built.stderr  # the steps were streamed

    name = unique_name("web")
    started = cli(
        "run", "-d", "--name", name, "-p", "127.0.0.1::8080", *session_label(session_labels),
        tag, "httpd", "-f", "-vv", "-p", "8080", "-h", "/www",
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    listed = json.loads(cli("--format", "json", "ps", "--filter", f"name={name}").stdout)
    assert set(listed[0]) == CONTAINER_KEYS
    assert listed[0]["state"] == "running"
    port = listed[0]["ports"][0]["host_port"]
    assert http_get(port).strip() == "walkthrough"

    table = cli("ps").stdout.splitlines()
    assert table[0].split() == [
        "CONTAINER",
        "ID",
        "IMAGE",
        "COMMAND",
        "CREATED",
        "STATUS",
        "PORTS",
        "NAMES",
    ]
    row = next(line for line in table if line.endswith(name))
    assert f"127.0.0.1:{port}->8080/tcp" in row
    assert " Up " in row
    assert tag in row

    follower: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: follower.update(done=cli("logs", "-f", name)))
    thread.start()
    stopped = cli("stop", "-t", "1", name)
    assert stopped.returncode == 0
    assert stopped.stdout.strip() == name
    thread.join(timeout=60)
    assert not thread.is_alive(), "logs -f did not end when the container stopped"
    assert "index.html" in follower["done"].stdout + follower["done"].stderr

    after = json.loads(cli("--format", "json", "ps", "-a", "--filter", f"name={name}").stdout)
    assert after[0]["state"] == "exited"
    assert cli("rm", name).returncode == 0
    assert json.loads(cli("--format", "json", "ps", "-a", "--filter", f"name={name}").stdout) == []
    assert cli("rmi", tag).returncode == 0


def test_exit_codes(
    cli: Cli, test_image: str, session_labels: dict[str, str], unique_name: Callable[[str], str]
) -> None:
    fg = cli(
        "run",
        "--rm",
        *session_label(session_labels),
        test_image,
        "sh",
        "-c",
        "echo fg; echo err >&2; exit 3",
    )
    assert (fg.returncode, fg.stdout, fg.stderr) == (3, "fg\n", "err\n")

    name = unique_name("exec")
    assert (
        cli(
            "run", "-d", "--name", name, *session_label(session_labels), test_image, "sleep", "1000"
        ).returncode
        == 0
    )
    ran = cli("exec", "-e", "A=b", "-w", "/tmp", name, "sh", "-c", 'echo "$A $(pwd)"; exit 4')
    assert (ran.returncode, ran.stdout) == (4, "b /tmp\n")
    assert cli("kill", name).returncode == 0
    waited = cli("wait", name)
    assert (waited.returncode, waited.stdout.strip()) == (137, "137")
    inspected = json.loads(cli("inspect", "--raw", name).stdout)
    assert inspected["exit_code"] == 137
    assert inspected["raw"]
    assert "raw" not in json.loads(cli("inspect", name).stdout)
    assert cli("rm", "-f", name).returncode == 0


def test_errors_are_one_line_and_exit_125(
    cli: Cli, test_image: str, runtimes_session_id: str
) -> None:
    missing = f"rt-{runtimes_session_id}-missing"
    for args in (("logs", missing), ("stop", missing), ("inspect", missing), ("rm", missing)):
        done = cli(*args)
        assert done.returncode == 125, (args, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1
        assert missing in done.stderr
    bad_port = cli("run", "-d", "-p", "99999", test_image, "true")
    assert bad_port.returncode == 125
    assert "99999" in bad_port.stderr


def test_unknown_runtime_and_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "runtimes.cli", "--runtime", "dockr", "ps"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 125
    assert "known runtimes: docker, podman, nerdctl" in done.stderr
    verbs = [
        "info",
        "ps",
        "images",
        "rmi",
        "build",
        "run",
        "logs",
        "stop",
        "kill",
        "rm",
        "exec",
        "wait",
        "inspect",
        "network",
    ]
    for verb in verbs:
        helped = subprocess.run(
            [sys.executable, "-m", "runtimes.cli", verb, "--help"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert helped.returncode == 0, verb
        assert "examples:" in helped.stdout, verb


def test_network_verbs(
    cli: Cli,
    container_runtime: Runtime,
    test_image: str,
    session_labels: dict[str, str],
    unique_name: Callable[[str], str],
) -> None:
    label = "=".join(next(iter(session_labels.items())))
    net = unique_name("clinet")
    created = cli("network", "create", "--label", label, "--label", "tier=cli", net)
    assert (created.returncode, created.stdout.strip()) == (0, net), created.stderr
    try:
        listed = json.loads(cli("--format", "json", "network", "ls", "--filter", "label=tier=cli",
                                "--filter", f"label={label}").stdout)  # fmt: skip
        assert [n["name"] for n in listed] == [net]
        assert set(listed[0]) == {"name", "id", "subnets", "internal", "labels"}
        table = cli("network", "ls").stdout.splitlines()
        assert table[0].split()[:3] == ["NETWORK", "ID", "NAME"]
        assert any(line.split()[1] == net for line in table[1:] if line.split())
        inspected = json.loads(cli("network", "inspect", net).stdout)
        assert inspected["labels"]["tier"] == "cli"
        assert inspected["subnets"]

        box = unique_name("clibox")
        aliases = []
        if Capability.NETWORK_ALIASES in container_runtime.capabilities:
            aliases = ["--network-alias", "cli-db"]
        started = cli(
            "run", "-d", "--name", box, "--network", net, "--hostname", "clihost", *aliases,
            *session_label(session_labels), test_image, "sleep", "1000",
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
        (attachment,) = json.loads(cli("inspect", box).stdout)["networks"]
        assert attachment["network"] == net
        assert attachment["aliases"] == (["cli-db"] if aliases else [])
        assert attachment["ip_address"]

        busy = cli("network", "rm", net)
        assert busy.returncode == 125
        assert len(busy.stderr.strip().splitlines()) == 1
        assert "in use" in busy.stderr
        assert box in busy.stderr
        assert cli("rm", "-f", box).returncode == 0
    finally:
        removed = cli("network", "rm", net)
    assert (removed.returncode, removed.stdout.strip()) == (0, net), removed.stderr
    missing = cli("network", "inspect", net)
    assert missing.returncode == 125
    assert net in missing.stderr


def test_info_json() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "runtimes.cli", "--format", "json", "info"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [r["name"] for r in report["runtimes"]][:3] == ["docker", "podman", "nerdctl"]
    assert report["rule"]


def test_registry_verbs(
    cli: Cli,
    container_runtime: Runtime,
    test_image: str,
    local_registry_auth: Any,
    runtimes_session_id: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    registry = local_registry_auth
    creds = registry.credentials
    ref = registry.ref(f"rt-{runtimes_session_id}/cli", "1")
    monkeypatch.setenv("RUNTIMES_INSECURE_REGISTRIES", registry.host)
    # login writes to this test's own stores, not the user's
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(empty_auth_file(tmp_path)))
    assert cli("tag", test_image, ref).returncode == 0
    try:
        refused = cli("push", ref)
        assert refused.returncode == 125
        assert "refused the credentials" in refused.stderr

        def login(password: str) -> subprocess.CompletedProcess[str]:
            argv = [sys.executable, "-m", "runtimes.cli", "--runtime", container_runtime.name]
            argv += ["login", "-u", creds.username, "--password-stdin", registry.host]
            return subprocess.run(
                argv, input=password + "\n", capture_output=True, text=True, timeout=120
            )

        wrong = login(creds.password + "x")
        assert wrong.returncode == 125
        assert creds.password not in wrong.stderr + wrong.stdout
        assert login(creds.password).stdout.strip() == "Login Succeeded"
        try:
            pushed = cli("push", ref)
            assert pushed.returncode == 0, pushed.stderr
            assert pushed.stdout.strip().startswith("sha256:")
            # Not a terminal: one plain progress line per event, on stderr.
            assert pushed.stderr.strip()
            assert "\x1b[" not in pushed.stderr
            assert cli("rmi", ref).returncode == 0
            pulled = cli("pull", ref)
            assert pulled.returncode == 0, pulled.stderr
            assert pulled.stdout.strip() == container_runtime.image(test_image).id
        finally:
            assert cli("logout", registry.host).returncode == 0
        password_arg = cli("login", "-u", creds.username, registry.host)
        assert password_arg.returncode == 125
        assert "--password-stdin" in password_arg.stderr
    finally:
        cli("rmi", ref)


# -- the rest of the lifecycle: files, control, stats, top, prune ---------------------------


def test_lifecycle_verbs(
    cli: Cli,
    container_runtime: Runtime,
    test_image: str,
    tmp_path: Path,
    session_labels: dict[str, str],
    unique_name: Callable[[str], str],
) -> None:
    name = unique_name("clilife")
    mark = f"runtimes.test.cli={name}"
    started = cli("run", "-d", "--name", name, *session_label(session_labels), "-l", mark,
                  test_image, "sleep", "1000")  # fmt: skip
    assert started.returncode == 0, started.stderr

    def with_stdin(*args: str, data: bytes) -> subprocess.CompletedProcess[bytes]:
        argv = [sys.executable, "-m", "runtimes.cli", "--runtime", container_runtime.name]
        return subprocess.run([*argv, *args], input=data, capture_output=True, timeout=120)

    # cp: a file both ways, stdin into a file, a file to stdout, a tree.
    (tmp_path / "in.txt").write_text("from host\n")
    assert cli("cp", str(tmp_path / "in.txt"), f"{name}:/tmp/in.txt").returncode == 0
    assert cli("cp", f"{name}:/tmp/in.txt", str(tmp_path / "out.txt")).returncode == 0
    assert (tmp_path / "out.txt").read_text() == "from host\n"
    assert with_stdin("cp", "-", f"{name}:/tmp/piped", data=b"\x00piped\n").returncode == 0
    assert with_stdin("cp", f"{name}:/tmp/piped", "-", data=b"").stdout == b"\x00piped\n"
    assert cli("cp", f"{name}:/www", str(tmp_path / "www")).returncode == 0
    assert (tmp_path / "www" / "index.html").read_text() == "hello from runtimes\n"
    missing = cli("cp", f"{name}:/no/such/file", str(tmp_path / "x"))
    assert missing.returncode == 125
    assert "not found" in missing.stderr
    assert cli("cp", str(tmp_path / "in.txt"), str(tmp_path / "x")).returncode == 125

    # exec -i: stdin to the command; its exit code is ours.
    piped = with_stdin("exec", "-i", name, "sh", "-c", "wc -l; exit 5", data=b"a\nb\nc\n")
    assert (piped.returncode, piped.stdout.split()) == (5, [b"3"])

    # pause, unpause, restart
    assert cli("pause", name).stdout.strip() == name
    assert json.loads(cli("inspect", name).stdout)["state"] == "paused"
    assert cli("unpause", name).returncode == 0
    before = json.loads(cli("inspect", name).stdout)
    assert cli("restart", "-t", "1", name).returncode == 0
    after = json.loads(cli("inspect", name).stdout)
    assert (after["id"], after["state"]) == (before["id"], "running")
    assert after["started_at"] != before["started_at"]

    # stats and top
    stats = json.loads(cli("--format", "json", "stats", "--no-stream", name).stdout)
    assert [s["container"] for s in stats] == [name]
    assert stats[0]["memory_usage"] > 0
    table = cli("stats", "--no-stream", name).stdout.splitlines()
    assert table[0].split()[:3] == ["CONTAINER", "CPU", "%"]
    processes = json.loads(cli("--format", "json", "top", name).stdout)
    assert [p["command"] for p in processes] == ["sleep 1000"]
    assert cli("top", name).stdout.splitlines()[0].split() == ["PID", "USER", "COMMAND"]

    # prune: only with a label filter (or --force); what runs stays.
    unfiltered = cli("prune")
    assert unfiltered.returncode == 125
    assert "--filter" in unfiltered.stderr
    done = unique_name("cliprune")
    assert cli("run", "-d", "--name", done, *session_label(session_labels), "-l", mark,
               test_image, "true").returncode == 0  # fmt: skip
    assert cli("wait", done).returncode == 0
    pruned = cli("prune", "--containers", "--filter", f"label={mark}")
    assert pruned.returncode == 0, pruned.stderr
    removed = [line.split() for line in pruned.stdout.splitlines()]
    assert [kind for kind, _ in removed] == ["container"]
    assert json.loads(cli("--format", "json", "ps", "-a", "--filter", f"name={done}").stdout) == []
    assert cli("rm", "-f", name).returncode == 0
