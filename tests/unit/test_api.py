"""Public surface, selection rules, adapter registry and input validation."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

import runtimes
import runtimes.specs
import runtimes.testing
from runtimes import registry
from runtimes._specs import parse_port, parse_volume
from runtimes.models import Mount, MountType, PortMapping


def test_public_surface_is_exact_and_sorted() -> None:
    # Built from the modules themselves: what errors and models declare
    # public is re-exported, and each export lives in a public module that
    # declares it in its own __all__.
    assert runtimes.__all__ == sorted(runtimes.__all__)
    for module in (runtimes.errors, runtimes.models):
        assert set(module.__all__) <= set(runtimes.__all__), module.__name__
    for name in runtimes.__all__:
        obj = getattr(runtimes, name)
        home = obj.__module__
        assert not any(part.startswith("_") for part in home.split(".")), (name, home)
        assert name in sys.modules[home].__all__, (name, home)
    exported = {
        name
        for name, value in vars(runtimes).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert exported == set(runtimes.__all__)
    for module in (runtimes.specs, runtimes.base, runtimes.registry, runtimes.testing):
        for name in module.__all__:
            assert getattr(module, name) is not None, (module.__name__, name)


def test_import_is_light() -> None:
    code = (
        "import sys, runtimes; "
        # attrs too: the models and errors load on first use.
        "heavy = {'docker', 'podman', 'requests', 'urllib3', 'attr', 'attrs'}; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    # Every selection and endpoint variable: `prepare-machine.sh env` sets
    # RUNTIMES_NERDCTL_ADDRESS, which auto-detection must not see here.
    ecosystem = ("DOCKER_HOST", "CONTAINER_HOST", "CONTAINERD_ADDRESS")
    for key in [k for k in os.environ if k.startswith("RUNTIMES_") or k in ecosystem]:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(registry, "_user_config_path", lambda: tmp_path / "user" / "config.toml")
    return tmp_path


def test_selection_precedence(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = clean_env / "user" / "config.toml"
    user.parent.mkdir()
    user.write_text('default = "nerdctl"\n')
    assert registry.select().name == "nerdctl"
    assert "config.toml" in registry.select().rule
    (clean_env / "pyproject.toml").write_text('[tool.runtimes]\ndefault = "podman"\n')
    nested = clean_env / "pkg" / "sub"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    assert registry.select() == registry.Selection(
        "podman", f"[tool.runtimes] default in {clean_env / 'pyproject.toml'}"
    )
    monkeypatch.setenv("RUNTIMES_DEFAULT", "docker")
    assert registry.select().name == "docker"
    assert registry.select("nerdctl").name == "nerdctl"


def test_auto_detection_order(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "detect", lambda name, **_: None if name == "podman" else "no")
    assert registry.select().name == "podman"
    monkeypatch.setattr(registry, "detect", lambda name, **_: "no")
    assert registry.select().name is None


def test_a_configured_endpoint_is_never_skipped(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "detect", lambda name, **_: None if name == "podman" else "no")
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    picked = registry.select()
    assert picked.name == "docker"
    assert "unix:///nonexistent/docker.sock" in picked.rule
    monkeypatch.setattr(registry, "detect", lambda name, **_: "down")
    with pytest.raises(runtimes.RuntimeUnavailable, match="nonexistent"):
        runtimes.connect()


def test_options_precedence(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cls = registry.adapter_class("docker")
    (clean_env / "pyproject.toml").write_text(
        '[tool.runtimes.docker]\nhost = "unix:///from/file"\n'
    )
    assert registry.resolve_options("docker", cls, {}) == {"host": "unix:///from/file"}
    monkeypatch.setenv("RUNTIMES_DOCKER_HOST", "unix:///from/env")
    assert registry.resolve_options("docker", cls, {})["host"] == "unix:///from/env"
    assert registry.resolve_options("docker", cls, {"host": "unix:///arg"})["host"] == "unix:///arg"
    with pytest.raises(runtimes.InvalidSpec, match="unknown option"):
        registry.resolve_options("docker", cls, {"hots": "x"})


def test_unknown_runtime_lists_known() -> None:
    with pytest.raises(runtimes.UnknownRuntime) as info:
        runtimes.connect("dockr")
    assert "docker" in str(info.value)
    assert "podman" in str(info.value)
    assert isinstance(info.value, LookupError)


def test_missing_sdk_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "docker", None)
    monkeypatch.delitem(sys.modules, "runtimes.adapters.docker", raising=False)
    monkeypatch.setattr(registry, "_cache", {})
    with pytest.raises(runtimes.RuntimeUnavailable, match=r"runtimes\[docker\]"):
        registry.adapter_class("docker")


class _FakeEntryPoint:
    name = "thirdparty"

    def load(self) -> Any:
        from runtimes.adapters.nerdctl import NerdctlRuntime

        class ThirdParty(NerdctlRuntime):
            name = "thirdparty"

        return ThirdParty


def test_entry_point_adapters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "entry_points", lambda group: [_FakeEntryPoint()])
    monkeypatch.setattr(registry, "_cache", {})
    assert registry.known()[-1] == "thirdparty"
    assert registry.adapter_class("thirdparty").name == "thirdparty"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("8080", PortMapping(container_port=8080)),
        (8080, PortMapping(container_port=8080)),
        ("127.0.0.1::8080", PortMapping(container_port=8080, host_ip="127.0.0.1")),
        ("127.0.0.1:0:8080", PortMapping(container_port=8080, host_ip="127.0.0.1")),
        ("18080:8080/udp", PortMapping(container_port=8080, host_port=18080, protocol="udp")),
        (
            "127.0.0.1:18080:8080/tcp",
            PortMapping(container_port=8080, host_port=18080, host_ip="127.0.0.1"),
        ),
        ("[::1]::80", PortMapping(container_port=80, host_ip="::1")),
    ],
)
def test_port_specs(spec: Any, expected: PortMapping) -> None:
    assert parse_port(spec) == expected


@pytest.mark.parametrize(
    "spec", ["", "0", "65536", "a:b", "1:2:3:4", "80/xyz", "300.1.1.1::80", True]
)
def test_bad_port_specs(spec: Any) -> None:
    with pytest.raises(runtimes.InvalidSpec):
        parse_port(spec)


def test_volume_specs(tmp_path: Path) -> None:
    assert parse_volume(f"{tmp_path}:/data:ro") == Mount(
        source=str(tmp_path), target="/data", read_only=True
    )
    assert parse_volume("cache:/c").type is MountType.VOLUME
    for bad in ("cache", "cache:rel", "/definitely/missing:/x", f"{tmp_path}:/x:rx", "bad name:/x"):
        with pytest.raises(runtimes.InvalidSpec):
            parse_volume(bad)


def test_loglines_keep_bytes() -> None:
    line = runtimes.LogLine(stream="stdout", data=b"a\xffb\n")
    assert line.text == "a\ufffdb"
    assert line.data == b"a\xffb\n"


def test_models_are_frozen_and_raw_is_ignored() -> None:
    a = runtimes.Container(id="a" * 64, name="x", image="i", raw={"k": 1})
    b = runtimes.Container(id="a" * 64, name="x", image="i", raw={"k": 2})
    assert a == b
    assert "raw" not in repr(a)
    with pytest.raises(AttributeError):
        a.name = "y"  # type: ignore[misc]
