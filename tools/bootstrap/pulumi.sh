#!/usr/bin/env bash
# Provide the pinned Pulumi CLI and a Python language host in .state/bin.
#  - an official CLI of the pinned version already on PATH (with its language host) is used as is;
#  - otherwise the CLI is built from the Go module proxy (tools/pulumi/go.mod), once;
#  - the language host is tools/pulumi/language_host.py (why: docs/decisions.md; it also starts
#    Python policy packs such as policies/, with pulumi-policy from the venv), installed with
#    the SDK's own helper script copied from the Go module cache, and the dynamic-provider plugin
#    is tools/pulumi/dynamic_provider.py (the SDK's module with a wider worker pool).
# A second run takes seconds.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/env.sh"
VERSION=$(awk '{ for (i = 1; i < NF; i++) if ($i == "github.com/pulumi/pulumi/pkg/v3") { v = $(i+1); sub(/^v/, "", v); print v } }' "$MC_ROOT/tools/pulumi/go.mod")
[ -n "$VERSION" ] || mc_die "cannot read the pinned pulumi version from tools/pulumi/go.mod"
BIN="$MC_STATE/bin"

mc_step_start "pulumi cli v$VERSION"
existing=$(PATH="${PATH#"$BIN:"}" command -v pulumi || true)
if [ -x "$BIN/pulumi" ] && [ "$("$BIN/pulumi" version 2>/dev/null)" = "v$VERSION" ]; then
  mc_step_done "already built: $BIN/pulumi"
elif [ -n "$existing" ] && [ "$("$existing" version 2>/dev/null)" = "v$VERSION" ]; then
  ln -sf "$existing" "$BIN/pulumi"
  mc_step_done "using the installed CLI $existing"
else
  command -v go >/dev/null || mc_die "Go is needed to build the Pulumi CLI (no release binary can be downloaded)"
  ( cd "$MC_ROOT/tools/pulumi" && go build -trimpath \
      -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$VERSION" \
      -o "$BIN/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi ) >"$MC_STATE/logs/pulumi-build.log" 2>&1 \
    || mc_die "go build failed, see $MC_STATE/logs/pulumi-build.log"
  mc_step_done "built $("$BIN/pulumi" version) from the Go module proxy"
fi

mc_step_start "pulumi language host"
if PATH="${PATH#"$BIN:"}" command -v pulumi-language-python >/dev/null 2>&1; then
  mc_step_done "using the installed $(PATH="${PATH#"$BIN:"}" command -v pulumi-language-python)"
  exit 0
fi
sdk_dir="$(cd "$MC_ROOT/tools/pulumi" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3 2>/dev/null || true)"
if [ -z "$sdk_dir" ] || [ ! -d "$sdk_dir/python" ]; then
  (cd "$MC_ROOT/tools/pulumi" && go mod download github.com/pulumi/pulumi/sdk/v3) >>"$MC_STATE/logs/pulumi-build.log" 2>&1
  sdk_dir="$(cd "$MC_ROOT/tools/pulumi" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
fi
install -m 0755 "$sdk_dir/python/cmd/pulumi-language-python-exec" "$BIN/pulumi-language-python-exec"
install -m 0644 "$MC_ROOT/tools/pulumi/language_host.py" "$BIN/language_host.py"
cat >"$BIN/pulumi-language-python" <<SH
#!/bin/sh
# Installed by tools/bootstrap/pulumi.sh: municloud's Python language host (docs/decisions.md).
exec "$MC_ROOT/.venv/bin/python" "$BIN/language_host.py" "\$@"
SH
chmod 0755 "$BIN/pulumi-language-python"
cat >"$BIN/pulumi-resource-pulumi-python" <<SH
#!/bin/sh
# Installed by tools/bootstrap/pulumi.sh: the SDK's dynamic-provider plugin with a wider worker
# pool (tools/pulumi/dynamic_provider.py).
exec "$MC_ROOT/.venv/bin/python" -u "$MC_ROOT/tools/pulumi/dynamic_provider.py" "\$@"
SH
chmod 0755 "$BIN/pulumi-resource-pulumi-python"
mc_step_done "installed language host + SDK helper scripts in $BIN"
