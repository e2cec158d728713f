"""Record real runtime output under tests/fixtures/<runtime>/ for the unit tests.

    python scripts/record_fixtures.py docker podman nerdctl
    python scripts/record_fixtures.py networks docker podman nerdctl

Creates a few labelled containers (running with a published port, exited
with code 3, created and never started), dumps what each runtime returns for
them, records the error texts of common failures, then removes everything.
With ``networks`` first, records only the network fixtures (``network_*``,
``inspect_networks*``): labelled networks and containers on them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import runtimes
from runtimes.testing import cleanup
from runtimes.testing.images import write_busybox_context

ROOT = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
LABELS = {"runtimes.fixture": "1", "app": "demo"}


def dump(runtime: str, name: str, data: Any) -> None:
    path = ROOT / runtime / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, (bytes, str)):
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
    else:
        path.write_text(json.dumps(data, indent=1, sort_keys=True, default=str) + "\n")


def cli(*argv: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(list(argv), capture_output=True, timeout=120, check=False)


def record(name: str) -> None:
    rt = runtimes.connect(name)
    with tempfile.TemporaryDirectory() as tmp:
        image = rt.build(write_busybox_context(Path(tmp)), tag="runtimes-fixture:1", labels=LABELS)
    running = rt.run(
        "runtimes-fixture:1",
        ["sleep", "1000"],
        name="fixture-running",
        ports=["127.0.0.1::8080"],
        labels={**LABELS, "with.comma": "a,b"} if name != "nerdctl" else LABELS,
    )
    exited = rt.run(
        "runtimes-fixture:1", ["sh", "-c", "exit 3"], name="fixture-exited", labels=LABELS
    )
    rt.wait(exited)
    time.sleep(0.2)
    errors: dict[str, str] = {}
    if name == "docker":
        api = rt._client  # type: ignore[attr-defined]
        dump(
            name,
            "containers_list.json",
            api.containers(all=True, filters={"label": "runtimes.fixture=1"}),
        )
        dump(name, "inspect_running.json", api.inspect_container("fixture-running"))
        dump(name, "inspect_exited.json", api.inspect_container("fixture-exited"))
        dump(name, "images_list.json", api.images(filters={"label": "runtimes.fixture=1"}))
        dump(name, "image_inspect.json", api.inspect_image(image.id))
        for case, call in {
            "no_such_container": lambda: api.inspect_container("fixture-nope"),
            "no_such_image": lambda: api.inspect_image("fixture-nope:1"),
            "run_missing_image": lambda: api.create_container("fixture-nope:1"),
            "name_conflict": lambda: api.create_container(
                "runtimes-fixture:1", "true", name="fixture-running"
            ),
            "remove_running": lambda: api.remove_container("fixture-running"),
            "exec_stopped": lambda: api.exec_create("fixture-exited", ["true"]),
        }.items():
            try:
                call()
            except Exception as exc:  # noqa: BLE001
                errors[case] = json.dumps(
                    {"status": getattr(exc, "status_code", None), "message": str(exc.explanation)}  # type: ignore[attr-defined]
                )
    elif name == "podman":
        api = rt._client.api  # type: ignore[attr-defined]
        flt = json.dumps({"label": ["runtimes.fixture=1"]})
        dump(
            name,
            "containers_list.json",
            api.get("/containers/json", params={"all": "true", "filters": flt}).json(),
        )
        dump(name, "inspect_running.json", api.get("/containers/fixture-running/json").json())
        dump(name, "inspect_exited.json", api.get("/containers/fixture-exited/json").json())
        dump(name, "images_list.json", api.get("/images/json", params={"filters": flt}).json())
        dump(name, "image_inspect.json", api.get(f"/images/{image.id}/json").json())
        cli(
            "podman",
            "create",
            "--name",
            "fixture-init",
            "--label",
            "runtimes.fixture=1",
            "runtimes-fixture:1",
            "true",
        )
        cli("podman", "init", "fixture-init")
        dump(name, "inspect_initialized.json", api.get("/containers/fixture-init/json").json())
        dump(name, "cli_ps.txt", cli("podman", "ps", "-a", "--format", "json").stdout)
        for case, path in {
            "no_such_container": "/containers/fixture-nope/json",
            "no_such_image": "/images/fixture-nope:1/json",
        }.items():
            r = api.get(path)
            errors[case] = json.dumps({"status": r.status_code, "message": r.json().get("message")})
        r = api.delete("/containers/fixture-running", params={"force": "false"})
        errors["remove_running"] = json.dumps(
            {"status": r.status_code, "message": r.json().get("message")}
        )
        for case, argv in {
            "run_missing_image": ["podman", "run", "-d", "--pull", "never", "fixture-nope:1"],
            "name_conflict": [
                "podman",
                "run",
                "-d",
                "--name",
                "fixture-running",
                "runtimes-fixture:1",
                "true",
            ],
            "bad_port": ["podman", "run", "-d", "-p", "127.0.0.1:0:80", "runtimes-fixture:1"],
        }.items():
            errors[case] = cli(*argv).stderr.decode()
    else:
        created = subprocess.run(
            [
                "nerdctl",
                "create",
                "--name",
                "fixture-created",
                "--label",
                "runtimes.fixture=1",
                "--label",
                "app=demo",
                "runtimes-fixture:1",
                "true",
            ],
            capture_output=True,
            check=True,
        )
        del created
        ps = cli(
            "nerdctl",
            "ps",
            "-a",
            "--no-trunc",
            "--format",
            "{{json .}}",
            "--filter",
            "label=runtimes.fixture=1",
        )
        dump(name, "ps.ndjson", ps.stdout)
        dump(
            name,
            "inspect_batched.txt",
            cli(
                "nerdctl", "inspect", "fixture-running", "fixture-exited", "fixture-created"
            ).stdout,
        )
        dump(name, "images.ndjson", cli("nerdctl", "images", "--format", "{{json .}}").stdout)
        dump(
            name,
            "image_inspect.txt",
            cli("nerdctl", "image", "inspect", "runtimes-fixture:1").stdout,
        )
        for case, argv in {
            "no_such_container": ["nerdctl", "inspect", "fixture-nope"],
            "logs_missing": ["nerdctl", "logs", "fixture-nope"],
            "no_such_image": ["nerdctl", "image", "inspect", "fixture-nope:1"],
            "run_missing_image": ["nerdctl", "run", "-d", "--pull", "never", "fixture-nope:1"],
            "name_conflict": [
                "nerdctl",
                "run",
                "-d",
                "--name",
                "fixture-running",
                "runtimes-fixture:1",
            ],
            "remove_running": ["nerdctl", "rm", "fixture-running"],
            "exec_exit_4": ["nerdctl", "exec", "fixture-running", "sh", "-c", "exit 4"],
            "rm_force_missing": ["nerdctl", "rm", "-f", "fixture-nope"],
        }.items():
            done = cli(*argv)
            errors[case] = json.dumps({"rc": done.returncode, "stderr": done.stderr.decode()})
        cli("nerdctl", "rm", "-f", "fixture-created")
    dump(
        name,
        "errors.json",
        {k: json.loads(v) if v.startswith("{") else v for k, v in errors.items()},
    )
    cleanup(rt, {"runtimes.fixture": "1"})
    rt.close()


NET_SUBNET = "10.213.77.0/24"


def _error(call: Any) -> dict[str, Any]:
    try:
        call()
    except Exception as exc:  # noqa: BLE001
        return {
            "status": getattr(exc, "status_code", None),
            "message": str(getattr(exc, "explanation", exc)),
        }
    return {"status": None, "message": "(no error)"}


def _body(response: Any) -> dict[str, Any]:
    return {"status": response.status_code, "body": response.content.decode()}


def record_networks(name: str) -> None:
    """Networks as each runtime reports them, and containers on them."""
    rt = runtimes.connect(name)
    with tempfile.TemporaryDirectory() as tmp:
        rt.build(write_busybox_context(Path(tmp)), tag="runtimes-fixture:1", labels=LABELS)
    aliases = ["fixture-alias"] if runtimes.Capability.NETWORK_ALIASES in rt.capabilities else []
    net = rt.create_network("fixture-net", labels=LABELS, subnet=NET_SUBNET)
    other = rt.create_network("fixture-other", labels=LABELS)
    running = rt.run(
        "runtimes-fixture:1",
        ["sleep", "1000"],
        name="fixture-on-net",
        network=net.name,
        hostname="fixture-host",
        aliases=aliases,
        labels=LABELS,
    )
    stopped = rt.run(
        "runtimes-fixture:1", ["true"], name="fixture-stopped", network=net.name, labels=LABELS
    )
    rt.wait(stopped)
    if runtimes.Capability.NETWORK_CONNECT in rt.capabilities:
        rt.connect_network(running, other.name, aliases=["fixture-late"] if aliases else [])
    errors: dict[str, Any] = {}
    if name == "docker":
        api = rt._client  # type: ignore[attr-defined]
        unnamed = rt.run("runtimes-fixture:1", ["sleep", "1000"], network=net.name, labels=LABELS)
        dump(
            name,
            "network_inspect.json",
            {"user": api.inspect_network(net.name), "bridge": api.inspect_network("bridge")},
        )
        dump(name, "network_list.json", api.networks(filters={"label": "runtimes.fixture=1"}))
        dump(
            name,
            "inspect_networks.json",
            {
                "running": api.inspect_container(running.id),
                "stopped": api.inspect_container(stopped.id),
                "unnamed": api.inspect_container(unnamed.id),
            },
        )
        dump(
            name,
            "containers_list_networks.json",
            api.containers(all=True, filters={"label": "runtimes.fixture=1"}),
        )
        errors = {
            "missing": _error(lambda: api.inspect_network("fixture-nope")),
            "remove_missing": _error(lambda: api.remove_network("fixture-nope")),
            "in_use": _error(lambda: api.remove_network(net.name)),
            "name_conflict": _error(lambda: api.create_network(net.name, check_duplicate=True)),
            "overlap": _error(
                lambda: api.create_network(
                    "fixture-overlap",
                    ipam={"Driver": "default", "Config": [{"Subnet": NET_SUBNET}]},
                )
            ),
            "already_connected": _error(
                lambda: api.connect_container_to_network(running.id, other.name)
            ),
            "not_connected": _error(
                lambda: api.disconnect_container_from_network(stopped.id, other.name)
            ),
            "connect_missing_network": _error(
                lambda: api.connect_container_to_network(running.id, "fixture-nope")
            ),
            "alias_on_default": _error(
                lambda: api.connect_container_to_network(stopped.id, "bridge", aliases=["x"])
            ),
        }
    elif name == "podman":
        api = rt._client.api  # type: ignore[attr-defined]
        flt = json.dumps({"label": ["runtimes.fixture=1"]})
        dump(
            name,
            "network_inspect.json",
            {
                "user": api.get(f"/networks/{net.name}/json").json(),
                "default": api.get("/networks/podman/json").json(),
            },
        )
        dump(name, "network_list.json", api.get("/networks/json", params={"filters": flt}).json())
        dump(
            name,
            "inspect_networks.json",
            {
                "running": api.get(f"/containers/{running.id}/json").json(),
                "stopped": api.get(f"/containers/{stopped.id}/json").json(),
            },
        )
        dump(
            name,
            "containers_list_networks.json",
            api.get("/containers/json", params={"all": "true", "filters": flt}).json(),
        )
        hdr = {"Content-Type": "application/json"}
        errors = {
            "missing": _body(api.get("/networks/fixture-nope/json")),
            "remove_missing": _body(api.delete("/networks/fixture-nope")),
            "in_use": _body(api.delete(f"/networks/{net.name}")),
            "name_conflict": _body(
                api.post("/networks/create", data=json.dumps({"name": net.name}), headers=hdr)
            ),
            "overlap": _body(
                api.post(
                    "/networks/create",
                    headers=hdr,
                    data=json.dumps(
                        {"name": "fixture-overlap", "subnets": [{"subnet": NET_SUBNET}]}
                    ),
                )
            ),
            "already_connected": _body(
                api.post(
                    f"/networks/{other.name}/connect",
                    headers=hdr,
                    data=json.dumps({"container": running.id}),
                )
            ),
            "not_connected": _body(
                api.post(
                    f"/networks/{other.name}/disconnect",
                    headers=hdr,
                    data=json.dumps({"Container": stopped.id}),
                )
            ),
            "connect_missing_network": _body(
                api.post(
                    "/networks/fixture-nope/connect",
                    headers=hdr,
                    data=json.dumps({"container": running.id}),
                )
            ),
        }
    else:
        dump(
            name,
            "network_inspect.txt",
            cli("nerdctl", "network", "inspect", net.name, "bridge").stdout,
        )
        dump(
            name,
            "network_ls.ndjson",
            cli("nerdctl", "network", "ls", "--format", "{{json .}}").stdout,
        )
        dump(
            name,
            "inspect_networks.txt",
            cli(
                "nerdctl", "container", "inspect", "--mode", "dockercompat", running.id, stopped.id
            ).stdout,
        )
        for case, argv in {
            "missing": ["nerdctl", "network", "inspect", "fixture-nope"],
            "remove_missing": ["nerdctl", "network", "rm", "fixture-nope"],
            "in_use": ["nerdctl", "network", "rm", net.name],
            "name_conflict": ["nerdctl", "network", "create", net.name],
            "overlap": ["nerdctl", "network", "create", "--subnet", NET_SUBNET, "fixture-overlap"],
            "run_missing_network": [
                "nerdctl",
                "run",
                "-d",
                "--name",
                "fixture-lost",
                "--network",
                "fixture-nope",
                "runtimes-fixture:1",
                "true",
            ],
        }.items():
            done = cli(*argv)
            errors[case] = {"rc": done.returncode, "stderr": done.stderr.decode()}
        cli("nerdctl", "rm", "-f", "fixture-lost")
    dump(name, "network_errors.json", errors)
    cleanup(rt, {"runtimes.fixture": "1"})
    rt.close()


if __name__ == "__main__":
    only_networks = sys.argv[1:2] == ["networks"]
    names = sys.argv[2:] if only_networks else sys.argv[1:]
    for runtime_name in names or ["docker", "podman", "nerdctl"]:
        (record_networks if only_networks else record)(runtime_name)
        print("recorded", runtime_name)
