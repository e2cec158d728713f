"""The application-test fixtures: ``runtime`` labels what it creates, ``stack``
brings a stack up for one test."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import runtimes
from runtimes.testing.images import build_test_image
from runtimes.testing.plugin import SESSION_LABEL, LabelledRuntime


@pytest.fixture(scope="module")
def app_image(runtime: LabelledRuntime, runtimes_session_id: str) -> str:
    tag = f"runtimes-test/app-fixtures:{runtimes_session_id}"
    build_test_image(runtime, tag, {})  # type: ignore[arg-type]
    return tag


def test_runtime_labels_everything_it_creates(
    runtime: LabelledRuntime, app_image: str, runtimes_session_id: str, unique_name: Any
) -> None:
    assert runtime.image(app_image).labels[SESSION_LABEL] == runtimes_session_id
    with runtime.running(app_image, ["sleep", "1000"], labels={"app": "x"}) as c:
        assert c.labels[SESSION_LABEL] == runtimes_session_id
        assert c.labels["app"] == "x"
    net = runtime.create_network(unique_name("fx"))
    vol = runtime.create_volume(unique_name("fx"))
    try:
        assert net.labels[SESSION_LABEL] == runtimes_session_id
        assert vol.labels[SESSION_LABEL] == runtimes_session_id
    finally:
        runtime.remove_network(net.name)
        runtime.remove_volume(vol.name)


def test_stack_fixture(
    stack: Callable[..., Any], app_image: str, runtimes_session_id: str, unique_name: Any
) -> None:
    s = stack(
        runtimes.Stack(
            unique_name("fx"),
            services={
                "web": runtimes.Service(
                    image=app_image,
                    command=["httpd", "-f", "-p", "8080", "-h", "/www"],
                    ports=["127.0.0.1::8080"],
                    ready={"http": "/index.html", "port": 8080},
                )
            },
        )
    )
    assert s["web"].labels[SESSION_LABEL] == runtimes_session_id
    assert s.exec("web", ["cat", "/www/index.html"]).exit_code == 0
