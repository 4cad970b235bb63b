"""A Pulumi language host for Python programs, for machines that cannot obtain the official one.

Why this exists: the Pulumi CLI builds from the Go module proxy (tools/pulumi/go.mod), but the
official Python language host (module github.com/pulumi/pulumi/sdk/python/cmd/
pulumi-language-python/v3, untagged) is refused by the proxy here for every release commit we
tried (see docs/decisions.md). This host speaks the same gRPC protocol (LanguageRuntime, from
the pulumi SDK's own generated stubs) and runs the program exactly as the official host does: in
a child process through the SDK's own `pulumi-language-python-exec` script, so program
behaviour, dynamic providers and error reporting are the SDK's, not ours.

Scope: `pulumi preview/up/refresh/destroy/stack ...` of a Python program, and Python policy packs
(`--policy-pack DIR`, RunPlugin with kind analyzer) started the way the official host starts them:
`python -u -m pulumi.policy <engine> <pack dir>` in the pack's directory, behind a proxy that
first takes the engine's ConfigureStack so the pack sees the stack's config. Not implemented
(the CLI reports UNIMPLEMENTED): other plugins run from source, code generation, `pulumi new`
templates, `pulumi install`, packaging.
Where a real `pulumi-language-python` is on PATH, tools/bootstrap/pulumi.sh uses that instead.
"""

from __future__ import annotations

import json
import os
import signal
import queue
import subprocess
import sys
import threading
from concurrent import futures
from pathlib import Path

import grpc
from pulumi.runtime.proto import analyzer_pb2, language_pb2, language_pb2_grpc, plugin_pb2

VERSION = os.environ.get("MC_PULUMI_VERSION", "3.260.0")
EXEC_SCRIPT = Path(__file__).with_name("pulumi-language-python-exec")
# Exit code by which the exec script says "a user-actionable message was already printed".
_BAIL_EXIT = 32
_ANALYZER = "analyzer"
_GRPC_OPTIONS = [("grpc.max_receive_message_length", 400 * 1024 * 1024),
                 ("grpc.max_send_message_length", 400 * 1024 * 1024)]


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

    def RunPlugin(self, request, context):
        if request.kind != _ANALYZER:
            context.abort(grpc.StatusCode.UNIMPLEMENTED,
                          f"this Python language host runs policy packs only, not {request.kind or 'plugin'}s "
                          "from source (docs/decisions.md)")
        yield from run_policy_pack(request, context)


class PolicyPackProxy:
    """The analyzer address the CLI talks to while the pack starts (as the official host's proxy).

    The pack reads the stack's config from its environment when it starts, but the engine hands
    the config over only by calling ConfigureStack on the analyzer it already started. So this
    proxy answers Handshake and ConfigureStack itself, then the real pack is started with the
    config in PULUMI_CONFIG and every other call is forwarded to it byte for byte.
    """

    _PREFIX = "/pulumirpc.Analyzer/"

    def __init__(self) -> None:
        self.configured = threading.Event()
        self.stack_config: analyzer_pb2.AnalyzerStackConfigureRequest | None = None
        self._ready = threading.Event()
        self._channel: grpc.Channel | None = None
        self._failure = ""
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), options=_GRPC_OPTIONS)
        self._server.add_generic_rpc_handlers((self,))
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()

    # grpc.GenericRpcHandler: every Analyzer method, as raw bytes.
    def service(self, call_details):
        method = call_details.method
        if not method.startswith(self._PREFIX):
            return None
        return grpc.unary_unary_rpc_method_handler(lambda req, ctx: self._handle(method, req, ctx))

    def _handle(self, method: str, request: bytes, context) -> bytes:
        name = method[len(self._PREFIX):]
        if name == "Handshake":
            return analyzer_pb2.AnalyzerHandshakeResponse().SerializeToString()
        if name == "ConfigureStack" and not self._ready.is_set():
            self.stack_config = analyzer_pb2.AnalyzerStackConfigureRequest.FromString(request)
            self.configured.set()
            return analyzer_pb2.AnalyzerStackConfigureResponse().SerializeToString()
        # The engine may call others first (e.g. `pulumi policy publish`): start without config.
        self.configured.set()
        while not self._ready.wait(0.2):
            if not context.is_active():
                return b""
        if self._channel is None:
            context.abort(grpc.StatusCode.UNAVAILABLE, f"policy pack not started: {self._failure}")
        try:
            return self._channel.unary_unary(method)(request)
        except grpc.RpcError as exc:
            context.abort(exc.code(), exc.details() or "")

    def attach(self, port: int) -> None:
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=_GRPC_OPTIONS)
        if self.stack_config is not None:
            try:
                self._channel.unary_unary(self._PREFIX + "ConfigureStack")(self.stack_config.SerializeToString())
            except grpc.RpcError as exc:  # older packs do not implement it
                if exc.code() != grpc.StatusCode.UNIMPLEMENTED:
                    self.fail(f"policy pack configuration failed: {exc.details()}")
                    return
        self._ready.set()

    def fail(self, reason: str) -> None:
        self._channel, self._failure = None, reason
        self._ready.set()

    def stop(self) -> None:
        if self._channel is not None:
            self._channel.close()
        self._server.stop(grace=0.5)


def _pack_env(request, cfg: analyzer_pb2.AnalyzerStackConfigureRequest | None) -> dict[str, str]:
    env: dict[str, str] = {}
    if cfg is not None:
        for key, value in (("PULUMI_ORGANIZATION", cfg.organization), ("PULUMI_PROJECT", cfg.project),
                           ("PULUMI_STACK", cfg.stack), ("PULUMI_DRY_RUN", "true" if cfg.dry_run else "false"),
                           ("PULUMI_CONFIG", json.dumps(dict(cfg.config)) if cfg.config else "")):
            if value:
                env[key] = value
    # The CLI's environment comes last and wins, as with the official host.
    for entry in request.env:
        key, sep, value = entry.partition("=")
        if sep:
            env[key] = value
    return env or dict(os.environ)


def run_policy_pack(request, context):
    """Start a Python policy pack behind a PolicyPackProxy; stream its output, then its exit code."""
    pack_dir = request.info.program_directory
    proxy = PolicyPackProxy()
    try:
        yield language_pb2.RunPluginResponse(stdout=f"{proxy.port}\n".encode())
        while not proxy.configured.wait(0.2):
            if not context.is_active():
                return
        args = [sys.executable, "-u", "-m", "pulumi.policy", *request.args, pack_dir]
        proc = subprocess.Popen(args, cwd=pack_dir, env=_pack_env(request, proxy.stack_config),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        context.add_callback(lambda: proc.poll() is None and proc.terminate())
        out: queue.Queue = queue.Queue()

        def pump(stream, field: str, first_line_is_port: bool) -> None:
            if first_line_is_port:
                line = stream.readline()
                try:
                    proxy.attach(int(line.strip()))
                except ValueError:
                    proxy.fail("the pack did not print its port (it failed to start; see its output)")
                    if line:
                        out.put((field, line))
            for chunk in iter(lambda: stream.read1(65536), b""):
                out.put((field, chunk))
            out.put((field, None))

        for stream, field, first in ((proc.stdout, "stdout", True), (proc.stderr, "stderr", False)):
            threading.Thread(target=pump, args=(stream, field, first), daemon=True).start()
        open_streams = 2
        while open_streams:
            field, chunk = out.get()
            if chunk is None:
                open_streams -= 1
            else:
                yield language_pb2.RunPluginResponse(**{field: chunk})
        yield language_pb2.RunPluginResponse(exitcode=proc.wait())
    finally:
        proxy.stop()


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
