"""Record how remote endpoints fail, for the unit tests of the classifiers.

    eval "$(scripts/second-engine.sh env)"
    python scripts/record_remote_fixtures.py

Needs the second engine (scripts/second-engine.sh start).  Writes
tests/fixtures/docker/remote_errors.json: for each failure, the exception
chain the Docker SDK raised (type and text of each link) or what ``ssh``
printed and its exit code, with the reason the library gives it.  Also
tests/fixtures/docker/context_meta.json, the meta.json that ``docker
context create`` writes for a TLS endpoint and the files of its TLS store;
two client certificates (public parts only); and
tests/fixtures/podman/connections.conf, what ``podman system connection
add`` writes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import runtimes
from runtimes._transport import ssh_failure

ROOT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "docker"


def chain(exc: BaseException | None) -> list[str]:
    links = []
    while exc is not None:
        links.append(f"{type(exc).__name__}: {exc}")
        exc = exc.__cause__ or exc.__context__
    return links


def tls_case(**options: Any) -> dict[str, Any]:
    try:
        runtimes.connect("docker", **options).close()
    except runtimes.RuntimeUnavailable as exc:
        # The first link is the library's own error; the rest is the SDK's.
        return {"chain": chain(exc.__cause__), "reason": exc.reason}
    raise SystemExit(f"connected with {options}")


def ssh_case(*argv: str) -> dict[str, Any]:
    done = subprocess.run(list(argv), input=b"", capture_output=True, timeout=30, check=False)
    return {"stderr": done.stderr.decode(), "returncode": done.returncode}


def tunnel_case(*argv: str) -> dict[str, Any]:
    """What ``ssh -N -L`` prints when a connection through it cannot be forwarded."""
    with tempfile.TemporaryDirectory() as tmp:
        local = f"{tmp}/local.sock"
        argv = tuple(a.replace("{local}", local) for a in argv)
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stderr=err)
            try:
                for _ in range(200):
                    if os.path.exists(local):
                        break
                    time.sleep(0.05)
                with socket.socket(socket.AF_UNIX) as conn:
                    conn.connect(local)
                    conn.settimeout(10)
                    conn.recv(1)  # closed at once: the forward failed
                time.sleep(0.5)
            finally:
                proc.terminate()
                proc.wait(timeout=10)
            err.seek(0)
            return {"stderr": err.read().decode(), "returncode": None}


def main() -> None:
    env = os.environ
    tls, ssh_dir = env["RUNTIMES_REMOTE_TLS_DIR"], env["RUNTIMES_REMOTE_SSH_DIR"]
    host = env["RUNTIMES_REMOTE_DOCKER_TLS_HOST"]
    ca, cert, key = f"{tls}/ca.pem", f"{tls}/client-cert.pem", f"{tls}/client-key.pem"
    cases: dict[str, Any] = {
        "wrong_ca": tls_case(host=host, tls_ca=f"{tls}/other-ca.pem", tls_cert=cert, tls_key=key),
        "no_client_certificate": tls_case(host=host, tls_ca=ca),
        "expired_client_certificate": tls_case(
            host=host,
            tls_ca=ca,
            tls_cert=f"{tls}/expired-client-cert.pem",
            tls_key=f"{tls}/expired-client-key.pem",
        ),
        "untrusted_client_certificate": tls_case(
            host=host,
            tls_ca=ca,
            tls_cert=f"{tls}/other-client-cert.pem",
            tls_key=f"{tls}/other-client-key.pem",
        ),
        "plain_http_to_tls_port": tls_case(host=host),
        "connection_refused": tls_case(host=host.replace(":2376", ":2377"), tls_ca=ca),
    }
    ssh_url = env["RUNTIMES_REMOTE_DOCKER_SSH_HOST"]
    address, port = ssh_url.rsplit("@", 1)[1].split(":")
    known = f"UserKnownHostsFile={ssh_dir}/known_hosts"
    base = ["ssh", "-T", "-F", "none", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"]
    cases["ssh_wrong_key"] = ssh_case(
        *base, "-o", known, "-i", f"{ssh_dir}/wrong_ed25519", "-p", port, f"root@{address}", "x"
    )
    cases["ssh_unknown_host_key"] = ssh_case(
        *base, "-o", "UserKnownHostsFile=/dev/null", "-i", f"{ssh_dir}/docker_ed25519",
        "-p", port, f"root@{address}", "x",
    )  # fmt: skip
    cases["ssh_connection_refused"] = ssh_case(
        *base, "-o", known, "-i", f"{ssh_dir}/docker_ed25519", "-p", "2223", f"root@{address}", "x"
    )
    # The Podman key's forced command is /bin/false: logged in, then exit 1.
    cases["ssh_key_may_not_run_dial_stdio"] = ssh_case(
        *base, "-o", known, "-i", f"{ssh_dir}/podman_ed25519", "-p", port, f"root@{address}", "x"
    )
    cases["ssh_forward_to_missing_socket"] = tunnel_case(
        *base, "-o", known, "-i", f"{ssh_dir}/podman_ed25519", "-p", port, "-N",
        "-L", "{local}:/run/runtimes-remote/podman/no-such.sock", f"root@{address}",
    )  # fmt: skip
    for name in [n for n in cases if n.startswith("ssh_")]:
        failure = ssh_failure(cases[name]["stderr"], cases[name]["returncode"])
        cases[name]["reason"] = failure.reason
    (ROOT / "remote_errors.json").write_text(json.dumps(cases, indent=1, sort_keys=True) + "\n")

    with tempfile.TemporaryDirectory() as config:
        subprocess.run(
            ["docker", "context", "create", "remote-tls", "--docker",
             f"host={host},ca={ca},cert={cert},key={key}"],
            env={**env, "DOCKER_CONFIG": config}, check=True, capture_output=True, timeout=30,
        )  # fmt: skip
        digest = hashlib.sha256(b"remote-tls").hexdigest()
        meta = json.loads((Path(config) / "contexts" / "meta" / digest / "meta.json").read_text())
        tls_files = sorted(p.name for p in (Path(config) / "contexts" / "tls" / digest).rglob("*"))
    (ROOT / "context_meta.json").write_text(
        json.dumps({"meta.json": meta, "tls files": tls_files}, indent=1, sort_keys=True) + "\n"
    )
    # Certificates are public: the classifier's tests read their dates.
    for name in ("expired-client-cert.pem", "other-client-cert.pem"):
        shutil.copy(f"{tls}/{name}", ROOT / name)
    # What `podman system connection add` (Podman 4) writes to containers.conf.
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "containers.conf"
        conf.write_text("")
        podman_url = env["RUNTIMES_REMOTE_PODMAN_SSH_HOST"]
        subprocess.run(
            ["podman", "system", "connection", "add", "--default", "--identity",
             env["RUNTIMES_REMOTE_PODMAN_SSH_SSH_IDENTITY"], "remote-test", podman_url],
            env={**env, "CONTAINERS_CONF": str(conf)}, check=True, capture_output=True,
            timeout=60,
        )  # fmt: skip
        (ROOT.parent / "podman" / "connections.conf").write_text(conf.read_text())
    record_compat_push(env)
    print(json.dumps({k: v["reason"] for k, v in cases.items()}, indent=1), file=sys.stderr)


def record_compat_push(env: Any) -> None:
    """What Podman's Docker-compatible push streams, through the SSH tunnel,
    to a registry on this machine's address towards the engine: success,
    then refused credentials (tests/fixtures/podman/compat_push_stream.jsonl)."""
    from runtimes.testing.images import build_test_image
    from runtimes.testing.plugin import variant_options
    from runtimes.testing.registry import LocalRegistry, address_towards

    adapter, options = variant_options("podman@ssh")
    rt = runtimes.connect(adapter, **options)
    lines: list[bytes] = []
    try:
        build_test_image(rt, "runtimes-fixture/compat:1", {"runtimes.fixture": "1"})
        with LocalRegistry(host_ip=address_towards(rt.engine_host or ""), auth=True) as registry:
            repository = f"{registry.host}/fixture/bb"
            rt.tag("runtimes-fixture/compat:1", f"{repository}:1")
            creds = registry.credentials
            assert creds is not None
            for password in (creds.password, "wrong"):
                fields = {"username": creds.username, "password": password}
                header = base64.urlsafe_b64encode(json.dumps(fields).encode()).decode()
                response = rt._client.api.post(  # type: ignore[attr-defined]
                    f"/images/{repository}/push",
                    params={"tag": "1", "tlsVerify": "false"},
                    headers={"X-Registry-Auth": header},
                    compatible=True,
                    stream=True,
                )
                try:
                    lines += [line for line in response.iter_lines() if line.strip()]
                finally:
                    response.close()
            rt.remove_image(f"{repository}:1")
        rt.remove_image("runtimes-fixture/compat:1", force=True)
    finally:
        rt.close()
    text = b"\n".join(lines).decode().replace(registry.host, "10.231.0.1:5000") + "\n"
    (ROOT.parent / "podman" / "compat_push_stream.jsonl").write_text(text)


if __name__ == "__main__":
    main()
