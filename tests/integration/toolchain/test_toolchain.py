"""The bootstrap toolchain: pinned Pulumi CLI, our Python language host, images without a registry."""

import json
import os
import subprocess
import textwrap
from pathlib import Path

import docker
import pytest

from municloud.images import REPO_ROOT, ensure_image

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
    '''))
    (tmp_path / "prog/__main__.py").write_text(textwrap.dedent('''
        import pulumi
        from tinyprov import Echo
        cfg = pulumi.Config()
        if cfg.get_bool("fail"):
            raise ValueError("tiny program refuses: fail=true")
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

    def run(*args, check=True):
        return subprocess.run(["pulumi", *args, "--non-interactive"], cwd=tmp_path, env=env,
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
