"""Each runtime difference, normalised in one adapter function, pinned on
recorded output; plus the shared pieces every adapter now goes through."""

from __future__ import annotations

import json
import pickle
from typing import Any

import attrs
import podman.errors
import pytest
import requests.exceptions
import urllib3.exceptions

import runtimes
from runtimes import _specs, registry
from runtimes._shell import Completed, Shell
from runtimes._transport import Endpoint, map_http_error, message_from_body
from runtimes.adapters import _cli
from runtimes.adapters.nerdctl import (
    NerdctlRuntime,
    capabilities_for,
    check_cli_labels,
    exec_result,
    forced_remove_missing,
    log_lines,
    nerdctl_version,
)
from runtimes.adapters.podman import exec_result as podman_exec_result
from runtimes.adapters.podman import remove_report_error
from runtimes.models import Capability
from runtimes.specs import LogsSpec, RunSpec

# -- nerdctl ---------------------------------------------------------------------


def test_nerdctl_exec_exit_code_comes_from_its_fatal_line(recorded: Any) -> None:
    error = recorded("nerdctl", "errors.json")["exec_exit_4"]
    done = Completed(
        ("nerdctl", "exec"), error["rc"], b"out\n", b"err\n" + error["stderr"].encode()
    )
    result = exec_result(done)
    assert result == runtimes.ExecResult(exit_code=4, stdout=b"out\n", stderr=b"err\n")


def test_nerdctl_exec_failure_of_nerdctl_itself_is_not_a_result(recorded: Any) -> None:
    error = recorded("nerdctl", "errors.json")["no_such_container"]
    done = Completed(("nerdctl", "exec"), error["rc"], b"", error["stderr"].encode())
    assert exec_result(done) is None
    ok = Completed(("nerdctl", "exec"), 0, b"hi\n", b"")
    assert exec_result(ok) == runtimes.ExecResult(exit_code=0, stdout=b"hi\n")


def test_nerdctl_silent_forced_remove_of_a_missing_container(recorded: Any) -> None:
    error = recorded("nerdctl", "errors.json")["rm_force_missing"]
    assert error["rc"] == 0  # what nerdctl really does
    shell = Shell("nerdctl", "nerdctl")
    done = Completed(("nerdctl", "rm", "-f"), error["rc"], b"", error["stderr"].encode())
    assert isinstance(
        forced_remove_missing(shell, done, "fixture-nope"), runtimes.ContainerNotFound
    )
    assert forced_remove_missing(shell, Completed(("nerdctl",), 0, b"x\n", b""), "x") is None


def test_nerdctl_label_values_it_could_not_read_back() -> None:
    check_cli_labels({"a": "b,c", "d": "e=f"})
    with pytest.raises(runtimes.InvalidSpec, match="nerdctl"):
        check_cli_labels({"a": "b=c,d=e"})


def _logs_done(recording: dict[str, Any]) -> Completed:
    out, err = recording["stdout"].encode(), recording["stderr"].encode()
    return Completed(("nerdctl", "logs"), recording["rc"], out, err)


@pytest.mark.parametrize(
    ("release", "version"),
    [("2.0.3", (2, 0, 3)), ("2.2.2", (2, 2, 2)), ("2.0.3 go build", None)],
)
def test_nerdctl_version_from_its_flag(recorded: Any, release: str, version: Any) -> None:
    flag = recorded("nerdctl", "versions.json")[release]["version_flag"]
    assert nerdctl_version(flag["stdout"].encode()) == version


def test_nerdctl_declares_the_last_line_loss_by_version(recorded: Any) -> None:
    versions = recorded("nerdctl", "versions.json")
    keeps = Capability.KEEPS_UNTERMINATED_LAST_LINE
    for release in ("2.0.3", "2.2.2", "2.0.3 go build"):
        version = nerdctl_version(versions[release]["version_flag"]["stdout"].encode())
        assert keeps not in capabilities_for(version)
        # STATS_CPU follows the release too (test_lifecycle.py).
        assert capabilities_for(version) - {Capability.STATS_CPU} == NerdctlRuntime.capabilities
    # nerdctl#5009 (2.3.4) writes the logs synchronously.
    assert keeps in capabilities_for((2, 3, 4))
    assert keeps in capabilities_for((3, 0, 0))
    assert keeps not in capabilities_for((2, 3, 3))


@pytest.mark.parametrize(
    ("release", "case", "kept"),
    [
        ("2.0.3", "logs_unterminated", False),  # dropped every time
        ("2.2.2", "logs_unterminated", True),
        ("2.2.2", "logs_unterminated_read_at_exit", False),  # the logger was not done
        ("2.2.2", "logs_unterminated_read_at_exit_later", True),
    ],
)
def test_nerdctl_last_line_without_newline(
    recorded: Any, release: str, case: str, kept: bool
) -> None:
    done = _logs_done(recorded("nerdctl", "versions.json")[release][case])
    lines = log_lines(done, LogsSpec(container="c"))
    tail = [("stdout", b"out-no-newline"), ("stderr", b"err-no-newline")] if kept else []
    assert sorted((x.stream, x.data) for x in lines) == sorted(
        [("stdout", b"out-1\n"), ("stderr", b"err-1\n"), *tail]
    )
    # In time order; the unterminated line is a line of its own, with its time.
    assert [x.data for x in lines][:2] in ([b"err-1\n", b"out-1\n"], [b"out-1\n", b"err-1\n"])
    stamps = [x.timestamp for x in log_lines(done, LogsSpec(container="c", timestamps=True))]
    assert None not in stamps
    assert stamps == sorted(stamps)


# -- podman ----------------------------------------------------------------------------


def test_podman_error_bodies(recorded: Any) -> None:
    bodies = recorded("podman", "api_bodies.json")
    missing = message_from_body(bodies["delete_missing"]["body"].encode())
    assert missing == 'no container with name or ID "fixture-nope" found: no such container'
    assert "without force" in message_from_body(bodies["delete_running"]["body"].encode())
    assert message_from_body(b"plain text\n") == "plain text"


def _podman_exec(recorded: Any, case: str) -> Completed:
    record = recorded("podman", "cli_exec.json")[case]
    return Completed(
        tuple(record["argv"]), record["rc"], record["stdout"].encode(), record["stderr"].encode()
    )


@pytest.mark.parametrize(
    ("case", "exit_code"),
    [("exit_4", 4), ("command_not_found", 127), ("not_executable", 126)],
)
def test_podman_exec_cli_exit_code_is_the_commands(
    recorded: Any, case: str, exit_code: int
) -> None:
    done = _podman_exec(recorded, case)
    assert podman_exec_result(done) == runtimes.ExecResult(
        exit_code=exit_code, stdout=done.stdout, stderr=done.stderr
    )


def test_podman_exec_cli_own_code_with_output_is_the_commands(recorded: Any) -> None:
    # 125 and an "Error:" line, but the command printed too: Podman never
    # does before failing, so this is the command's own result.
    done = _podman_exec(recorded, "exit_125_own_error_line")
    result = podman_exec_result(done)
    assert result is not None
    assert (result.exit_code, result.stdout, result.stderr) == (125, b"out\n", b"Error: fake\n")


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("no_such_container", runtimes.ContainerNotFound),
        ("not_running", runtimes.CommandFailed),
        ("no_such_user", runtimes.CommandFailed),
    ],
)
def test_podman_exec_cli_failure_of_podman_itself_is_not_a_result(
    recorded: Any, case: str, error: type[Exception]
) -> None:
    done = _podman_exec(recorded, case)
    assert podman_exec_result(done) is None
    raised = Shell("podman", "podman").error(done, operation="exec", target="container")
    assert isinstance(raised, error)


def test_podman_remove_reports(recorded: Any) -> None:
    forced = json.loads(recorded("podman", "api_bodies.json")["delete_forced"]["body"])
    assert remove_report_error(forced) is None
    assert remove_report_error(None) is None
    # libpod's RmReport carries Err beside Id when one removal of a batch fails.
    failed = [{"Id": "a" * 64, "Err": "no container with ID x found: no such container"}]
    assert remove_report_error(failed) == failed[0]["Err"]


# -- one transport-error mapper ------------------------------------------------------------


ENDPOINT = Endpoint("podman", "unix:///x.sock", hint="start it", lost=(podman.errors.APIError,))


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (requests.exceptions.ReadTimeout("read timed out"), runtimes.Timeout),
        (urllib3.exceptions.ReadTimeoutError(None, "/x", "read timed out"), runtimes.Timeout),
        (urllib3.exceptions.ProtocolError("connection broken"), runtimes.RuntimeUnavailable),
        (requests.exceptions.ConnectionError("refused"), runtimes.RuntimeUnavailable),
        (podman.errors.APIError("operation failed"), runtimes.RuntimeUnavailable),
        (requests.exceptions.ChunkedEncodingError("cut"), runtimes.RuntimeUnavailable),
    ],
)
def test_transport_failures(exc: Exception, expected: type) -> None:
    mapped = map_http_error(exc, ENDPOINT, "logs", "container", "x")
    assert type(mapped) is expected
    if expected is runtimes.RuntimeUnavailable:
        assert "unix:///x.sock" in str(mapped)
        assert "start it" in str(mapped)


def test_podman_wrapped_read_timeout_is_a_timeout() -> None:
    wrapped = podman.errors.APIError("operation failed")
    wrapped.__cause__ = requests.exceptions.ConnectionError("Read timed out.")
    assert type(map_http_error(wrapped, ENDPOINT, "exec")) is runtimes.Timeout


# -- models and specs -----------------------------------------------------------------------


def test_models_are_deeply_immutable() -> None:
    c = runtimes.Container(
        id="a" * 64, name="x", image="i", labels={"a": "1"}, raw={"State": {"Pid": 1}, "L": [1]}
    )
    with pytest.raises(TypeError):
        c.labels["a"] = "2"  # type: ignore[index]
    with pytest.raises(TypeError):
        c.raw["State"]["Pid"] = 2
    assert c.raw["L"] == (1,)
    changed = attrs.evolve(c, labels={"a": "2"})
    assert changed.labels == {"a": "2"}
    assert c.labels == {"a": "1"}
    assert pickle.loads(pickle.dumps(c)) == c
    assert json.loads(json.dumps(c.labels)) == {"a": "1"}
    assert hash(c) == hash(pickle.loads(pickle.dumps(c)))


def test_specs_hide_secrets_and_are_frozen() -> None:
    spec = _specs.run_spec(
        "demo:1",
        "echo hi",
        name=None,
        env={"TOKEN": "s3cr3t-value"},
        ports=None,
        volumes=None,
        labels=None,
        workdir=None,
        user=None,
        entrypoint=None,
        network=None,
        remove=False,
    )
    assert spec == RunSpec("demo:1", command=("echo", "hi"), env={"TOKEN": "s3cr3t-value"})
    assert "s3cr3t-value" not in repr(spec)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        spec.image = "x"  # type: ignore[misc]


def test_env_never_on_the_cli_command_line(tmp_path: Any) -> None:
    spec = RunSpec("demo:1", env={"ONE": "line value", "PEM": "a\nb"})
    env_args, through_env = _cli.env_transport(str(tmp_path), spec.env)
    args = _cli.run_args(spec, env_args=env_args)
    env_file = str(tmp_path / "env")
    assert not any("line value" in a or "a\nb" in a for a in args)
    assert args[args.index("--env-file") + 1] == env_file
    assert args[args.index("-e") : args.index("-e") + 2] == ["-e", "PEM"]
    assert (tmp_path / "env").read_text() == "ONE=line value\n"
    assert (tmp_path / "env").stat().st_mode & 0o777 == 0o600
    assert _cli.inherited_env(spec.env) == {"PEM": "a\nb"}
    assert through_env == {"PEM": "a\nb"}


# -- registry ----------------------------------------------------------------------------


def test_register_adapter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_registered", {})
    monkeypatch.setattr(registry, "_cache", {})
    monkeypatch.setattr(registry, "entry_points", lambda group: [])
    registry.register_adapter("mine", "runtimes.adapters.nerdctl:NerdctlRuntime")
    assert registry.known()[-1] == "mine"
    assert registry.adapter_class("mine").__name__ == "NerdctlRuntime"
    with pytest.raises(ValueError, match="already registered"):
        registry.register_adapter("mine", "x:Y")
    with pytest.raises(ValueError, match="built-in"):
        registry.register_adapter("docker", "x:Y")
    with pytest.raises(runtimes.InvalidSpec):
        registry.register_adapter("other", "no-colon")


def test_dockerfile_bases() -> None:
    text = (
        "ARG V=1\n"
        "FROM --platform=linux/amd64 127.0.0.1:5000/base:1 AS build\n"
        "RUN make \\\n  all\n"
        "from build AS test\n"
        "FROM scratch\n"
        "FROM registry.example/app:$V\n"
        "FROM 127.0.0.1:5000/base:1\n"
        "FROM busybox\n"
        "COPY --from=build /x /x\n"
    )
    assert _specs.dockerfile_bases(text) == ["127.0.0.1:5000/base:1", "busybox"]


def test_step_images_are_only_this_builds_own() -> None:
    docker_output = [
        "Step 1/4 : FROM 127.0.0.1:5000/base@sha256:" + "a" * 64,
        " ---> 1111111111aa",
        "Step 2/4 : COPY x /x",
        " ---> Using cache",
        " ---> 2222222222bb",
        "Step 3/4 : RUN make",
        " ---> Running in 3333333333cc",
        " ---> 4444444444dd",
        "Step 4/4 : RUN false",
    ]
    buildah_output = [
        "STEP 1/3: FROM scratch",
        "STEP 2/3: COPY busybox /bin/busybox",
        "--> Using cache 55555555555ee",
        "--> 55555555555",
        "STEP 3/3: RUN false",
        "--> 66666666666",
    ]
    for output, expected in [
        (docker_output, ["4444444444dd"]),
        (buildah_output, ["66666666666"]),
    ]:
        steps = _cli.StepImages()
        for line in output:
            steps.note(line)
        assert steps.ids == expected


def test_values_an_env_file_would_change_go_through_the_environment() -> None:
    env = {"A": "plain", "B": " padded ", "#C": "x", "D": '"quoted"', "E": "x" * 70_000}
    assert set(_cli.inherited_env(env)) == {"B", "#C", "D", "E"}
    with pytest.raises(runtimes.InvalidSpec, match="PATH"):
        _cli.inherited_env({"PATH": "/bin\n/usr/bin"})


@pytest.mark.parametrize(
    "call",
    [
        lambda: _specs.check_ref(runtimes.Container(id="x/../../images/a", name="n", image="i")),
        lambda: _specs.check_seconds(10**400, "timeout"),
        lambda: _specs.check_tail(10**5000),
        lambda: _specs.check_signal(10**5000),
        lambda: _specs.parse_port(10**5000),
        lambda: _specs.parse_port("1" * 5000),
        lambda: _specs.check_since(10**400),
        lambda: _specs.check_since("99999999999999999999h"),
        lambda: _specs.check_since("9999-12-31T23:59:59-14:00"),
        lambda: _specs.check_command("a\x00b"),
        lambda: _specs.check_image_ref("alpine:\u00e9"),
        lambda: _specs.parse_volume(runtimes.Mount(source="/tmp", target="/d:U,rshared")),
        lambda: _specs.parse_volume(runtimes.Mount(source=5, target="/d")),  # type: ignore[arg-type]
    ],
)
def test_validators_refuse_with_invalid_spec_only(call: Any) -> None:
    with pytest.raises(runtimes.InvalidSpec):
        call()
