"""The bootstrap toolchain: pinned Pulumi CLI, our Python language host, images without a registry."""

import json
import os
import subprocess
import textwrap
from pathlib import Path

import docker
import pytest

from municloud_ops.images import REPO_ROOT, ensure_image

pytestmark = pytest.mark.integration

BIN = Path(os.environ.get("MC_STATE", REPO_ROOT / ".state")) / "bin"


def _pinned_version() -> str:
    for line in (REPO_ROOT / "tools/pulumi/go.mod").read_text().splitlines():
        parts = line.split()
        if "github.com/pulumi/pulumi/pkg/v3" in parts:
            return parts[parts.index("github.com/pulumi/pulumi/pkg/v3") + 1]
    raise AssertionError("no pinned pulumi version in tools/pulumi/go.mod")


def test_pulumi_cli_prints_the_pinned_version_which_matches_the_sdk():
    from importlib.metadata import version

    out = subprocess.run([BIN / "pulumi", "version"], capture_output=True, text=True, check=True).stdout
    assert out.strip() == _pinned_version()
    assert out.strip() == f"v{version('pulumi')}", "CLI and Python SDK must be the same release"


@pytest.fixture
def tiny_project(tmp_path):
    """A two-resource program with a dynamic provider, config and a failing variant."""
    (tmp_path / "prog").mkdir()
    (tmp_path / "Pulumi.yaml").write_text("name: tiny\nruntime: python\nmain: prog/\n")
    (tmp_path / "tinyprov.py").write_text(textwrap.dedent('''
        import pulumi
        from pulumi.dynamic import CreateResult, Resource, ResourceProvider

        class _Echo(ResourceProvider):
            def create(self, props):
                return CreateResult(id_="echo-1", outs={"value": props["value"].upper()})

        class Echo(Resource):
            value: pulumi.Output[str]

            def __init__(self, name, value, opts=None):
                super().__init__(_Echo(), name, {"value": value}, opts)

        import threading
        GATE = threading.Barrier(6, timeout=20)  # one per provider process

        class _Gate(ResourceProvider):
            def create(self, props):  # returns only when 6 creates are in flight at once
                GATE.wait()
                return CreateResult(id_=props["n"], outs=props)

        class Gate(Resource):
            def __init__(self, name, n, opts=None):
                super().__init__(_Gate(), name, {"n": n}, opts)
    '''))
    (tmp_path / "prog/__main__.py").write_text(textwrap.dedent('''
        import pulumi
        from tinyprov import Echo
        cfg = pulumi.Config()
        if cfg.get_bool("fail"):
            raise ValueError("tiny program refuses: fail=true")
        for i in range(cfg.get_int("gates") or 0):
            from tinyprov import Gate
            Gate(f"g{i}", str(i))
        e = Echo("e", cfg.require("word"))
        pulumi.export("shout", e.value)
        pulumi.export("secret_len", pulumi.Output.secret(cfg.require_secret("pw")).apply(len))
    '''))
    env = dict(os.environ)
    env.update(
        PATH=f"{BIN}:{REPO_ROOT / '.venv/bin'}:{env['PATH']}",
        PULUMI_HOME=str(tmp_path / "home"),
        PULUMI_BACKEND_URL=f"file://{tmp_path / 'state'}",
        PULUMI_CONFIG_PASSPHRASE="test-passphrase",
        PYTHONPATH=str(tmp_path),
    )
    (tmp_path / "state").mkdir()

    def run(*args, check=True, **extra_env):
        return subprocess.run(["pulumi", *args, "--non-interactive"], cwd=tmp_path, env={**env, **extra_env},
                              capture_output=True, text=True, check=check, timeout=300)

    run("stack", "init", "t")
    run("config", "set", "word", "hello")
    run("config", "set", "--secret", "pw", "s3cret-value")
    return run


def test_language_host_runs_a_program_with_a_dynamic_provider(tiny_project):
    up = tiny_project("up", "--yes")
    assert "+ 2 created" in up.stdout, up.stdout  # the stack and the dynamic resource
    outputs = json.loads(tiny_project("stack", "output", "--json", "--show-secrets").stdout)
    assert outputs == {"shout": "HELLO", "secret_len": 12}
    state = tiny_project("stack", "export").stdout
    assert "s3cret-value" not in state
    preview = tiny_project("preview", "--diff")
    assert "2 unchanged" in preview.stdout, preview.stdout


def test_dynamic_provider_serves_more_than_four_calls_at_once(tiny_project):
    """Six creates that each wait for the other five: the SDK's plugin (4 workers) cannot finish
    them; ours (tools/pulumi/dynamic_provider.py, 16) does."""
    tiny_project("config", "set", "gates", "6")
    up = tiny_project("up", "--yes", "--parallel", "8")
    assert "+ 8 created" in up.stdout, up.stdout


def test_twin_with_four_workers_the_six_creates_cannot_meet(tiny_project):
    tiny_project("config", "set", "gates", "6")
    up = tiny_project("up", "--yes", "--parallel", "8", check=False, MC_PULUMI_PROVIDER_THREADS="4")
    assert up.returncode != 0
    assert "BrokenBarrierError" in up.stdout + up.stderr


def test_language_host_reports_a_failing_program(tiny_project):
    tiny_project("config", "set", "fail", "true")
    failed = tiny_project("up", "--yes", check=False)
    assert failed.returncode != 0
    assert "tiny program refuses: fail=true" in failed.stdout + failed.stderr


def test_base_and_python_images_need_no_registry():
    client = docker.from_env()
    base = client.images.get(ensure_image("base"))
    assert base.attrs["Config"]["Env"] and "LANG=C.UTF-8" in base.attrs["Config"]["Env"]
    assert not base.attrs.get("RepoDigests"), "the base image must be local (imported), not pulled"
    py = ensure_image("python")
    out = client.containers.run(py, ["python", "-c", "import os, fastapi, asyncpg, municloud; print(os.getuid())"],
                                remove=True, network_disabled=True)
    assert out.decode().strip() == "10001"
