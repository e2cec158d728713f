"""Every mapped backend failure becomes the library's error, never escapes raw,
and never shows an environment value."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import docker.errors
import pytest
import requests
import requests.exceptions

import runtimes
from runtimes._redact import redact_exception, secrets
from runtimes._shell import Completed, Shell, clean_error_text
from runtimes._translate import translate
from runtimes.adapters.docker import DockerRuntime


def docker_error(status: int, message: str) -> docker.errors.APIError:
    response = requests.Response()
    response.status_code = status
    return docker.errors.APIError("request failed", response=response, explanation=message)


def through_docker(exc: BaseException, target: Any = "container", ref: str = "x") -> BaseException:
    rt = object.__new__(DockerRuntime)
    rt.host = "unix:///var/run/docker.sock"
    with pytest.raises(runtimes.RuntimesError) as info, rt._api("op", target, ref):
        raise exc
    assert info.value.__cause__ is exc
    return info.value


@pytest.mark.parametrize(
    ("case", "target", "expected"),
    [
        ("no_such_container", "container", runtimes.ContainerNotFound),
        ("no_such_image", "image", runtimes.ImageNotFound),
        ("run_missing_image", "image", runtimes.ImageNotFound),
        ("name_conflict", "image", runtimes.NameConflict),
        ("remove_running", "container", runtimes.CommandFailed),
        ("exec_stopped", "container", runtimes.CommandFailed),
    ],
)
def test_docker_api_errors(recorded: Any, case: str, target: Any, expected: type) -> None:
    error = recorded("docker", "errors.json")[case]
    mapped = through_docker(docker_error(error["status"], error["message"]), target)
    assert type(mapped) is expected


def test_docker_transport_errors() -> None:
    assert isinstance(
        through_docker(requests.exceptions.ReadTimeout("read timed out")), runtimes.Timeout
    )
    assert isinstance(
        through_docker(requests.exceptions.ConnectionError("refused")), runtimes.RuntimeUnavailable
    )
    assert isinstance(through_docker(docker.errors.DockerException("odd")), runtimes.CommandFailed)


@pytest.mark.parametrize(
    ("case", "target", "expected"),
    [
        ("no_such_container", "container", runtimes.ContainerNotFound),
        ("no_such_image", "image", runtimes.ImageNotFound),
        ("remove_running", "container", runtimes.CommandFailed),
    ],
)
def test_podman_api_errors(recorded: Any, case: str, target: Any, expected: type) -> None:
    error = recorded("podman", "errors.json")[case]
    mapped = translate(
        "podman", "op", error["message"], target=target, ref="x", status=error["status"]
    )
    assert type(mapped) is expected


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("run_missing_image", runtimes.ImageNotFound),
        ("name_conflict", runtimes.NameConflict),
        ("bad_port", runtimes.CommandFailed),
    ],
)
def test_podman_cli_errors(recorded: Any, case: str, expected: type) -> None:
    stderr = recorded("podman", "errors.json")[case]
    done = Completed(("podman", "run"), 125, b"", stderr.encode())
    mapped = Shell("podman", "podman").error(done, operation="run", target="image", ref="x")
    assert type(mapped) is expected
    assert "Error:" not in str(mapped)


def test_podman_rlimit_failure_names_the_fix() -> None:
    stderr = (
        "Error: runc: runc create failed: unable to start container process: error during "
        "container init: error setting rlimit type 7: operation not permitted: "
        "OCI permission denied"
    )
    done = Completed(("podman", "run"), 126, b"", stderr.encode())
    mapped = Shell("podman", "podman").error(done, operation="run", target="image")
    assert isinstance(mapped, runtimes.CommandFailed)
    assert "CONTAINERS_CONF" in str(mapped)
    assert "default_ulimits" in str(mapped)
    assert mapped.exit_code == 126


@pytest.mark.parametrize(
    ("case", "target", "expected"),
    [
        ("no_such_container", "container", runtimes.ContainerNotFound),
        ("logs_missing", "container", runtimes.ContainerNotFound),
        ("no_such_image", "image", runtimes.ImageNotFound),
        ("run_missing_image", "image", runtimes.ImageNotFound),
        ("name_conflict", "image", runtimes.NameConflict),
        ("remove_running", "container", runtimes.CommandFailed),
    ],
)
def test_nerdctl_logrus_errors(recorded: Any, case: str, target: Any, expected: type) -> None:
    error = recorded("nerdctl", "errors.json")[case]
    done = Completed(("nerdctl",), error["rc"], b"", error["stderr"].encode())
    mapped = Shell("nerdctl", "nerdctl").error(done, operation="op", target=target, ref="x")
    assert type(mapped) is expected
    assert "level=fatal" not in str(mapped)


@pytest.mark.parametrize(
    ("runtime", "status", "message"),
    [
        ("docker", 404, "network no-such-net not found"),
        (
            "podman",
            None,
            "Error: unable to find network with name or ID no-such-net: network not found",
        ),
    ],
)
def test_missing_network_is_not_a_missing_container_or_image(
    runtime: str, status: int | None, message: str
) -> None:
    for target in ("container", "image"):
        mapped = translate(runtime, "run", message, target=target, ref="x", status=status)  # type: ignore[arg-type]
        assert type(mapped) is runtimes.NetworkNotFound
        assert mapped.ref == "no-such-net"  # named from the text, not the container


def test_clean_error_text() -> None:
    line = 'time="2026" level=fatal msg="1 errors:\\nno such container: x"'
    assert clean_error_text(line) == "no such container: x"
    assert clean_error_text("Error: x: image not known\n") == "x: image not known"


def test_shell_missing_binary_and_timeout() -> None:
    with pytest.raises(runtimes.RuntimeUnavailable) as missing:
        Shell("ghost", "/nonexistent/ghost-binary", install_hint="install ghost").run(
            ["x"], operation="op"
        )
    assert "install ghost" in str(missing.value)
    with pytest.raises(runtimes.Timeout) as slow:
        Shell("py", sys.executable).run(
            ["-c", "import time; time.sleep(5)"], operation="op", timeout=0.2
        )
    assert isinstance(slow.value, TimeoutError)
    assert isinstance(slow.value.__cause__, subprocess.TimeoutExpired)


SECRET = "hunter2-very-secret"


def _all_text(exc: BaseException) -> str:
    parts = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts += [str(current), repr(current), repr(getattr(current, "cmd", ""))]
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


def test_env_values_never_shown() -> None:
    with secrets({"TOKEN": SECRET}):
        _check_env_values_never_shown()


def _check_env_values_never_shown() -> None:
    # a CLI timeout whose chained TimeoutExpired carried the argv
    with pytest.raises(runtimes.Timeout) as slow:
        Shell("py", sys.executable).run(
            ["-c", "import time; time.sleep(5)", "-e", f"TOKEN={SECRET}"],
            operation="run",
            timeout=0.2,
        )
    assert SECRET not in _all_text(slow.value)
    # a failed command's error carries the redacted command line
    done = Completed(("nerdctl", "run", "-e", f"TOKEN={SECRET}"), 1, b"", f"bad {SECRET}".encode())
    failed = Shell("nerdctl", "nerdctl").error(done, operation="run")
    assert isinstance(failed, runtimes.CommandFailed)
    assert failed.command == ("nerdctl", "run", "-e", "TOKEN=***")
    assert SECRET not in _all_text(failed)
    # a daemon message echoing the value, chained from the SDK error
    mapped = through_docker(docker_error(500, f"invalid env TOKEN={SECRET}"))
    assert SECRET not in _all_text(mapped)
    # the validated run spec
    spec = runtimes.base.RunSpec("demo:1", env={"TOKEN": SECRET})
    assert SECRET not in repr(spec)


def test_masking_is_scoped_to_the_call() -> None:
    with secrets({"TOKEN": "debug-value"}):
        assert "***" in str(runtimes.CommandFailed("x debug-value", runtime="r", operation="o"))
    # After the call, the same text is an ordinary word again.
    later = runtimes.ContainerNotFound("debug-value")
    assert "debug-value" in str(later)


def test_request_bodies_and_queries_are_dropped_from_chained_errors() -> None:
    request = requests.Request(
        "POST", "http://d/build?buildargs=%7B%22T%22%3A%22x%22%7D", data=b"TOKEN=x"
    ).prepare()
    exc = requests.exceptions.ConnectionError("refused", request=request)
    redact_exception(exc)
    assert request.body is None
    assert "buildargs" not in str(request.url)


def test_urllib3_debug_lines_hide_build_args(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    import runtimes._transport  # noqa: F401 - installs the filter

    logger = logging.getLogger("urllib3.connectionpool")
    with (
        caplog.at_level(logging.DEBUG, logger="urllib3.connectionpool"),
        secrets({"TOKEN": SECRET}),
    ):
        logger.debug('"%s %s" 200', "POST", "/build?buildargs=%7B%22TOKEN%22%3A%22" + SECRET)
    assert caplog.records
    assert SECRET not in caplog.text


def test_builtin_bases() -> None:
    assert issubclass(runtimes.NotFound, LookupError)
    assert issubclass(runtimes.ContainerNotFound, runtimes.NotFound)
    assert issubclass(runtimes.ImageNotFound, runtimes.NotFound)
    assert issubclass(runtimes.InvalidSpec, ValueError)
    assert issubclass(runtimes.Timeout, TimeoutError)
    assert issubclass(runtimes.RuntimeUnavailable, OSError)
    assert issubclass(runtimes.UnknownRuntime, LookupError)
    for name in runtimes.__all__:
        obj = getattr(runtimes, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, runtimes.RuntimesError)
