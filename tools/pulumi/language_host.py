"""A Pulumi language host for Python programs, for machines that cannot obtain the official one.

Why this exists: the Pulumi CLI builds from the Go module proxy (tools/pulumi/go.mod), but the
official Python language host (module github.com/pulumi/pulumi/sdk/python/cmd/
pulumi-language-python/v3, untagged) is refused by the proxy here for every release commit we
tried (see docs/decisions.md). This host speaks the same gRPC protocol (LanguageRuntime, from
the pulumi SDK's own generated stubs) and runs the program exactly as the official host does: in
a child process through the SDK's own `pulumi-language-python-exec` script, so program
behaviour, dynamic providers and error reporting are the SDK's, not ours.

Scope: `pulumi preview/up/refresh/destroy/stack ...` of a Python program. Not implemented (the
CLI reports UNIMPLEMENTED): code generation, `pulumi new` templates, `pulumi install`, packaging.
Where a real `pulumi-language-python` is on PATH, tools/bootstrap/pulumi.sh uses that instead.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from concurrent import futures
from pathlib import Path

import grpc
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

VERSION = os.environ.get("MC_PULUMI_VERSION", "3.260.0")
EXEC_SCRIPT = Path(__file__).with_name("pulumi-language-python-exec")
# Exit code by which the exec script says "a user-actionable message was already printed".
_BAIL_EXIT = 32


class PythonLanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    def __init__(self, engine_address: str, exec_script: Path) -> None:
        self.engine_address = engine_address
        self.exec_script = exec_script
        self.root = ""

    def Handshake(self, request, context):
        self.engine_address = request.engine_address or self.engine_address
        self.root = request.root_directory
        return language_pb2.LanguageHandshakeResponse()

    def GetPluginInfo(self, request, context):
        return plugin_pb2.PluginInfo(version=VERSION)

    def GetRequiredPlugins(self, request, context):
        # Dynamic providers run through pulumi-resource-pulumi-python on PATH; no plugin to fetch.
        return language_pb2.GetRequiredPluginsResponse()

    def GetRequiredPackages(self, request, context):
        return language_pb2.GetRequiredPackagesResponse()

    def About(self, request, context):
        v = sys.version_info
        return language_pb2.AboutResponse(executable=sys.executable, version=f"{v.major}.{v.minor}.{v.micro}")

    def GetProgramDependencies(self, request, context):
        return language_pb2.GetProgramDependenciesResponse()

    def Run(self, request, context):
        info = request.info
        program_dir = info.program_directory or request.pwd or os.getcwd()
        entry = info.entry_point or request.program or "."
        program = os.path.normpath(os.path.join(program_dir, entry))
        args = [
            sys.executable, "-u", str(self.exec_script),
            "--monitor", request.monitor_address,
            "--engine", self.engine_address,
            "--project", request.project,
            "--stack", request.stack,
            "--pwd", request.pwd or program_dir,
            "--dry_run", "true" if request.dryRun else "false",
            "--parallel", str(request.parallel or 1),
            "--organization", request.organization or "organization",
            "--root_directory", info.root_directory or self.root or program_dir,
            program, *request.args,
        ]
        env = dict(os.environ)
        env["PULUMI_CONFIG"] = json.dumps(dict(request.config))
        env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(request.configSecretKeys))
        # The child's stdout/stderr are ours, which the CLI shows as the program's output.
        proc = subprocess.run(args, env=env, cwd=request.pwd or program_dir)
        if proc.returncode == 0:
            return language_pb2.RunResponse()
        if proc.returncode == _BAIL_EXIT:
            return language_pb2.RunResponse(bail=True)
        return language_pb2.RunResponse(error=f"Program exited with non-zero exit code: {proc.returncode}")


def main(argv: list[str]) -> int:
    # The CLI passes flags (-root=..., --tracing ..., -v=...) and the engine address last.
    positional = [a for a in argv if not a.startswith("-")]
    engine = positional[-1] if positional else ""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4),
                         options=[("grpc.max_receive_message_length", 400 * 1024 * 1024)])
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(PythonLanguageHost(engine, EXEC_SCRIPT), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    # The CLI ends its plugins with SIGINT/SIGTERM: stop quietly, it is not an error.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: server.stop(grace=1))
    server.wait_for_termination()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
