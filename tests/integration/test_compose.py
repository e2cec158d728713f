"""Compose files: the supported subset read into a Stack, the rest refused by
name, and `runtimes up -f` / `runtimes down` on every runtime."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import runtimes
from runtimes.base import Runtime
from runtimes.testing.suite import http_get, stack_leftovers

COMPOSE = """
name: shop
services:
  db:
    image: {image}
    command: ["sh", "-c", "echo db-data > /www/db.txt; exec httpd -f -p 80 -h /www"]
    environment:
      - MODE=test
    volumes:
      - data:/data
    healthcheck:
      test: ["CMD-SHELL", "wget -q -O- http://127.0.0.1/db.txt"]
      interval: 500ms
      timeout: 5s
      retries: 3
      start_period: 1m
  app:
    image: {image}
    command: sh -c 'wget -q -O /www/from-db.txt http://db/db.txt && exec httpd -f -p 8080 -h /www'
    environment:
      GREETING: hello
    ports: ["127.0.0.1::8080"]
    depends_on:
      db:
        condition: service_healthy
volumes:
  data:
"""


def test_compose_subset_is_read(tmp_path: Path) -> None:
    file = tmp_path / "stack.yaml"
    file.write_text(COMPOSE.format(image="busybox:test"))
    stack = runtimes.Stack.from_compose(file)
    assert stack.name == "shop"
    assert runtimes.Stack.from_compose(file, "other").name == "other"
    db, app = stack.services["db"], stack.services["app"]
    assert db.env == {"MODE": "test"}
    assert db.volumes == ["data:/data"]
    assert db.healthcheck == runtimes.Healthcheck(
        test="wget -q -O- http://127.0.0.1/db.txt",
        interval=0.5,
        timeout=5,
        retries=3,
        start_period=60,
    )
    assert app.depends_on == {"db": "healthy"}
    assert app.env == {"GREETING": "hello"}
    assert app.ports == ["127.0.0.1::8080"]


def test_unsupported_keys_are_named(tmp_path: Path) -> None:
    file = tmp_path / "compose.yaml"
    file.write_text(
        "services:\n"
        "  web:\n    image: x:1\n    restart: always\n    deploy: {replicas: 2}\n"
        "    healthcheck: {test: true, start_interval: 1s}\n"
        "networks:\n  front: {}\n"
    )
    with pytest.raises(runtimes.InvalidSpec) as info:
        runtimes.Stack.from_compose(file)
    for key in (
        "services.web.restart",
        "services.web.deploy",
        "services.web.healthcheck.start_interval",
        "networks",
    ):
        assert key in str(info.value)


def test_bad_compose_values(tmp_path: Path) -> None:
    file = tmp_path / "compose.yaml"
    for body, match in (
        ("services:\n  a:\n    image: x:1\n    depends_on: {b: {condition: nope}}\n", "nope"),
        (
            "services:\n  a:\n    image: x:1\n    healthcheck: {test: [CMD], interval: soon}\n",
            "soon",
        ),
        ("services: [a]\n", "services"),
        ("services:\n  a: [\n", "cannot read"),
    ):
        file.write_text(body)
        with pytest.raises(runtimes.InvalidSpec, match=match):
            runtimes.Stack.from_compose(file)


def test_up_and_down_from_the_command_line(
    container_runtime: Runtime, test_image: str, unique_name: object, tmp_path: Path
) -> None:
    rt = container_runtime
    assert callable(unique_name)
    name = unique_name("cmp")
    file = tmp_path / "stack.yaml"
    file.write_text(COMPOSE.format(image=test_image))
    base = [sys.executable, "-m", "runtimes.cli", "--runtime", rt.name, "--format", "json"]
    try:
        up = subprocess.run(
            [*base, "up", "-f", str(file), "--name", name, "--detach"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert up.returncode == 0, up.stderr
        shown = json.loads(up.stdout)
        assert shown["stack"] == name
        ports = {s["service"]: s["ports"] for s in shown["services"]}
        (published,) = ports["app"]
        host_port = int(published.split("->")[0].rsplit(":", 1)[1])
        assert http_get(host_port, "/from-db.txt").strip() == "db-data"
        assert stack_leftovers(rt, name)
    finally:
        down = subprocess.run(
            [*base, "down", name], capture_output=True, text=True, timeout=300, check=False
        )
    assert down.returncode == 0, down.stderr
    assert f"network {name}-net" in down.stdout
    assert stack_leftovers(rt, name) == []
