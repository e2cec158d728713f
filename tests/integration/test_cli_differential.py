"""The same commands through the real ``docker`` CLI and through
``runtimes --runtime docker``: the exit codes must be equal, and so must the
facts both print as JSON (name, image, state, labels, exit code).

Each side gets its own container (names ``...-docker`` and
``...-runtimes``), created by its own CLI, labelled with the session label
and removed at the end.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from runtimes.base import Runtime

Run = Callable[..., subprocess.CompletedProcess[str]]
MARK = "runtimes.test.cli-diff"


def _docker(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


def _runtimes(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtimes.cli", "--runtime", "docker", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _labels(text: str) -> dict[str, str]:
    # docker ps's Labels column: "k=v,k2=v2" (no value here has a comma)
    return dict(item.partition("=")[::2] for item in text.split(",") if item)


def _from_docker_ps(line: str) -> dict[str, Any]:
    row = json.loads(line)
    return {
        "name": row["Names"],
        "image": row["Image"],
        "state": row["State"],
        "labels": _labels(row["Labels"]),
    }


def _from_runtimes(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("name", "image", "state", "labels")}


def _from_docker_inspect(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": row["Name"].lstrip("/"),
        "image": row["Config"]["Image"],
        "state": row["State"]["Status"],
        "labels": row["Config"]["Labels"],
        "exit_code": row["State"]["ExitCode"],
    }


class TestSameAsDocker:
    runtime_name = "docker"  # the plugin runs this class on docker only

    @pytest.fixture
    def pair(
        self,
        container_runtime: Runtime,
        unique_name: Callable[[str], str],
    ) -> Iterator[dict[str, tuple[Run, str]]]:
        if shutil.which("docker") is None:
            pytest.skip("the docker CLI is not installed")
        base = unique_name("clidiff")
        sides = {"docker": (_docker, f"{base}-docker"), "runtimes": (_runtimes, f"{base}-runtimes")}
        try:
            yield sides
        finally:
            for _, name in sides.values():
                _docker("rm", "-f", name)
                _docker("volume", "rm", "-f", f"{name}-vol")

    def test_same_exit_codes_and_fields(
        self,
        pair: dict[str, tuple[Run, str]],
        test_image: str,
        session_labels: dict[str, str],
        runtimes_session_id: str,
    ) -> None:
        session = [arg for k, v in session_labels.items() for arg in ("-l", f"{k}={v}")]
        missing = f"rt-{runtimes_session_id}-clidiff-missing"
        seen: dict[str, dict[str, Any]] = {side: {} for side in pair}

        def both(step: str, *args: str, stdin: str | None = None) -> None:
            """Run ``args`` on each side (NAME replaced by its container)."""
            for side, (run, name) in pair.items():
                done = run(*(a.replace("NAME", name) for a in args), stdin=stdin)
                seen[side][step] = done
            codes = {side: seen[side][step].returncode for side in pair}
            assert len(set(codes.values())) == 1, (step, codes, seen["runtimes"][step].stderr)

        def out(side: str, step: str) -> str:
            return str(seen[side][step].stdout).replace(pair[side][1], "NAME")

        both("run", "run", "-d", "--name", "NAME", *session, "-l", f"{MARK}=yes",
             "-l", "tier=diff", test_image, "sh", "-c",
             "echo one; sleep 0.3; echo two >&2; exec sleep 1000")  # fmt: skip
        for side in pair:
            assert len(seen[side]["run"].stdout.strip()) == 64
        deadline = time.monotonic() + 30
        while (
            time.monotonic() < deadline
            and "two"
            not in _docker("logs", pair["runtimes"][1]).stderr
            + _docker("logs", pair["docker"][1]).stderr
        ):
            time.sleep(0.2)
        time.sleep(0.5)

        # ps with a key-only label filter and a name filter, as JSON
        both("ps", "ps", "--filter", f"label={MARK}", "--filter", "name=NAME", "--format", "json")
        (docker_row,) = [_from_docker_ps(x) for x in seen["docker"]["ps"].stdout.splitlines()]
        (ours,) = [_from_runtimes(x) for x in json.loads(seen["runtimes"]["ps"].stdout)]
        docker_row["name"] = docker_row["name"].replace(pair["docker"][1], "NAME")
        ours["name"] = ours["name"].replace(pair["runtimes"][1], "NAME")
        assert ours == docker_row

        # ps -q: the short id; a template with Docker's column names
        both("ps -q", "ps", "-q", "--filter", "name=NAME")
        for side in pair:
            assert len(seen[side]["ps -q"].stdout.strip()) == 12
        both("ps template", "ps", "--filter", "name=NAME", "--format",
             '{{.Names}} {{.State}} {{.Label "tier"}}')  # fmt: skip
        assert (
            out("runtimes", "ps template")
            == out("docker", "ps template")
            == ("NAME running diff\n")
        )

        # inspect: the shared fields, and a field of docker's own record
        both("inspect", "inspect", "NAME")
        (theirs,) = json.loads(seen["docker"]["inspect"].stdout)
        (mine,) = json.loads(seen["runtimes"]["inspect"].stdout)
        theirs = _from_docker_inspect(theirs)
        theirs["name"] = theirs["name"].replace(pair["docker"][1], "NAME")
        mine = {k: mine[k] for k in ("name", "image", "state", "labels", "exit_code")}
        mine["name"] = mine["name"].replace(pair["runtimes"][1], "NAME")
        theirs["exit_code"] = theirs["exit_code"] or None  # a running one has none here
        assert mine == theirs
        both("inspect -f", "inspect", "-f",
             "{{.State.Status}} {{.Config.Labels}} {{json .Config.Env}}",
             "NAME")  # fmt: skip
        assert out("runtimes", "inspect -f") == out("docker", "inspect -f")

        # a volume, created and inspected by each
        labelled = ["--label", session[1], "--label", "tier=diff"]
        both("volume", "volume", "create", *labelled, "NAME-vol")
        assert out("runtimes", "volume") == out("docker", "volume") == "NAME-vol\n"
        both("volume inspect", "volume", "inspect", "-f", "{{.Name}} {{.Labels}}", "NAME-vol")
        assert out("runtimes", "volume inspect") == out("docker", "volume inspect")
        assert "tier:diff" in out("docker", "volume inspect")
        both("volume rm", "volume", "rm", "NAME-vol")
        both("volume gone", "volume", "inspect", "NAME-vol")

        # logs --tail, exec with its exit code, env, stdin
        both("logs", "logs", "--tail", "1", "NAME")
        for side in pair:
            assert (seen[side]["logs"].stdout, seen[side]["logs"].stderr) == ("", "two\n")
        both("logs since", "logs", "--since", "10m", "NAME")
        assert out("runtimes", "logs since") == out("docker", "logs since") == "one\n"
        hour_ago = str(int(time.time()) - 3600)
        both("logs epoch", "logs", "--since", hour_ago, "NAME")
        assert out("runtimes", "logs epoch") == out("docker", "logs epoch") == "one\n"
        both("logs until", "logs", "--until", hour_ago, "NAME")
        assert out("runtimes", "logs until") == out("docker", "logs until") == ""
        both(
            "exec",
            "exec",
            "-e",
            "A=b",
            "-w",
            "/tmp",
            "NAME",
            "sh",
            "-c",
            'echo "$A $(pwd)"; exit 3',
        )
        assert out("runtimes", "exec") == out("docker", "exec") == "b /tmp\n"
        assert seen["docker"]["exec"].returncode == 3
        both("exec -i", "exec", "-i", "NAME", "sh", "-c", "wc -l", stdin="a\nb\n")
        assert out("runtimes", "exec -i").split() == out("docker", "exec -i").split() == ["2"]

        # stop, then the exit code and the state as each prints them
        both("stop", "stop", "-t", "1", "NAME")
        assert out("runtimes", "stop") == out("docker", "stop") == "NAME\n"
        both("exited", "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "NAME")
        assert out("runtimes", "exited") == out("docker", "exited")
        both("status", "ps", "-a", "--filter", "name=NAME", "--filter", "status=exited",
             "--format", "{{.Status}}")  # fmt: skip
        code = out("docker", "exited").split()[1]
        for side in pair:
            assert out(side, "status").startswith(f"Exited ({code}) "), out(side, "status")

        # errors: the same exit codes as docker's
        for step, args in {
            "rm -f missing": ("rm", "-f", missing),
            "rm missing": ("rm", missing),
            "inspect missing": ("inspect", missing),
            "logs missing": ("logs", missing),
            "stop missing": ("stop", missing),
            "exec missing": ("exec", missing, "true"),
            "bad flag": ("ps", "--bogus"),
            "inspect image": ("inspect", "--type", "image", test_image),
            "inspect missing image": ("inspect", "--type", "image", missing),
        }.items():
            both(step, *args)
        assert seen["runtimes"]["rm -f missing"].returncode == 0
        assert seen["runtimes"]["rm missing"].returncode == 1
        assert seen["runtimes"]["bad flag"].returncode == 125
        assert out("runtimes", "rm -f missing") == out("docker", "rm -f missing") == ""
        assert json.loads(out("runtimes", "inspect missing")) == []
        assert json.loads(out("docker", "inspect missing")) == []
        image_ids = [json.loads(out(side, "inspect image"))[0] for side in pair]
        assert image_ids[0]["Id"] == image_ids[1]["id"]

        # foreground run: the container's exit code; rm of the stopped one
        both("run fg", "run", "--rm", *session, test_image, "sh", "-c", "echo fg; exit 4")
        assert seen["runtimes"]["run fg"].returncode == 4
        assert out("runtimes", "run fg") == out("docker", "run fg") == "fg\n"
        both("rm", "rm", "NAME")
        assert out("runtimes", "rm") == out("docker", "rm") == "NAME\n"
