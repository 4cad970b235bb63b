#!/usr/bin/env bash
# Project-local venv (.venv) with the pinned dependencies of pyproject.toml (runtime + ops).
# Reinstalls only when pyproject.toml changed since the last successful install.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
mc_step_start "python venv"
PY="${MC_PYTHON:-python3}"
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
  || mc_die "Python >= 3.11 is needed ($PY is $("$PY" --version 2>&1))"
stamp="$MC_ROOT/.venv/.municloud-installed"
want=$(sha256sum "$MC_ROOT/pyproject.toml" | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$MC_ROOT/.venv/bin/municloud" ]; then
  mc_step_done "up to date ($MC_ROOT/.venv)"
else
# A venv whose creation was interrupted (no pip in it) is made again, not reused.
if [ -x "$MC_ROOT/.venv/bin/python" ] && ! "$MC_ROOT/.venv/bin/python" -m pip --version >/dev/null 2>&1; then
  printf "[municloud] %s: %s\n" "$MC_STEP_NAME" "the venv in $MC_ROOT/.venv has no pip (interrupted creation?): making it again" >&2
  rm -rf "$MC_ROOT/.venv"
fi
[ -x "$MC_ROOT/.venv/bin/python" ] || "$PY" -m venv "$MC_ROOT/.venv"
"$MC_ROOT/.venv/bin/python" -m pip install --quiet --upgrade pip >"$MC_STATE/logs/pip.log" 2>&1 || true
"$MC_ROOT/.venv/bin/python" -m pip install --quiet -e "$MC_ROOT[ops]" >>"$MC_STATE/logs/pip.log" 2>&1 \
  || mc_die "pip install failed, see $MC_STATE/logs/pip.log"
echo "$want" >"$stamp"
mc_step_done "installed municloud[ops] into $MC_ROOT/.venv"
fi
# sslyze in a venv of its own (it pins an older cryptography than the project): tools/tls-scan.
mc_step_start "tls-scan venv"
tls_venv="$MC_STATE/tools/tls-scan"
tls_want=$(sha256sum "$MC_ROOT/tools/tls-scan/requirements.txt" | cut -c1-16)
if [ -f "$tls_venv/.installed" ] && [ "$(cat "$tls_venv/.installed")" = "$tls_want" ]; then
  mc_step_done "up to date ($tls_venv)"; exit 0
fi
rm -rf "$tls_venv" && "$PY" -m venv "$tls_venv"
"$tls_venv/bin/python" -m pip install --quiet -r "$MC_ROOT/tools/tls-scan/requirements.txt" >>"$MC_STATE/logs/pip.log" 2>&1 \
  || mc_die "pip install of tools/tls-scan failed, see $MC_STATE/logs/pip.log"
echo "$tls_want" >"$tls_venv/.installed"
mc_step_done "installed sslyze into $tls_venv"
